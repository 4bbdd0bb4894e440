// The shared rule-validation layer: the group table, the rule invariants (FindRuleProblem), keyword
// suggestions (UnknownKeyword) and CIDR parsing, as structured findings before any front end words
// them.
#include "policy/rule_check.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "policy/group_table.h"
#include "policy/types.h"
#include "test_util.h"

namespace msb::policy {
namespace {

using testing::Prefix;
using Words = std::vector<std::string_view>;

TEST(GroupTableTest, EveryGroupHasBothSpellingsAndNoOtherGroupsShareThem) {
  ASSERT_EQ(GroupTable().size(), static_cast<size_t>(kNumGroups));
  std::set<std::string_view> seen;
  for (size_t i = 0; i < GroupTable().size(); ++i) {
    const GroupNames& names = GroupTable()[i];
    EXPECT_EQ(names.group, static_cast<Group>(i));
    EXPECT_EQ(FindGroup(names.keyword), names.group) << names.keyword;
    EXPECT_EQ(FindGroup(names.json_name), names.group) << names.json_name;
    EXPECT_EQ(GroupName(names.group), names.keyword);
    EXPECT_EQ(GroupJsonName(names.group), names.json_name);
    seen.insert(names.keyword);
    seen.insert(names.json_name);
  }
  // GroupSpellings is exactly the table's names, each once.
  EXPECT_EQ(std::set<std::string_view>(GroupSpellings().begin(), GroupSpellings().end()), seen);
  EXPECT_EQ(GroupSpellings().size(), seen.size());
}

TEST(GroupTableTest, TheAcceptedSpellings) {
  EXPECT_EQ(Words(GroupSpellings().begin(), GroupSpellings().end()),
            (Words{"public", "private", "loopback", "link-local", "link_local", "meta", "metadata",
                   "multicast", "host"}));
  EXPECT_EQ(GroupNamesIn(GroupNaming::kKeyword),
            (Words{"public", "private", "loopback", "link-local", "meta", "multicast", "host"}));
  EXPECT_EQ(GroupNamesIn(GroupNaming::kJson), (Words{"public", "private", "loopback", "link_local",
                                                     "metadata", "multicast", "host"}));
  for (std::string_view wrong : {"Public", "LINK-LOCAL", "linklocal", "link local", "meta-data",
                                 "Metadata", "hosts", "any", "dns", ""}) {
    EXPECT_EQ(FindGroup(wrong), std::nullopt) << wrong;
  }
}

Rule MakeRule(Direction direction, ProtocolSet protocols, std::vector<PortRange> ports) {
  Rule rule;
  rule.direction = direction;
  rule.protocols = protocols;
  rule.ports = std::move(ports);
  return rule;
}

TEST(FindRuleProblemTest, AcceptsWhatEveryDirectionMayHave) {
  const auto tcp = ProtocolSet::Of({Protocol::kTcp});
  const auto icmp = ProtocolSet::Of({Protocol::kIcmpv4, Protocol::kIcmpv6});
  for (Direction d : {Direction::kEgress, Direction::kIngress, Direction::kAny}) {
    EXPECT_EQ(FindRuleProblem(MakeRule(d, ProtocolSet(), {})), std::nullopt);
    EXPECT_EQ(FindRuleProblem(MakeRule(d, tcp, {{22, 22}, {8000, 9000}})), std::nullopt);
    EXPECT_EQ(FindRuleProblem(MakeRule(d, ProtocolSet(), {{1, 65535}})), std::nullopt);
  }
  EXPECT_EQ(FindRuleProblem(MakeRule(Direction::kEgress, icmp, {})), std::nullopt);
}

TEST(FindRuleProblemTest, IcmpIsEgressOnlyAndHasNoPorts) {
  for (Protocol p : {Protocol::kIcmpv4, Protocol::kIcmpv6}) {
    // Mixed with tcp, the ICMP member still decides.
    for (ProtocolSet set : {ProtocolSet::Of({p}), ProtocolSet::Of({Protocol::kTcp, p})}) {
      for (Direction d : {Direction::kIngress, Direction::kAny}) {
        auto problem = FindRuleProblem(MakeRule(d, set, {}));
        ASSERT_TRUE(problem);
        EXPECT_EQ(problem->kind, RuleErrorKind::kIcmpNotEgress);
        EXPECT_EQ(problem->field, RuleField::kDirection);
      }
      auto problem = FindRuleProblem(MakeRule(Direction::kEgress, set, {{7, 7}}));
      ASSERT_TRUE(problem);
      EXPECT_EQ(problem->kind, RuleErrorKind::kIcmpWithPorts);
      EXPECT_EQ(problem->field, RuleField::kPorts);
    }
  }
  // The direction is reported before the ports.
  auto both = FindRuleProblem(
      MakeRule(Direction::kIngress, ProtocolSet::Of({Protocol::kIcmpv4}), {{7, 7}}));
  ASSERT_TRUE(both);
  EXPECT_EQ(both->kind, RuleErrorKind::kIcmpNotEgress);
}

TEST(FindRuleProblemTest, PortRanges) {
  auto reversed =
      FindRuleProblem(MakeRule(Direction::kEgress, ProtocolSet(), {{80, 80}, {9000, 8000}}));
  ASSERT_TRUE(reversed);
  EXPECT_EQ(reversed->kind, RuleErrorKind::kReversedPortRange);
  EXPECT_EQ(reversed->index, 1u);
  EXPECT_EQ(reversed->fixed_range, (PortRange{8000, 9000}));
  auto zero = FindRuleProblem(MakeRule(Direction::kEgress, ProtocolSet(), {{0, 10}}));
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->kind, RuleErrorKind::kInvalidPort);
  EXPECT_EQ(zero->index, 0u);
  // A bad range comes before the ICMP checks.
  auto first = FindRuleProblem(
      MakeRule(Direction::kIngress, ProtocolSet::Of({Protocol::kIcmpv4}), {{10, 1}}));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->kind, RuleErrorKind::kReversedPortRange);
}

