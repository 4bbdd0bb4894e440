// UnixDgramDevice: guest frames over a datagram socket, one Ethernet frame per datagram: QEMU's
// `-netdev dgram` with unix addresses, vfkit, and libkrun's "unixgram" back end.
//
// Either the device binds a path and talks to whoever sent it the latest datagram (its recvfrom
// address; replies go there with sendto), or it adopts an inherited datagram socket (connected:
// send/recv with its peer; not connected: as when bound). The 4-byte datagram "VFKT" is the hello
// vfkit and libkrun send first: it names the peer and is not a frame. Until some peer has spoken,
// frames for the guest are dropped (dropped_no_peer). A peer whose socket is gone is not an error
// either: its frames are dropped (dropped_peer_gone) until a peer speaks again. Anyone who may
// write to the socket can become the peer, so its path belongs in a directory only the VM's
// owner can reach. fd() never changes. Not thread-safe: the event loop's thread only.
//
// The kernel queues at most net.unix.max_dgram_qlen datagrams (default 10) for an unconnected
// socket from all senders together, so in Bind mode a burst from the VM waits for the gateway to
// drain (its sends block or get EAGAIN), and a peer that only uses sendto (its socket not
// connected to ours) is limited the same way the other way round: EPOLLOUT cannot tell, so such
// frames are dropped and counted (dropped_peer_busy) rather than polled for in a busy loop.
// A peer whose socket is connected to ours is not limited that way: our sends then wait on
// EPOLLOUT like any other.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "stack/frame_device.h"
#include "stack/socket_setup.h"

namespace msb::stack {

class UnixDgramDevice final : public FrameDevice {
 public:
  // Bind binds `path` (a stale socket file there is replaced; anything else is an error) and
  // removes the socket file again on destruction. `max_frame` caps frames both ways.
  static Result<std::unique_ptr<UnixDgramDevice>> Bind(const std::string& path,
                                                       size_t max_frame = kDefaultMaxFrameSize);
  // Adopt takes ownership of a datagram socket (e.g. inherited as `serve --fd N`) and makes it
  // non-blocking and close-on-exec. On error `fd` is left to the caller.
  static Result<std::unique_ptr<UnixDgramDevice>> Adopt(int fd,
                                                        size_t max_frame = kDefaultMaxFrameSize);
  ~UnixDgramDevice() override;
  UnixDgramDevice(const UnixDgramDevice&) = delete;
  UnixDgramDevice& operator=(const UnixDgramDevice&) = delete;

  int fd() const override { return fd_.get(); }
  // ReadFrame hands out the next datagram of the last recvmmsg(2) batch (up to 32 datagrams per
  // system call, at most one call per ReadFrame). Hellos, runts and datagrams above the cap are
  // skipped (the latter two counted as malformed). A frame longer than `buf` is cut to it.
  ReadResult ReadFrame(std::span<uint8_t> buf) override;
  bool HasPendingInput() const override;
  IoStatus WriteFrame(std::span<const uint8_t> frame) override;
  // WriteFrameParts sends the pieces as one datagram with sendmsg(2). kWouldBlock when our send
  // buffer is full; a full receive queue at the peer, which poll(2) would not wait for, drops
  // the frame (dropped_peer_busy) rather than spin.
  IoStatus WriteFrameParts(std::span<const std::span<const uint8_t>> parts,
                           const FrameOffload& offload) override;
  DeviceCounters counters() const override { return counters_; }

  // has_peer: replies have somewhere to go (a connected socket, or a peer has spoken).
  bool has_peer() const { return connected_ || peer_len_ != 0; }
  const std::string& path() const { return path_.path(); }

 private:
  struct Batch;
  UnixDgramDevice(OwnedFd fd, SocketPathOwner path, bool connected, size_t max_frame);
  // NotePeer makes the sender of a datagram the peer (senders without an address are ignored:
  // nothing can be sent back to them).
  void NotePeer(const sockaddr_storage& addr, socklen_t len);
  IoStatus Receive();

  OwnedFd fd_;
  SocketPathOwner path_;
  bool connected_;
  size_t max_frame_;
  sockaddr_storage peer_{};
  socklen_t peer_len_ = 0;
  std::unique_ptr<Batch> batch_;
  DeviceCounters counters_;
};

}  // namespace msb::stack
