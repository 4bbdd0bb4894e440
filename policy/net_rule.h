// The --net-rule grammar (docs/policy.md):
//   <TOKEN>     := <action>[:<direction>]@<target>[:<proto>[:<ports>]]
//   <action>    := allow | deny
//   <direction> := egress | ingress | any                  (default egress)
//   <target>    := any | dns | <group> | <ipv4> | [<ipv6>] | <cidr> | [<ipv6-cidr>]
//                | <fqdn> | domain=<name> | suffix=<domain> | *.<domain>
//   <group>     := a group's keyword or wire name (group_table.h): public | private | loopback
//                | link-local | link_local | meta | metadata | multicast | host
//   <proto>     := any | tcp | udp | icmpv4 | icmpv6
//   <ports>     := any | <port> | <lo>-<hi>
// A flag value holds comma-separated tokens (empty segments skipped); repeated flags concatenate in
// argv order; first match wins. Keywords, CIDRs and the rule invariants are rule_check.h's, shared
// with the JSON config (config.h), so a rule one front end accepts the other accepts too.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "policy/rule_error.h"
#include "policy/types.h"

namespace msb::policy {

// ParseNetRuleToken parses one token. Errors read
//   invalid --net-rule token "TOKEN": WHAT WAS EXPECTED [(did you mean "..."?)]
// and keep their kind (rule_error.h), the same kind the JSON config gives the same rule.
RuleResult<Rule> ParseNetRuleToken(std::string_view token);

// ParseNetRuleFlag parses one flag value (comma-separated tokens); the first bad token fails it.
// Tokens are separated by ',', and ASCII spaces and tabs around a token are dropped ("allow@a,
// deny@b" works); whitespace inside a token is an error.
Result<std::vector<Rule>> ParseNetRuleFlag(std::string_view value);

// ParsePort accepts a port as the grammar writes it: decimal 1..65535, no sign, no leading zeros.
std::optional<uint16_t> ParsePort(std::string_view text);

}  // namespace msb::policy
