// The `--config FILE` parser (config.h), second half: the "policy" section, i.e. the defaults and
// the rule list with destinations, protocols and ports. It enforces the same rule invariants as
// the --net-rule grammar (ICMP is egress only and has no ports; port ranges are 1..65535, low
// first), so a policy means the same whichever way it was written.
#include <string>
#include <vector>

#include "base/ip_address.h"
#include "base/strings.h"
#include "policy/config.h"
#include "policy/domain_name.h"
#include "policy/net_rule.h"

namespace msb::policy::config_internal {
namespace {

constexpr std::string_view kExpectedAction = R"("allow" or "deny")";
constexpr std::string_view kExpectedDirection = R"("egress", "ingress" or "any")";
constexpr std::string_view kExpectedProtocol = R"("tcp", "udp", "icmpv4" or "icmpv6")";
constexpr std::string_view kExpectedDestination =
    R"("any" or an object with one of "cidr", "domain", "domain_suffix" or "group")";
constexpr std::string_view kExpectedGroup =
    R"("public", "private", "loopback", "link_local", "metadata", "multicast" or "host")";
constexpr std::string_view kExpectedPort = R"(a port number or an object {"start": N, "end": M})";

// The error helpers below return Status; Result<T> converts from it.
Result<std::string_view> StringField(const JsonValue& value, std::string_view path,
                                     std::string_view expected) {
  if (!value.is_string()) {
    return TypeError(path, expected, value);
  }
  std::string_view text = value.as_string();
  return text;
}

Result<Action> ParseAction(const JsonValue& value, std::string_view path) {
  auto text = StringField(value, path, kExpectedAction);
  if (!text.ok()) {
    return text.status();
  }
  if (text.value() == "allow" || text.value() == "deny") {
    return text.value() == "allow" ? Action::kAllow : Action::kDeny;
  }
  return PathError(path, "unknown action " + QuoteForMessage(text.value()) + ": expected " +
                             std::string(kExpectedAction) +
                             DidYouMean(text.value(), {"allow", "deny"}));
}

Result<Direction> ParseDirection(const JsonValue& value, std::string_view path) {
  auto text = StringField(value, path, kExpectedDirection);
  if (!text.ok()) {
    return text.status();
  }
  for (Direction d : {Direction::kEgress, Direction::kIngress, Direction::kAny}) {
    if (DirectionName(d) == text.value()) {
      return d;
    }
  }
  return PathError(path, "unknown direction " + QuoteForMessage(text.value()) + ": expected " +
                             std::string(kExpectedDirection) +
                             DidYouMean(text.value(), {"egress", "ingress", "any"}));
}

Result<Protocol> ParseProtocolName(const JsonValue& value, std::string_view path) {
  auto text = StringField(value, path, kExpectedProtocol);
  if (!text.ok()) {
    return text.status();
  }
  if (auto p = ParseProtocol(text.value())) {
    return *p;
  }
  return PathError(path, "unknown protocol " + QuoteForMessage(text.value()) + ": expected " +
                             std::string(kExpectedProtocol) +
                             DidYouMean(text.value(), {"tcp", "udp", "icmpv4", "icmpv6"}));
}

// GroupFromName accepts the wire-format names and the CLI keywords (link-local, meta), so a name
// copied from a --net-rule token works too.
std::optional<Group> GroupFromName(std::string_view name) {
  for (int i = 0; i < kNumGroups; ++i) {
    auto g = static_cast<Group>(i);
    if (GroupJsonName(g) == name || GroupName(g) == name) {
      return g;
    }
  }
  return std::nullopt;
}

// ParseCidr is IpPrefix::Parse with explanations: JSON has no ':' field separator, so IPv6 is
// written without brackets.
Result<IpPrefix> ParseCidr(std::string_view text, std::string_view path) {
  if (text.starts_with('[')) {
    return PathError(path, "invalid CIDR " + QuoteForMessage(text) +
                               ": write IPv6 addresses without brackets in JSON");
  }
  size_t slash = text.find('/');
  std::string_view address_text = text.substr(0, slash);
  auto address = IpAddress::Parse(address_text);
  if (!address) {
    return PathError(path, slash == std::string_view::npos
                               ? QuoteForMessage(text) + " is not an IP address or CIDR"
                               : "invalid CIDR " + QuoteForMessage(text) + ": " +
                                     QuoteForMessage(address_text) + " is not an IP address");
  }
  unsigned width = address->is_v4() ? 32 : 128;
  if (slash == std::string_view::npos) {
    return *IpPrefix::Make(*address, width);
  }
  auto length = ParseUint(text.substr(slash + 1), 0, width);
  if (!length) {
    return PathError(path, "invalid CIDR " + QuoteForMessage(text) +
                               ": the prefix length must be a number from 0 to " +
                               std::to_string(width));
  }
  auto prefix = IpPrefix::Make(*address, static_cast<unsigned>(*length));
  if (prefix->address() != *address) {
    return PathError(path, "invalid CIDR " + QuoteForMessage(text) +
                               ": host bits are set (did you mean " +
                               QuoteForMessage(prefix->ToString()) + "?)");
  }
  return *prefix;
}

// StringDestinationHint suggests the object form for a destination written as a bare string,
// the shorthand the SDKs accept but the wire format does not.
std::string StringDestinationHint(std::string_view text) {
  std::string quoted = QuoteForMessage(text);
  if (text == "*") {
    return R"( (did you mean "any"?))";
  }
  if (auto g = GroupFromName(text)) {
    return R"( (did you mean {"group": ")" + std::string(GroupJsonName(*g)) + "\"}?)";
  }
  if (text.find('/') != std::string_view::npos || IpAddress::Parse(text)) {
    return R"( (did you mean {"cidr": )" + quoted + "}?)";
  }
  if (text.starts_with("*.") || text.starts_with(".")) {
    return R"( (did you mean {"domain_suffix": )" + quoted + "}?)";
  }
  if (text.find('.') != std::string_view::npos) {
    return R"( (did you mean {"domain": )" + quoted + "}?)";
  }
  return "";
}

Result<Destination> ParseDestinationMember(std::string_view key, const JsonValue& value,
                                           std::string_view path) {
  auto text = StringField(value, path, "a string");
  if (!text.ok()) {
    return text.status();
  }
  std::string_view name = text.value();
  if (key == "cidr") {
    auto prefix = ParseCidr(name, path);
    if (!prefix.ok()) {
      return prefix.status();
    }
    return Destination::OfCidr(prefix.value());
  }
  if (key == "group") {
    if (auto g = GroupFromName(name)) {
      return Destination::OfGroup(*g);
    }
    return PathError(path, "unknown group " + QuoteForMessage(name) + ": expected " +
                               std::string(kExpectedGroup) +
                               DidYouMean(name, {"public", "private", "loopback", "link_local",
                                                 "metadata", "multicast", "host"}));
  }
  if (key == "domain") {
    auto canonical = CanonicalDomain(name);
    if (!canonical.ok()) {
      bool suffix_like = name.starts_with("*.") || name.starts_with(".");
      return PathError(
          path,
          canonical.error() + (suffix_like ? R"( (for a suffix use {"domain_suffix": ...}))" : ""));
    }
    return Destination::OfDomain(std::move(canonical).value());
  }
  // domain_suffix: the leading "*." or "." spellings mean the same suffix.
  if (name.starts_with("*.")) {
    name.remove_prefix(2);
  } else if (name.starts_with(".")) {
    name.remove_prefix(1);
  }
  auto canonical = CanonicalSuffix(name);
  if (!canonical.ok()) {
    return PathError(path, canonical.error());
  }
  return Destination::OfSuffix(std::move(canonical).value());
}

Result<Destination> ParseDestination(const JsonValue& value, std::string_view path) {
  if (value.is_string()) {
    if (value.as_string() == "any") {
      return Destination::Any();
    }
    return PathError(path, "expected " + std::string(kExpectedDestination) + ", found the string " +
                               QuoteForMessage(value.as_string()) +
                               StringDestinationHint(value.as_string()));
  }
  if (!value.is_object()) {
    return TypeError(path, kExpectedDestination, value);
  }
  for (const auto& [key, member] : value.members()) {
    if (key != "cidr" && key != "domain" && key != "domain_suffix" && key != "group") {
      return UnknownField(MemberPath(path, key), key, {"cidr", "domain", "domain_suffix", "group"});
    }
  }
  if (value.members().size() != 1) {
    std::string found = "an empty object";
    if (!value.members().empty()) {
      found = std::to_string(value.members().size()) + " fields (";
      for (size_t i = 0; i < value.members().size(); ++i) {
        found += (i > 0 ? ", \"" : "\"") + value.members()[i].first + "\"";
      }
      found += ")";
    }
    return PathError(
        path,
        R"(expected exactly one of "cidr", "domain", "domain_suffix" or "group", found )" + found);
  }
  const auto& [key, member] = value.members().front();
  return ParseDestinationMember(key, member, MemberPath(path, key));
}

Result<PortRange> ParsePortObject(const JsonValue& value, std::string_view path) {
  std::optional<uint64_t> start;
  std::optional<uint64_t> end;
  for (const auto& [key, member] : value.members()) {
    std::string member_path = MemberPath(path, key);
    if (key != "start" && key != "end") {
      return UnknownField(member_path, key, {"start", "end"});
    }
    auto port = IntegerField(member, member_path, 1, 65535);
    if (!port.ok()) {
      return port.status();
    }
    (key == "start" ? start : end) = port.value();
  }
  if (!start || !end) {
    return PathError(path, std::string("missing required field ") +
                               (start ? "\"end\"" : "\"start\"") +
                               R"( (a range is {"start": N, "end": M}; for one port write N))");
  }
  if (*start > *end) {
    return PathError(path, "the range " + std::to_string(*start) + "-" + std::to_string(*end) +
                               R"( is reversed: "start" must not exceed "end" (did you mean )" +
                               R"({"start": )" + std::to_string(*end) + R"(, "end": )" +
                               std::to_string(*start) + "}?)");
  }
  return PortRange{static_cast<uint16_t>(*start), static_cast<uint16_t>(*end)};
}

// PortStringHint helps users of the SDKs, whose port fields are strings ("443", "8000-9000").
std::string PortStringHint(std::string_view text) {
  size_t dash = text.find('-');
  auto lo = ParsePort(text.substr(0, dash));
  auto hi = dash == std::string_view::npos ? lo : ParsePort(text.substr(dash + 1));
  if (!lo || !hi) {
    return "";
  }
  if (dash == std::string_view::npos) {
    return " (write " + std::to_string(*lo) + " without quotes)";
  }
  return R"( (write {"start": )" + std::to_string(*lo) + R"(, "end": )" + std::to_string(*hi) +
         "})";
}

Result<std::vector<PortRange>> ParsePorts(const JsonValue& value, std::string_view path) {
  if (!value.is_array()) {
    return TypeError(path, "an array of ports", value);
  }
  std::vector<PortRange> ports;
  for (size_t i = 0; i < value.items().size(); ++i) {
    const JsonValue& item = value.items()[i];
    std::string item_path = IndexPath(path, i);
    Result<PortRange> range = PortRange{};
    if (item.is_number()) {
      auto port = IntegerField(item, item_path, 1, 65535);
      if (!port.ok()) {
        return port.status();
      }
      auto p = static_cast<uint16_t>(port.value());
      range = PortRange{p, p};
    } else if (item.is_object()) {
      range = ParsePortObject(item, item_path);
    } else {
      Status error = TypeError(item_path, kExpectedPort, item);
      std::string hint = item.is_string() ? PortStringHint(item.as_string()) : "";
      return Status::Error(error.message() + hint);
    }
    if (!range.ok()) {
      return range.status();
    }
    ports.push_back(range.value());
  }
  return ports;
}

Result<ProtocolSet> ParseProtocols(const JsonValue& value, std::string_view path) {
  if (!value.is_array()) {
    return TypeError(path, "an array of protocols", value);
  }
  ProtocolSet set;
  for (size_t i = 0; i < value.items().size(); ++i) {
    auto p = ParseProtocolName(value.items()[i], IndexPath(path, i));
    if (!p.ok()) {
      return p.status();
    }
    set.Add(p.value());
  }
  return set;
}

// RuleFields tracks which members a rule object had, for the required-field and conflict checks.
struct RuleFields {
  bool direction = false;
  bool destination = false;
  bool action = false;
  bool protocol = false;
  bool protocols = false;
};

Status ParseRuleMember(std::string_view key, const JsonValue& member, std::string_view path,
                       Rule& rule, RuleFields& seen) {
  bool optional_field = key == "protocols" || key == "protocol" || key == "ports";
  if (optional_field && member.is_null()) {
    return Status::Ok();  // null is the wire format's "not set"
  }
  if (key == "direction") {
    auto direction = ParseDirection(member, path);
    if (!direction.ok()) {
      return direction.status();
    }
    rule.direction = direction.value();
    seen.direction = true;
  } else if (key == "destination") {
    auto destination = ParseDestination(member, path);
    if (!destination.ok()) {
      return destination.status();
    }
    rule.destination = std::move(destination).value();
    seen.destination = true;
  } else if (key == "action") {
    auto action = ParseAction(member, path);
    if (!action.ok()) {
      return action.status();
    }
    rule.action = action.value();
    seen.action = true;
  } else if (key == "protocols") {
    auto protocols = ParseProtocols(member, path);
    if (!protocols.ok()) {
      return protocols.status();
    }
    rule.protocols = protocols.value();
    seen.protocols = true;
  } else if (key == "protocol") {
    // The legacy single-protocol field; as in the Go SDK, "" means any protocol.
    seen.protocol = true;
    if (member.is_string() && member.as_string().empty()) {
      rule.protocols = ProtocolSet();
      return Status::Ok();
    }
    auto protocol = ParseProtocolName(member, path);
    if (!protocol.ok()) {
      return protocol.status();
    }
    rule.protocols = ProtocolSet::Of({protocol.value()});
  } else if (key == "ports") {
    auto ports = ParsePorts(member, path);
    if (!ports.ok()) {
      return ports.status();
    }
    rule.ports = std::move(ports).value();
  } else {
    return UnknownField(path, key,
                        {"direction", "destination", "protocols", "protocol", "ports", "action"});
  }
  return Status::Ok();
}

Result<Rule> ParseRule(const JsonValue& value, std::string_view path) {
  if (!value.is_object()) {
    return TypeError(path, "a rule object", value);
  }
  Rule rule;
  RuleFields seen;
  for (const auto& [key, member] : value.members()) {
    Status status = ParseRuleMember(key, member, MemberPath(path, key), rule, seen);
    if (!status.ok()) {
      return status;
    }
  }
  if (seen.protocol && seen.protocols) {
    return PathError(path, R"("protocol" and "protocols" cannot both be given; use "protocols")");
  }
  for (auto [present, name] :
       {std::pair{seen.direction, "direction"}, std::pair{seen.destination, "destination"},
        std::pair{seen.action, "action"}}) {
    if (!present) {
      return PathError(path, "missing required field \"" + std::string(name) + "\"");
    }
  }
  bool icmp = rule.protocols.Has(Protocol::kIcmpv4) || rule.protocols.Has(Protocol::kIcmpv6);
  if (icmp && rule.direction != Direction::kEgress) {
    return PathError(path, "ICMP rules must be egress, not " +
                               QuoteForMessage(DirectionName(rule.direction)) +
                               ": the gateway has no inbound ICMP path");
  }
  if (icmp && !rule.ports.empty()) {
    return PathError(path, R"(ICMP has no ports; drop "ports" or the ICMP protocols)");
  }
  return rule;
}

}  // namespace

