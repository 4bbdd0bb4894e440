// Destination-group classification of IP addresses: the single source of truth used by policy
// evaluation and (later) DNS rebinding protection.
#pragma once

#include <optional>

#include "base/ip_address.h"
#include "policy/types.h"

namespace msb::policy {

// HostAddresses are the gateway's own addresses as the guest sees them (the `host` group).
struct HostAddresses {
  std::optional<IpAddress> v4;
  std::optional<IpAddress> v6;
};

// Classify returns the group of `ip`, or nullopt for addresses in no group: the unspecified
// addresses (0.0.0.0, ::) and all of 0.0.0.0/8. IPv6 addresses that embed IPv4 (mapped
// ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16) are classified by the embedded address.
// Order: host, metadata (169.254.169.254), loopback (127/8, ::1), private (10/8, 172.16/12,
// 192.168/16, 100.64/10, fc00::/7), link-local (169.254/16, fe80::/10), multicast (224/4,
// ff00::/8), else public (documentation ranges included).
std::optional<Group> Classify(const IpAddress& ip, const HostAddresses& host);

// PrefixGroup describes how the addresses a CIDR rule for a prefix matches are classified, leaving
// the host group aside (its addresses are runtime configuration): `uniform` when every one of them
// falls in the same group, which is then `group` (nullopt: no group, e.g. inside 0.0.0.0/8).
struct PrefixGroup {
  bool uniform = false;
  std::optional<Group> group;
};

// ClassifyPrefix answers PrefixGroup for `prefix` using the same ranges as Classify. An IPv6 prefix
// inside an IPv4-embedding range is judged by the IPv4 prefix it carries. Used by shadow analysis.
PrefixGroup ClassifyPrefix(const IpPrefix& prefix);

// EmbeddedV4Prefix maps an IPv6 prefix lying wholly inside ::ffff:0:0/96, 64:ff9b::/96 or 2002::/16
// to the IPv4 prefix its addresses embed (e.g. [::ffff:10.0.0.0/104] -> 10.0.0.0/8); else nullopt.
std::optional<IpPrefix> EmbeddedV4Prefix(const IpPrefix& v6_prefix);

}  // namespace msb::policy
