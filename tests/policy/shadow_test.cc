// Shadowed-rule detection: each covering relation (direction, protocol, port, destination kinds)
// and the cases that look similar but are not covered.
#include "policy/shadow.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "test_util.h"

namespace msb::policy {
namespace {

using testing::Ip;
using ::testing::IsEmpty;
using testing::P;
using Pairs = std::vector<std::pair<size_t, size_t>>;

Pairs Find(const Policy& policy) {
  Pairs out;
  for (const Shadow& s : FindShadowedRules(policy)) {
    out.emplace_back(s.earlier, s.later);
  }
  return out;
}

Pairs FindWithHost(const Policy& policy, const HostAddresses& host) {
  Pairs out;
  for (const Shadow& s : FindShadowedRules(policy, host)) {
    out.emplace_back(s.earlier, s.later);
  }
  return out;
}

// Covered(a, b): is the later token `b` shadowed by the earlier token `a`?
bool Covered(std::string_view a, std::string_view b) {
  return !Find(P({a, b})).empty();
}

TEST(ShadowTest, AnyCoversEverything) {
  EXPECT_EQ(Find(P({"allow@any", "deny@10.0.0.0/8", "deny@example.com", "deny@*.example.org"})),
            (Pairs{{0, 1}, {0, 2}, {0, 3}}));
  EXPECT_FALSE(Covered("deny@public", "allow@any"));
  EXPECT_FALSE(Covered("deny@10.0.0.0/8", "allow@any"));
}

TEST(ShadowTest, EveryPairIsReported) {
  EXPECT_EQ(Find(P({"deny@any", "deny@public", "allow@8.8.8.8"})), (Pairs{{0, 1}, {0, 2}, {1, 2}}));
}

TEST(ShadowTest, Groups) {
  EXPECT_TRUE(Covered("deny@private", "allow@private"));
  EXPECT_TRUE(Covered("deny@meta", "allow@metadata"));
  EXPECT_FALSE(Covered("deny@private", "allow@public"));
  EXPECT_FALSE(Covered("deny@link-local", "allow@meta"));
}

TEST(ShadowTest, GroupCoversCidrsWhollyInsideIt) {
  EXPECT_TRUE(Covered("deny@private", "allow@10.1.0.0/16"));
  EXPECT_TRUE(Covered("deny@private", "allow@192.168.1.1"));
  EXPECT_TRUE(Covered("deny@private", "allow@[fd00::/8]"));
  EXPECT_TRUE(Covered("deny@private", "allow@[::ffff:10.0.0.0/104]"));
  EXPECT_TRUE(Covered("deny@private", "allow@[2002:a00::/24]"));
  EXPECT_TRUE(Covered("deny@public", "allow@8.8.8.8"));
  EXPECT_TRUE(Covered("deny@public", "allow@[2001:db8::/32]"));
  EXPECT_TRUE(Covered("deny@meta", "allow@169.254.169.254"));
  EXPECT_TRUE(Covered("deny@link-local", "allow@169.254.0.0/17"));
  EXPECT_TRUE(Covered("deny@loopback", "allow@[::1]"));
}

TEST(ShadowTest, GroupDoesNotCoverMixedCidrs) {
  EXPECT_FALSE(Covered("deny@private", "allow@10.0.0.0/7"));
  EXPECT_FALSE(Covered("deny@private", "allow@0.0.0.0/0"));
  EXPECT_FALSE(Covered("deny@link-local", "allow@169.254.0.0/16"));  // holds metadata
  EXPECT_FALSE(Covered("deny@link-local", "allow@169.254.169.254"));
  EXPECT_FALSE(Covered("deny@public", "allow@0.0.0.1"));  // in no group
  EXPECT_FALSE(Covered("deny@public", "allow@[::/0]"));
  EXPECT_FALSE(Covered("deny@private", "allow@8.8.8.8"));
}

TEST(ShadowTest, HostAddressesAreCarvedOutWhenKnown) {
  HostAddresses host{Ip("172.16.0.1"), Ip("fd42::1")};
  Policy p = P({"deny@private", "allow@172.16.0.0/12", "allow@[::ffff:172.16.0.0/108]",
                "allow@[fd42::/64]", "allow@10.0.0.0/8"});
  // (1, 2): the IPv4 block also covers its IPv4-mapped form, host or not.
  EXPECT_EQ(Find(p), (Pairs{{0, 1}, {0, 2}, {1, 2}, {0, 3}, {0, 4}}));
  EXPECT_EQ(FindWithHost(p, host), (Pairs{{1, 2}, {0, 4}}));
  Policy h = P({"deny@host", "allow@172.16.0.1", "allow@[fd42::1]", "allow@172.16.0.2"});
  EXPECT_THAT(Find(h), IsEmpty());  // without the addresses, host covers no CIDR
  EXPECT_EQ(FindWithHost(h, host), (Pairs{{0, 1}, {0, 2}}));
}

TEST(ShadowTest, Cidrs) {
  EXPECT_TRUE(Covered("deny@10.0.0.0/8", "allow@10.1.0.0/16"));
  EXPECT_TRUE(Covered("deny@10.0.0.0/8", "allow@10.0.0.0/8"));
  EXPECT_FALSE(Covered("deny@10.1.0.0/16", "allow@10.0.0.0/8"));
  EXPECT_TRUE(Covered("deny@10.0.0.0/8", "allow@[::ffff:10.1.0.0/112]"));
  EXPECT_TRUE(Covered("deny@10.0.0.0/8", "allow@[64:ff9b::a01:0/112]"));
  EXPECT_FALSE(Covered("deny@[::ffff:10.0.0.0/104]", "allow@10.1.0.0/16"));
  EXPECT_TRUE(Covered("deny@[2001:db8::/32]", "allow@[2001:db8:1::/48]"));
  EXPECT_FALSE(Covered("deny@[2001:db8::/32]", "allow@[2001:db9::/32]"));
  EXPECT_FALSE(Covered("deny@0.0.0.0/0", "allow@private"));  // private includes IPv6
}

TEST(ShadowTest, Names) {
  EXPECT_TRUE(Covered("deny@*.example.com", "allow@api.example.com"));
  EXPECT_TRUE(Covered("deny@*.example.com", "allow@example.com"));
  EXPECT_TRUE(Covered("deny@*.example.com", "allow@*.a.example.com"));
  EXPECT_TRUE(Covered("deny@api.example.com", "allow@API.example.com."));
  EXPECT_TRUE(Covered("allow@*.example.com", "allow@api.example.com"));
  EXPECT_FALSE(Covered("deny@*.example.com", "allow@evilexample.com"));
  EXPECT_FALSE(Covered("deny@api.example.com", "allow@*.example.com"));
  EXPECT_FALSE(Covered("deny@api.example.com", "allow@www.example.com"));
  EXPECT_FALSE(Covered("deny@public", "allow@example.com"));
  EXPECT_FALSE(Covered("deny@example.com", "allow@public"));
}

TEST(ShadowTest, AllowNameDoesNotCoverDenyName) {
  // A later deny also matches on the TLS SNI alone, where the earlier allow needs a pin.
  EXPECT_FALSE(Covered("allow@*.example.com", "deny@api.example.com"));
  EXPECT_FALSE(Covered("allow@api.example.com", "deny@api.example.com"));
}

TEST(ShadowTest, Directions) {
  EXPECT_TRUE(Covered("deny:any@public", "allow@public"));
  EXPECT_TRUE(Covered("deny:any@public", "allow:ingress@public"));
  EXPECT_TRUE(Covered("deny:egress@public", "allow@public"));
  EXPECT_FALSE(Covered("deny@public", "allow:any@public"));
  EXPECT_FALSE(Covered("deny:ingress@public", "allow@public"));
}

TEST(ShadowTest, Protocols) {
  EXPECT_TRUE(Covered("deny@public", "allow@public:tcp"));
  EXPECT_TRUE(Covered("deny@public:tcp", "allow@public:tcp:443"));
  EXPECT_TRUE(Covered("deny@dns", "allow@host:udp:53"));
  EXPECT_FALSE(Covered("deny@public:tcp", "allow@public"));
  EXPECT_FALSE(Covered("deny@public:tcp", "allow@public:udp"));
  EXPECT_FALSE(Covered("deny@host:udp:53", "allow@dns"));
}

TEST(ShadowTest, Ports) {
  EXPECT_TRUE(Covered("deny@public:tcp:1-1024", "allow@public:tcp:80"));
  EXPECT_TRUE(Covered("deny@public:any:443", "allow@public:udp:443"));
  EXPECT_FALSE(Covered("deny@public:tcp:80", "allow@public:tcp:80-81"));
  EXPECT_FALSE(Covered("deny@public:tcp:80", "allow@public:tcp"));
  EXPECT_FALSE(Covered("deny@public:any:1-65535", "allow@public:icmpv4"));
  // Adjacent earlier ranges together cover a range that straddles them.
  Policy p = P({"deny@public:tcp"});
  p.rules[0].ports = {{91, 100}, {80, 90}};
  p.rules.push_back(testing::R("allow@public:tcp:85-95"));
  EXPECT_EQ(Find(p), (Pairs{{0, 1}}));
  p.rules[0].ports = {{80, 89}, {91, 100}};
  EXPECT_THAT(Find(p), IsEmpty());
}

TEST(ShadowTest, Messages) {
  auto conflict = FindShadowedRules(P({"allow@public", "deny@private", "allow@10.1.0.0/16"}));
  ASSERT_EQ(conflict.size(), 1U);
  EXPECT_EQ(conflict[0].earlier, 1U);
  EXPECT_EQ(conflict[0].later, 2U);
  EXPECT_EQ(conflict[0].message,
            "rule #3 (allow@10.1.0.0/16) is shadowed by rule #2 (deny@private) and can never "
            "match; it would allow what the earlier rule denies");
  auto deny = FindShadowedRules(P({"allow@any", "deny:any@any"}));
  EXPECT_THAT(deny, IsEmpty());
  auto deny_later = FindShadowedRules(P({"allow:any@public", "deny@8.8.8.8"}));
  ASSERT_EQ(deny_later.size(), 1U);
  EXPECT_EQ(deny_later[0].message,
            "rule #2 (deny@8.8.8.8) is shadowed by rule #1 (allow:any@public) and can never "
            "match; it would deny what the earlier rule allows");
  auto redundant = FindShadowedRules(P({"allow@public", "allow@198.51.100.10:tcp:80"}));
  ASSERT_EQ(redundant.size(), 1U);
  EXPECT_EQ(redundant[0].message,
            "rule #2 (allow@198.51.100.10:tcp:80) is redundant: rule #1 (allow@public) already "
            "allows it");
  auto redundant_deny = FindShadowedRules(P({"deny@private", "deny@10.0.0.0/8"}));
  ASSERT_EQ(redundant_deny.size(), 1U);
  EXPECT_THAT(redundant_deny[0].message, ::testing::EndsWith("already denies it"));
}

TEST(ShadowTest, NoWarningsForDistinctRules) {
  EXPECT_THAT(Find(P({"allow@dns", "allow@public", "allow@private", "deny@meta"})), IsEmpty());
  EXPECT_THAT(Find(P({"deny@10.0.0.5", "allow@10.0.0.0/8"})), IsEmpty());
}

}  // namespace
}  // namespace msb::policy
