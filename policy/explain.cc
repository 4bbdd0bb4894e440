// `msb-gateway policy explain`: parses a destination the way users type it and explains, in a few
// aligned lines, which rule decides egress to it and why.
#include "policy/explain.h"

#include <algorithm>
#include <string>
#include <vector>

#include "base/strings.h"
#include "policy/destination_validity.h"
#include "policy/dns_policy.h"
#include "policy/domain_name.h"
#include "policy/net_rule.h"

namespace msb::policy {
namespace {

constexpr std::string_view kExpected =
    "expected DEST[:PORT][/PROTO], e.g. 198.51.100.10:443, [2001:db8::1]:443/udp or "
    "api.example.com:443";

constexpr std::string_view kNoPortNote =
    "note         no port given: rules that name ports were skipped\n";

Status Invalid(std::string_view text, std::string_view what) {
  return Status::Error("invalid destination " + QuoteForMessage(text) + ": " + std::string(what));
}

bool IsDigitsAndDots(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

// SplitHostPort separates DEST and PORT; bare IPv6 (two or more colons) has no port.
Status SplitHostPort(std::string_view text, std::string_view hostport, std::string_view* dest,
                     std::optional<std::string_view>* port, bool* bracketed) {
  *bracketed = hostport.starts_with('[');
  if (*bracketed) {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) {
      return Invalid(text, "unclosed '['");
    }
    *dest = hostport.substr(1, close - 1);
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      return Invalid(text, "expected ':PORT' or '/PROTO' after ']'");
    }
    if (!after.empty()) {
      *port = after.substr(1);
    }
    return Status::Ok();
  }
  size_t colons = static_cast<size_t>(std::count(hostport.begin(), hostport.end(), ':'));
  if (colons == 1) {
    size_t colon = hostport.find(':');
    *dest = hostport.substr(0, colon);
    *port = hostport.substr(colon + 1);
  } else {
    *dest = hostport;
  }
  return Status::Ok();
}

Status ParseDest(std::string_view text, std::string_view dest, bool bracketed, ExplainTarget* out) {
  auto ip = IpAddress::Parse(dest);
  if (bracketed) {
    if (!ip || !ip->is_v6()) {
      return Invalid(text, "brackets must hold an IPv6 address");
    }
    out->ip = ip;
    return Status::Ok();
  }
  if (ip) {
    out->ip = ip;
    return Status::Ok();
  }
  if (dest.find(':') != std::string_view::npos) {
    return Invalid(text, "not a valid IPv6 address (write [2001:db8::1]:443 to give a port)");
  }
  if (IsDigitsAndDots(dest)) {
    return Invalid(text, "not a valid IPv4 address");
  }
  auto name = CanonicalDomain(dest);
  if (!name.ok()) {
    return Invalid(text, name.error());
  }
  out->name = std::move(name).value();
  return Status::Ok();
}

Status ParseProto(std::string_view text, std::string_view proto, ExplainTarget* out) {
  if (auto p = ParseProtocol(proto)) {
    out->protocol = *p;
    return Status::Ok();
  }
  if (!proto.empty() && IsDigitsAndDots(proto)) {
    return Invalid(text, "a CIDR is not a destination; give one address");
  }
  return Invalid(text, "unknown protocol " + QuoteForMessage(proto) + ": expected " +
                           ListAlternatives(kProtocolNames, false) +
                           SuggestionNote(Suggestions(proto, kProtocolNames)));
}

// PinnedTo answers "is the IP pinned to a name this rule names?" as if every IP were pinned to
// `name`: it lists the name rules that would apply to a connection resolved from that name.
class PinnedTo : public NameEvidence {
 public:
  explicit PinnedTo(std::string_view name) : name_(name) {}
  bool PinnedNameMatches(const IpAddress& /*ip*/, const Destination& dest) const override {
    return dest.kind == Destination::Kind::kDomain ? name_ == dest.name
                                                   : NameHasSuffix(name_, dest.name);
  }

