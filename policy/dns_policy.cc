// The DNS query policy and DNS rebinding protection (dns_policy.h). Kept apart from the flow
// evaluator because a query is judged by its name, not by an address, and rebinding protection
// only trusts rules that name addresses on purpose.
#include "policy/dns_policy.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "policy/domain_name.h"

namespace msb::policy {
namespace {

bool PortsAdmit(const std::vector<PortRange>& ports, uint16_t port) {
  return ports.empty() || std::any_of(ports.begin(), ports.end(),
                                      [&](const PortRange& r) { return r.Contains(port); });
}

// TransportAdmitted is the filter test shared by `any` and `host` rules: the query travels as
// UDP/53, TCP/53 or (DoT) TCP/853 to the gateway.
bool TransportAdmitted(const Rule& rule, DnsTransport transport) {
  Protocol protocol = transport == DnsTransport::kUdp ? Protocol::kUdp : Protocol::kTcp;
  uint16_t port = transport == DnsTransport::kDot ? 853 : 53;
  return rule.protocols.Admits(protocol) && PortsAdmit(rule.ports, port);
}

// LooseName lowercases ASCII and drops one trailing dot, without validating: the form a deny rule
// is matched against when the name is not a valid domain.
std::string LooseName(std::string_view name) {
  std::string out(name);
  if (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  return out;
}

bool NameMatches(const Destination& dest, std::string_view name) {
  return dest.kind == Destination::Kind::kDomain ? name == dest.name
                                                 : NameHasSuffix(name, dest.name);
}

// QueryMatches tests one rule. `canonical` is the validated name (nullopt when the name is not a
// valid domain); `loose` the unvalidated lowercase form. Allow rules need a valid name; deny rules
// also match the loose form, so an escaped or wildcard-looking label under a denied suffix
// ("a\032b.ads.example", "*.ads.example") cannot slip past to a later allow.
bool QueryMatches(const Rule& rule, const std::optional<std::string>& canonical,
                  const std::string& loose, DnsTransport transport) {
  const Destination& dest = rule.destination;
  switch (dest.kind) {
    case Destination::Kind::kAny:
      return TransportAdmitted(rule, transport);
    case Destination::Kind::kGroup:
      return dest.group == Group::kHost && TransportAdmitted(rule, transport);
    case Destination::Kind::kCidr:
      return false;
    case Destination::Kind::kDomain:
    case Destination::Kind::kDomainSuffix:
      if (canonical) {
        return NameMatches(dest, *canonical);
      }
      return rule.action == Action::kDeny && NameMatches(dest, loose);
  }
  return false;
}

bool NamesAddresses(const Rule& rule) {
  return rule.destination.kind == Destination::Kind::kCidr ||
         rule.destination.kind == Destination::Kind::kGroup;
}

// Rebinding protection is about answers used for TCP and UDP connections, so a rule limited to
// ICMP says nothing about them.
bool CoversTcpOrUdp(const ProtocolSet& protocols) {
  return protocols.empty() || protocols.Has(Protocol::kTcp) || protocols.Has(Protocol::kUdp);
}

}  // namespace

Decision EvaluateDnsQuery(const Policy& policy, std::string_view name, DnsTransport transport) {
  // A name that is not a valid domain (the root, escaped bytes, an IP-literal-looking name) is
  // matched by rules that ignore the name, and by deny name rules on its loose form.
  std::optional<std::string> canonical;
  if (auto c = CanonicalDomain(name); c.ok()) {
    canonical = std::move(c).value();
  }
  std::string loose = LooseName(name);
  for (size_t i = 0; i < policy.rules.size(); ++i) {
    const Rule& rule = policy.rules[i];
    if (rule.direction == Direction::kIngress) {
      continue;
    }
    if (QueryMatches(rule, canonical, loose, transport)) {
      return {rule.action, i};
    }
  }
  return {policy.default_egress, std::nullopt};
}

bool IsRebindingTarget(const IpAddress& ip, const HostAddresses& host) {
  if (Classify(ip, host) != Group::kPublic) {
    return true;
  }
  // 240.0.0.0/4 is public to the classifier (the reference does the same) but no real service
  // lives there, so a name resolving into it is suspect.
  IpAddress n = ip.Normalized();
  return n.is_v4() && (n.v4() >> 28) == 0xFu;
}

bool ExplicitlyAllowsAddress(const Policy& policy, const HostAddresses& host, const IpAddress& ip) {
  for (const Rule& rule : policy.rules) {
    if (rule.from_preset || rule.direction == Direction::kIngress || !rule.ports.empty() ||
        !CoversTcpOrUdp(rule.protocols) || !NamesAddresses(rule)) {
      continue;
    }
    const Destination& dest = rule.destination;
    bool contains = dest.kind == Destination::Kind::kGroup
                        ? Classify(ip, host) == dest.group
                        : dest.cidr.Contains(ip.Normalized()) || dest.cidr.Contains(ip);
    if (contains) {
      return rule.action == Action::kAllow;
    }
  }
  return false;
}

}  // namespace msb::policy
