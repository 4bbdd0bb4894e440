// DNS policy tests: the query policy for every rule kind and transport, nameless queries, the
// rebinding-target set (every reserved range, embedded forms, the gateway) and the
// explicit-address exception (ordering, presets, `any`, ports, protocols, directions, groups).
#include "policy/dns_policy.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "policy/presets.h"
#include "test_util.h"

namespace msb::policy {
namespace {

using testing::Ip;
using testing::P;
using testing::R;

constexpr DnsTransport kUdp = DnsTransport::kUdp;
constexpr DnsTransport kTcp = DnsTransport::kTcp;
constexpr DnsTransport kDot = DnsTransport::kDot;

Decision Allow(size_t i) {
  return {Action::kAllow, i};
}
Decision Deny(size_t i) {
  return {Action::kDeny, i};
}
Decision Default(Action a) {
  return {a, std::nullopt};
}

// Query evaluates a query for a fixed, valid name.
Decision Query(const Policy& p, DnsTransport t, std::string_view name = "api.example.com") {
  return EvaluateDnsQuery(p, name, t);
}

TEST(DnsQueryTest, DefaultFallback) {
  EXPECT_EQ(Query(P({}), kUdp), Default(Action::kDeny));
  EXPECT_EQ(Query(P({}, Action::kAllow, Action::kDeny), kTcp), Default(Action::kAllow));
  // The ingress default never applies to a query.
  EXPECT_EQ(Query(P({}, Action::kDeny, Action::kAllow), kDot), Default(Action::kDeny));
}

TEST(DnsQueryTest, AnyRuleWithoutFilters) {
  for (DnsTransport t : {kUdp, kTcp, kDot}) {
    EXPECT_EQ(Query(P({"allow@any"}), t), Allow(0));
    EXPECT_EQ(Query(P({"deny@any"}, Action::kAllow), t), Deny(0));
    EXPECT_EQ(Query(P({"deny@any"}, Action::kAllow), t, "\\000.example"), Deny(0));
  }
}

TEST(DnsQueryTest, AnyRuleProtocolAndPortFilters) {
  Policy udp = P({"allow@any:udp"});
  EXPECT_EQ(Query(udp, kUdp), Allow(0));
  EXPECT_EQ(Query(udp, kTcp), Default(Action::kDeny));
  EXPECT_EQ(Query(udp, kDot), Default(Action::kDeny));

  Policy tcp = P({"allow@any:tcp"});
  EXPECT_EQ(Query(tcp, kUdp), Default(Action::kDeny));
  EXPECT_EQ(Query(tcp, kTcp), Allow(0));
  EXPECT_EQ(Query(tcp, kDot), Allow(0));

  Policy port53 = P({"allow@any:any:53"});
  EXPECT_EQ(Query(port53, kUdp), Allow(0));
  EXPECT_EQ(Query(port53, kTcp), Allow(0));
  EXPECT_EQ(Query(port53, kDot), Default(Action::kDeny));

  Policy dot = P({"allow@any:tcp:853"});
  EXPECT_EQ(Query(dot, kUdp), Default(Action::kDeny));
  EXPECT_EQ(Query(dot, kTcp), Default(Action::kDeny));
  EXPECT_EQ(Query(dot, kDot), Allow(0));

  Policy range = P({"allow@any:udp:50-60"});
  EXPECT_EQ(Query(range, kUdp), Allow(0));
  EXPECT_EQ(Query(range, kTcp), Default(Action::kDeny));

  Policy icmp = P({"allow@any:icmpv4"});
  for (DnsTransport t : {kUdp, kTcp, kDot}) {
    EXPECT_EQ(Query(icmp, t), Default(Action::kDeny));
  }
}

TEST(DnsQueryTest, HostGroupWithAndWithoutPorts) {
  for (DnsTransport t : {kUdp, kTcp, kDot}) {
    EXPECT_EQ(Query(P({"allow@host"}), t), Allow(0));
    EXPECT_EQ(Query(P({"deny@host"}, Action::kAllow), t), Deny(0));
  }
  Policy tcp53 = P({"allow@host:tcp:53"});
  EXPECT_EQ(Query(tcp53, kUdp), Default(Action::kDeny));
  EXPECT_EQ(Query(tcp53, kTcp), Allow(0));
  EXPECT_EQ(Query(tcp53, kDot), Default(Action::kDeny));
  Policy udp853 = P({"allow@host:udp:853"});
  for (DnsTransport t : {kUdp, kTcp, kDot}) {
    EXPECT_EQ(Query(udp853, t), Default(Action::kDeny));
  }
}

TEST(DnsQueryTest, DnsTargetRules) {
  Policy dns = P({"allow@dns"});
  EXPECT_EQ(Query(dns, kUdp), Allow(0));
  EXPECT_EQ(Query(dns, kTcp), Allow(0));
  EXPECT_EQ(Query(dns, kDot), Default(Action::kDeny));  // DoT is port 853, not part of `dns`

  Policy no_tcp = P({"deny@dns:tcp", "allow@any"});
  EXPECT_EQ(Query(no_tcp, kUdp), Allow(1));
  EXPECT_EQ(Query(no_tcp, kTcp), Deny(0));
  EXPECT_EQ(Query(no_tcp, kDot), Allow(1));

  // The default policy answers queries over UDP and TCP.
  Policy preset = PresetPolicy(Preset::kPublicOnly);
  EXPECT_EQ(Query(preset, kUdp), Allow(0));
  EXPECT_EQ(Query(preset, kTcp), Allow(0));
  EXPECT_EQ(Query(preset, kDot), Default(Action::kDeny));
}

TEST(DnsQueryTest, DomainRulesIgnoreProtocolsAndPorts) {
  Policy p = P({"allow@api.example.com:tcp:443", "deny@any"}, Action::kAllow);
  for (DnsTransport t : {kUdp, kTcp, kDot}) {
    EXPECT_EQ(Query(p, t, "api.example.com"), Allow(0));
    EXPECT_EQ(Query(p, t, "API.Example.COM."), Allow(0));  // canonicalised
    EXPECT_EQ(Query(p, t, "www.api.example.com"), Deny(1));
    EXPECT_EQ(Query(p, t, "example.com"), Deny(1));
  }
  Policy icmp = P({"deny@api.example.com:icmpv4"}, Action::kAllow);
  EXPECT_EQ(Query(icmp, kUdp, "api.example.com"), Deny(0));
  EXPECT_EQ(Query(P({"allow@domain=localhost"}), kUdp, "LOCALHOST"), Allow(0));
}

TEST(DnsQueryTest, SuffixRulesAreLabelAware) {
  Policy p = P({"deny@*.ads.example", "allow@suffix=example.com:udp:53", "allow@dns"});
  EXPECT_EQ(Query(p, kUdp, "ads.example"), Deny(0));
  EXPECT_EQ(Query(p, kUdp, "x.y.ADS.example."), Deny(0));
  EXPECT_EQ(Query(p, kDot, "tracker.ads.example"), Deny(0));
  EXPECT_EQ(Query(p, kUdp, "badads.example"), Allow(2));
  EXPECT_EQ(Query(p, kDot, "example.com"), Allow(1));
  EXPECT_EQ(Query(p, kDot, "a.b.example.com"), Allow(1));
  EXPECT_EQ(Query(p, kDot, "evilexample.com"), Default(Action::kDeny));
  EXPECT_EQ(Query(p, kUdp, "evilexample.com"), Allow(2));
}

TEST(DnsQueryTest, CidrAndOtherGroupsNeverMatch) {
  Policy p = P({"deny@public", "deny@private", "deny@loopback", "deny@link-local", "deny@meta",
                "deny@multicast", "deny@0.0.0.0/0", "deny@[::/0]", "deny@172.16.0.1",
                "deny@10.0.0.0/8:udp:53"},
               Action::kAllow);
  for (DnsTransport t : {kUdp, kTcp, kDot}) {
    EXPECT_EQ(Query(p, t), Default(Action::kAllow));
    EXPECT_EQ(Query(p, t, "\\000"), Default(Action::kAllow));
  }
}

TEST(DnsQueryTest, IngressRulesAreSkipped) {
  Policy p;
  p.rules = {R("deny:ingress@any"), R("deny:ingress@host"), R("allow:any@any:udp")};
  Rule ingress_name = R("deny@api.example.com");
  ingress_name.direction = Direction::kIngress;
  p.rules.insert(p.rules.begin(), ingress_name);
  EXPECT_EQ(Query(p, kUdp), Allow(3));  // `any` direction counts
  EXPECT_EQ(Query(p, kTcp), Default(Action::kDeny));
  Rule any_name = R("allow@api.example.com");
  any_name.direction = Direction::kAny;
  p.rules.push_back(any_name);
  EXPECT_EQ(Query(p, kTcp), Allow(4));
}

TEST(DnsQueryTest, NamelessQueriesOnlyMatchAnyAndHost) {
  // Names that are not valid domains: escaped bytes, the root, empty labels, IP literals, too
  // long. Name rules cannot match them, even a rule that would textually.
  const std::string too_long = std::string(250, 'a') + ".example";
  for (std::string_view name :
       {std::string_view("\\000.example.com"), std::string_view("."), std::string_view(""),
        std::string_view("a..example.com"), std::string_view("198.51.100.1"),
        std::string_view("ex ample.com"), std::string_view(too_long)}) {
    Policy names = P({"allow@*.example.com", "deny@any:tcp"}, Action::kAllow);
    EXPECT_EQ(Query(names, kUdp, name), Default(Action::kAllow)) << name;
    EXPECT_EQ(Query(names, kTcp, name), Deny(1)) << name;
    Policy host = P({"allow@*.example.com", "deny@host:udp"}, Action::kAllow);
    EXPECT_EQ(Query(host, kUdp, name), Deny(1)) << name;
    EXPECT_EQ(Query(host, kDot, name), Default(Action::kAllow)) << name;
  }
  // The same rules do match the valid spelling.
  Policy names = P({"allow@*.example.com", "deny@any"});
  EXPECT_EQ(Query(names, kUdp, "x000.example.com"), Allow(0));
  // Deny name rules DO see the loose (lowercased, unvalidated) form of a nameless query, so an
  // escaped or wildcard-looking label under a denied suffix cannot slip through to a later allow.
  Policy deny = P({"deny@*.ads.example", "allow@dns"});
  EXPECT_EQ(Query(deny, kUdp, "ab.ads.example"), Deny(0));
  EXPECT_EQ(Query(deny, kUdp, "a\\032b.ads.example"), Deny(0));
  EXPECT_EQ(Query(deny, kUdp, "*.ADS.example."), Deny(0));
  EXPECT_EQ(Query(deny, kUdp, "a\\032b.other.example"), Allow(1));
  Policy exact = P({"deny@tracker.example", "allow@dns"});
  EXPECT_EQ(Query(exact, kUdp, "TRACKER.example."), Deny(0));
  EXPECT_EQ(Query(exact, kUdp, "a\\000.tracker.example"), Allow(1));  // exact: not a subdomain
}

TEST(DnsQueryTest, FirstMatchWinsAcrossKinds) {
  Policy p = P({"deny@10.0.0.0/8", "allow@api.example.com", "deny@dns", "allow@any"});
  EXPECT_EQ(Query(p, kUdp, "api.example.com"), Allow(1));
  EXPECT_EQ(Query(p, kUdp, "other.example.com"), Deny(2));
  EXPECT_EQ(Query(p, kDot, "other.example.com"), Allow(3));
}

const HostAddresses kHost{Ip("172.16.0.1"), Ip("fd42::1")};

TEST(RebindingTest, ReservedAddressesAreTargets) {
  for (const char* a :
       {// IPv4: private, shared, loopback, link-local, metadata, multicast, this network, 240/4.
        "10.0.0.1", "10.255.255.255", "172.16.0.2", "172.31.255.255", "192.168.1.1", "100.64.0.1",
        "100.127.255.255", "127.0.0.1", "127.255.255.254", "169.254.0.1", "169.254.169.254",
        "224.0.0.1", "239.255.255.250", "0.0.0.0", "0.1.2.3", "0.255.255.255", "240.0.0.1",
        "240.0.0.0", "250.1.2.3", "255.255.255.255",
        // IPv6.
        "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "ff02::1", "ff0e::1",
        // Embedded IPv4 is judged by what it embeds.
        "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:0.0.0.0", "::ffff:240.0.0.1",
        "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
        "2002:a9fe:a9fe::", "2002:0a00:0001::", "2002:ffff:ffff::"}) {
    EXPECT_TRUE(IsRebindingTarget(Ip(a), kHost)) << a;
    EXPECT_TRUE(IsRebindingTarget(Ip(a), {})) << a;
  }
}

TEST(RebindingTest, TheGatewayIsATarget) {
  EXPECT_TRUE(IsRebindingTarget(Ip("172.16.0.1"), kHost));
  EXPECT_TRUE(IsRebindingTarget(Ip("::ffff:172.16.0.1"), kHost));
  EXPECT_TRUE(IsRebindingTarget(Ip("fd42::1"), kHost));
  // Even a gateway configured on a public address: it is `host`, not `public`.
  HostAddresses public_gateway{Ip("203.0.113.53"), Ip("2001:db8::53")};
  EXPECT_TRUE(IsRebindingTarget(Ip("203.0.113.53"), public_gateway));
  EXPECT_TRUE(IsRebindingTarget(Ip("2001:db8::53"), public_gateway));
  EXPECT_FALSE(IsRebindingTarget(Ip("203.0.113.53"), kHost));
  EXPECT_FALSE(IsRebindingTarget(Ip("203.0.113.54"), public_gateway));
}

TEST(RebindingTest, PublicAddressesAreNotTargets) {
  for (const char* a : {"1.1.1.1", "8.8.8.8", "1.0.0.0", "9.255.255.255", "11.0.0.0", "100.128.0.0",
                        "172.32.0.0", "169.255.0.0", "223.255.255.255",
                        // Documentation and benchmarking ranges are public to the classifier.
                        "192.0.2.1", "198.51.100.1", "203.0.113.1", "198.18.0.1", "2001:db8::1",
                        "2606:4700:4700::1111", "::2", "fec0::1", "::ffff:8.8.8.8",
                        "64:ff9b::808:808", "2002:0808:0808::", "64:ff9b:1::1"}) {
    EXPECT_FALSE(IsRebindingTarget(Ip(a), kHost)) << a;
  }
}

TEST(ExplicitAllowTest, CidrRules) {
  Policy p = P({"allow@10.0.0.0/8"});
  EXPECT_TRUE(ExplicitlyAllowsAddress(p, kHost, Ip("10.1.2.3")));
  EXPECT_TRUE(ExplicitlyAllowsAddress(p, kHost, Ip("::ffff:10.1.2.3")));
  EXPECT_TRUE(ExplicitlyAllowsAddress(p, kHost, Ip("64:ff9b::a01:203")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(p, kHost, Ip("192.168.1.1")));
  // The raw form counts too, as in the evaluator.
  Policy mapped = P({"allow@[::ffff:0:0/96]"});
  EXPECT_TRUE(ExplicitlyAllowsAddress(mapped, kHost, Ip("::ffff:10.0.0.1")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(mapped, kHost, Ip("10.0.0.1")));
  Policy zero = P({"allow@0.0.0.0/8"});
  EXPECT_TRUE(ExplicitlyAllowsAddress(zero, kHost, Ip("0.0.0.0")));
}

TEST(ExplicitAllowTest, EarlierAddressDenyWins) {
  Policy p = P({"deny@10.0.0.5", "allow@10.0.0.0/8"});
  EXPECT_FALSE(ExplicitlyAllowsAddress(p, kHost, Ip("10.0.0.5")));
  EXPECT_TRUE(ExplicitlyAllowsAddress(p, kHost, Ip("10.0.0.6")));
  Policy group = P({"deny@private", "allow@10.0.0.0/8"});
  EXPECT_FALSE(ExplicitlyAllowsAddress(group, kHost, Ip("10.0.0.6")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(P({"deny@private"}), kHost, Ip("10.0.0.6")));
}

TEST(ExplicitAllowTest, PresetRulesDoNotCount) {
  const IpAddress rfc1918 = Ip("10.0.0.1");
  EXPECT_FALSE(ExplicitlyAllowsAddress(PresetPolicy(Preset::kNonLocal), kHost, rfc1918));
  PolicyOptions non_local;
  non_local.preset = Preset::kNonLocal;
  auto built = BuildPolicy(non_local);
  ASSERT_TRUE(built.ok()) << built.error();
  EXPECT_FALSE(ExplicitlyAllowsAddress(built.value().policy, kHost, rfc1918));
  // The user writing the same rule does count, whatever the preset.
  non_local.net_rules = {"allow@private"};
  built = BuildPolicy(non_local);
  ASSERT_TRUE(built.ok()) << built.error();
  EXPECT_TRUE(ExplicitlyAllowsAddress(built.value().policy, kHost, rfc1918));
  // A preset rule is skipped rather than deciding: a later user rule still can.
  Policy mixed = PresetPolicy(Preset::kNonLocal);
  mixed.rules.push_back(R("deny@10.0.0.0/8"));
  mixed.rules.push_back(R("allow@10.0.0.0/8"));
  EXPECT_FALSE(ExplicitlyAllowsAddress(mixed, kHost, rfc1918));
  mixed.rules.erase(mixed.rules.end() - 2);
  EXPECT_TRUE(ExplicitlyAllowsAddress(mixed, kHost, rfc1918));
}

TEST(ExplicitAllowTest, AnyRulesAndDefaultsDoNotCount) {
  EXPECT_FALSE(ExplicitlyAllowsAddress(P({"allow@any"}), kHost, Ip("10.0.0.1")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(P({"allow:any@any"}), kHost, Ip("10.0.0.1")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(P({}, Action::kAllow), kHost, Ip("10.0.0.1")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(PresetPolicy(Preset::kAllowAll), kHost, Ip("10.0.0.1")));
  // Nor name rules; and neither kind shadows a later address rule.
  EXPECT_FALSE(ExplicitlyAllowsAddress(P({"allow@example.com"}), kHost, Ip("10.0.0.1")));
  Policy p = P({"deny@any", "deny@example.com", "allow@private"});
  EXPECT_TRUE(ExplicitlyAllowsAddress(p, kHost, Ip("10.0.0.1")));
}

TEST(ExplicitAllowTest, PortScopedRulesDoNotCount) {
  EXPECT_FALSE(ExplicitlyAllowsAddress(P({"allow@10.0.0.0/8:tcp:443"}), kHost, Ip("10.0.0.1")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(P({"allow@private:any:1-65535"}), kHost, Ip("10.0.0.1")));
  // A port-scoped deny does not block a later unscoped allow either.
  Policy p = P({"deny@10.0.0.5:tcp:22", "allow@10.0.0.0/8"});
  EXPECT_TRUE(ExplicitlyAllowsAddress(p, kHost, Ip("10.0.0.5")));
}

TEST(ExplicitAllowTest, ProtocolsMustIncludeTcpOrUdp) {
  EXPECT_TRUE(ExplicitlyAllowsAddress(P({"allow@10.0.0.0/8:tcp"}), kHost, Ip("10.0.0.1")));
  EXPECT_TRUE(ExplicitlyAllowsAddress(P({"allow@10.0.0.0/8:udp"}), kHost, Ip("10.0.0.1")));
  EXPECT_TRUE(ExplicitlyAllowsAddress(P({"allow@10.0.0.0/8:any"}), kHost, Ip("10.0.0.1")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(P({"allow@10.0.0.0/8:icmpv4"}), kHost, Ip("10.0.0.1")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(P({"allow@[fd00::/8]:icmpv6"}), kHost, Ip("fd00::1")));
  Policy p = P({"deny@private:icmpv4", "allow@private"});
  EXPECT_TRUE(ExplicitlyAllowsAddress(p, kHost, Ip("10.0.0.1")));
  Rule both = R("allow@10.0.0.0/8");
  both.protocols = ProtocolSet::Of({Protocol::kIcmpv4, Protocol::kUdp});
  EXPECT_TRUE(ExplicitlyAllowsAddress(Policy{Action::kDeny, Action::kAllow, {both}}, kHost,
                                      Ip("10.0.0.1")));
}

TEST(ExplicitAllowTest, Directions) {
  EXPECT_FALSE(ExplicitlyAllowsAddress(P({"allow:ingress@10.0.0.0/8"}), kHost, Ip("10.0.0.1")));
  EXPECT_TRUE(ExplicitlyAllowsAddress(P({"allow:any@10.0.0.0/8"}), kHost, Ip("10.0.0.1")));
  Policy p = P({"deny:ingress@10.0.0.1", "allow@10.0.0.0/8"});
  EXPECT_TRUE(ExplicitlyAllowsAddress(p, kHost, Ip("10.0.0.1")));
  Policy any_deny = P({"deny:any@10.0.0.1", "allow@10.0.0.0/8"});
  EXPECT_FALSE(ExplicitlyAllowsAddress(any_deny, kHost, Ip("10.0.0.1")));
}

TEST(ExplicitAllowTest, GroupsAndTheHost) {
  // The gateway's address is `host`, not `private`, even though it lies in 172.16/12.
  Policy priv = P({"allow@private"});
  EXPECT_TRUE(ExplicitlyAllowsAddress(priv, kHost, Ip("172.16.0.2")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(priv, kHost, Ip("172.16.0.1")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(priv, kHost, Ip("127.0.0.1")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(priv, kHost, Ip("169.254.169.254")));
  Policy host = P({"allow@host"});
  EXPECT_TRUE(ExplicitlyAllowsAddress(host, kHost, Ip("172.16.0.1")));
  EXPECT_TRUE(ExplicitlyAllowsAddress(host, kHost, Ip("::ffff:172.16.0.1")));
  EXPECT_TRUE(ExplicitlyAllowsAddress(host, kHost, Ip("fd42::1")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(host, kHost, Ip("172.16.0.2")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(host, {}, Ip("172.16.0.1")));  // no gateway configured
  // allow@dns names the host but is port-scoped.
  EXPECT_FALSE(ExplicitlyAllowsAddress(P({"allow@dns"}), kHost, Ip("172.16.0.1")));
  // A CIDR naming the gateway's address counts.
  EXPECT_TRUE(ExplicitlyAllowsAddress(P({"allow@172.16.0.1"}), kHost, Ip("172.16.0.1")));
  EXPECT_TRUE(ExplicitlyAllowsAddress(P({"allow@loopback"}), kHost, Ip("::1")));
  EXPECT_TRUE(ExplicitlyAllowsAddress(P({"allow@meta"}), kHost, Ip("169.254.169.254")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(P({"allow@link-local"}), kHost, Ip("169.254.169.254")));
  EXPECT_TRUE(ExplicitlyAllowsAddress(P({"allow@multicast"}), kHost, Ip("ff02::1")));
  // `public` cannot admit an address in no group.
  EXPECT_FALSE(ExplicitlyAllowsAddress(P({"allow@public"}), kHost, Ip("0.0.0.0")));
  EXPECT_FALSE(ExplicitlyAllowsAddress(P({"allow@public"}), kHost, Ip("::")));
}

// Together: what the forwarder does with one answer address.
bool AnswerRejected(const Policy& p, std::string_view ip) {
  return IsRebindingTarget(Ip(ip), kHost) && !ExplicitlyAllowsAddress(p, kHost, Ip(ip));
}

TEST(ExplicitAllowTest, CombinedWithRebindingTargets) {
  Policy p = P({"allow@10.0.0.0/8", "allow@public"});
  EXPECT_FALSE(AnswerRejected(p, "10.1.1.1"));
  EXPECT_FALSE(AnswerRejected(p, "203.0.113.1"));
  EXPECT_TRUE(AnswerRejected(p, "192.168.1.1"));
  EXPECT_TRUE(AnswerRejected(p, "127.0.0.1"));
  EXPECT_TRUE(AnswerRejected(p, "::ffff:169.254.169.254"));
  EXPECT_TRUE(AnswerRejected(p, "172.16.0.1"));
  EXPECT_TRUE(AnswerRejected(P({}, Action::kAllow), "10.0.0.1"));
}

}  // namespace
}  // namespace msb::policy
