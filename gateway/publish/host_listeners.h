// HostListeners: the host sockets of the published ports (policy/publish_spec.h), opened at
// start-up, before the sandbox runs, so that a port already in use is a clear error naming the
// spec instead of a sandbox that silently lacks it. TCP sockets listen; UDP sockets are bound.
// Both are non-blocking and close-on-exec; IPv6 sockets are IPv6-only, so [::] and 0.0.0.0 are
// two separate publications. The Publisher watches them on the event loop; this object owns them.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/ip_address.h"
#include "base/status.h"
#include "policy/publish_spec.h"

namespace msb::gateway {

class HostListeners {
 public:
  struct Listener {
    policy::PublishedPort port;
    int fd = -1;
  };

  // Open creates one socket per port, in order. The error names the spec and the reason, e.g.
  // `published port "127.0.0.1:8080:80/tcp": cannot bind 127.0.0.1:8080: Address already in use`.
  static Result<std::unique_ptr<HostListeners>> Open(std::span<const policy::PublishedPort> ports);
  ~HostListeners();
  HostListeners(const HostListeners&) = delete;
  HostListeners& operator=(const HostListeners&) = delete;

  const std::vector<Listener>& listeners() const { return listeners_; }
  bool empty() const { return listeners_.empty(); }
  // Warnings: one line per port bound beyond loopback (reachable from other hosts).
  std::vector<std::string> Warnings() const;

 private:
  HostListeners() = default;
  std::vector<Listener> listeners_;
};

}  // namespace msb::gateway
