// HostListeners: opening the published ports' host sockets (see host_listeners.h).
#include "gateway/publish/host_listeners.h"

#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/errno_message.h"
#include "gateway/core/upstream_socket.h"

namespace msb::gateway {
namespace {

constexpr int kListenBacklog = 128;

Result<int> OpenOne(const policy::PublishedPort& port) {
  bool tcp = port.protocol == policy::PublishProtocol::kTcp;
  int family = port.host_bind.is_v4() ? AF_INET : AF_INET6;
  int fd = socket(family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return Status::Error(ErrnoMessage("cannot create a socket"));
  }
  int one = 1;
  if (family == AF_INET6) {
    (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (tcp) {
    // A restarted gateway may rebind while old connections linger in TIME_WAIT.
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  }
  SocketAddress addr{port.host_bind, port.host_port};
  sockaddr_storage ss{};
  socklen_t len = ToSockaddr(addr, &ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    Status st = Status::Error(ErrnoMessage("cannot bind " + addr.ToString()));
    close(fd);
    return st;
  }
  if (tcp && listen(fd, kListenBacklog) != 0) {
    Status st = Status::Error(ErrnoMessage("cannot listen on " + addr.ToString()));
    close(fd);
    return st;
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<HostListeners>> HostListeners::Open(
    std::span<const policy::PublishedPort> ports) {
  std::unique_ptr<HostListeners> out(new HostListeners());
  if (auto conflict = policy::FindPublishConflict(ports)) {
    return Status::Error(
        policy::PublishConflictMessage(ports[conflict->first], ports[conflict->second]));
  }
  for (const policy::PublishedPort& port : ports) {
    auto fd = OpenOne(port);
    if (!fd.ok()) {
      return Status::Error("published port \"" + port.ToString() + "\": " + fd.error());
    }
    out->listeners_.push_back({port, fd.value()});
  }
  return out;
}

HostListeners::~HostListeners() {
  for (const Listener& l : listeners_) {
    close(l.fd);
  }
}

std::vector<std::string> HostListeners::Warnings() const {
  std::vector<std::string> out;
  for (const Listener& l : listeners_) {
    if (l.port.BeyondLoopback()) {
      out.push_back("published port \"" + l.port.ToString() +
                    "\" listens beyond loopback: other hosts can reach it (ingress policy "
                    "decides which peers may)");
    }
  }
  return out;
}

}  // namespace msb::gateway
