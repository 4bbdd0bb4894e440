// --net-rule grammar: what valid tokens and flag values parse to.
#include "policy/net_rule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_util.h"

namespace msb::policy {
namespace {

using testing::Prefix;
using testing::R;

Rule Make(Action a, Direction d, Destination dest, ProtocolSet protos = {},
          std::vector<PortRange> ports = {}) {
  return {a, d, std::move(dest), protos, std::move(ports)};
}

constexpr auto kAllow = Action::kAllow;
constexpr auto kDeny = Action::kDeny;
constexpr auto kEgress = Direction::kEgress;

TEST(NetRuleTest, ActionsAndDirections) {
  EXPECT_EQ(R("allow@any"), Make(kAllow, kEgress, Destination::Any()));
  EXPECT_EQ(R("deny@any"), Make(kDeny, kEgress, Destination::Any()));
  EXPECT_EQ(R("allow:egress@any"), Make(kAllow, kEgress, Destination::Any()));
  EXPECT_EQ(R("allow:ingress@any"), Make(kAllow, Direction::kIngress, Destination::Any()));
  EXPECT_EQ(R("deny:any@any"), Make(kDeny, Direction::kAny, Destination::Any()));
}

TEST(NetRuleTest, GroupKeywords) {
  const std::pair<const char*, Group> cases[] = {
      {"public", Group::kPublic},       {"private", Group::kPrivate},
      {"loopback", Group::kLoopback},   {"link-local", Group::kLinkLocal},
      {"meta", Group::kMetadata},       {"metadata", Group::kMetadata},
      {"multicast", Group::kMulticast}, {"host", Group::kHost},
  };
  for (const auto& [word, group] : cases) {
    EXPECT_EQ(R(std::string("allow@") + word), Make(kAllow, kEgress, Destination::OfGroup(group)))
        << word;
  }
}

TEST(NetRuleTest, AddressTargets) {
  EXPECT_EQ(R("allow@198.51.100.10"),
            Make(kAllow, kEgress, Destination::OfCidr(Prefix("198.51.100.10/32"))));
  EXPECT_EQ(R("allow@10.0.0.0/8"),
            Make(kAllow, kEgress, Destination::OfCidr(Prefix("10.0.0.0/8"))));
  EXPECT_EQ(R("allow@0.0.0.0/0"), Make(kAllow, kEgress, Destination::OfCidr(Prefix("0.0.0.0/0"))));
  EXPECT_EQ(R("allow@[2001:db8::1]"),
            Make(kAllow, kEgress, Destination::OfCidr(Prefix("2001:db8::1/128"))));
  EXPECT_EQ(R("allow@[2001:db8::/32]"),
            Make(kAllow, kEgress, Destination::OfCidr(Prefix("2001:db8::/32"))));
  EXPECT_EQ(R("allow@[::ffff:10.0.0.0/104]:tcp:443"),
            Make(kAllow, kEgress, Destination::OfCidr(Prefix("::ffff:10.0.0.0/104")),
                 ProtocolSet::Of({Protocol::kTcp}), {{443, 443}}));
}

TEST(NetRuleTest, NameTargets) {
  EXPECT_EQ(R("allow@API.Example.com."),
            Make(kAllow, kEgress, Destination::OfDomain("api.example.com")));
  EXPECT_EQ(R("allow@domain=localhost"), Make(kAllow, kEgress, Destination::OfDomain("localhost")));
  EXPECT_EQ(R("allow@domain=example.com"),
            Make(kAllow, kEgress, Destination::OfDomain("example.com")));
  EXPECT_EQ(R("deny@*.example.com"), Make(kDeny, kEgress, Destination::OfSuffix("example.com")));
  EXPECT_EQ(R("deny@suffix=Example.com"),
            Make(kDeny, kEgress, Destination::OfSuffix("example.com")));
  // A name that spells a keyword is only a domain through domain=.
  EXPECT_EQ(R("allow@domain=public"), Make(kAllow, kEgress, Destination::OfDomain("public")));
}

TEST(NetRuleTest, ProtocolsAndPorts) {
  auto tcp = ProtocolSet::Of({Protocol::kTcp});
  EXPECT_EQ(R("allow@public:tcp"),
            Make(kAllow, kEgress, Destination::OfGroup(Group::kPublic), tcp));
  EXPECT_EQ(R("allow@public:any"), Make(kAllow, kEgress, Destination::OfGroup(Group::kPublic)));
  EXPECT_EQ(R("allow@public:any:any"), Make(kAllow, kEgress, Destination::OfGroup(Group::kPublic)));
  EXPECT_EQ(R("allow@public:tcp:any"),
            Make(kAllow, kEgress, Destination::OfGroup(Group::kPublic), tcp));
  EXPECT_EQ(R("allow@public:udp:1"), Make(kAllow, kEgress, Destination::OfGroup(Group::kPublic),
                                          ProtocolSet::Of({Protocol::kUdp}), {{1, 1}}));
  EXPECT_EQ(R("allow@public:tcp:65535"),
            Make(kAllow, kEgress, Destination::OfGroup(Group::kPublic), tcp, {{65535, 65535}}));
  EXPECT_EQ(R("allow@public:any:8000-9000"),
            Make(kAllow, kEgress, Destination::OfGroup(Group::kPublic), {}, {{8000, 9000}}));
  EXPECT_EQ(R("allow@public:tcp:80-80"),
            Make(kAllow, kEgress, Destination::OfGroup(Group::kPublic), tcp, {{80, 80}}));
  EXPECT_EQ(R("allow@any:icmpv4"),
            Make(kAllow, kEgress, Destination::Any(), ProtocolSet::Of({Protocol::kIcmpv4})));
  EXPECT_EQ(R("allow:egress@public:icmpv6:any"),
            Make(kAllow, kEgress, Destination::OfGroup(Group::kPublic),
                 ProtocolSet::Of({Protocol::kIcmpv6})));
}

TEST(NetRuleTest, DnsTarget) {
  Rule dns = Make(kAllow, kEgress, Destination::OfGroup(Group::kHost),
                  ProtocolSet::Of({Protocol::kUdp, Protocol::kTcp}), {{53, 53}});
  EXPECT_EQ(R("allow@dns"), dns);
  EXPECT_EQ(R("allow:egress@dns"), dns);
  EXPECT_EQ(R("allow@dns:any"), dns);
  EXPECT_EQ(R("allow@dns:any:53"), dns);
  EXPECT_EQ(R("allow@dns:any:any"), dns);
  Rule udp = dns;
  udp.protocols = ProtocolSet::Of({Protocol::kUdp});
  EXPECT_EQ(R("allow@dns:udp"), udp);
  Rule tcp = dns;
  tcp.protocols = ProtocolSet::Of({Protocol::kTcp});
  tcp.action = kDeny;
  EXPECT_EQ(R("deny@dns:tcp:53"), tcp);
}

TEST(NetRuleTest, FlagSplitsTrimsAndSkipsEmptySegments) {
  auto rules = ParseNetRuleFlag(" allow@dns ,, deny@10.0.0.0/8,\tallow@public ,");
  ASSERT_TRUE(rules.ok()) << rules.error();
  ASSERT_EQ(rules.value().size(), 3U);
  EXPECT_EQ(rules.value()[0], R("allow@dns"));
  EXPECT_EQ(rules.value()[1], R("deny@10.0.0.0/8"));
  EXPECT_EQ(rules.value()[2], R("allow@public"));
}

TEST(NetRuleTest, FlagWithNoTokensIsAnError) {
  for (const char* value : {"", ",", " , ,", "\t"}) {
    auto rules = ParseNetRuleFlag(value);
    ASSERT_FALSE(rules.ok()) << value;
    EXPECT_THAT(rules.error(), ::testing::HasSubstr("has no rules")) << value;
  }
}

TEST(NetRuleTest, FlagFailsOnTheFirstBadToken) {
  auto rules = ParseNetRuleFlag("allow@public,alow@private,deny@x y");
  ASSERT_FALSE(rules.ok());
  EXPECT_THAT(rules.error(), ::testing::StartsWith("invalid --net-rule token \"alow@private\""));
}

TEST(NetRuleTest, ParsePort) {
  EXPECT_EQ(ParsePort("1"), 1);
  EXPECT_EQ(ParsePort("443"), 443);
  EXPECT_EQ(ParsePort("65535"), 65535);
  for (const char* bad :
       {"", "0", "00", "0443", "65536", "99999", "+80", "-1", "80a", " 80", "123456"}) {
    EXPECT_EQ(ParsePort(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace msb::policy
