// The --net-rule token grammar (net_rule.h), one of the two rule front ends. The parser is strict
// and every error names the whole token, says what was expected there and, for likely typos,
// suggests the intended spelling: these tokens are typed by hand and a rule that silently means
// something else is a security bug. Keywords, CIDRs and the rule invariants (ICMP, port ranges)
// are judged by rule_check.h, shared with the JSON config; this file parses the token's notation
// and words rule_check's findings in the grammar's terms.
#include "policy/net_rule.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/ip_address.h"
#include "policy/domain_name.h"
#include "policy/group_table.h"
#include "policy/rule_check.h"

namespace msb::policy {
namespace {

constexpr std::string_view kPortsExpected = "expected any, a port 1-65535 or a range lo-hi";

// The grammar's own keywords besides the shared vocabularies (rule_check.h UnknownKeyword).
constexpr std::array<std::string_view, 1> kAnyKeyword = {"any"};
constexpr std::array<std::string_view, 2> kTargetKeywords = {"any", "dns"};

// A Fail carries the kind and the "what was expected" part; ParseNetRuleToken prefixes the token.
RuleParseError Fail(RuleErrorKind kind, std::string what) {
  return {kind, std::move(what)};
}

RuleParseError Notation(std::string what) {
  return Fail(RuleErrorKind::kNotation, std::move(what));
}

// NameError wraps a domain_name.h rejection, whose wording both front ends share.
RuleParseError NameError(const Status& status) {
  return Fail(RuleErrorKind::kInvalidDomain, status.message());
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// UnknownWord words an unknown keyword: `unknown NOUN "WORD": expected A, B or C (did you mean
// ...?)`, the list being the grammar's keywords for the field.
RuleParseError UnknownWord(RuleField field, std::string_view noun, std::string_view word,
                           std::span<const std::string_view> names,
                           std::span<const std::string_view> extra = {}) {
  RuleProblem p = UnknownKeyword(field, word, GroupNaming::kKeyword, extra);
  std::vector<std::string_view> expected(extra.begin(), extra.end());
  expected.insert(expected.end(), names.begin(), names.end());
  return Fail(p.kind, "unknown " + std::string(noun) + " " + QuoteForMessage(word) + ": expected " +
                          ListAlternatives(expected, false) + SuggestionNote(p.did_you_mean));
}

// BracketedText is how the grammar writes a prefix: IPv6 in brackets, since ':' separates fields.
std::string BracketedText(const IpPrefix& prefix) {
  std::string text = prefix.ToString();
  return prefix.family() == IpFamily::kV6 ? "[" + text + "]" : text;
}

// ParsePrefixText parses ADDR/LEN of the given family (rule_check.h ParseCidr), explaining what is
// wrong in the grammar's terms.
RuleResult<IpPrefix> ParsePrefixText(std::string_view text, IpFamily family) {
  auto parsed = ParseCidr(text, family);
  if (const auto* prefix = std::get_if<IpPrefix>(&parsed)) {
    return *prefix;
  }
  const RuleProblem& p = std::get<RuleProblem>(parsed);
  std::string cidr = "invalid CIDR " + QuoteForMessage(text) + ": ";
  switch (p.kind) {
    case RuleErrorKind::kInvalidAddress:
      return Fail(p.kind,
                  cidr + QuoteForMessage(text.substr(0, text.find('/'))) + " is not an IP address");
    case RuleErrorKind::kWrongFamily:
      return Fail(p.kind, family == IpFamily::kV6
                              ? "brackets are only for IPv6; write IPv4 CIDRs without them"
                              : "IPv6 CIDRs must be bracketed, e.g. [2001:db8::/32]");
    case RuleErrorKind::kInvalidPrefixLength:
      return Fail(p.kind, cidr + "the prefix length must be a number from 0 to " +
                              std::to_string(p.max_prefix_length));
    case RuleErrorKind::kHostBitsSet:
      return Fail(p.kind, cidr + "host bits are set (did you mean " +
                              BracketedText(*p.fixed_prefix) + "?)");
    default:
      return Fail(p.kind, cidr + "expected ADDRESS/LENGTH");  // ParseCidr reports no other kind
  }
}

// RuleProblemError words a rule invariant rule_check.h found broken.
RuleParseError RuleProblemError(const RuleProblem& p, const Rule& rule) {
  switch (p.kind) {
    case RuleErrorKind::kReversedPortRange: {
      const PortRange& r = rule.ports[p.index];
      return Fail(p.kind, "port range \"" + std::to_string(r.first) + "-" + std::to_string(r.last) +
                              "\" is reversed: the low port comes first (did you mean " +
                              std::to_string(p.fixed_range->first) + "-" +
                              std::to_string(p.fixed_range->last) + "?)");
    }
    case RuleErrorKind::kIcmpNotEgress:
      return Fail(p.kind, "ICMP rules must be egress: the gateway has no inbound ICMP path");
    case RuleErrorKind::kIcmpWithPorts:
      return Fail(p.kind, "ICMP has no ports; drop the port part");
    default:
      // kInvalidPort: ParsePort never yields port 0, so only a rule built some other way gets here.
      return Fail(p.kind, "invalid port: " + std::string(kPortsExpected));
  }
}

// ParseBracketed handles the inside of [...]: an IPv6 address or IPv6 CIDR, nothing else.
RuleResult<Destination> ParseBracketed(std::string_view inner) {
  if (inner.find('/') != std::string_view::npos) {
    auto prefix = ParsePrefixText(inner, IpFamily::kV6);
    if (!prefix.ok()) {
      return prefix.parse_error();
    }
    return Destination::OfCidr(prefix.value());
  }
  auto ip = IpAddress::Parse(inner);
  if (ip && ip->is_v6()) {
    return Destination::OfCidr(*IpPrefix::Make(*ip, 128));
  }
  if (ip) {
    return Fail(RuleErrorKind::kWrongFamily,
                "brackets are only for IPv6; write " + ip->ToString() + " without them");
  }
  return Fail(RuleErrorKind::kInvalidAddress,
              QuoteForMessage("[" + std::string(inner) + "]") +
                  " is not an IPv6 address; brackets are only for IPv6 addresses and CIDRs");
}

bool IsDigitsAndDots(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

// ParseTarget resolves an unbracketed target in the documented order. `dns` is handled by the
// caller because it also fixes protocols and ports.
RuleResult<Destination> ParseTarget(std::string_view t) {
  if (t.empty()) {
    return Notation("missing target after '@'");
  }
  if (t == "any") {
    return Destination::Any();
  }
  if (auto g = FindGroup(t)) {
    return Destination::OfGroup(*g);
  }
  bool star = t.starts_with("*.");
  if (star || t.starts_with("suffix=")) {
    auto suffix = CanonicalSuffix(t.substr(star ? 2 : 7));
    if (!suffix.ok()) {
      return NameError(suffix.status());
    }
    return Destination::OfSuffix(std::move(suffix).value());
  }
  if (t.starts_with("domain=")) {
    auto name = CanonicalDomain(t.substr(7));
    if (!name.ok()) {
      return NameError(name.status());
    }
    return Destination::OfDomain(std::move(name).value());
  }
  if (t.find('/') != std::string_view::npos) {
    auto prefix = ParsePrefixText(t, IpFamily::kV4);
    if (!prefix.ok()) {
      return prefix.parse_error();
    }
    return Destination::OfCidr(prefix.value());
  }
  if (auto ip = IpAddress::Parse(t)) {
    return Destination::OfCidr(*IpPrefix::Make(*ip, 32));
  }
  if (IsDigitsAndDots(t) && t.find('.') != std::string_view::npos) {
    return Fail(
        RuleErrorKind::kInvalidAddress,
        QuoteForMessage(t) + " is not a valid IPv4 address (four numbers 0-255, no leading zeros)");
  }
  if (t.front() == '.') {
    return Notation("a leading '.' does not make a suffix; write *." + std::string(t.substr(1)) +
                    " or suffix=" + std::string(t.substr(1)));
  }
  if (t.find('.') != std::string_view::npos) {
    auto name = CanonicalDomain(t);
    if (!name.ok()) {
      return NameError(name.status());
    }
    return Destination::OfDomain(std::move(name).value());
  }
  if (t == "*") {
    return Notation("\"*\" is ambiguous; write any for every destination or *.DOMAIN for a suffix");
  }
  // A bare word without a dot can only be a group keyword (or any, dns).
  RuleProblem p =
      UnknownKeyword(RuleField::kDestination, t, GroupNaming::kKeyword, kTargetKeywords);
  return Fail(p.kind, QuoteForMessage(t) +
                          " is ambiguous: it is not a group keyword and a bare domain needs a "
                          "dot; write domain=" +
                          std::string(t) + " for a single-label host name" +
                          SuggestionNote(p.did_you_mean));
}

RuleResult<ProtocolSet> ParseProtocolField(std::string_view text) {
  if (text == "any") {
    return ProtocolSet();
  }
  if (auto p = ParseProtocol(text)) {
    return ProtocolSet::Of({*p});
  }
  if (text.empty()) {
    std::vector<std::string_view> expected(kAnyKeyword.begin(), kAnyKeyword.end());
    expected.insert(expected.end(), kProtocolNames.begin(), kProtocolNames.end());
    return Notation("empty protocol after ':'; expected " + ListAlternatives(expected, false));
  }
  return UnknownWord(RuleField::kProtocols, "protocol", text, kProtocolNames, kAnyKeyword);
}

// ParsePortsField parses one port or range; the order of a range is rule_check's to judge.
RuleResult<std::vector<PortRange>> ParsePortsField(std::string_view text) {
  using Ports = std::vector<PortRange>;
  if (text == "any") {
    return Ports{};
  }
  if (text.empty()) {
    return Notation("empty port after ':'; " + std::string(kPortsExpected));
  }
  size_t dash = text.find('-');
  auto lo = ParsePort(text.substr(0, dash));
  auto hi = dash == std::string_view::npos ? lo : ParsePort(text.substr(dash + 1));
  if (!lo || !hi) {
    std::string what = "invalid port " + QuoteForMessage(text) + ": " + std::string(kPortsExpected);
    if (text.find(',') != std::string_view::npos) {
      what += " (one port or range per token; repeat the token for more)";
    }
    return Fail(RuleErrorKind::kInvalidPort, what);
  }
  return Ports{{*lo, *hi}};
}

bool IsPortLike(std::string_view s) {
  return !s.empty() && s[0] >= '0' && s[0] <= '9' &&
         std::all_of(s.begin(), s.end(), [](char c) { return c == '-' || (c >= '0' && c <= '9'); });
}

// Fields are the parts of a token after '@'.
struct Fields {
  std::string_view target;  // without brackets
  bool bracketed = false;
  std::optional<std::string_view> proto;
  std::optional<std::string_view> ports;
};

// UnbracketedV6Hint recognises an IPv6 address or CIDR typed without brackets, possibly followed
// by :proto[:ports], and spells the bracketed token.
std::optional<std::string> UnbracketedV6Hint(std::string_view head, std::string_view rest) {
  std::string_view candidate = rest;
  for (int strip = 0; strip <= 2; ++strip) {
    auto ip = IpAddress::Parse(candidate.substr(0, candidate.find('/')));
    if (ip && ip->is_v6()) {
      return "IPv6 addresses must be bracketed (did you mean \"" + std::string(head) + "@[" +
             std::string(candidate) + "]" + std::string(rest.substr(candidate.size())) + "\"?)";
    }
    size_t colon = candidate.rfind(':');
    if (colon == std::string_view::npos) {
      break;
    }
    candidate = candidate.substr(0, colon);
  }
  return std::nullopt;
}

RuleResult<Fields> SplitFields(std::string_view head, std::string_view rest) {
  Fields f;
  std::string_view after;
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return Notation("unclosed '[': expected [IPv6] or [IPv6/len]");
    }
    f.target = rest.substr(1, close - 1);
    f.bracketed = true;
    after = rest.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      return Notation("unexpected " + QuoteForMessage(after) +
                      " after ']': expected ':' and a protocol, or the end of the token");
    }
  } else {
    if (std::count(rest.begin(), rest.end(), ':') >= 2) {
      if (auto hint = UnbracketedV6Hint(head, rest)) {
        return Notation(*hint);
      }
    }
    size_t colon = rest.find(':');
    f.target = rest.substr(0, colon);
    after = colon == std::string_view::npos ? std::string_view() : rest.substr(colon);
  }
  if (after.empty()) {
    return f;
  }
  after.remove_prefix(1);  // the ':' before the protocol
  size_t colon = after.find(':');
  f.proto = after.substr(0, colon);
  if (colon == std::string_view::npos) {
    return f;
  }
  std::string_view ports = after.substr(colon + 1);
  size_t junk = ports.find(':');
  f.ports = ports.substr(0, junk);
  if (junk != std::string_view::npos) {
    return Notation("unexpected " + QuoteForMessage(ports.substr(junk)) +
                    " after <target>:<proto>:<ports>" +
                    (f.bracketed ? ""
                                 : " (IPv6 addresses must be bracketed, e.g. "
                                   "allow@[2001:db8::1]:tcp:443)"));
  }
  return f;
}

// DnsRule expands the `dns` target: the gateway's resolver on port 53.
RuleResult<Rule> DnsRule(std::string_view head, Action action, Direction direction,
                         const Fields& f) {
  std::string plain = std::string(ActionName(action)) + "@dns";
  if (direction != Direction::kEgress) {
    return Notation(
        "the dns target is egress only: queries go from the guest to the gateway "
        "(did you mean \"" +
        plain + "\"?)");
  }
  Rule rule{action,
            direction,
            Destination::OfGroup(Group::kHost),
            ProtocolSet::Of({Protocol::kUdp, Protocol::kTcp}),
            {{53, 53}}};
  if (f.proto && *f.proto != "any") {
    if (*f.proto == "udp" || *f.proto == "tcp") {
      rule.protocols = ProtocolSet::Of({*ParseProtocol(*f.proto)});
    } else if (IsPortLike(*f.proto)) {
      return Notation("the dns target is always port 53 (did you mean \"" + plain + "\"?)");
    } else {
      std::string what =
          "the dns target takes udp, tcp or any as its protocol, not " + QuoteForMessage(*f.proto);
      if (f.proto->find('.') != std::string_view::npos) {
        what += " (to allow connections to a domain write \"" + std::string(head) + "@" +
                std::string(*f.proto) + "\")";
      }
      return Notation(what);
    }
  }
  if (f.ports && *f.ports != "any" && *f.ports != "53") {
    return Notation("the dns target is always port 53, not " + QuoteForMessage(*f.ports));
  }
  return rule;
}

// Checked passes a parsed rule through the invariants every rule holds (rule_check.h).
RuleResult<Rule> Checked(Rule rule) {
  if (auto problem = FindRuleProblem(rule)) {
    return RuleProblemError(*problem, rule);
  }
  return rule;
}

RuleResult<Rule> ParseToken(std::string_view token) {
  if (token.empty()) {
    return Notation("the token is empty; expected <action>[:<direction>]@<target>");
  }
  if (std::any_of(token.begin(), token.end(), IsSpace)) {
    return Notation("whitespace is not allowed inside a token");
  }
  size_t at = token.find('@');
  if (at == std::string_view::npos) {
    return Notation(
        "missing '@': expected <action>[:<direction>]@<target>[:<proto>[:<ports>]],"
        " e.g. allow@public");
  }
  std::string_view head = token.substr(0, at);
  size_t colon = head.find(':');
  std::string_view action_text = head.substr(0, colon);
  Rule rule;
  if (auto action = ParseAction(action_text)) {
    rule.action = *action;
  } else if (action_text.empty()) {
    return Notation("missing action before '@': expected " + ListAlternatives(kActionNames, false));
  } else {
    return UnknownWord(RuleField::kAction, "action", action_text, kActionNames);
  }
  if (colon != std::string_view::npos) {
    std::string_view dir = head.substr(colon + 1);
    auto direction = ParseDirection(dir);
    if (!direction) {
      return UnknownWord(RuleField::kDirection, "direction", dir, kDirectionNames);
    }
    rule.direction = *direction;
  }
  auto fields = SplitFields(head, token.substr(at + 1));
  if (!fields.ok()) {
    return fields.parse_error();
  }
  const Fields& f = fields.value();
  if (!f.bracketed && f.target == "dns") {
    auto dns = DnsRule(head, rule.action, rule.direction, f);
    return dns.ok() ? Checked(std::move(dns).value()) : dns;
  }
  auto dest = f.bracketed ? ParseBracketed(f.target) : ParseTarget(f.target);
  if (!dest.ok()) {
    return dest.parse_error();
  }
  rule.destination = std::move(dest).value();
  if (f.proto) {
    if (IsPortLike(*f.proto)) {
      std::string target = f.bracketed ? "[" + std::string(f.target) + "]" : std::string(f.target);
      return Notation("a port is in the protocol slot (did you mean \"" + std::string(head) + "@" +
                      target + ":tcp:" + std::string(*f.proto) + "\"?)");
    }
    auto protocols = ParseProtocolField(*f.proto);
    if (!protocols.ok()) {
      return protocols.parse_error();
    }
    rule.protocols = protocols.value();
  }
  if (f.ports) {
    auto ports = ParsePortsField(*f.ports);
    if (!ports.ok()) {
      return ports.parse_error();
    }
    rule.ports = std::move(ports).value();
  }
  return Checked(std::move(rule));
}

}  // namespace

std::optional<uint16_t> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5 || text[0] == '0') {
    return std::nullopt;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

RuleResult<Rule> ParseNetRuleToken(std::string_view token) {
  auto rule = ParseToken(token);
  if (!rule.ok()) {
    return RuleParseError{rule.error_kind(), "invalid --net-rule token " + QuoteForMessage(token) +
                                                 ": " + rule.error()};
  }
  return rule;
}

Result<std::vector<Rule>> ParseNetRuleFlag(std::string_view value) {
  std::vector<Rule> rules;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = std::min(value.find(',', start), value.size());
    std::string_view token = value.substr(start, comma - start);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) {
      token.remove_prefix(1);
    }
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
      token.remove_suffix(1);
    }
    start = comma + 1;
    if (token.empty()) {
      continue;  // "a,,b" and a trailing comma are harmless
    }
    auto rule = ParseNetRuleToken(token);
    if (!rule.ok()) {
      return rule.status();
    }
    rules.push_back(std::move(rule).value());
  }
  if (rules.empty()) {
    return Status::Error("--net-rule " + QuoteForMessage(value) +
                         " has no rules: expected comma-separated tokens such as allow@public");
  }
  return rules;
}

}  // namespace msb::policy
