// Names of the policy enums; the canonical --net-rule rendering of a rule (RuleToString), which
// warnings, `policy explain` and audit messages use so users see rules the way they type them; and
// the quoting and did-you-mean helpers every policy error message shares.
#include "policy/types.h"

#include <algorithm>
#include <string>
#include <vector>

#include "base/strings.h"

namespace msb::policy {

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kAllow:
      return "allow";
    case Action::kDeny:
      return "deny";
  }
  return "?";
}

std::string_view DirectionName(Direction d) {
  switch (d) {
    case Direction::kEgress:
      return "egress";
    case Direction::kIngress:
      return "ingress";
    case Direction::kAny:
      return "any";
  }
  return "?";
}

std::string_view ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kTcp:
      return "tcp";
    case Protocol::kUdp:
      return "udp";
    case Protocol::kIcmpv4:
      return "icmpv4";
    case Protocol::kIcmpv6:
      return "icmpv6";
  }
  return "?";
}

std::string_view GroupName(Group g) {
  switch (g) {
    case Group::kPublic:
      return "public";
    case Group::kPrivate:
      return "private";
    case Group::kLoopback:
      return "loopback";
    case Group::kLinkLocal:
      return "link-local";
    case Group::kMetadata:
      return "meta";
    case Group::kMulticast:
      return "multicast";
    case Group::kHost:
      return "host";
  }
  return "?";
}

std::string_view GroupJsonName(Group g) {
  switch (g) {
    case Group::kLinkLocal:
      return "link_local";
    case Group::kMetadata:
      return "metadata";
    default:
      return GroupName(g);
  }
}

std::optional<Protocol> ParseProtocol(std::string_view name) {
  for (int i = 0; i < kNumProtocols; ++i) {
    auto p = static_cast<Protocol>(i);
    if (ProtocolName(p) == name) {
      return p;
    }
  }
  return std::nullopt;
}

std::string QuoteForMessage(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

namespace {

char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Closeness ranks a candidate: 0 when `word` is a proper prefix of it, else 1 + the edit distance.
size_t Closeness(std::string_view word, std::string_view candidate) {
  bool prefix = word.size() >= 2 && word.size() < candidate.size() &&
                std::equal(word.begin(), word.end(), candidate.begin(),
                           [](char w, char c) { return Lower(w) == c; });
  if (prefix) {
    return 0;
  }
  std::string lower(word);
  std::transform(lower.begin(), lower.end(), lower.begin(), Lower);
  return 1 + EditDistance(lower, candidate);
}

std::string TargetToString(const Destination& d) {
  switch (d.kind) {
    case Destination::Kind::kAny:
      return "any";
    case Destination::Kind::kGroup:
      return std::string(GroupName(d.group));
    case Destination::Kind::kCidr: {
      // The grammar brackets IPv6 because ':' separates the token's fields.
      bool single = d.cidr.length() == (d.cidr.family() == IpFamily::kV4 ? 32U : 128U);
      std::string text = single ? d.cidr.address().ToString() : d.cidr.ToString();
      return d.cidr.family() == IpFamily::kV6 ? "[" + text + "]" : text;
    }
    case Destination::Kind::kDomain:
      // A bare word without a dot is not a domain in the grammar (it would be ambiguous).
      if (d.name.find('.') == std::string::npos) {
        return "domain=" + d.name;
      }
      return d.name;
    case Destination::Kind::kDomainSuffix:
      return "*." + d.name;
  }
  return "?";
}

std::string PortsToString(const std::vector<PortRange>& ports) {
  std::string out;
  for (const PortRange& r : ports) {
    if (!out.empty()) {
      out += ',';  // display only: one token holds one range
    }
    out += std::to_string(r.first);
    if (r.last != r.first) {
      out += '-' + std::to_string(r.last);
    }
  }
  return out;
}

std::string ProtocolsToString(ProtocolSet protocols) {
  if (protocols.empty()) {
    return "any";
  }
  std::string out;
  for (int i = 0; i < kNumProtocols; ++i) {
    auto p = static_cast<Protocol>(i);
    if (protocols.Has(p)) {
      if (!out.empty()) {
        out += '+';
      }
      out += ProtocolName(p);
    }
  }
  return out;
}

}  // namespace

std::string RuleToString(const Rule& rule) {
  std::string out(ActionName(rule.action));
  if (rule.direction != Direction::kEgress) {
    out += ':';
    out += DirectionName(rule.direction);
  }
  out += '@';
  out += TargetToString(rule.destination);
  if (!rule.protocols.empty() || !rule.ports.empty()) {
    out += ':';
    out += ProtocolsToString(rule.protocols);
  }
  if (!rule.ports.empty()) {
    out += ':';
    out += PortsToString(rule.ports);
  }
  return out;
}

std::string DidYouMean(std::string_view word, std::initializer_list<std::string_view> candidates) {
  if (word.size() > 64) {
    return "";  // not a typo of a short keyword, and keeps the distance computation small
  }
  size_t best = 4;
  for (std::string_view c : candidates) {
    best = std::min(best, Closeness(word, c));
  }
  if (best > 3 || (best > 0 && best - 1 >= word.size())) {
    return "";
  }
  std::string out;
  for (std::string_view c : candidates) {
    if (Closeness(word, c) == best) {
      out += out.empty() ? " (did you mean " : " or ";
      out += QuoteForMessage(c);
    }
  }
  return out + "?)";
}

}  // namespace msb::policy
