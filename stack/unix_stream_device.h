// UnixStreamDevice: guest frames over a stream socket, each behind a 4-byte big-endian length
// (stream_framing.h): what QEMU's `-netdev stream`, passt's clients and libkrun's "unixstream"
// back end speak. Either the device listens at a path and serves one peer at a time, or it adopts
// one inherited, already connected socket.
//
// States and what each allows:
//   kListening  (Listen only) no peer: fd() is the listening socket; ReadFrame accepts the next
//               peer; frames for the guest are dropped (dropped_no_peer), as on a NIC without
//               carrier.
//   kConnected  fd() is the peer's connection (and, in Listen mode, secondary_fd() the listening
//               socket, whose further peers are closed at once: peers_refused). The peer's EOF
//               or reset, or a length prefix above the cap (framing_errors), ends the
//               connection: back to kListening (Listen) or on to kClosed (Adopt).
//   kClosed     (Adopt only) the one peer is gone: ReadFrame returns kClosed for good.
// Output the socket does not take at once is kept in a bounded buffer (HasPendingOutput/Flush); it
// is discarded with the connection it was meant for. fd() and secondary_fd() change only inside
// ReadFrame (accepting a peer, ending its connection), and fd_generation() says when. Whoever may
// connect to the path can be the guest's link, so it belongs in a directory only the VM's owner
// can reach. Not thread-safe: the event loop's thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "stack/frame_device.h"
#include "stack/socket_setup.h"
#include "stack/stream_framing.h"

namespace msb::stack {

class UnixStreamDevice final : public FrameDevice {
 public:
  enum class State : uint8_t { kListening, kConnected, kClosed };

  // Listen binds and listens at `path` (a stale socket file there is replaced; anything else is
  // an error) and removes the socket file again on destruction. `max_frame` caps frames both ways.
  static Result<std::unique_ptr<UnixStreamDevice>> Listen(const std::string& path,
                                                          size_t max_frame = kDefaultMaxFrameSize);
  // Adopt takes ownership of a connected stream socket (e.g. inherited as `serve --fd N`) and makes
  // it non-blocking and close-on-exec. On error `fd` is left to the caller.
  static Result<std::unique_ptr<UnixStreamDevice>> Adopt(int fd,
                                                         size_t max_frame = kDefaultMaxFrameSize);
  ~UnixStreamDevice() override;
  UnixStreamDevice(const UnixStreamDevice&) = delete;
  UnixStreamDevice& operator=(const UnixStreamDevice&) = delete;

  int fd() const override { return state_ == State::kListening ? listener_.get() : conn_.get(); }
  int secondary_fd() const override { return state_ == State::kConnected ? listener_.get() : -1; }
  uint64_t fd_generation() const override { return fd_generation_; }
  // ReadFrame hands out the next frame of what one read(2) brought, and reads (at most once per
  // call) only when that is used up; in kListening it first accepts a waiting peer. A frame longer
  // than `buf` is cut to buf.size() bytes (the Netstack drops it).
  ReadResult ReadFrame(std::span<uint8_t> buf) override;
  bool HasPendingInput() const override { return in_begin_ < in_end_; }
  IoStatus WriteFrame(std::span<const uint8_t> frame) override;
  // WriteFrameParts sends the length prefix and the pieces in one sendmsg(2); what the socket does
  // not take is buffered. kWouldBlock (nothing taken) only when the buffer is full.
  IoStatus WriteFrameParts(std::span<const std::span<const uint8_t>> parts,
                           const FrameOffload& offload) override;
  bool HasPendingOutput() const override { return out_sent_ < out_.size(); }
  IoStatus Flush() override;
  DeviceCounters counters() const override { return counters_; }

  State state() const { return state_; }
  // path: where a listening device is bound (empty for an adopted one).
  const std::string& path() const { return path_.path(); }

 private:
  UnixStreamDevice(OwnedFd listener, SocketPathOwner path, OwnedFd conn, size_t max_frame);
  // TryAccept takes the next waiting peer (kListening -> kConnected); kWouldBlock when none.
  IoStatus TryAccept();
  // RefuseExtraPeers closes the peers waiting on the listening socket while one is served.
  void RefuseExtraPeers();
  // EndConnection closes the peer's connection: kListening again, or kClosed when adopted. It
  // returns what ReadFrame reports for it.
  ReadResult EndConnection(IoStatus why);
  // FillInput reads once from the connection into the (used up) input buffer.
  IoStatus FillInput();
  // NextFromInput decodes the buffered bytes up to the next frame.
  ReadResult NextFromInput(std::span<uint8_t> buf);
  // BufferOutput keeps the bytes of `pieces` after the first `skip` for Flush.
  void BufferOutput(std::span<const std::span<const uint8_t>> pieces, size_t skip);

  State state_;
  OwnedFd listener_;  // -1 when adopted
  SocketPathOwner path_;
  OwnedFd conn_;
  uint64_t fd_generation_ = 0;
  StreamFrameDecoder decoder_;
  std::unique_ptr<uint8_t[]> in_;
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  std::vector<uint8_t> out_;
  size_t out_sent_ = 0;
  bool peer_gone_ = false;  // the peer stopped taking bytes (EPIPE); writes are dropped
  DeviceCounters counters_;
};

}  // namespace msb::stack
