// Helpers shared by the policy tests: literal addresses and rules from text, failing the test
// (rather than crashing) when a literal is mistyped.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "base/ip_address.h"
#include "policy/net_rule.h"
#include "policy/types.h"

namespace msb::policy::testing {

inline IpAddress Ip(std::string_view text) {
  auto ip = IpAddress::Parse(text);
  EXPECT_TRUE(ip.has_value()) << "bad test address " << text;
  return ip.value_or(IpAddress());
}

inline IpPrefix Prefix(std::string_view text) {
  auto p = IpPrefix::Parse(text);
  EXPECT_TRUE(p.has_value()) << "bad test prefix " << text;
  return p.value_or(IpPrefix());
}

// R parses one --net-rule token that the test expects to be valid.
inline Rule R(std::string_view token) {
  auto r = ParseNetRuleToken(token);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
  return r.ok() ? r.value() : Rule();
}

// P builds a policy from tokens with the given defaults.
inline Policy P(std::initializer_list<std::string_view> tokens, Action egress = Action::kDeny,
                Action ingress = Action::kAllow) {
  Policy p;
  p.default_egress = egress;
  p.default_ingress = ingress;
  for (std::string_view t : tokens) {
    p.rules.push_back(R(t));
  }
  return p;
}

}  // namespace msb::policy::testing