 private:
  std::string_view name_;
};

std::string RuleText(const Policy& policy, size_t index) {
  return "rule #" + std::to_string(index + 1) + " " + RuleToString(policy.rules[index]);
}

std::string DecisionText(const Policy& policy, const Decision& d) {
  std::string out(ActionName(d.action));
  return d.rule_index ? out + " by " + RuleText(policy, *d.rule_index) : out + " (default egress)";
}

FlowQuery QueryFor(const ExplainTarget& target) {
  FlowQuery q;
  q.direction = Direction::kEgress;
  q.protocol = target.protocol;
  q.ip = target.ip.value_or(IpAddress());
  q.port = target.port;
  return q;
}

std::string DestinationText(const ExplainTarget& t) {
  std::string out =
      t.ip ? (t.ip->is_v6() ? "[" + t.ip->ToString() + "]" : t.ip->ToString()) : t.name;
  if (t.port) {
    out += ":" + std::to_string(*t.port);
  }
  return out + "/" + std::string(ProtocolName(t.protocol));
}

// ExplainName covers a name destination: which name rules would apply to an IP resolved from it,
// and what decides for an IP that was not (only rules that do not look at names).
// ConnectText walks the rules for a connection to an IP whose name evidence is `names` (nullptr:
// the IP was not resolved from the name): a matching name rule decides; the first rule that
// depends on the address stops the walk (the answer depends on the IP); a matching `any` rule or
// the default decides otherwise.
std::string ConnectText(const Evaluator& evaluator, const FlowQuery& q, const NameEvidence* names) {
  const Policy& policy = evaluator.policy();
  for (size_t i = 0; i < policy.rules.size(); ++i) {
    const Rule& rule = policy.rules[i];
    if (rule.destination.is_name()) {
      if (names != nullptr && evaluator.RuleMatches(rule, q, names)) {
        return DecisionText(policy, {rule.action, i});
      }
      continue;
    }
    Rule any_dest = rule;
    any_dest.destination = Destination::Any();
    if (!evaluator.RuleMatches(any_dest, q, nullptr)) {
      continue;
    }
    if (rule.destination.kind != Destination::Kind::kAny) {
      return "depends on the address: the first rule that looks at it is " + RuleText(policy, i) +
             " (explain the IP to see)";
    }
    return DecisionText(policy, {rule.action, i});
  }
  return std::string(ActionName(policy.default_egress)) + " (default egress)";
}

std::string ExplainName(const Evaluator& evaluator, const ExplainTarget& target) {
  const Policy& policy = evaluator.policy();
  FlowQuery q = QueryFor(target);
  PinnedTo pinned(target.name);
  std::string out = "destination  " + DestinationText(target) + " (domain name)\n";
  Decision udp = EvaluateDnsQuery(policy, target.name, DnsTransport::kUdp);
  Decision tcp = EvaluateDnsQuery(policy, target.name, DnsTransport::kTcp);
  auto query_text = [&](const Decision& d) {
    return DecisionText(policy, d) +
           (d.action == Action::kDeny ? " (the guest gets NXDOMAIN)" : "");
  };
  if (udp == tcp) {
    out += "dns query    " + query_text(udp) + "\n";
  } else {
    out += "dns query    udp: " + query_text(udp) + "\n             tcp: " + query_text(tcp) + "\n";
  }
  out += "connect      " + ConnectText(evaluator, q, &pinned) +
         "\n             (to an IP the guest resolved from this name through the gateway, until "
         "the answer's TTL runs out)\n";
  out += "other IPs    " + ConnectText(evaluator, q, nullptr) + "\n";
  if (!target.port && (target.protocol == Protocol::kTcp || target.protocol == Protocol::kUdp)) {
    out += kNoPortNote;
  }
  return out;
}

}  // namespace

