// Destination validity: addresses that are never a real destination for a packet the guest sends
// out of its interface, whatever policy says. They are refused before policy is consulted, for
// TCP and UDP, in every preset (allow-all included): `allow-all` is about the networks around the
// sandbox, and must not turn "this host" into a door. Linux delivers a connect to 0.0.0.0 to the
// host's own loopback, and a dial of 127.x or ::1 reaches the host's loopback services, so a
// crafted SYN to such an address would otherwise be dialled from the host. The host is reachable
// only through the gateway's own address (the `host` group, host.microsandbox.internal), which
// policy governs explicitly.
#pragma once

#include <optional>
#include <string_view>

#include "base/ip_address.h"
#include "policy/types.h"

namespace msb::policy {

// Why an address cannot be a destination (RFC 6890's special-purpose registries mark each of these
// "Destination: False" or "Forwardable: False"; multicast has no TCP).
enum class InvalidDestination : uint8_t {
  kThisNetwork,        // 0.0.0.0/8: "this host on this network" (RFC 1122 3.2.1.3)
  kUnspecified,        // :: (RFC 4291 2.5.2)
  kLoopback,           // 127.0.0.0/8, ::1: never leaves a host (RFC 1122 3.2.1.3(g), RFC 4291 2.5.3)
  kLimitedBroadcast,   // 255.255.255.255 (RFC 919/922)
  kReserved,           // 240.0.0.0/4 (RFC 1112 "reserved for future use")
  kMulticastStream,    // 224.0.0.0/4, ff00::/8 with TCP: multicast has no connections
};
inline constexpr int kNumInvalidDestinations = 6;

// CheckDestination returns why `ip` is not a valid destination for `protocol`, or nullopt when it
// is one (policy then decides). IPv6 addresses that embed IPv4 (mapped, NAT64, 6to4) are judged by
// the IPv4 address they carry, as classification does (::ffff:127.0.0.1 is loopback).
std::optional<InvalidDestination> CheckDestination(const IpAddress& ip, Protocol protocol);

// InvalidDestinationName is the audit-log spelling: this_network, unspecified, loopback,
// limited_broadcast, reserved, multicast_stream.
std::string_view InvalidDestinationName(InvalidDestination why);
// InvalidDestinationText explains it for people (`policy explain`), e.g. "0.0.0.0/8 means "this
// host" (RFC 6890: not a destination)".
std::string_view InvalidDestinationText(InvalidDestination why);

}  // namespace msb::policy
