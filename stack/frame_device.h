// FrameDevice: where guest Ethernet frames come from and go to: a TAP (tap_device.h), a
// length-prefixed unix stream socket (unix_stream_device.h: QEMU -netdev stream, passt, libkrun
// "unixstream") or a unix datagram socket (unix_dgram_device.h: QEMU -netdev dgram, vfkit, libkrun
// "unixgram"). Devices are non-blocking; the event loop polls fd() and the Netstack drains and
// fills them. A device that carries a virtio-net header (a TAP with IFF_VNET_HDR) can move frames
// with offloads: partial checksums and TCP/UDP segments larger than the link MTU (GSO), described
// by FrameOffload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace msb::stack {

enum class IoStatus : uint8_t {
  kOk,          // one frame moved
  kWouldBlock,  // nothing to read / no room to write now
  kClosed,      // the peer went away (end of file)
  kError,       // unrecoverable device error
};

// FrameOffload is what a virtio-net header says about one frame, in host byte order. Offsets are
// from the start of the Ethernet frame.
struct FrameOffload {
  enum class Gso : uint8_t { kNone, kTcp4, kTcp6, kUdp };
  // needs_csum: the L4 checksum at csum_start + csum_offset holds only the pseudo-header sum;
  // the receiver completes it over [csum_start, end) (or, for local delivery, trusts it).
  bool needs_csum = false;
  bool data_valid = false;  // received: the sender vouches for every checksum
  Gso gso = Gso::kNone;     // a segment the receiver splits into gso_size payloads
  uint16_t hdr_len = 0;     // Ethernet + IP + L4 header bytes (GSO)
  uint16_t gso_size = 0;
  uint16_t csum_start = 0;
  uint16_t csum_offset = 0;
  bool empty() const { return !needs_csum && !data_valid && gso == Gso::kNone; }
};

struct ReadResult {
  IoStatus status = IoStatus::kWouldBlock;
  size_t size = 0;  // frame length when kOk (a frame longer than the buffer is truncated: dropped)
  FrameOffload offload;  // kOk on an offloading device: the frame's header
};

// Frame sizes for devices whose peer is a program rather than the kernel: a frame shorter than an
// Ethernet header is malformed, and the largest frame a socket device accepts by default is a
// 64 KiB IP datagram behind its Ethernet header.
inline constexpr size_t kEthernetHeaderSize = 14;
inline constexpr size_t kDefaultMaxFrameSize = 65535 + kEthernetHeaderSize;

// DeviceCounters: what a device dropped or refused on its own, beyond the Netstack's counters (for
// the audit log and debugging). Devices without a peer to manage report zeros.
struct DeviceCounters {
  uint64_t malformed = 0;  // input dropped: runt or oversize records/datagrams, truncated at EOF
  uint64_t framing_errors = 0;     // stream connections dropped: a length prefix above the cap
  uint64_t peers_accepted = 0;     // stream: connections accepted; datagram: peer (re)learnt
  uint64_t peers_refused = 0;      // stream: connections closed at once while one was served
  uint64_t peer_disconnects = 0;   // stream: connections the peer ended (EOF or reset)
  uint64_t dropped_no_peer = 0;    // frames for the guest with no peer to send them to
  uint64_t dropped_peer_gone = 0;  // datagram: frames for a peer whose socket is gone
  uint64_t dropped_peer_busy = 0;  // datagram: frames for a peer whose receive queue was full
  uint64_t dropped_oversize = 0;   // frames for the guest larger than the device's cap
};

// JoinFrameParts copies a frame given in pieces into one buffer (for queues and one-buffer
// system calls).
std::vector<uint8_t> JoinFrameParts(std::span<const std::span<const uint8_t>> parts);
// FramePartsSize is the length of a frame given in pieces.
size_t FramePartsSize(std::span<const std::span<const uint8_t>> parts);

class FrameDevice {
 public:
  virtual ~FrameDevice() = default;
  // fd is the pollable descriptor (readable = frames waiting, or a peer to accept; writable = room
  // to send). It may change, but only inside ReadFrame: a stream device listening for its peer
  // polls its listening socket while no peer is connected and the peer's connection while one is.
  // The old descriptor may be closed by then and its number reused by the new one, so the owner
  // compares fd_generation() after every call that reads (Netstack::OnDeviceReadable) and, when it
  // moved, stops watching the old fd()/secondary_fd() and watches the new ones.
  virtual int fd() const = 0;
  // secondary_fd: a second descriptor to watch for readability only (-1: none); when it is
  // readable the owner reads the device as for fd(). A listening stream device puts its listening
  // socket here while a peer is connected, so that extra peers are refused at once.
  virtual int secondary_fd() const { return -1; }
  // fd_generation changes whenever fd() or secondary_fd() does (0 for a device that never does).
  virtual uint64_t fd_generation() const { return 0; }
  // ReadFrame reads one frame into `buf`.
  virtual ReadResult ReadFrame(std::span<uint8_t> buf) = 0;
  // HasPendingInput: frames already read from fd() are waiting inside the device (one read(2) or
  // recvmmsg(2) brought many). fd() will not signal them again, so a reader that stops before
  // kWouldBlock must not stop while this is true.
  virtual bool HasPendingInput() const { return false; }
  // WriteFrame writes one whole frame or nothing (as far as the caller can tell: a device may
  // keep part of it in its own bounded buffer, see HasPendingOutput). A socket device with nobody
  // to deliver the frame to drops it, counts it (counters()) and returns kOk, as a NIC without
  // carrier would.
  virtual IoStatus WriteFrame(std::span<const uint8_t> frame) = 0;
  // HasPendingOutput: the device holds bytes of accepted frames that it still has to write; the
  // owner then asks for fd() to become writable and calls Flush when it is.
  virtual bool HasPendingOutput() const { return false; }
  // Flush writes what the device holds: kOk when nothing is left (also when the peer went away
  // and the bytes were dropped), kWouldBlock when some is, kError on a device failure.
  virtual IoStatus Flush() { return IoStatus::kOk; }
  // counters: what the device dropped or refused so far.
  virtual DeviceCounters counters() const { return {}; }
  // offloads: frames may carry partial checksums and GSO both ways (ReadResult::offload and
  // WriteFrameParts' offload are honoured). Other devices get empty offloads only.
  virtual bool offloads() const { return false; }
  // WriteFrameParts writes one frame given as consecutive pieces (a pbuf chain without copying),
  // all or nothing. The default joins the pieces and calls WriteFrame.
  virtual IoStatus WriteFrameParts(std::span<const std::span<const uint8_t>> parts,
                                   const FrameOffload& offload);
};

}  // namespace msb::stack
