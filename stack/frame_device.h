// FrameDevice: where guest Ethernet frames come from and go to. A TAP today; the VM front-end issue
// adds QEMU stream sockets and unixgram sockets behind the same interface. Devices are
// non-blocking; the event loop polls fd() and the Netstack drains and fills them. A device that
// carries a virtio-net header (a TAP with IFF_VNET_HDR) can move frames with offloads: partial
// checksums and TCP/UDP segments larger than the link MTU (GSO), described by FrameOffload.
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

// JoinFrameParts copies a frame given in pieces into one buffer (for queues and one-buffer
// system calls).
std::vector<uint8_t> JoinFrameParts(std::span<const std::span<const uint8_t>> parts);

class FrameDevice {
 public:
  virtual ~FrameDevice() = default;
  // fd is the pollable descriptor (readable = frames waiting; writable = room to send).
  virtual int fd() const = 0;
  // ReadFrame reads one frame into `buf`.
  virtual ReadResult ReadFrame(std::span<uint8_t> buf) = 0;
  // WriteFrame writes one whole frame or nothing.
  virtual IoStatus WriteFrame(std::span<const uint8_t> frame) = 0;
  // offloads: frames may carry partial checksums and GSO both ways (ReadResult::offload and
  // WriteFrameParts' offload are honoured). Other devices get empty offloads only.
  virtual bool offloads() const { return false; }
  // WriteFrameParts writes one frame given as consecutive pieces (a pbuf chain without copying),
  // all or nothing. The default joins the pieces and calls WriteFrame.
  virtual IoStatus WriteFrameParts(std::span<const std::span<const uint8_t>> parts,
                                   const FrameOffload& offload);
};

}  // namespace msb::stack