Result<Policy> ParsePolicyObject(const JsonValue& value, std::string_view path) {
  if (!value.is_object()) {
    return TypeError(path, "an object", value);
  }
  // The wire format fails closed: a policy object without a default denies that direction.
  Policy policy;
  policy.default_egress = Action::kDeny;
  policy.default_ingress = Action::kDeny;
  for (const auto& [key, member] : value.members()) {
    std::string member_path = MemberPath(path, key);
    if (member.is_null()) {
      continue;  // null is the wire format's "not set"
    }
    if (key == "default_egress" || key == "default_ingress") {
      auto action = ParseAction(member, member_path);
      if (!action.ok()) {
        return action.status();
      }
      (key == "default_egress" ? policy.default_egress : policy.default_ingress) = action.value();
    } else if (key == "rules") {
      if (!member.is_array()) {
        return TypeError(member_path, "an array of rules", member);
      }
      for (size_t i = 0; i < member.items().size(); ++i) {
        auto rule = ParseRule(member.items()[i], IndexPath(member_path, i));
        if (!rule.ok()) {
          return rule.status();
        }
        policy.rules.push_back(std::move(rule).value());
      }
    } else {
      return UnknownField(member_path, key, {"default_egress", "default_ingress", "rules"});
    }
  }
  return policy;
}

}  // namespace msb::policy::config_internal
