// The --net-rule token grammar (net_rule.h). The parser is strict and every error names the whole
// token, says what was expected there and, for likely typos, suggests the intended spelling: these
// tokens are typed by hand and a rule that silently means something else is a security bug.
#include "policy/net_rule.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "base/ip_address.h"
#include "policy/domain_name.h"

namespace msb::policy {
namespace {

constexpr std::string_view kProtocolsExpected = "expected any, tcp, udp, icmpv4 or icmpv6";
constexpr std::string_view kPortsExpected = "expected any, a port 1-65535 or a range lo-hi";

// A Fail carries the "what was expected" part; ParseNetRuleToken prefixes the token.
template <typename T>
Result<T> Fail(std::string what) {
  return Status::Error(std::move(what));
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::optional<Group> ParseGroupKeyword(std::string_view word) {
  for (int i = 0; i < kNumGroups; ++i) {
    auto g = static_cast<Group>(i);
    if (GroupName(g) == word) {
      return g;
    }
  }
  if (word == "metadata") {
    return Group::kMetadata;  // the SDKs' spelling
  }
  return std::nullopt;
}

// ParsePrefixText parses ADDR/LEN of the given family, explaining what is wrong.
Result<IpPrefix> ParsePrefixText(std::string_view text, IpFamily family) {
  size_t slash = text.find('/');
  std::string_view addr_text = text.substr(0, slash);
  std::string_view len_text = text.substr(slash + 1);
  auto addr = IpAddress::Parse(addr_text);
  if (!addr) {
    return Fail<IpPrefix>("invalid CIDR " + QuoteForMessage(text) + ": " +
                          QuoteForMessage(addr_text) + " is not an IP address");
  }
  if (addr->family() != family) {
    return Fail<IpPrefix>(family == IpFamily::kV6
                              ? "brackets are only for IPv6; write IPv4 CIDRs without them"
                              : "IPv6 CIDRs must be bracketed, e.g. [2001:db8::/32]");
  }
  unsigned width = family == IpFamily::kV4 ? 32 : 128;
  unsigned length = 0;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), length);
  bool canonical = !len_text.empty() && (len_text.size() == 1 || len_text[0] != '0');
  if (ec != std::errc() || end != len_text.data() + len_text.size() || !canonical ||
      length > width) {
    return Fail<IpPrefix>("invalid CIDR " + QuoteForMessage(text) +
                          ": the prefix length must be a number from 0 to " +
                          std::to_string(width));
  }
  auto prefix = IpPrefix::Make(*addr, length);
  if (prefix->address() != *addr) {
    std::string fixed = prefix->ToString();
    if (family == IpFamily::kV6) {
      fixed = "[" + fixed + "]";
    }
    return Fail<IpPrefix>("invalid CIDR " + QuoteForMessage(text) +
                          ": host bits are set (did you mean " + fixed + "?)");
  }
  return *prefix;
}

// ParseBracketed handles the inside of [...]: an IPv6 address or IPv6 CIDR, nothing else.
Result<Destination> ParseBracketed(std::string_view inner) {
  if (inner.find('/') != std::string_view::npos) {
    auto prefix = ParsePrefixText(inner, IpFamily::kV6);
    if (!prefix.ok()) {
      return prefix.status();
    }
    return Destination::OfCidr(prefix.value());
  }
  auto ip = IpAddress::Parse(inner);
  if (ip && ip->is_v6()) {
    return Destination::OfCidr(*IpPrefix::Make(*ip, 128));
  }
  if (ip) {
    return Fail<Destination>("brackets are only for IPv6; write " + ip->ToString() +
                             " without them");
  }
  return Fail<Destination>(QuoteForMessage("[" + std::string(inner) + "]") +
                           " is not an IPv6 address; brackets are only for IPv6 addresses and "
                           "CIDRs");
}

bool IsDigitsAndDots(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

// ParseTarget resolves an unbracketed target in the documented order. `dns` is handled by the
// caller because it also fixes protocols and ports.
Result<Destination> ParseTarget(std::string_view t) {
  if (t.empty()) {
    return Fail<Destination>("missing target after '@'");
  }
  if (t == "any") {
    return Destination::Any();
  }
  if (auto g = ParseGroupKeyword(t)) {
    return Destination::OfGroup(*g);
  }
  bool star = t.starts_with("*.");
  if (star || t.starts_with("suffix=")) {
    auto suffix = CanonicalSuffix(t.substr(star ? 2 : 7));
    if (!suffix.ok()) {
      return suffix.status();
    }
    return Destination::OfSuffix(std::move(suffix).value());
  }
  if (t.starts_with("domain=")) {
    auto name = CanonicalDomain(t.substr(7));
    if (!name.ok()) {
      return name.status();
    }
    return Destination::OfDomain(std::move(name).value());
  }
  if (t.find('/') != std::string_view::npos) {
    auto prefix = ParsePrefixText(t, IpFamily::kV4);
    if (!prefix.ok()) {
      return prefix.status();
    }
    return Destination::OfCidr(prefix.value());
  }
  if (auto ip = IpAddress::Parse(t)) {
    return Destination::OfCidr(*IpPrefix::Make(*ip, 32));
  }
  if (IsDigitsAndDots(t) && t.find('.') != std::string_view::npos) {
    return Fail<Destination>(QuoteForMessage(t) +
                             " is not a valid IPv4 address (four numbers 0-255, no leading zeros)");
  }
  if (t.front() == '.') {
    return Fail<Destination>("a leading '.' does not make a suffix; write *." +
                             std::string(t.substr(1)) + " or suffix=" + std::string(t.substr(1)));
  }
  if (t.find('.') != std::string_view::npos) {
    auto name = CanonicalDomain(t);
    if (!name.ok()) {
      return name.status();
    }
    return Destination::OfDomain(std::move(name).value());
  }
  if (t == "*") {
    return Fail<Destination>(
        "\"*\" is ambiguous; write any for every destination or *.DOMAIN "
        "for a suffix");
  }
  return Fail<Destination>(
      QuoteForMessage(t) +
      " is ambiguous: it is not a group keyword and a bare domain needs a dot; write domain=" +
      std::string(t) + " for a single-label host name" +
      DidYouMean(t, {"any", "dns", "public", "private", "loopback", "link-local", "meta",
                     "metadata", "multicast", "host"}));
}

Result<ProtocolSet> ParseProtocolField(std::string_view text) {
  if (text == "any") {
    return ProtocolSet();
  }
  if (auto p = ParseProtocol(text)) {
    return ProtocolSet::Of({*p});
  }
  if (text.empty()) {
    return Fail<ProtocolSet>("empty protocol after ':'; " + std::string(kProtocolsExpected));
  }
  return Fail<ProtocolSet>("unknown protocol " + QuoteForMessage(text) + ": " +
                           std::string(kProtocolsExpected) +
                           DidYouMean(text, {"any", "tcp", "udp", "icmpv4", "icmpv6"}));
}

Result<std::vector<PortRange>> ParsePortsField(std::string_view text) {
  using Ports = std::vector<PortRange>;
  if (text == "any") {
    return Ports{};
  }
  if (text.empty()) {
    return Fail<Ports>("empty port after ':'; " + std::string(kPortsExpected));
  }
  size_t dash = text.find('-');
  auto lo = ParsePort(text.substr(0, dash));
  auto hi = dash == std::string_view::npos ? lo : ParsePort(text.substr(dash + 1));
  if (!lo || !hi) {
    std::string what = "invalid port " + QuoteForMessage(text) + ": " + std::string(kPortsExpected);
    if (text.find(',') != std::string_view::npos) {
      what += " (one port or range per token; repeat the token for more)";
    }
    return Fail<Ports>(what);
  }
  if (*lo > *hi) {
    return Fail<Ports>("port range " + QuoteForMessage(text) +
                       " is reversed: the low port comes first (did you mean " +
                       std::to_string(*hi) + "-" + std::to_string(*lo) + "?)");
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

Result<Fields> SplitFields(std::string_view head, std::string_view rest) {
  Fields f;
  std::string_view after;
  if (rest.starts_with('[')) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return Fail<Fields>("unclosed '[': expected [IPv6] or [IPv6/len]");
    }
    f.target = rest.substr(1, close - 1);
    f.bracketed = true;
    after = rest.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      return Fail<Fields>("unexpected " + QuoteForMessage(after) +
                          " after ']': expected ':' and a protocol, or the end of the token");
    }
  } else {
    if (std::count(rest.begin(), rest.end(), ':') >= 2) {
      if (auto hint = UnbracketedV6Hint(head, rest)) {
        return Fail<Fields>(*hint);
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
    return Fail<Fields>("unexpected " + QuoteForMessage(ports.substr(junk)) +
                        " after <target>:<proto>:<ports>" +
                        (f.bracketed ? ""
                                     : " (IPv6 addresses must be bracketed, e.g. "
                                       "allow@[2001:db8::1]:tcp:443)"));
  }
  return f;
}

// DnsRule expands the `dns` target: the gateway's resolver on port 53.
Result<Rule> DnsRule(std::string_view head, Action action, Direction direction, const Fields& f) {
  std::string plain = std::string(ActionName(action)) + "@dns";
  if (direction != Direction::kEgress) {
    return Fail<Rule>(
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
      return Fail<Rule>("the dns target is always port 53 (did you mean \"" + plain + "\"?)");
    } else {
      std::string what =
          "the dns target takes udp, tcp or any as its protocol, not " + QuoteForMessage(*f.proto);
      if (f.proto->find('.') != std::string_view::npos) {
        what += " (to allow connections to a domain write \"" + std::string(head) + "@" +
                std::string(*f.proto) + "\")";
      }
      return Fail<Rule>(what);
    }
  }
  if (f.ports && *f.ports != "any" && *f.ports != "53") {
    return Fail<Rule>("the dns target is always port 53, not " + QuoteForMessage(*f.ports));
  }
  return rule;
}

Result<Rule> ParseToken(std::string_view token) {
  if (token.empty()) {
    return Fail<Rule>("the token is empty; expected <action>[:<direction>]@<target>");
  }
  if (std::any_of(token.begin(), token.end(), IsSpace)) {
    return Fail<Rule>("whitespace is not allowed inside a token");
  }
  size_t at = token.find('@');
  if (at == std::string_view::npos) {
    return Fail<Rule>(
        "missing '@': expected <action>[:<direction>]@<target>[:<proto>[:<ports>]],"
        " e.g. allow@public");
  }
  std::string_view head = token.substr(0, at);
  size_t colon = head.find(':');
  std::string_view action_text = head.substr(0, colon);
  Rule rule;
  if (action_text == "allow" || action_text == "deny") {
    rule.action = action_text == "allow" ? Action::kAllow : Action::kDeny;
  } else if (action_text.empty()) {
    return Fail<Rule>("missing action before '@': expected allow or deny");
  } else {
    return Fail<Rule>("unknown action " + QuoteForMessage(action_text) +
                      ": expected allow or deny" + DidYouMean(action_text, {"allow", "deny"}));
  }
  if (colon != std::string_view::npos) {
    std::string_view dir = head.substr(colon + 1);
    if (dir == "egress" || dir == "ingress" || dir == "any") {
      rule.direction = dir == "egress"    ? Direction::kEgress
                       : dir == "ingress" ? Direction::kIngress
                                          : Direction::kAny;
    } else {
      return Fail<Rule>("unknown direction " + QuoteForMessage(dir) +
                        ": expected egress, ingress or any" +
                        DidYouMean(dir, {"egress", "ingress", "any"}));
    }
  }
  auto fields = SplitFields(head, token.substr(at + 1));
  if (!fields.ok()) {
    return fields.status();
  }
  const Fields& f = fields.value();
  if (!f.bracketed && f.target == "dns") {
    return DnsRule(head, rule.action, rule.direction, f);
  }
  auto dest = f.bracketed ? ParseBracketed(f.target) : ParseTarget(f.target);
  if (!dest.ok()) {
    return dest.status();
  }
  rule.destination = std::move(dest).value();
  if (f.proto) {
    if (IsPortLike(*f.proto)) {
      std::string target = f.bracketed ? "[" + std::string(f.target) + "]" : std::string(f.target);
      return Fail<Rule>("a port is in the protocol slot (did you mean \"" + std::string(head) +
                        "@" + target + ":tcp:" + std::string(*f.proto) + "\"?)");
    }
    auto protocols = ParseProtocolField(*f.proto);
    if (!protocols.ok()) {
      return protocols.status();
    }
    rule.protocols = protocols.value();
  }
  if (f.ports) {
    auto ports = ParsePortsField(*f.ports);
    if (!ports.ok()) {
      return ports.status();
    }
    rule.ports = std::move(ports).value();
  }
  bool icmp = rule.protocols.Has(Protocol::kIcmpv4) || rule.protocols.Has(Protocol::kIcmpv6);
  if (icmp && rule.direction != Direction::kEgress) {
    return Fail<Rule>("ICMP rules must be egress: the gateway has no inbound ICMP path");
  }
  if (icmp && !rule.ports.empty()) {
    return Fail<Rule>("ICMP has no ports; drop the port part");
  }
  return rule;
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

Result<Rule> ParseNetRuleToken(std::string_view token) {
  auto rule = ParseToken(token);
  if (!rule.ok()) {
    return Status::Error("invalid --net-rule token " + QuoteForMessage(token) + ": " +
                         rule.error());
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