TEST(UnknownKeywordTest, KindsAndSuggestions) {
  RuleProblem action = UnknownKeyword(RuleField::kAction, "alow", GroupNaming::kKeyword);
  EXPECT_EQ(action.kind, RuleErrorKind::kUnknownAction);
  EXPECT_EQ(action.did_you_mean, Words{"allow"});
  RuleProblem direction = UnknownKeyword(RuleField::kDirection, "egres", GroupNaming::kJson);
  EXPECT_EQ(direction.kind, RuleErrorKind::kUnknownDirection);
  EXPECT_EQ(direction.did_you_mean, Words{"egress"});
  RuleProblem protocol = UnknownKeyword(RuleField::kProtocols, "icmp", GroupNaming::kKeyword);
  EXPECT_EQ(protocol.kind, RuleErrorKind::kUnknownProtocol);
  EXPECT_EQ(protocol.did_you_mean, (Words{"icmpv4", "icmpv6"}));
  RuleProblem far = UnknownKeyword(RuleField::kAction, "permit", GroupNaming::kKeyword);
  EXPECT_TRUE(far.did_you_mean.empty());
  // The front end's own keywords come first among equals.
  constexpr std::array<std::string_view, 1> kAny = {"any"};
  EXPECT_EQ(UnknownKeyword(RuleField::kProtocols, "an", GroupNaming::kKeyword, kAny).did_you_mean,
            Words{"any"});
  EXPECT_TRUE(UnknownKeyword(RuleField::kProtocols, "an", GroupNaming::kJson).did_you_mean.empty());
}

