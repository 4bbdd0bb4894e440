// The `--config FILE` parser (config.h), second half: the "policy" section, i.e. the defaults and
// the rule list with destinations, protocols and ports. It is one of the two rule front ends:
// keywords, CIDRs and the rule invariants (ICMP is egress only and has no ports; port ranges are
// 1..65535, low first) are judged by rule_check.h, shared with the --net-rule grammar, so a policy
// means the same whichever way it was written. This file parses the JSON shape and words
// rule_check's findings with the JSON path.
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/ip_address.h"
#include "policy/config.h"
#include "policy/domain_name.h"
#include "policy/group_table.h"
#include "policy/net_rule.h"
#include "policy/rule_check.h"

namespace msb::policy {
namespace config_internal {
namespace {

constexpr std::string_view kExpectedDestination =
    R"("any" or an object with one of "cidr", "domain", "domain_suffix" or "group")";
constexpr std::string_view kExpectedPort = R"(a port number or an object {"start": N, "end": M})";

RuleParseError AsError(RuleErrorKind kind, const Status& status) {
  return {kind, status.message()};
}

RuleParseError Notation(const Status& status) {
  return AsError(RuleErrorKind::kNotation, status);
}

RuleResult<std::string_view> StringField(const JsonValue& value, std::string_view path,
                                         std::string_view expected) {
  if (!value.is_string()) {
    return Notation(TypeError(path, expected, value));
  }
  std::string_view text = value.as_string();
  return text;
}

// KeywordField reads a keyword of `field` (an action, a direction or a protocol) from a JSON
// string, wording an unknown one as `PATH: unknown NOUN "X": expected "a" or "b" (did you mean
// ...?)`.
template <typename Enum>
RuleResult<Enum> KeywordField(const JsonValue& value, std::string_view path, RuleField field,
                              std::string_view noun, std::span<const std::string_view> names,
                              std::optional<Enum> (*parse)(std::string_view)) {
  std::string expected = ListAlternatives(names, true);
  auto text = StringField(value, path, expected);
  if (!text.ok()) {
    return text.parse_error();
  }
  if (std::optional<Enum> parsed = parse(text.value())) {
    return *parsed;
  }
  RuleProblem p = UnknownKeyword(field, text.value(), GroupNaming::kJson);
  return AsError(
      p.kind, PathError(path, "unknown " + std::string(noun) + " " + QuoteForMessage(text.value()) +
                                  ": expected " + expected + SuggestionNote(p.did_you_mean)));
}

RuleResult<Action> ActionField(const JsonValue& value, std::string_view path) {
  return KeywordField<Action>(value, path, RuleField::kAction, "action", kActionNames, ParseAction);
}

RuleResult<Direction> DirectionField(const JsonValue& value, std::string_view path) {
  return KeywordField<Direction>(value, path, RuleField::kDirection, "direction", kDirectionNames,
                                 ParseDirection);
}

RuleResult<Protocol> ProtocolField(const JsonValue& value, std::string_view path) {
  return KeywordField<Protocol>(value, path, RuleField::kProtocols, "protocol", kProtocolNames,
                                ParseProtocol);
}

// RuleProblemError words a rule invariant rule_check.h found broken, at the rule's PATH.
RuleParseError RuleProblemError(const RuleProblem& p, const Rule& rule, std::string_view path) {
  switch (p.kind) {
    case RuleErrorKind::kReversedPortRange: {
      const PortRange& r = rule.ports[p.index];
      return AsError(
          p.kind, PathError(IndexPath(MemberPath(path, "ports"), p.index),
                            "the range " + std::to_string(r.first) + "-" + std::to_string(r.last) +
                                R"( is reversed: "start" must not exceed "end" (did you mean )" +
                                R"({"start": )" + std::to_string(p.fixed_range->first) +
                                R"(, "end": )" + std::to_string(p.fixed_range->last) + "}?)"));
    }
    case RuleErrorKind::kIcmpNotEgress:
      return AsError(p.kind, PathError(path, "ICMP rules must be egress, not " +
                                                 QuoteForMessage(DirectionName(rule.direction)) +
                                                 ": the gateway has no inbound ICMP path"));
    case RuleErrorKind::kIcmpWithPorts:
      return AsError(p.kind,
                     PathError(path, R"(ICMP has no ports; drop "ports" or the ICMP protocols)"));
    default:
      // kInvalidPort: PortNumber never yields port 0, so only a rule built some other way gets
      // here.
      return AsError(p.kind, PathError(IndexPath(MemberPath(path, "ports"), p.index),
                                       "expected an integer from 1 to 65535"));
  }
}

// StringDestinationHint suggests the object form for a destination written as a bare string,
// the shorthand the SDKs accept but the wire format does not.
std::string StringDestinationHint(std::string_view text) {
  std::string quoted = QuoteForMessage(text);
  if (text == "*") {
    return R"( (did you mean "any"?))";
  }
  if (auto g = FindGroup(text)) {
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

RuleResult<Destination> GroupMember(std::string_view name, std::string_view path) {
  if (auto g = FindGroup(name)) {
    return Destination::OfGroup(*g);
  }
  RuleProblem p = UnknownKeyword(RuleField::kDestination, name, GroupNaming::kJson);
  return AsError(p.kind,
                 PathError(path, "unknown group " + QuoteForMessage(name) + ": expected " +
                                     ListAlternatives(GroupNamesIn(GroupNaming::kJson), true) +
                                     SuggestionNote(p.did_you_mean)));
}

RuleResult<Destination> ParseDestinationMember(std::string_view key, const JsonValue& value,
                                               std::string_view path) {
  auto text = StringField(value, path, "a string");
  if (!text.ok()) {
    return text.parse_error();
  }
  std::string_view name = text.value();
  if (key == "cidr") {
    auto prefix = CidrField(name, path);
    if (!prefix.ok()) {
      return prefix.parse_error();
    }
    return Destination::OfCidr(prefix.value());
  }
  if (key == "group") {
    return GroupMember(name, path);
  }
  if (key == "domain") {
    auto canonical = CanonicalDomain(name);
    if (!canonical.ok()) {
      bool suffix_like = name.starts_with("*.") || name.starts_with(".");
      return AsError(
          RuleErrorKind::kInvalidDomain,
          PathError(path,
                    canonical.error() +
                        (suffix_like ? R"( (for a suffix use {"domain_suffix": ...}))" : "")));
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
    return AsError(RuleErrorKind::kInvalidDomain, PathError(path, canonical.error()));
  }
  return Destination::OfSuffix(std::move(canonical).value());
}

RuleResult<Destination> ParseDestination(const JsonValue& value, std::string_view path) {
  if (value.is_string()) {
    if (value.as_string() == "any") {
      return Destination::Any();
    }
    return Notation(PathError(path, "expected " + std::string(kExpectedDestination) +
                                        ", found the string " + QuoteForMessage(value.as_string()) +
                                        StringDestinationHint(value.as_string())));
  }
  if (!value.is_object()) {
    return Notation(TypeError(path, kExpectedDestination, value));
  }
  for (const auto& [key, member] : value.members()) {
    if (key != "cidr" && key != "domain" && key != "domain_suffix" && key != "group") {
      return Notation(
          UnknownField(MemberPath(path, key), key, {"cidr", "domain", "domain_suffix", "group"}));
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
    return Notation(PathError(
        path,
        R"(expected exactly one of "cidr", "domain", "domain_suffix" or "group", found )" + found));
  }
  const auto& [key, member] = value.members().front();
  return ParseDestinationMember(key, member, MemberPath(path, key));
}

// PortNumber reads one port; a number out of range is a bad port, anything else bad JSON.
RuleResult<uint16_t> PortNumber(const JsonValue& value, std::string_view path) {
  auto port = IntegerField(value, path, 1, 65535);
  if (!port.ok()) {
    return AsError(value.is_number() ? RuleErrorKind::kInvalidPort : RuleErrorKind::kNotation,
                   port.status());
  }
  return static_cast<uint16_t>(port.value());
}

// ParsePortObject reads {"start": N, "end": M}; whether the range is the right way round is
// rule_check's to judge, with the rule's other invariants.
RuleResult<PortRange> ParsePortObject(const JsonValue& value, std::string_view path) {
  std::optional<uint16_t> start;
  std::optional<uint16_t> end;
  for (const auto& [key, member] : value.members()) {
    std::string member_path = MemberPath(path, key);
    if (key != "start" && key != "end") {
      return Notation(UnknownField(member_path, key, {"start", "end"}));
    }
    auto port = PortNumber(member, member_path);
    if (!port.ok()) {
      return port.parse_error();
    }
    (key == "start" ? start : end) = port.value();
  }
  if (!start || !end) {
    return Notation(
        PathError(path, std::string("missing required field ") + (start ? "\"end\"" : "\"start\"") +
                            R"( (a range is {"start": N, "end": M}; for one port write N))"));
  }
  return PortRange{*start, *end};
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

RuleResult<std::vector<PortRange>> ParsePorts(const JsonValue& value, std::string_view path) {
  if (!value.is_array()) {
    return Notation(TypeError(path, "an array of ports", value));
  }
  std::vector<PortRange> ports;
  for (size_t i = 0; i < value.items().size(); ++i) {
    const JsonValue& item = value.items()[i];
    std::string item_path = IndexPath(path, i);
    if (item.is_number()) {
      auto port = PortNumber(item, item_path);
      if (!port.ok()) {
        return port.parse_error();
      }
      ports.push_back(PortRange{port.value(), port.value()});
    } else if (item.is_object()) {
      auto range = ParsePortObject(item, item_path);
      if (!range.ok()) {
        return range.parse_error();
      }
      ports.push_back(range.value());
    } else {
      Status error = TypeError(item_path, kExpectedPort, item);
      std::string hint = item.is_string() ? PortStringHint(item.as_string()) : "";
      return Notation(Status::Error(error.message() + hint));
    }
  }
  return ports;
}

RuleResult<ProtocolSet> ParseProtocols(const JsonValue& value, std::string_view path) {
  if (!value.is_array()) {
    return Notation(TypeError(path, "an array of protocols", value));
  }
  ProtocolSet set;
  for (size_t i = 0; i < value.items().size(); ++i) {
    auto p = ProtocolField(value.items()[i], IndexPath(path, i));
    if (!p.ok()) {
      return p.parse_error();
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

// ParseRuleMember parses one member of a rule object into `rule`; it returns the error, if any.
std::optional<RuleParseError> ParseRuleMember(std::string_view key, const JsonValue& member,
                                              std::string_view path, Rule& rule, RuleFields& seen) {
  bool optional_field = key == "protocols" || key == "protocol" || key == "ports";
  if (optional_field && member.is_null()) {
    return std::nullopt;  // null is the wire format's "not set"
  }
  if (key == "direction") {
    auto direction = DirectionField(member, path);
    if (!direction.ok()) {
      return direction.parse_error();
    }
    rule.direction = direction.value();
    seen.direction = true;
  } else if (key == "destination") {
    auto destination = ParseDestination(member, path);
    if (!destination.ok()) {
      return destination.parse_error();
    }
    rule.destination = std::move(destination).value();
    seen.destination = true;
  } else if (key == "action") {
    auto action = ActionField(member, path);
    if (!action.ok()) {
      return action.parse_error();
    }
    rule.action = action.value();
    seen.action = true;
  } else if (key == "protocols") {
    auto protocols = ParseProtocols(member, path);
    if (!protocols.ok()) {
      return protocols.parse_error();
    }
    rule.protocols = protocols.value();
    seen.protocols = true;
  } else if (key == "protocol") {
    // The legacy single-protocol field; as in the Go SDK, "" means any protocol.
    seen.protocol = true;
    if (member.is_string() && member.as_string().empty()) {
      rule.protocols = ProtocolSet();
      return std::nullopt;
    }
    auto protocol = ProtocolField(member, path);
    if (!protocol.ok()) {
      return protocol.parse_error();
    }
    rule.protocols = ProtocolSet::Of({protocol.value()});
  } else if (key == "ports") {
    auto ports = ParsePorts(member, path);
    if (!ports.ok()) {
      return ports.parse_error();
    }
    rule.ports = std::move(ports).value();
  } else {
    return Notation(UnknownField(
        path, key, {"direction", "destination", "protocols", "protocol", "ports", "action"}));
  }
  return std::nullopt;
}

// ParseRule is ParseConfigRule (config.h).
RuleResult<Rule> ParseRule(const JsonValue& value, std::string_view path) {
  if (!value.is_object()) {
    return Notation(TypeError(path, "a rule object", value));
  }
  Rule rule;
  RuleFields seen;
  for (const auto& [key, member] : value.members()) {
    auto error = ParseRuleMember(key, member, MemberPath(path, key), rule, seen);
    if (error) {
      return *error;
    }
  }
  if (seen.protocol && seen.protocols) {
    return Notation(
        PathError(path, R"("protocol" and "protocols" cannot both be given; use "protocols")"));
  }
  for (auto [present, name] :
       {std::pair{seen.direction, "direction"}, std::pair{seen.destination, "destination"},
        std::pair{seen.action, "action"}}) {
    if (!present) {
      return Notation(PathError(path, "missing required field \"" + std::string(name) + "\""));
    }
  }
  if (auto problem = FindRuleProblem(rule)) {
    return RuleProblemError(*problem, rule, path);
  }
  return rule;
}

}  // namespace

// CidrField is rule_check.h's ParseCidr with explanations: JSON has no ':' field separator, so
// IPv6 is written without brackets.
RuleResult<IpPrefix> CidrField(std::string_view text, std::string_view path) {
  std::string invalid = "invalid CIDR " + QuoteForMessage(text) + ": ";
  if (text.starts_with('[')) {
    return Notation(PathError(path, invalid + "write IPv6 addresses without brackets in JSON"));
  }
  auto parsed = ParseCidr(text);
  if (const auto* prefix = std::get_if<IpPrefix>(&parsed)) {
    return *prefix;
  }
  const RuleProblem& p = std::get<RuleProblem>(parsed);
  size_t slash = text.find('/');
  switch (p.kind) {
    case RuleErrorKind::kInvalidAddress:
      return AsError(p.kind,
                     PathError(path, slash == std::string_view::npos
                                         ? QuoteForMessage(text) + " is not an IP address or CIDR"
                                         : invalid + QuoteForMessage(text.substr(0, slash)) +
                                               " is not an IP address"));
    case RuleErrorKind::kInvalidPrefixLength:
      return AsError(p.kind,
                     PathError(path, invalid + "the prefix length must be a number from 0 to " +
                                         std::to_string(p.max_prefix_length)));
    case RuleErrorKind::kHostBitsSet:
      return AsError(p.kind,
                     PathError(path, invalid + "host bits are set (did you mean " +
                                         QuoteForMessage(p.fixed_prefix->ToString()) + "?)"));
    default:  // ParseCidr reports no other kind without a family
      return AsError(p.kind, PathError(path, invalid + "expected ADDRESS or ADDRESS/LENGTH"));
  }
}

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
      auto action = ActionField(member, member_path);
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

}  // namespace config_internal

RuleResult<Rule> ParseConfigRule(const JsonValue& value, std::string_view path) {
  return config_internal::ParseRule(value, path);
}

}  // namespace msb::policy
