// UnixStreamDevice: accepting and ending peers, batched reads through the stream decoder, and
// writes that the socket takes in part kept in a bounded buffer (see unix_stream_device.h).
//
// Input: one read(2) of up to 256 KiB holds many frames; ReadFrame hands them out one per call
// (a frame that arrived whole is copied once, straight from the read buffer) and reads again only
// when the buffer is used up, never more than once per call, so a peer that streams nothing but
// malformed records cannot keep one call busy. Output: a frame goes straight to the socket with
// its header in one sendmsg(2) when nothing is queued; the part the socket does not take is
// queued, and further frames are queued behind it until 1 MiB is waiting.
#include "stack/unix_stream_device.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "base/errno_message.h"

namespace msb::stack {
namespace {

constexpr size_t kInputBufferSize = 256 * 1024;
constexpr size_t kOutputHighWater = 1024 * 1024;  // frames are taken while less than this waits
constexpr size_t kMaxParts = 32;                  // pieces per sendmsg (a Netstack frame has <= 16)
constexpr size_t kMaxRefusalsPerCall = 64;        // bounds one call's work against a connect flood
constexpr int kListenBacklog = 16;

bool IsTransientAcceptError(int err) {
  return err == EINTR || err == ECONNABORTED || err == EPROTO;
}

bool IsPeerGone(int err) {
  return err == EPIPE || err == ECONNRESET || err == ENOTCONN;
}

}  // namespace

Result<std::unique_ptr<UnixStreamDevice>> UnixStreamDevice::Listen(const std::string& path,
                                                                   size_t max_frame) {
  if (max_frame < kEthernetHeaderSize || max_frame > kDefaultMaxFrameSize) {
    return Status::Error("stream frame cap " + std::to_string(max_frame) + " out of range " +
                         std::to_string(kEthernetHeaderSize) + ".." +
                         std::to_string(kDefaultMaxFrameSize));
  }
  auto bound = BindUnixSocket(path, SOCK_STREAM);
  if (!bound.ok()) {
    return bound.status();
  }
  if (listen(bound.value().fd.get(), kListenBacklog) < 0) {
    return Status::Error(ErrnoMessage("cannot listen on \"" + path + "\""));
  }
  return std::unique_ptr<UnixStreamDevice>(new UnixStreamDevice(
      std::move(bound.value().fd), std::move(bound.value().path), OwnedFd(), max_frame));
}

Result<std::unique_ptr<UnixStreamDevice>> UnixStreamDevice::Adopt(int fd, size_t max_frame) {
  std::string what = "stream socket fd " + std::to_string(fd);
  if (max_frame < kEthernetHeaderSize || max_frame > kDefaultMaxFrameSize) {
    return Status::Error(what + ": frame cap " + std::to_string(max_frame) + " out of range");
  }
  if (Status st = PrepareAdoptedSocket(fd, SOCK_STREAM, what); !st.ok()) {
    return st;
  }
  int listening = 0;
  socklen_t len = sizeof(listening);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening != 0) {
    return Status::Error(what + ": a listening socket; a connected one expected");
  }
  sockaddr_storage peer{};
  len = sizeof(peer);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) < 0) {
    return Status::Error(ErrnoMessage(what + ": not connected"));
  }
  return std::unique_ptr<UnixStreamDevice>(
      new UnixStreamDevice(OwnedFd(), SocketPathOwner(), OwnedFd(fd), max_frame));
}

UnixStreamDevice::UnixStreamDevice(OwnedFd listener, SocketPathOwner path, OwnedFd conn,
                                   size_t max_frame)
    : state_(conn.valid() ? State::kConnected : State::kListening),
      listener_(std::move(listener)),
      path_(std::move(path)),
      conn_(std::move(conn)),
      decoder_(max_frame),
      in_(std::make_unique_for_overwrite<uint8_t[]>(kInputBufferSize)) {}

UnixStreamDevice::~UnixStreamDevice() = default;

IoStatus UnixStreamDevice::TryAccept() {
  for (;;) {
    int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      conn_.Reset(fd);
      state_ = State::kConnected;
      ++fd_generation_;
      ++counters_.peers_accepted;
      return IoStatus::kOk;
    }
    if (IsTransientAcceptError(errno)) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return IoStatus::kWouldBlock;
    }
    return IoStatus::kError;  // out of descriptors or memory: retrying at once would spin
  }
}

void UnixStreamDevice::RefuseExtraPeers() {
  for (size_t i = 0; i < kMaxRefusalsPerCall; ++i) {
    int fd = accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      close(fd);  // the peer reads EOF at once: a second VM on one link is a configuration error
      ++counters_.peers_refused;
    } else if (!IsTransientAcceptError(errno)) {
      return;
    }
  }
}

ReadResult UnixStreamDevice::EndConnection(IoStatus why) {
  if (decoder_.in_record()) {
    ++counters_.malformed;  // a frame cut short by the end of its connection
  }
  decoder_.Reset();
  in_begin_ = in_end_ = 0;
  out_.clear();  // meant for this peer; a new one starts from a clean link
  out_sent_ = 0;
  peer_gone_ = false;
  if (listener_.valid()) {
    conn_.Reset();
    state_ = State::kListening;
    ++fd_generation_;
    return {IoStatus::kWouldBlock, 0, {}};
  }
  // Adopted: the descriptor stays open (and fd() unchanged) until destruction, so that the owner
  // can still stop watching it; the peer is told at once.
  (void)shutdown(conn_.get(), SHUT_RDWR);
  state_ = State::kClosed;
  return {why == IoStatus::kError ? IoStatus::kError : IoStatus::kClosed, 0, {}};
}

