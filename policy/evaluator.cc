// First-match-wins policy evaluation for one flow. Pure computation over an immutable Policy.
#include "policy/evaluator.h"

#include <algorithm>
#include <string>

#include "policy/domain_name.h"

namespace msb::policy {
namespace {

// CanonicalSni lowercases and drops one trailing dot, as rule names are stored. It does not
// validate: an SNI that is not a valid name simply matches no allow rule, and a deny rule still
// catches "EXAMPLE.COM." spelled that way.
std::string CanonicalSni(std::string_view sni) {
  if (!sni.empty() && sni.back() == '.') {
    sni.remove_suffix(1);
  }
  std::string out(sni);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

bool NameMatches(const Destination& dest, std::string_view name) {
  return dest.kind == Destination::Kind::kDomain ? name == dest.name
                                                 : NameHasSuffix(name, dest.name);
}

bool PortsAdmit(const std::vector<PortRange>& ports, std::optional<uint16_t> port) {
  if (ports.empty()) {
    return true;
  }
  if (!port) {
    return false;  // ICMP has no port, so a rule about ports cannot be about it
  }
  return std::any_of(ports.begin(), ports.end(),
                     [&](const PortRange& r) { return r.Contains(*port); });
}

}  // namespace

bool Evaluator::RuleMatches(const Rule& rule, const FlowQuery& query,
                            const NameEvidence* names) const {
  if (rule.direction != Direction::kAny && rule.direction != query.direction) {
    return false;
  }
  if (!rule.protocols.Admits(query.protocol) || !PortsAdmit(rule.ports, query.port)) {
    return false;
  }
  const Destination& dest = rule.destination;
  switch (dest.kind) {
    case Destination::Kind::kAny:
      return true;
    case Destination::Kind::kGroup:
      return Classify(query.ip, host_) == dest.group;
    case Destination::Kind::kCidr:
      // The raw address too, so [::ffff:0:0/96]-style IPv6 rules still see un-normalized forms.
      return dest.cidr.Contains(query.ip.Normalized()) || dest.cidr.Contains(query.ip);
    case Destination::Kind::kDomain:
    case Destination::Kind::kDomainSuffix: {
      if (!query.sni && query.sni_pending && rule.action == Action::kDeny) {
        return false;
      }
      bool pinned = names != nullptr && names->PinnedNameMatches(query.ip, dest);
      if (!query.sni) {
        return pinned;
      }
      if (!NameMatches(dest, CanonicalSni(*query.sni))) {
        return false;
      }
      // Denying on the SNI alone is always safe; allowing on it alone would let a guest claim any
      // name for any IP, so an allow also needs the IP to be one the guest resolved for the name.
      return rule.action == Action::kDeny || pinned;
    }
  }
  return false;
}

Decision Evaluator::Evaluate(const FlowQuery& query, const NameEvidence* names) const {
  for (size_t i = 0; i < policy_.rules.size(); ++i) {
    if (RuleMatches(policy_.rules[i], query, names)) {
      return {policy_.rules[i].action, i};
    }
  }
  Action fallback =
      query.direction == Direction::kIngress ? policy_.default_ingress : policy_.default_egress;
  return {fallback, std::nullopt};
}

}  // namespace msb::policy
