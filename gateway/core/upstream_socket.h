// Upstream sockets: non-blocking TCP connects from the host to the destination a guest addressed,
// and the mapping of connect errors to what the guest should see.
#pragma once

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

// SocketError reads and clears SO_ERROR.
int SocketError(int fd);

// CloseWithReset closes `fd` so the peer receives RST (SO_LINGER with zero timeout).
void CloseWithReset(int fd);

enum class ConnectFailure { kRefused, kUnreachable, kTimeout, kOther };
ConnectFailure ClassifyConnectError(int err);
const char* ConnectFailureName(ConnectFailure f);

}  // namespace msb::gateway