IoStatus UnixStreamDevice::FillInput() {
  in_begin_ = in_end_ = 0;
  for (;;) {
    ssize_t n = read(conn_.get(), in_.get(), kInputBufferSize);
    if (n > 0) {
      in_end_ = static_cast<size_t>(n);
      return IoStatus::kOk;
    }
    if (n == 0) {
      return IoStatus::kClosed;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return IoStatus::kWouldBlock;
    }
    return IsPeerGone(errno) ? IoStatus::kClosed : IoStatus::kError;
  }
}

ReadResult UnixStreamDevice::NextFromInput(std::span<uint8_t> buf) {
  while (in_begin_ < in_end_) {
    StreamFrameDecoder::Step step = decoder_.Decode({in_.get() + in_begin_, in_end_ - in_begin_});
    in_begin_ += step.consumed;
    switch (step.kind) {
      case StreamFrameDecoder::Kind::kFrame: {
        size_t n = std::min(step.record.size(), buf.size());
        std::copy_n(step.record.begin(), n, buf.begin());
        return {IoStatus::kOk, n, {}};
      }
      case StreamFrameDecoder::Kind::kMalformed:
        ++counters_.malformed;
        break;
      case StreamFrameDecoder::Kind::kFatal:
        ++counters_.framing_errors;
        return EndConnection(IoStatus::kClosed);
      case StreamFrameDecoder::Kind::kNeedMore:
        break;  // the whole rest was taken: the loop ends
    }
  }
  return {IoStatus::kWouldBlock, 0, {}};
}

ReadResult UnixStreamDevice::ReadFrame(std::span<uint8_t> buf) {
  if (state_ == State::kClosed) {
    return {IoStatus::kClosed, 0, {}};
  }
  if (state_ == State::kListening) {
    if (IoStatus st = TryAccept(); st != IoStatus::kOk) {
      return {st, 0, {}};
    }
  }
  if (in_begin_ == in_end_) {
    IoStatus st = FillInput();
    if (st == IoStatus::kWouldBlock) {
      // The connection is drained, so this wake-up may have been the listening socket's.
      if (listener_.valid()) {
        RefuseExtraPeers();
      }
      return {IoStatus::kWouldBlock, 0, {}};
    }
    if (st != IoStatus::kOk) {
      ++counters_.peer_disconnects;
      return EndConnection(st);
    }
  }
  return NextFromInput(buf);
}

void UnixStreamDevice::BufferOutput(std::span<const std::span<const uint8_t>> pieces, size_t skip) {
  // Drop what was sent before growing: the buffer stays within the high-water mark plus a frame.
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  } else if (out_sent_ >= out_.size() / 2) {
    out_.erase(out_.begin(), out_.begin() + static_cast<ptrdiff_t>(out_sent_));
    out_sent_ = 0;
  }
  for (std::span<const uint8_t> piece : pieces) {
    size_t drop = std::min(skip, piece.size());
    skip -= drop;
    out_.insert(out_.end(), piece.begin() + static_cast<ptrdiff_t>(drop), piece.end());
  }
}

IoStatus UnixStreamDevice::WriteFrame(std::span<const uint8_t> frame) {
  const std::span<const uint8_t> parts[1] = {frame};
  return WriteFrameParts(parts, {});
}

IoStatus UnixStreamDevice::WriteFrameParts(std::span<const std::span<const uint8_t>> parts,
                                           const FrameOffload& /*offload*/) {
  size_t size = FramePartsSize(parts);
  if (size > decoder_.max_frame()) {
    ++counters_.dropped_oversize;  // the peer would have to drop the connection over it
    return IoStatus::kOk;
  }
  if (state_ != State::kConnected || peer_gone_) {
    ++counters_.dropped_no_peer;
    return IoStatus::kOk;
  }
  if (parts.size() > kMaxParts) {
    std::vector<uint8_t> joined = JoinFrameParts(parts);
    const std::span<const uint8_t> one[1] = {joined};
    return WriteFrameParts(one, {});
  }
  std::array<uint8_t, kStreamHeaderSize> header = StreamFrameHeader(size);
  std::array<std::span<const uint8_t>, kMaxParts + 1> pieces;
  pieces[0] = header;
  std::copy(parts.begin(), parts.end(), pieces.begin() + 1);
  std::span<const std::span<const uint8_t>> all(pieces.data(), parts.size() + 1);
  if (HasPendingOutput()) {
    if (out_.size() - out_sent_ >= kOutputHighWater) {
      return IoStatus::kWouldBlock;
    }
    BufferOutput(all, 0);  // behind what waits, without a system call that would fail anyway
    return IoStatus::kOk;
  }
  std::array<iovec, kMaxParts + 1> iov;
  for (size_t i = 0; i < all.size(); ++i) {
    iov[i] = {const_cast<uint8_t*>(all[i].data()), all[i].size()};
  }
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = all.size();
  ssize_t n;
  do {
    n = sendmsg(conn_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (IsPeerGone(errno)) {
      peer_gone_ = true;  // the read side sees the end and moves on; until then writes are lost
      ++counters_.dropped_no_peer;
      return IoStatus::kOk;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
      return IoStatus::kError;
    }
    n = 0;
  }
  if (static_cast<size_t>(n) < kStreamHeaderSize + size) {
    BufferOutput(all, static_cast<size_t>(n));
  }
  return IoStatus::kOk;
}

IoStatus UnixStreamDevice::Flush() {
  while (HasPendingOutput()) {
    ssize_t n = send(conn_.get(), out_.data() + out_sent_, out_.size() - out_sent_,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
      return IoStatus::kWouldBlock;
    }
    if (n < 0 && IsPeerGone(errno)) {
      peer_gone_ = true;
      break;
    }
    return IoStatus::kError;
  }
  out_.clear();
  out_sent_ = 0;
  return IoStatus::kOk;
}

}  // namespace msb::stack
