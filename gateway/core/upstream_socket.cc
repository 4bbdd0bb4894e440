// Upstream socket helpers (see upstream_socket.h).
#include "gateway/core/upstream_socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "base/errno_message.h"

namespace msb::gateway {

socklen_t ToSockaddr(const SocketAddress& addr, sockaddr_storage* out) {
  *out = sockaddr_storage{};
  if (addr.ip.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(addr.port);
    std::memcpy(&sin->sin_addr, addr.ip.bytes().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(addr.port);
  std::memcpy(&sin6->sin6_addr, addr.ip.bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

std::optional<SocketAddress> FromSockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    return SocketAddress{IpAddress::V4(ntohl(sin->sin_addr.s_addr)), ntohs(sin->sin_port)};
  }
  if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    std::array<uint8_t, 16> b;
    std::memcpy(b.data(), &sin6->sin6_addr, 16);
    return SocketAddress{IpAddress::V6(b), ntohs(sin6->sin6_port)};
  }
  return std::nullopt;
}

Result<int> ConnectDatagram(const SocketAddress& to, int protocol) {
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(to, &ss);
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) {
    return Status::Error(ErrnoMessage("socket"));
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    Status st = Status::Error(ErrnoMessage("connect"));
    close(fd);
    return st;
  }
  return fd;
}

ConnectStart ConnectTcp(const SocketAddress& to) {
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(to, &ss);
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    return {-1, false, errno};
  }
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
    return {fd, false, 0};
  }
  if (errno == EINPROGRESS) {
    return {fd, true, 0};
  }
  int err = errno;
  close(fd);
  return {-1, false, err};
}

int SocketError(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
    return errno;
  }
  return err;
}

void CloseWithReset(int fd) {
  linger lg{1, 0};
  (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(fd);
}

ConnectFailure ClassifyConnectError(int err) {
  switch (err) {
    case ECONNREFUSED:
      return ConnectFailure::kRefused;
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EADDRNOTAVAIL:
    case ENETDOWN:
      return ConnectFailure::kUnreachable;
    case ETIMEDOUT:
      return ConnectFailure::kTimeout;
    default:
      return ConnectFailure::kOther;
  }
}

const char* ConnectFailureName(ConnectFailure f) {
  switch (f) {
    case ConnectFailure::kRefused:
      return "refused";
    case ConnectFailure::kUnreachable:
      return "unreachable";
    case ConnectFailure::kTimeout:
      return "timeout";
    case ConnectFailure::kOther:
      return "error";
  }
  return "error";
}

}  // namespace msb::gateway
