// Upstream sockets: non-blocking TCP connects from the host to the destination a guest addressed,
// connected datagram sockets (UDP, unprivileged ICMP echo), the sockaddr conversions they share,
// and the mapping of connect errors to what the guest should see.
#pragma once

#include <sys/socket.h>

#include <optional>

#include "base/ip_address.h"
#include "base/status.h"

namespace msb::gateway {

struct ConnectStart {
  int fd = -1;               // the socket, or -1 when the connect failed at once
  bool in_progress = false;  // true: wait for writability, then read SocketError()
  int error = 0;             // errno when fd == -1
};

// ConnectTcp starts a non-blocking connect. TCP_NODELAY is set: the gateway forwards segments as
// they come and must not add Nagle delay on top of the guest's own.
ConnectStart ConnectTcp(const SocketAddress& to);

// ToSockaddr fills `out` with `addr` and returns its length; FromSockaddr is the reverse
// (nullopt for families other than AF_INET and AF_INET6).
socklen_t ToSockaddr(const SocketAddress& addr, sockaddr_storage* out);
std::optional<SocketAddress> FromSockaddr(const sockaddr_storage& ss);

// ConnectDatagram opens a non-blocking datagram socket of `protocol` (IPPROTO_UDP, or
// IPPROTO_ICMP / IPPROTO_ICMPV6 for unprivileged echo sockets) connected to `to`, so that only
// that peer's datagrams come back. Returns the fd, or the errno as an error status.
Result<int> ConnectDatagram(const SocketAddress& to, int protocol);

// SocketError reads and clears SO_ERROR.
int SocketError(int fd);

// CloseWithReset closes `fd` so the peer receives RST (SO_LINGER with zero timeout).
void CloseWithReset(int fd);

enum class ConnectFailure { kRefused, kUnreachable, kTimeout, kOther };
ConnectFailure ClassifyConnectError(int err);
const char* ConnectFailureName(ConnectFailure f);

}  // namespace msb::gateway
