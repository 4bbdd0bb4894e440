// Presets and BuildPolicy: expansion, composition order, defaults, conflicts and warnings.
#include "policy/presets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.h"

namespace msb::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::P;

// MarkPreset marks the rules from index `first` on as contributed by a preset, as PresetPolicy and
// BuildPolicy do; rules parsed from tokens are the user's.
Policy MarkPreset(Policy p, size_t first = 0) {
  for (size_t i = first; i < p.rules.size(); ++i) {
    p.rules[i].from_preset = true;
  }
  return p;
}

TEST(PresetTest, NamesRoundTrip) {
  for (Preset p : {Preset::kPublicOnly, Preset::kNone, Preset::kAllowAll, Preset::kNonLocal}) {
    EXPECT_EQ(ParsePreset(PresetName(p)), p);
  }
  EXPECT_EQ(PresetName(Preset::kPublicOnly), "public-only");
  EXPECT_EQ(PresetName(Preset::kNonLocal), "non-local");
  EXPECT_EQ(ParsePreset("public"), std::nullopt);
  EXPECT_EQ(ParsePreset("Public-Only"), std::nullopt);
  EXPECT_EQ(ParsePreset(""), std::nullopt);
}

TEST(PresetTest, Expansions) {
  EXPECT_EQ(PresetPolicy(Preset::kPublicOnly), MarkPreset(P({"allow@dns", "allow@public"})));
  EXPECT_EQ(PresetPolicy(Preset::kNonLocal),
            MarkPreset(P({"allow@dns", "allow@public", "allow@private"})));
  EXPECT_EQ(PresetPolicy(Preset::kNone), P({}, Action::kDeny, Action::kDeny));
  EXPECT_EQ(PresetPolicy(Preset::kAllowAll), P({}, Action::kAllow, Action::kAllow));
  Rule dns = PresetPolicy(Preset::kPublicOnly).rules[0];
  EXPECT_EQ(dns.destination, Destination::OfGroup(Group::kHost));
  EXPECT_EQ(dns.protocols, ProtocolSet::Of({Protocol::kUdp, Protocol::kTcp}));
  EXPECT_EQ(dns.ports, (std::vector<PortRange>{{53, 53}}));
}

Policy Built(const PolicyOptions& o) {
  auto r = BuildPolicy(o);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? r.value().policy : Policy();
}

std::string BuildError(const PolicyOptions& o) {
  auto r = BuildPolicy(o);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error();
}

TEST(BuildPolicyTest, NoFlagsIsPublicOnly) {
  EXPECT_EQ(Built({}), PresetPolicy(Preset::kPublicOnly));
}

TEST(BuildPolicyTest, PresetFlag) {
  for (Preset p : {Preset::kPublicOnly, Preset::kNone, Preset::kAllowAll, Preset::kNonLocal}) {
    PolicyOptions o;
    o.preset = p;
    EXPECT_EQ(Built(o), PresetPolicy(p)) << PresetName(p);
  }
}

TEST(BuildPolicyTest, CompositionOrder) {
  PolicyOptions o;
  o.preset = Preset::kPublicOnly;
  o.net_rules = {"allow@10.0.0.5:tcp:22,deny@private", "allow@host:tcp:8080"};
  o.deny_domains = {"Tracker.Example.com."};
  o.deny_domain_suffixes = {"ads.example"};
  EXPECT_EQ(Built(o),
            MarkPreset(P({"deny@tracker.example.com", "deny@*.ads.example", "allow@10.0.0.5:tcp:22",
                          "deny@private", "allow@host:tcp:8080", "allow@dns", "allow@public"}),
                       5));
}

TEST(BuildPolicyTest, RulesAloneKeepThePublicOnlyBase) {
  PolicyOptions o;
  o.net_rules = {"allow@deb.debian.org"};
  EXPECT_EQ(Built(o), MarkPreset(P({"allow@deb.debian.org", "allow@dns", "allow@public"}), 1));
}

TEST(BuildPolicyTest, DefaultFlagsStartFromAnEmptyRuleList) {
  PolicyOptions o;
  o.default_egress = Action::kAllow;
  o.net_rules = {"deny@meta"};
  EXPECT_EQ(Built(o), P({"deny@meta"}, Action::kAllow, Action::kAllow));
  PolicyOptions ingress;
  ingress.default_ingress = Action::kDeny;
  EXPECT_EQ(Built(ingress), P({}, Action::kDeny, Action::kDeny));
}

TEST(BuildPolicyTest, DefaultFlagsOverrideAPreset) {
  PolicyOptions o;
  o.preset = Preset::kNonLocal;
  o.default_ingress = Action::kDeny;
  EXPECT_EQ(Built(o), MarkPreset(P({"allow@dns", "allow@public", "allow@private"}, Action::kDeny,
                                   Action::kDeny)));
  PolicyOptions all;
  all.preset = Preset::kAllowAll;
  all.default_egress = Action::kDeny;
  EXPECT_EQ(Built(all), P({}, Action::kDeny, Action::kAllow));
}