TEST(UnknownKeywordTest, GroupsAreSuggestedInTheFrontEndsSpelling) {
  auto groups = [](std::string_view word, GroupNaming naming) {
    RuleProblem p = UnknownKeyword(RuleField::kDestination, word, naming);
    EXPECT_EQ(p.kind, RuleErrorKind::kUnknownGroup) << word;
    return p.did_you_mean;
  };
  // Both spellings are one edit away: each front end names its own, once.
  EXPECT_EQ(groups("linklocal", GroupNaming::kKeyword), Words{"link-local"});
  EXPECT_EQ(groups("linklocal", GroupNaming::kJson), Words{"link_local"});
  // Only one spelling is closest: that one, in both front ends (both accept it).
  EXPECT_EQ(groups("LINK-LOCAL", GroupNaming::kJson), Words{"link-local"});
  EXPECT_EQ(groups("metdata", GroupNaming::kKeyword), Words{"metadata"});
  EXPECT_EQ(groups("metdata", GroupNaming::kJson), Words{"metadata"});
  EXPECT_EQ(groups("privat", GroupNaming::kJson), Words{"private"});
  EXPECT_TRUE(groups("localhost", GroupNaming::kKeyword).empty());
}

IpPrefix CidrOk(std::string_view text, std::optional<IpFamily> family = std::nullopt) {
  auto parsed = ParseCidr(text, family);
  EXPECT_TRUE(std::holds_alternative<IpPrefix>(parsed)) << text;
  return std::holds_alternative<IpPrefix>(parsed) ? std::get<IpPrefix>(parsed) : IpPrefix();
}

RuleProblem CidrProblem(std::string_view text, std::optional<IpFamily> family = std::nullopt) {
  auto parsed = ParseCidr(text, family);
  EXPECT_TRUE(std::holds_alternative<RuleProblem>(parsed)) << text;
  return std::holds_alternative<RuleProblem>(parsed) ? std::get<RuleProblem>(parsed)
                                                     : RuleProblem();
}

TEST(ParseCidrTest, Accepts) {
  EXPECT_EQ(CidrOk("10.0.0.0/8"), Prefix("10.0.0.0/8"));
  EXPECT_EQ(CidrOk("203.0.113.7"), Prefix("203.0.113.7/32"));
  EXPECT_EQ(CidrOk("2001:db8::/32", IpFamily::kV6), Prefix("2001:db8::/32"));
  EXPECT_EQ(CidrOk("2001:db8::1"), Prefix("2001:db8::1/128"));
  EXPECT_EQ(CidrOk("0.0.0.0/0"), Prefix("0.0.0.0/0"));
}

TEST(ParseCidrTest, ProblemsInOrder) {
  EXPECT_EQ(CidrProblem("example.com/8").kind, RuleErrorKind::kInvalidAddress);
  EXPECT_EQ(CidrProblem("10.0.0.256").kind, RuleErrorKind::kInvalidAddress);
  // The family is checked before the length and the host bits.
  EXPECT_EQ(CidrProblem("10.0.0.1/99", IpFamily::kV6).kind, RuleErrorKind::kWrongFamily);
  EXPECT_EQ(CidrProblem("2001:db8::1/32", IpFamily::kV4).kind, RuleErrorKind::kWrongFamily);
  for (std::string_view bad :
       {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/08", "10.0.0.0/+8", "10.0.0.0/x"}) {
    RuleProblem p = CidrProblem(bad);
    EXPECT_EQ(p.kind, RuleErrorKind::kInvalidPrefixLength) << bad;
    EXPECT_EQ(p.max_prefix_length, 32u) << bad;
  }
  EXPECT_EQ(CidrProblem("fc00::/129").max_prefix_length, 128u);
  RuleProblem host_bits = CidrProblem("10.0.0.1/8");
  EXPECT_EQ(host_bits.kind, RuleErrorKind::kHostBitsSet);
  EXPECT_EQ(host_bits.fixed_prefix, Prefix("10.0.0.0/8"));
  EXPECT_EQ(CidrProblem("2001:db8::1/32").fixed_prefix, Prefix("2001:db8::/32"));
}

}  // namespace
}  // namespace msb::policy
