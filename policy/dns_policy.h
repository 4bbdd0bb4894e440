// DNS query policy and DNS rebinding protection (see docs/dns.md). Pure functions over a Policy.
#pragma once

#include <string_view>

#include "base/ip_address.h"
#include "policy/classify.h"
#include "policy/evaluator.h"
#include "policy/types.h"

namespace msb::policy {

enum class DnsTransport : uint8_t { kUdp, kTcp, kDot };

// EvaluateDnsQuery decides whether the guest may resolve `name` (as received: it is canonicalised
// here; a name that is not a valid domain takes the nameless path) over `transport`. Every query is
// egress: rules of direction egress or any are walked in order, first match wins:
//   - any: matches when its protocol set admits the transport (UDP, or TCP for TCP and DoT) and its
//     port set admits the DNS port (53, or 853 for DoT);
//   - group host: the same test (the gateway is where the query goes);
//   - domain / suffix: match the query name (exact / label-aware suffix), ignoring protocols and
//     ports; never for a nameless query;
//   - CIDR and other groups never match a name.
// Otherwise the default egress action.
Decision EvaluateDnsQuery(const Policy& policy, std::string_view name, DnsTransport transport);

// IsRebindingTarget is true for addresses a public name must not resolve to: everything outside
// the public group (private, loopback, link-local, metadata, multicast, host, and the unclassified
// unspecified address and 0.0.0.0/8), plus 240.0.0.0/4 (which includes 255.255.255.255); embedded
// IPv4 (mapped, NAT64, 6to4) is judged by the embedded address, exactly as Classify does.
bool IsRebindingTarget(const IpAddress& ip, const HostAddresses& host);

// ExplicitlyAllowsAddress looks for the first egress-or-any rule that names addresses explicitly (a
// CIDR or group destination, no ports, protocol set empty or containing TCP or UDP), that is not
// from a preset, and whose destination contains `ip`: true when that rule allows. No such rule,
// or a deny, is false. Presets, `any` rules and port-scoped rules never grant this permission.
bool ExplicitlyAllowsAddress(const Policy& policy, const HostAddresses& host, const IpAddress& ip);

}  // namespace msb::policy