TEST(BuildPolicyTest, OnlyPresetRulesAreMarked) {
  // A user rule equal to a preset rule stays the user's: DNS rebinding protection trusts it.
  PolicyOptions o;
  o.preset = Preset::kNonLocal;
  o.net_rules = {"allow@private"};
  Policy p = Built(o);
  ASSERT_EQ(p.rules.size(), 4u);
  EXPECT_FALSE(p.rules[0].from_preset);
  EXPECT_TRUE(p.rules[1].from_preset);
  EXPECT_TRUE(p.rules[3].from_preset);
  EXPECT_NE(p.rules[0], p.rules[3]);
  Rule unmarked = p.rules[3];
  unmarked.from_preset = false;
  EXPECT_EQ(p.rules[0], unmarked);
}

TEST(BuildPolicyTest, NoNetDeniesBothDirections) {
  PolicyOptions o;
  o.no_net = true;
  EXPECT_EQ(Built(o), P({}, Action::kDeny, Action::kDeny));
  o.net_rules = {"allow@198.51.100.10:tcp:443"};
  EXPECT_EQ(Built(o), P({"allow@198.51.100.10:tcp:443"}, Action::kDeny, Action::kDeny));
}

TEST(BuildPolicyTest, SuffixFlagAcceptsLeadingDotOrStar) {
  PolicyOptions o;
  o.preset = Preset::kNone;
  o.deny_domain_suffixes = {".ads.example", "*.track.example", "x.example"};
  EXPECT_EQ(Built(o), P({"deny@*.ads.example", "deny@*.track.example", "deny@*.x.example"},
                        Action::kDeny, Action::kDeny));
}

TEST(BuildPolicyTest, Conflicts) {
  PolicyOptions net;
  net.no_net = true;
  net.preset = Preset::kAllowAll;
  EXPECT_EQ(BuildError(net), "--no-net cannot be combined with --net");
  PolicyOptions egress;
  egress.no_net = true;
  egress.default_egress = Action::kDeny;
  EXPECT_EQ(BuildError(egress), "--no-net cannot be combined with --net-default-egress");
  PolicyOptions ingress;
  ingress.no_net = true;
  ingress.default_ingress = Action::kAllow;
  EXPECT_EQ(BuildError(ingress), "--no-net cannot be combined with --net-default-ingress");
}

TEST(BuildPolicyTest, ErrorsNameTheFlag) {
  PolicyOptions domain;
  domain.deny_domains = {"ok.example", "x y"};
  EXPECT_EQ(BuildError(domain),
            "--deny-domain \"x y\": \"x y\" is not a valid domain name: it contains whitespace");
  PolicyOptions suffix;
  suffix.deny_domain_suffixes = {"com"};
  EXPECT_THAT(BuildError(suffix), HasSubstr("--deny-domain-suffix \"com\": suffix \"com\" is too"));
  PolicyOptions rule;
  rule.net_rules = {"allow@public", "alow@private"};
  EXPECT_THAT(BuildError(rule), HasSubstr("invalid --net-rule token \"alow@private\""));
  PolicyOptions empty;
  empty.net_rules = {" , "};
  EXPECT_THAT(BuildError(empty), HasSubstr("--net-rule \" , \" has no rules"));
}

TEST(BuildPolicyTest, WarnsOnlyAboutUserRules) {
  PolicyOptions o;
  o.net_rules = {"deny@private,allow@10.1.0.0/16,deny@public"};
  auto r = BuildPolicy(o);
  ASSERT_TRUE(r.ok()) << r.error();
  // deny@public also shadows the preset's allow@public (rule #5), but that rule is not the user's.
  EXPECT_THAT(r.value().warnings,
              ElementsAre("rule #2 (allow@10.1.0.0/16) is shadowed by rule #1 (deny@private) and "
                          "can never match; it would allow what the earlier rule denies"));
}

TEST(BuildPolicyTest, WarnsAboutDenyDomainShadowingAUserRule) {
  PolicyOptions o;
  o.deny_domain_suffixes = {"example.com"};
  o.net_rules = {"deny@api.example.com"};
  auto r = BuildPolicy(o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_THAT(r.value().warnings,
              ElementsAre("rule #2 (deny@api.example.com) is redundant: rule #1 "
                          "(deny@*.example.com) already denies it"));
}

TEST(BuildPolicyTest, NoWarningsForTheDefaultPolicy) {
  auto r = BuildPolicy({});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.value().warnings.empty());
  PolicyOptions o;
  o.net_rules = {"allow@public"};  // duplicates the preset's rule, which comes later
  auto dup = BuildPolicy(o);
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup.value().warnings.empty());
}

}  // namespace
}  // namespace msb::policy
