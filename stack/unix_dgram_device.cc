// UnixDgramDevice: batched receive with recvmmsg(2), peer tracking from sender addresses, and
// sends that treat a vanished or busy peer as lost frames, not as device failures (see
// unix_dgram_device.h).
#include "stack/unix_dgram_device.h"

#include <poll.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

namespace msb::stack {
namespace {

constexpr size_t kBatchSize = 32;  // datagrams per recvmmsg
constexpr size_t kMaxParts = 32;   // pieces per sendmsg (a Netstack frame has <= 16)
constexpr uint8_t kHello[4] = {'V', 'F', 'K', 'T'};

bool IsPeerGone(int err) {
  // ECONNREFUSED: nobody bound at the address any more; ENOENT: the path itself is gone; EPERM:
  // the socket there is connected to someone else; the rest: a connected peer closed.
  return err == ECONNREFUSED || err == ENOENT || err == EPERM || err == ECONNRESET ||
         err == ENOTCONN || err == EPIPE;
}

// SendBufferHasRoom: poll(2) says the socket is writable, so an EAGAIN from sendto came from the
// peer's full receive queue, which EPOLLOUT does not wait for on an unconnected socket.
bool SendBufferHasRoom(int fd) {
  pollfd p{fd, POLLOUT, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & POLLOUT) != 0;
}

Status CheckCap(size_t max_frame, const std::string& what) {
  if (max_frame < kEthernetHeaderSize || max_frame > kDefaultMaxFrameSize) {
    return Status::Error(what + ": frame cap " + std::to_string(max_frame) + " out of range " +
                         std::to_string(kEthernetHeaderSize) + ".." +
                         std::to_string(kDefaultMaxFrameSize));
  }
  return Status::Ok();
}

}  // namespace

// Batch: the buffers of one recvmmsg call, and which of its datagrams ReadFrame hands out next.
struct UnixDgramDevice::Batch {
  explicit Batch(size_t slot)
      : slot_size(slot), data(std::make_unique_for_overwrite<uint8_t[]>(slot * kBatchSize)) {}
  uint8_t* slot_data(size_t i) const { return data.get() + i * slot_size; }

  size_t slot_size;
  std::unique_ptr<uint8_t[]> data;  // untouched pages cost nothing until a datagram fills them
  std::array<mmsghdr, kBatchSize> msgs{};
  std::array<iovec, kBatchSize> iovs{};
  std::array<sockaddr_storage, kBatchSize> names{};
  size_t count = 0;
  size_t next = 0;
};

Result<std::unique_ptr<UnixDgramDevice>> UnixDgramDevice::Bind(const std::string& path,
                                                               size_t max_frame) {
  if (Status st = CheckCap(max_frame, "datagram socket \"" + path + "\""); !st.ok()) {
    return st;
  }
  auto bound = BindUnixSocket(path, SOCK_DGRAM);
  if (!bound.ok()) {
    return bound.status();
  }
  return std::unique_ptr<UnixDgramDevice>(new UnixDgramDevice(
      std::move(bound.value().fd), std::move(bound.value().path), false, max_frame));
}

Result<std::unique_ptr<UnixDgramDevice>> UnixDgramDevice::Adopt(int fd, size_t max_frame) {
  std::string what = "datagram socket fd " + std::to_string(fd);
  if (Status st = CheckCap(max_frame, what); !st.ok()) {
    return st;
  }
  if (Status st = PrepareAdoptedSocket(fd, SOCK_DGRAM, what); !st.ok()) {
    return st;
  }
  sockaddr_storage peer{};
  socklen_t len = sizeof(peer);
  bool connected = getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0;
  return std::unique_ptr<UnixDgramDevice>(
      new UnixDgramDevice(OwnedFd(fd), SocketPathOwner(), connected, max_frame));
}

UnixDgramDevice::UnixDgramDevice(OwnedFd fd, SocketPathOwner path, bool connected, size_t max_frame)
    : fd_(std::move(fd)),
      path_(std::move(path)),
      connected_(connected),
      max_frame_(max_frame),
      batch_(std::make_unique<Batch>(max_frame)) {}

UnixDgramDevice::~UnixDgramDevice() = default;

bool UnixDgramDevice::HasPendingInput() const {
  return batch_->next < batch_->count;
}

void UnixDgramDevice::NotePeer(const sockaddr_storage& addr, socklen_t len) {
  if (len == 0 || len > sizeof(addr) ||
      (addr.ss_family == AF_UNIX && len <= offsetof(sockaddr_un, sun_path))) {
    return;  // an unbound sender: there is no address to answer
  }
  if (len == peer_len_ && std::memcmp(&addr, &peer_, len) == 0) {
    return;
  }
  std::memcpy(&peer_, &addr, len);
  peer_len_ = len;
  ++counters_.peers_accepted;
}

IoStatus UnixDgramDevice::Receive() {
  Batch& b = *batch_;
  b.count = b.next = 0;
  for (size_t i = 0; i < kBatchSize; ++i) {
    b.iovs[i] = {b.slot_data(i), b.slot_size};
    msghdr& h = b.msgs[i].msg_hdr;
    h = msghdr{};
    h.msg_iov = &b.iovs[i];
    h.msg_iovlen = 1;
    if (!connected_) {
      h.msg_name = &b.names[i];
      h.msg_namelen = sizeof(b.names[i]);
    }
  }
  // An error left by an earlier send to a vanished peer is reported once, ahead of the
  // datagrams: retry past it (bounded) rather than end the wake-up early.
  for (int attempt = 0; attempt < 4; ++attempt) {
    int n = recvmmsg(fd_.get(), b.msgs.data(), kBatchSize, MSG_DONTWAIT, nullptr);
    if (n > 0) {
      b.count = static_cast<size_t>(n);
      return IoStatus::kOk;
    }
    if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
      return IoStatus::kWouldBlock;
    }
    if (errno != EINTR && !IsPeerGone(errno)) {
      return IoStatus::kError;
    }
  }
  return IoStatus::kWouldBlock;
}

