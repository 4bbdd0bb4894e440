// Published ports: the one model and validation layer behind both front ends, the CLI's
// `--publish [BIND:]HOST_PORT:GUEST_PORT[/tcp|/udp]` and the config file's `ports` section
// (config.h). Each front end parses its own notation and asks this layer to judge every piece
// (port, bind address, protocol) and the whole list (no host socket published twice); the answers
// say what is wrong, and each front end says where (the flag and its value, or the JSON path). So
// the CLI and the config file may word a verdict differently but never reach different verdicts.
// Pure: no sockets (gateway/publish opens the listeners).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "base/ip_address.h"
#include "base/status.h"

namespace msb::policy {

enum class PublishProtocol : uint8_t { kTcp, kUdp };
std::string_view PublishProtocolName(PublishProtocol p);  // "tcp" | "udp"

// PublishedPort: a host socket whose connections (TCP) or datagrams (UDP) the gateway carries to
// the guest's GUEST_PORT, subject to ingress policy on the peer's address.
struct PublishedPort {
  IpAddress host_bind = IpAddress::V4(0x7f000001);  // 127.0.0.1 unless told otherwise
  uint16_t host_port = 0;
  uint16_t guest_port = 0;
  PublishProtocol protocol = PublishProtocol::kTcp;

  // ToString is the canonical spec: "127.0.0.1:8080:80/tcp", "[::1]:8080:80/udp".
  std::string ToString() const;
  // BeyondLoopback: the bind reaches other hosts (a wildcard or a non-loopback address).
  bool BeyondLoopback() const;
  friend bool operator==(const PublishedPort&, const PublishedPort&) = default;
};

// ParsePublishPort accepts a decimal port 1-65535 (no sign, no leading zeros beyond "0").
Result<uint16_t> ParsePublishPort(std::string_view text);
// ParsePublishBind accepts an IPv4 or IPv6 literal, the IPv6 one bare or in brackets, that a
// listener can bind: unicast, or the unspecified address (all interfaces of that family).
Result<IpAddress> ParsePublishBind(std::string_view text);
// ParsePublishProtocol accepts "tcp" and "udp", and microsandbox's legacy "Tcp" and "Udp".
Result<PublishProtocol> ParsePublishProtocol(std::string_view text);

// ParsePublishSpec parses `[BIND:]HOST_PORT:GUEST_PORT[/tcp|/udp]` (BIND an IPv4 address or an
// IPv6 one in brackets; default 127.0.0.1 and tcp). The error names the offending token, e.g.
// `guest port "99999": expected a port from 1 to 65535`; the caller adds the flag and the spec.
Result<PublishedPort> ParsePublishSpec(std::string_view spec);

// FindPublishConflict returns the first pair (i < j) of entries that would listen on the same host
// socket: same protocol and port, same address family, and the same address or either one the
// family's wildcard (IPv6 listeners are IPv6-only, so 0.0.0.0 and [::] do not collide).
std::optional<std::pair<size_t, size_t>> FindPublishConflict(std::span<const PublishedPort> ports);
// PublishConflictMessage words a conflict found by FindPublishConflict.
std::string PublishConflictMessage(const PublishedPort& a, const PublishedPort& b);

}  // namespace msb::policy