Result<ExplainTarget> ParseExplainTarget(std::string_view text) {
  if (text.empty()) {
    return Invalid(text, kExpected);
  }
  if (std::any_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t'; })) {
    return Invalid(text, "it contains whitespace");
  }
  ExplainTarget out;
  std::string_view hostport = text;
  if (size_t slash = text.rfind('/'); slash != std::string_view::npos) {
    hostport = text.substr(0, slash);
    if (Status s = ParseProto(text, text.substr(slash + 1), &out); !s.ok()) {
      return s;
    }
  }
  std::string_view dest;
  std::optional<std::string_view> port_text;
  bool bracketed = false;
  if (Status s = SplitHostPort(text, hostport, &dest, &port_text, &bracketed); !s.ok()) {
    return s;
  }
  if (dest.empty()) {
    return Invalid(text, kExpected);
  }
  if (Status s = ParseDest(text, dest, bracketed, &out); !s.ok()) {
    return s;
  }
  if (port_text) {
    out.port = ParsePort(*port_text);
    if (!out.port) {
      return Invalid(text, "invalid port " + QuoteForMessage(*port_text) + ": expected 1-65535");
    }
  }
  bool icmp = out.protocol == Protocol::kIcmpv4 || out.protocol == Protocol::kIcmpv6;
  if (icmp && out.port) {
    return Invalid(text, "ICMP has no ports");
  }
  if (out.ip && out.protocol == Protocol::kIcmpv4 && out.ip->is_v6()) {
    return Invalid(text, "icmpv4 needs an IPv4 destination (use icmpv6)");
  }
  if (out.ip && out.protocol == Protocol::kIcmpv6 && out.ip->is_v4()) {
    return Invalid(text, "icmpv6 needs an IPv6 destination (use icmpv4)");
  }
  return out;
}

std::string ExplainDecision(const Evaluator& evaluator, const ExplainTarget& target) {
  if (!target.ip) {
    return ExplainName(evaluator, target);
  }
  const Policy& policy = evaluator.policy();
  FlowQuery q = QueryFor(target);
  std::optional<Group> group = Classify(*target.ip, evaluator.host());
  std::string out = "destination  " + DestinationText(target) +
                    " (group: " + (group ? std::string(GroupName(*group)) : "none");
  if (auto v4 = target.ip->EmbeddedV4()) {
    out += ", embeds " + v4->ToString();
  }
  out += ")\n";
  if (auto invalid = CheckDestination(*target.ip, target.protocol)) {
    // Refused before policy in every preset: no rule can admit it, so none is listed.
    out += "decision     deny (refused before policy: not a valid destination)\n";
    out += "reason       " + std::string(InvalidDestinationText(*invalid)) + "\n";
    return out;
  }
  Decision d = evaluator.Evaluate(q, nullptr);
  out += "decision     " + DecisionText(policy, d) + "\n";
  if (!target.port && (target.protocol == Protocol::kTcp || target.protocol == Protocol::kUdp)) {
    out += kNoPortNote;
  }
  // Name rules before the deciding rule would win for an IP the guest resolved from their names;
  // one line lists them all so a long --deny-domain list does not bury the decision.
  std::vector<size_t> earlier;
  size_t end = d.rule_index.value_or(policy.rules.size());
  for (size_t i = 0; i < end; ++i) {
    Rule any_dest = policy.rules[i];
    if (!any_dest.destination.is_name()) {
      continue;
    }
    any_dest.destination = Destination::Any();
    if (evaluator.RuleMatches(any_dest, q, nullptr)) {
      earlier.push_back(i);
    }
  }
  if (!earlier.empty()) {
    std::string list;
    for (size_t i : earlier) {
      list += (list.empty() ? "#" : ", #") + std::to_string(i + 1);
    }
    bool one = earlier.size() == 1;
    out += std::string("note         name rule") + (one ? " " : "s ") + list +
           (one ? " comes first: it decides" : " come first: one decides") +
           " instead if the guest resolved this IP from a name it matches through the gateway (a "
           "deny rule also on the TLS SNI)\n";
  }
  return out;
}

}  // namespace msb::policy