ReadResult UnixDgramDevice::ReadFrame(std::span<uint8_t> buf) {
  Batch& b = *batch_;
  for (bool received = false;; received = true) {
    while (b.next < b.count) {
      size_t i = b.next++;
      const mmsghdr& m = b.msgs[i];
      if (!connected_) {
        NotePeer(b.names[i], m.msg_hdr.msg_namelen);
      }
      size_t len = m.msg_len;
      bool truncated = (m.msg_hdr.msg_flags & MSG_TRUNC) != 0;
      const uint8_t* data = b.slot_data(i);
      if (len == sizeof(kHello) && !truncated && std::memcmp(data, kHello, len) == 0) {
        continue;
      }
      if (len < kEthernetHeaderSize || truncated) {
        ++counters_.malformed;
        continue;
      }
      size_t n = std::min(len, buf.size());
      std::copy_n(data, n, buf.begin());
      return {IoStatus::kOk, n, {}};
    }
    if (received) {
      // One system call per ReadFrame: a batch of hellos and runts ends the call.
      return {IoStatus::kWouldBlock, 0, {}};
    }
    if (IoStatus st = Receive(); st != IoStatus::kOk) {
      return {st, 0, {}};
    }
  }
}

IoStatus UnixDgramDevice::WriteFrame(std::span<const uint8_t> frame) {
  const std::span<const uint8_t> parts[1] = {frame};
  return WriteFrameParts(parts, {});
}

IoStatus UnixDgramDevice::WriteFrameParts(std::span<const std::span<const uint8_t>> parts,
                                          const FrameOffload& /*offload*/) {
  size_t size = FramePartsSize(parts);
  if (size > max_frame_) {
    ++counters_.dropped_oversize;
    return IoStatus::kOk;
  }
  if (!has_peer()) {
    ++counters_.dropped_no_peer;
    return IoStatus::kOk;
  }
  if (parts.size() > kMaxParts) {
    std::vector<uint8_t> joined = JoinFrameParts(parts);
    const std::span<const uint8_t> one[1] = {joined};
    return WriteFrameParts(one, {});
  }
  std::array<iovec, kMaxParts> iov;
  for (size_t i = 0; i < parts.size(); ++i) {
    iov[i] = {const_cast<uint8_t*>(parts[i].data()), parts[i].size()};
  }
  msghdr msg{};
  if (!connected_) {
    msg.msg_name = &peer_;
    msg.msg_namelen = peer_len_;
  }
  msg.msg_iov = iov.data();
  msg.msg_iovlen = parts.size();
  ssize_t n;
  do {
    n = sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n >= 0) {
    return IoStatus::kOk;
  }
  if (IsPeerGone(errno)) {
    ++counters_.dropped_peer_gone;
    return IoStatus::kOk;
  }
  if (errno == EMSGSIZE) {
    ++counters_.dropped_oversize;  // above what the socket's send buffer can ever hold
    return IoStatus::kOk;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
    if (!connected_ && SendBufferHasRoom(fd_.get())) {
      ++counters_.dropped_peer_busy;
      return IoStatus::kOk;
    }
    return IoStatus::kWouldBlock;
  }
  return IoStatus::kError;
}

}  // namespace msb::stack
