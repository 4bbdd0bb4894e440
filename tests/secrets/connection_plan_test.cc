// ConnectionPlan: the eligibility gates (host, pin, TLS identity; CONNECT and host alias instead of
// a pin; `*` needs none), effective actions with passthrough fallbacks, shared placeholders, and
// the inert / rewrites_bodies / any_eligible summaries.
#include "secrets/connection_plan.h"

#include <gtest/gtest.h>

#include "tests/secrets/test_util.h"

namespace msb::secrets {
namespace {

using testing::LoadSet;
using testing::Pinned;
using testing::Spec;

HostPattern P(std::string_view text) {
  return HostPattern::Parse(text, true).value();
}

const ConnectionPlan::Entry& Only(const ConnectionPlan& plan) {
  EXPECT_EQ(plan.entries().size(), 1u);
  return plan.entries()[0];
}

TEST(ConnectionPlanTest, EveryGateHolds) {
  ConnectionPlan plan(LoadSet({Spec("K", "v", {"api.x.com"})}), Pinned("api.x.com"));
  EXPECT_TRUE(Only(plan).eligible);
  EXPECT_TRUE(plan.any_eligible());
  EXPECT_FALSE(plan.inert());
  EXPECT_FALSE(plan.rewrites_bodies());
  EXPECT_EQ(plan.shared_set().get(), &plan.set());
}

TEST(ConnectionPlanTest, HostGate) {
  ConnectionPlan plan(LoadSet({Spec("K", "v", {"api.x.com"})}), Pinned("evil.com"));
  EXPECT_FALSE(Only(plan).eligible);
  EXPECT_EQ(Only(plan).action, ViolationAction::kBlockAndLog);
  EXPECT_FALSE(plan.any_eligible());
  EXPECT_FALSE(plan.inert());  // something to detect
  ConnectionIdentity unknown = Pinned("");
  ConnectionPlan none(LoadSet({Spec("K", "v", {"*"})}), unknown);
  EXPECT_FALSE(Only(none).eligible);
}

TEST(ConnectionPlanTest, WildcardMatchesLabelAware) {
  auto set = LoadSet({Spec("K", "v", {"*.x.com"})});
  EXPECT_TRUE(Only(ConnectionPlan(set, Pinned("a.b.x.com"))).eligible);
  EXPECT_TRUE(Only(ConnectionPlan(set, Pinned("x.com"))).eligible);
  EXPECT_FALSE(Only(ConnectionPlan(set, Pinned("evilx.com"))).eligible);
}

TEST(ConnectionPlanTest, PinGate) {
  auto set = LoadSet({Spec("K", "v", {"api.x.com"})});
  ConnectionIdentity id = Pinned("api.x.com");
  id.pinned_names = {"other.com"};
  EXPECT_FALSE(Only(ConnectionPlan(set, id)).eligible);
  id.pinned_names = {"other.com", "API.X.COM"};  // case-insensitive
  EXPECT_TRUE(Only(ConnectionPlan(set, id)).eligible);
  id.pinned_names.clear();
  EXPECT_FALSE(Only(ConnectionPlan(set, id)).eligible);
  ConnectionIdentity tunnel = id;
  tunnel.connect_tunnel = true;
  EXPECT_TRUE(Only(ConnectionPlan(set, tunnel)).eligible);
  ConnectionIdentity alias = id;
  alias.host_alias = true;
  EXPECT_TRUE(Only(ConnectionPlan(set, alias)).eligible);
  // `*` needs no pin.
  EXPECT_TRUE(Only(ConnectionPlan(LoadSet({Spec("K", "v", {"*"})}), id)).eligible);
  // A pin to the host is needed for the pattern that matched, even when another pattern is `*`
  // only if that one matches: `*` always matches, so the secret is eligible.
  EXPECT_TRUE(Only(ConnectionPlan(LoadSet({Spec("K", "v", {"api.x.com", "*"})}), id)).eligible);
}

TEST(ConnectionPlanTest, TlsGate) {
  ConnectionIdentity plain = Pinned("api.x.com");
  plain.tls_intercepted = false;
  EXPECT_FALSE(Only(ConnectionPlan(LoadSet({Spec("K", "v", {"api.x.com"})}), plain)).eligible);
  SecretSpec opt_out = Spec("K", "v", {"api.x.com"});
  opt_out.require_tls_identity = false;
  EXPECT_TRUE(Only(ConnectionPlan(LoadSet({std::move(opt_out)}), plain)).eligible);
}

TEST(ConnectionPlanTest, EffectiveActions) {
  auto action = [](std::optional<ViolationAction> own, std::vector<HostPattern> own_hosts,
                   ViolationAction set_action, std::vector<HostPattern> set_hosts) {
    SecretsConfig c;
    c.specs = {Spec("K", "v", {"api.x.com"})};
    c.specs[0].on_violation = own;
    c.specs[0].passthrough_hosts = std::move(own_hosts);
    c.on_violation = set_action;
    c.passthrough_hosts = std::move(set_hosts);
    ConnectionPlan plan(LoadSet(std::move(c)), Pinned("docs.y.com"));
    return Only(plan).action;
  };
  using A = ViolationAction;
  EXPECT_EQ(action(std::nullopt, {}, A::kBlock, {}), A::kBlock);
  EXPECT_EQ(action(A::kBlockAndTerminate, {}, A::kBlock, {}), A::kBlockAndTerminate);
  EXPECT_EQ(action(A::kPassthrough, {}, A::kBlock, {}), A::kPassthrough);
  EXPECT_EQ(action(A::kPassthrough, {P("*.y.com")}, A::kBlock, {}), A::kPassthrough);
  // A per-secret passthrough that does not cover the host falls back to the set's action...
  EXPECT_EQ(action(A::kPassthrough, {P("z.com")}, A::kBlock, {}), A::kBlock);
  // ...and to block-and-log when the set's passthrough does not cover it either.
  EXPECT_EQ(action(A::kPassthrough, {P("z.com")}, A::kPassthrough, {P("z.com")}), A::kBlockAndLog);
  EXPECT_EQ(action(A::kPassthrough, {P("z.com")}, A::kPassthrough, {}), A::kPassthrough);
  EXPECT_EQ(action(std::nullopt, {}, A::kPassthrough, {P("docs.y.com")}), A::kPassthrough);
  EXPECT_EQ(action(std::nullopt, {}, A::kPassthrough, {P("z.com")}), A::kBlockAndLog);
}

TEST(ConnectionPlanTest, PassthroughOnlyIsInert) {
  SecretsConfig c;
  c.specs = {Spec("K", "v", {"api.x.com"})};
  c.on_violation = ViolationAction::kPassthrough;
  ConnectionPlan plan(LoadSet(std::move(c)), Pinned("other.com"));
  EXPECT_TRUE(plan.inert());
  EXPECT_FALSE(plan.any_eligible());
}

TEST(ConnectionPlanTest, SharedPlaceholderIsNeverIneligible) {
  // Two entries for one env var with different hosts: on a.com the first is eligible, so the
  // second (same placeholder) must not count as a violation.
  ConnectionPlan plan(LoadSet({Spec("K", "v", {"a.com"}), Spec("K", "v", {"b.com"})}),
                      Pinned("a.com"));
  ASSERT_EQ(plan.entries().size(), 2u);
  EXPECT_TRUE(plan.entries()[0].eligible);
  EXPECT_FALSE(plan.entries()[1].eligible);
  EXPECT_EQ(plan.entries()[1].action, ViolationAction::kPassthrough);
}

TEST(ConnectionPlanTest, RewritesBodiesOnlyForEligibleBodySecrets) {
  Injection body;
  body.body = true;
  auto set = LoadSet({Spec("K", "v", {"a.com"}, body)});
  EXPECT_TRUE(ConnectionPlan(set, Pinned("a.com")).rewrites_bodies());
  EXPECT_FALSE(ConnectionPlan(set, Pinned("b.com")).rewrites_bodies());
}

TEST(ConnectionPlanTest, EmptySetIsInert) {
  ConnectionPlan plan(LoadSet(std::vector<SecretSpec>{}), Pinned("a.com"));
  EXPECT_TRUE(plan.inert());
  EXPECT_TRUE(plan.entries().empty());
}

}  // namespace
}  // namespace msb::secrets
