// Shadowed-rule detection (shadow.h). "Covers" here means: every flow the later rule would match,
// the earlier rule matches too, so under first-match-wins the later rule never decides anything.
// Each test below is exact or errs towards "not covered", so a warning is never false; the one
// assumption is documented in shadow.h (without HostAddresses, the gateway's addresses are taken
// to lie outside the CIDRs compared with a group).
#include "policy/shadow.h"

#include <algorithm>
#include <string>

#include "policy/domain_name.h"

namespace msb::policy {
namespace {

bool DirectionCovers(Direction earlier, Direction later) {
  return earlier == Direction::kAny || earlier == later;
}

bool ProtocolsCover(ProtocolSet earlier, ProtocolSet later) {
  if (earlier.empty()) {
    return true;
  }
  return !later.empty() && (later.bits() & ~earlier.bits()) == 0;
}

// PortsCover merges the earlier ranges first, so 80-90 and 91-100 together cover 85-95.
bool PortsCover(const std::vector<PortRange>& earlier, const std::vector<PortRange>& later) {
  if (earlier.empty()) {
    return true;
  }
  if (later.empty()) {
    return false;  // the later rule matches every port (and ICMP); a port list cannot
  }
  std::vector<PortRange> merged = earlier;
  std::sort(merged.begin(), merged.end(),
            [](const PortRange& a, const PortRange& b) { return a.first < b.first; });
  std::vector<PortRange> spans;
  for (const PortRange& r : merged) {
    if (!spans.empty() && uint32_t{r.first} <= uint32_t{spans.back().last} + 1) {
      spans.back().last = std::max(spans.back().last, r.last);
    } else {
      spans.push_back(r);
    }
  }
  return std::all_of(later.begin(), later.end(), [&](const PortRange& r) {
    return std::any_of(spans.begin(), spans.end(),
                       [&](const PortRange& s) { return s.first <= r.first && r.last <= s.last; });
  });
}

// CidrCovers: does every address a CIDR rule for `later` matches also match `earlier`? A CIDR rule
// matches an address when it contains the address or its embedded IPv4 (evaluator.cc), so an
// IPv4 block also covers IPv6 blocks that embed only its addresses.
bool CidrCovers(const IpPrefix& earlier, const IpPrefix& later) {
  if (earlier.family() == later.family()) {
    return earlier.Contains(later);
  }
  if (earlier.family() == IpFamily::kV4) {
    auto embedded = EmbeddedV4Prefix(later);
    return embedded && earlier.Contains(*embedded);
  }
  return false;  // an IPv6 rule never matches an IPv4 address
}

// HostInCidr: can a CIDR rule for `cidr` match an address that classifies as host address `h`?
bool HostInCidr(const IpPrefix& cidr, const IpAddress& h) {
  IpAddress n = h.Normalized();
  if (cidr.family() == IpFamily::kV4) {
    return cidr.Contains(n);
  }
  if (n.is_v6()) {
    return cidr.Contains(n);
  }
  auto embedded = EmbeddedV4Prefix(cidr);
  return embedded && embedded->Contains(n);
}

bool GroupCoversCidr(Group group, const IpPrefix& cidr, const HostAddresses* host) {
  if (group == Group::kHost) {
    unsigned width = cidr.family() == IpFamily::kV4 ? 32 : 128;
    return host != nullptr && cidr.length() == width &&
           Classify(cidr.address(), *host) == Group::kHost;
  }
  PrefixGroup pg = ClassifyPrefix(cidr);
  if (!pg.uniform || pg.group != group) {
    return false;
  }
  if (host != nullptr) {
    for (const auto& h : {host->v4, host->v6}) {
      if (h && HostInCidr(cidr, *h)) {
        return false;  // the gateway's address inside the block is host, not `group`
      }
    }
  }
  return true;
}

bool DestinationCovers(const Rule& earlier, const Rule& later, const HostAddresses* host) {
  const Destination& e = earlier.destination;
  const Destination& l = later.destination;
  if (e.kind == Destination::Kind::kAny) {
    return true;
  }
  if (e.is_name() && l.is_name() && earlier.action == Action::kAllow &&
      later.action == Action::kDeny) {
    return false;  // a deny name rule also matches on the SNI alone, where an allow does not
  }
  switch (e.kind) {
    case Destination::Kind::kGroup:
      if (l.kind == Destination::Kind::kGroup) {
        return e.group == l.group;
      }
      return l.kind == Destination::Kind::kCidr && GroupCoversCidr(e.group, l.cidr, host);
    case Destination::Kind::kCidr:
      return l.kind == Destination::Kind::kCidr && CidrCovers(e.cidr, l.cidr);
    case Destination::Kind::kDomain:
      return l.kind == Destination::Kind::kDomain && l.name == e.name;
    case Destination::Kind::kDomainSuffix:
      return l.is_name() && NameHasSuffix(l.name, e.name);
    case Destination::Kind::kAny:
      break;
  }
  return false;
}

bool Covers(const Rule& earlier, const Rule& later, const HostAddresses* host) {
  return DirectionCovers(earlier.direction, later.direction) &&
         ProtocolsCover(earlier.protocols, later.protocols) &&
         PortsCover(earlier.ports, later.ports) && DestinationCovers(earlier, later, host);
}

std::string Describe(size_t index, const Rule& rule) {
  return "rule #" + std::to_string(index + 1) + " (" + RuleToString(rule) + ")";
}

std::string Message(size_t earlier_index, const Rule& earlier, size_t later_index,
                    const Rule& later) {
  std::string later_text = Describe(later_index, later);
  std::string earlier_text = Describe(earlier_index, earlier);
  if (earlier.action == later.action) {
    return later_text + " is redundant: " + earlier_text + " already " +
           (later.action == Action::kAllow ? "allows" : "denies") + " it";
  }
  return later_text + " is shadowed by " + earlier_text + " and can never match; it would " +
         std::string(ActionName(later.action)) + " what the earlier rule " +
         (earlier.action == Action::kAllow ? "allows" : "denies");
}

std::vector<Shadow> Find(const Policy& policy, const HostAddresses* host) {
  std::vector<Shadow> out;
  const std::vector<Rule>& rules = policy.rules;
  for (size_t later = 0; later < rules.size(); ++later) {
    for (size_t earlier = 0; earlier < later; ++earlier) {
      if (Covers(rules[earlier], rules[later], host)) {
        out.push_back({earlier, later, Message(earlier, rules[earlier], later, rules[later])});
      }
    }
  }
  return out;
}

}  // namespace

std::vector<Shadow> FindShadowedRules(const Policy& policy) {
  return Find(policy, nullptr);
}

std::vector<Shadow> FindShadowedRules(const Policy& policy, const HostAddresses& host) {
  return Find(policy, &host);
}

}  // namespace msb::policy
