// The one rule-validation layer behind both rule front ends, the --net-rule grammar (net_rule.h)
// and the JSON config's rules (config.h). Each front end parses its own notation and asks this
// layer three things: is this word a keyword (and if not, what was meant), is this a valid CIDR,
// and does the finished rule hold the invariants every rule must hold. The answers are structured
// (RuleProblem, rule_error.h) and never worded: each front end words them its own way, naming the
// token or the JSON path. So the two can phrase a verdict differently but never reach different
// verdicts.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <variant>

#include "base/ip_address.h"
#include "policy/group_table.h"
#include "policy/rule_error.h"
#include "policy/types.h"

namespace msb::policy {

// FindRuleProblem checks the invariants of a parsed rule and returns the first one it breaks, in
// this order:
//   * every port range is 1-65535, low port first (kInvalidPort, kReversedPortRange; `index` is
//     the range's position);
//   * a rule whose protocols include icmpv4 or icmpv6 is egress (kIcmpNotEgress, field
//     kDirection): the gateway has no inbound ICMP path, so `ingress` could never match and `any`
//     would silently mean egress only;
//   * such a rule has no ports (kIcmpWithPorts, field kPorts): ICMP has none, so a rule with ports
//     never matches an ICMP flow (evaluator.h).
// Ingress rules otherwise take every destination, protocol and port an egress rule takes.
std::optional<RuleProblem> FindRuleProblem(const Rule& rule);

// UnknownKeyword is the problem for a `word` that is not a keyword of `field`: kUnknownAction,
// kUnknownDirection, kUnknownProtocol (field kProtocols) or kUnknownGroup (field kDestination),
// with `did_you_mean` set from the field's vocabulary (types.h, group_table.h) by the one
// suggestion engine (base/strings.h Suggestions). `extra` adds keywords of the front end's own
// notation (the --net-rule grammar's `any` protocol, its `any` and `dns` targets), listed first.
// Groups are suggested in `naming`'s spelling, unless only the other spelling is close
// ("metdata" suggests "metadata" in both front ends).
RuleProblem UnknownKeyword(RuleField field, std::string_view word, GroupNaming naming,
                           std::span<const std::string_view> extra = {});

// ParseCidr parses ADDRESS or ADDRESS/LENGTH (LENGTH in decimal without sign or leading zeros; a
// lone address is a /32 or /128). With `family`, the address must be of that family. Problems, in
// the order checked (all field kDestination): kInvalidAddress, kWrongFamily, kInvalidPrefixLength,
// kHostBitsSet (with `fixed_prefix`).
std::variant<IpPrefix, RuleProblem> ParseCidr(std::string_view text,
                                              std::optional<IpFamily> family = std::nullopt);

}  // namespace msb::policy
