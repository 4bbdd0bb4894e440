// Evaluator tests: first-match order, directions and defaults, protocol and port filters, ICMP,
// CIDR/group matching of embedded addresses, and domain rules with pins and SNI.
#include "policy/evaluator.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "policy/domain_name.h"
#include "test_util.h"

namespace msb::policy {
namespace {

using testing::Ip;
using testing::P;

// FakePins ties IPs to names the guest "resolved", as the DNS pin set will.
class FakePins : public NameEvidence {
 public:
  void Pin(std::string_view ip, std::string name) { pins_[Ip(ip)].push_back(std::move(name)); }
  bool PinnedNameMatches(const IpAddress& ip, const Destination& dest) const override {
    auto it = pins_.find(ip);
    if (it == pins_.end()) {
      return false;
    }
    for (const std::string& n : it->second) {
      bool match =
          dest.kind == Destination::Kind::kDomain ? n == dest.name : NameHasSuffix(n, dest.name);
      if (match) {
        return true;
      }
    }
    return false;
  }

 private:
  std::map<IpAddress, std::vector<std::string>> pins_;
};

FlowQuery Egress(std::string_view ip, std::optional<uint16_t> port = 443,
                 Protocol proto = Protocol::kTcp) {
  FlowQuery q;
  q.direction = Direction::kEgress;
  q.protocol = proto;
  q.ip = Ip(ip);
  q.port = port;
  return q;
}

FlowQuery Ingress(std::string_view peer, uint16_t guest_port, Protocol proto = Protocol::kTcp) {
  FlowQuery q = Egress(peer, guest_port, proto);
  q.direction = Direction::kIngress;
  return q;
}

Decision Allow(size_t i) {
  return {Action::kAllow, i};
}
Decision Deny(size_t i) {
  return {Action::kDeny, i};
}
constexpr Decision kDefaultDeny{Action::kDeny, std::nullopt};
constexpr Decision kDefaultAllow{Action::kAllow, std::nullopt};

TEST(EvaluatorTest, FirstMatchWins) {
  Evaluator e(P({"deny@10.0.0.5", "allow@10.0.0.0/8", "deny@private"}), {});
  EXPECT_EQ(e.Evaluate(Egress("10.0.0.5"), nullptr), Deny(0));
  EXPECT_EQ(e.Evaluate(Egress("10.0.0.6"), nullptr), Allow(1));
  EXPECT_EQ(e.Evaluate(Egress("192.168.1.1"), nullptr), Deny(2));
  EXPECT_EQ(e.Evaluate(Egress("8.8.8.8"), nullptr), kDefaultDeny);
}

TEST(EvaluatorTest, DefaultsPerDirection) {
  Evaluator open(P({}, Action::kAllow, Action::kDeny), {});
  EXPECT_EQ(open.Evaluate(Egress("8.8.8.8"), nullptr), kDefaultAllow);
  EXPECT_EQ(open.Evaluate(Ingress("8.8.8.8", 80), nullptr), kDefaultDeny);
  Evaluator closed(P({}, Action::kDeny, Action::kAllow), {});
  EXPECT_EQ(closed.Evaluate(Egress("8.8.8.8"), nullptr), kDefaultDeny);
  EXPECT_EQ(closed.Evaluate(Ingress("8.8.8.8", 80), nullptr), kDefaultAllow);
}

TEST(EvaluatorTest, DirectionFiltersRules) {
  Evaluator e(P({"deny:ingress@public", "allow@public", "deny:any@10.0.0.0/8"}), {});
  EXPECT_EQ(e.Evaluate(Egress("8.8.8.8"), nullptr), Allow(1));
  EXPECT_EQ(e.Evaluate(Ingress("8.8.8.8", 80), nullptr), Deny(0));
  EXPECT_EQ(e.Evaluate(Egress("10.1.1.1"), nullptr), Deny(2));
  EXPECT_EQ(e.Evaluate(Ingress("10.1.1.1", 80), nullptr), Deny(2));
  EXPECT_EQ(e.Evaluate(Ingress("192.168.1.1", 80), nullptr), kDefaultAllow);
}

TEST(EvaluatorTest, IngressPortIsTheGuestPort) {
  Evaluator e(P({"allow:ingress@any:tcp:8080", "deny:ingress@any"}), {});
  EXPECT_EQ(e.Evaluate(Ingress("203.0.113.9", 8080), nullptr), Allow(0));
  EXPECT_EQ(e.Evaluate(Ingress("203.0.113.9", 22), nullptr), Deny(1));
  EXPECT_EQ(e.Evaluate(Ingress("203.0.113.9", 8080, Protocol::kUdp), nullptr), Deny(1));
}

TEST(EvaluatorTest, ProtocolAndPortFilters) {
  Evaluator e(P({"allow@public:udp:53", "allow@public:tcp:8000-8999", "allow@public:any:443",
                 "deny@public"}),
              {});
  EXPECT_EQ(e.Evaluate(Egress("8.8.8.8", 53, Protocol::kUdp), nullptr), Allow(0));
  EXPECT_EQ(e.Evaluate(Egress("8.8.8.8", 53, Protocol::kTcp), nullptr), Deny(3));
  EXPECT_EQ(e.Evaluate(Egress("8.8.8.8", 8000), nullptr), Allow(1));
  EXPECT_EQ(e.Evaluate(Egress("8.8.8.8", 8999), nullptr), Allow(1));
  EXPECT_EQ(e.Evaluate(Egress("8.8.8.8", 9000), nullptr), Deny(3));
  EXPECT_EQ(e.Evaluate(Egress("8.8.8.8", 7999), nullptr), Deny(3));
  EXPECT_EQ(e.Evaluate(Egress("8.8.8.8", 443, Protocol::kUdp), nullptr), Allow(2));
  EXPECT_EQ(e.Evaluate(Egress("8.8.8.8", 443, Protocol::kTcp), nullptr), Allow(2));
}

TEST(EvaluatorTest, IcmpSkipsRulesWithPorts) {
  Evaluator e(P({"deny@any:any:1-65535", "allow@public:icmpv4", "deny@any"}), {});
  FlowQuery ping = Egress("8.8.8.8", std::nullopt, Protocol::kIcmpv4);
  EXPECT_EQ(e.Evaluate(ping, nullptr), Allow(1));
  FlowQuery ping6 = Egress("2606:4700::1111", std::nullopt, Protocol::kIcmpv6);
  EXPECT_EQ(e.Evaluate(ping6, nullptr), Deny(2));
  EXPECT_EQ(e.Evaluate(Egress("8.8.8.8", 80), nullptr), Deny(0));
}

TEST(EvaluatorTest, CidrMatchesEmbeddedForms) {
  Evaluator e(P({"deny@10.0.0.0/8", "deny@[2001:db8::/32]", "allow@any"}), {});
  EXPECT_EQ(e.Evaluate(Egress("10.1.2.3"), nullptr), Deny(0));
  EXPECT_EQ(e.Evaluate(Egress("::ffff:10.1.2.3"), nullptr), Deny(0));
  EXPECT_EQ(e.Evaluate(Egress("64:ff9b::a01:203"), nullptr), Deny(0));
  EXPECT_EQ(e.Evaluate(Egress("2002:a01:203::1"), nullptr), Deny(0));
  EXPECT_EQ(e.Evaluate(Egress("2001:db8::1"), nullptr), Deny(1));
  EXPECT_EQ(e.Evaluate(Egress("2001:db9::1"), nullptr), Allow(2));
  EXPECT_EQ(e.Evaluate(Egress("11.0.0.1"), nullptr), Allow(2));
}

TEST(EvaluatorTest, V6CidrStillMatchesTheRawMappedAddress) {
  Evaluator e(P({"deny@[::ffff:0:0/96]", "allow@any"}), {});
  EXPECT_EQ(e.Evaluate(Egress("::ffff:8.8.8.8"), nullptr), Deny(0));
  EXPECT_EQ(e.Evaluate(Egress("8.8.8.8"), nullptr), Allow(1));
}

TEST(EvaluatorTest, GroupsUseClassification) {
  HostAddresses host{Ip("172.16.0.1"), Ip("fd42::1")};
  Evaluator e(P({"allow@host:tcp:8080", "deny@meta", "allow@public", "deny@private"}), host);
  EXPECT_EQ(e.Evaluate(Egress("172.16.0.1", 8080), nullptr), Allow(0));
  EXPECT_EQ(e.Evaluate(Egress("fd42::1", 8080), nullptr), Allow(0));
  EXPECT_EQ(e.Evaluate(Egress("172.16.0.1", 22), nullptr), kDefaultDeny);
  EXPECT_EQ(e.Evaluate(Egress("::ffff:169.254.169.254", 80), nullptr), Deny(1));
  EXPECT_EQ(e.Evaluate(Egress("2002:a9fe:a9fe::1", 80), nullptr), Deny(1));
  EXPECT_EQ(e.Evaluate(Egress("198.51.100.10"), nullptr), Allow(2));
  EXPECT_EQ(e.Evaluate(Egress("::ffff:10.0.0.1"), nullptr), Deny(3));
  // Unclassified addresses match no group, not even public.
  EXPECT_EQ(e.Evaluate(Egress("0.0.0.0"), nullptr), kDefaultDeny);
  EXPECT_EQ(e.Evaluate(Egress("::"), nullptr), kDefaultDeny);
}

TEST(EvaluatorTest, DomainRulesNeedAPinWithoutSni) {
  Evaluator e(
      P({"allow@api.example.com:tcp:443", "deny@*.ads.example", "allow@any"}, Action::kDeny), {});
  FakePins pins;
  pins.Pin("198.51.100.10", "api.example.com");
  pins.Pin("198.51.100.20", "x.ads.example");
  Evaluator strict(P({"allow@api.example.com:tcp:443"}), {});
  EXPECT_EQ(strict.Evaluate(Egress("198.51.100.10"), &pins), Allow(0));
  EXPECT_EQ(strict.Evaluate(Egress("198.51.100.11"), &pins), kDefaultDeny);
  EXPECT_EQ(strict.Evaluate(Egress("198.51.100.10", 80), &pins), kDefaultDeny);
  // Without any evidence, name rules match nothing.
  EXPECT_EQ(strict.Evaluate(Egress("198.51.100.10"), nullptr), kDefaultDeny);
  EXPECT_EQ(e.Evaluate(Egress("198.51.100.20"), &pins), Deny(1));
  EXPECT_EQ(e.Evaluate(Egress("198.51.100.20"), nullptr), Allow(2));
}

TEST(EvaluatorTest, DenyMatchesOnSniAlone) {
  Evaluator e(P({"deny@*.blocked.example", "allow@any"}), {});
  FlowQuery q = Egress("198.51.100.30");
  q.sni = "www.Blocked.Example.";
  EXPECT_EQ(e.Evaluate(q, nullptr), Deny(0));
  q.sni = "notblocked.example";
  EXPECT_EQ(e.Evaluate(q, nullptr), Allow(1));
}

TEST(EvaluatorTest, PendingSniLeavesDenyNameRulesToTheHello) {
  // A CDN address pinned to both a denied and an allowed name: at SYN time on an intercepted
  // port the deny rule waits for the SNI; with the SNI it decides by name.
  Evaluator e(P({"deny@ads.example", "allow@public"}), {});
  FakePins pins;
  pins.Pin("198.51.100.40", "ads.example");
  pins.Pin("198.51.100.40", "cdn.example");
  FlowQuery q = Egress("198.51.100.40");
  EXPECT_EQ(e.Evaluate(q, &pins), Deny(0));  // no SNI to come: the pin decides
  q.sni_pending = true;
  EXPECT_EQ(e.Evaluate(q, &pins), Allow(1));
  q.sni_pending = false;
  q.sni = "cdn.example";
  EXPECT_EQ(e.Evaluate(q, &pins), Allow(1));
  q.sni = "ads.example";
  EXPECT_EQ(e.Evaluate(q, &pins), Deny(0));
  // Allow name rules are unaffected: they still need the pin at SYN time.
  Evaluator strict(P({"allow@api.example.com"}), {});
  FlowQuery s = Egress("198.51.100.41");
  s.sni_pending = true;
  EXPECT_EQ(strict.Evaluate(s, &pins), kDefaultDeny);
}

TEST(EvaluatorTest, AllowNeedsSniAndPin) {
  Evaluator e(P({"allow@api.example.com"}), {});
  FakePins pins;
  pins.Pin("198.51.100.10", "api.example.com");
  FlowQuery q = Egress("198.51.100.10");
  q.sni = "api.example.com";
  EXPECT_EQ(e.Evaluate(q, &pins), Allow(0));
  EXPECT_EQ(e.Evaluate(q, nullptr), kDefaultDeny);  // SNI alone does not allow
  q.ip = Ip("198.51.100.99");
  EXPECT_EQ(e.Evaluate(q, &pins), kDefaultDeny);  // spoofed SNI towards an unrelated IP
  q.ip = Ip("198.51.100.10");
  q.sni = "other.example.com";
  EXPECT_EQ(e.Evaluate(q, &pins), kDefaultDeny);  // pinned, but the SNI names something else
}

TEST(EvaluatorTest, SuffixAllowAcceptsASiblingPin) {
  // The pin check asks for any pinned name matching the rule, not the SNI's own name.
  Evaluator e(P({"allow@*.example.com"}), {});
  FakePins pins;
  pins.Pin("198.51.100.10", "a.example.com");
  FlowQuery q = Egress("198.51.100.10");
  q.sni = "b.example.com";
  EXPECT_EQ(e.Evaluate(q, &pins), Allow(0));
  q.sni = "b.example.org";
  EXPECT_EQ(e.Evaluate(q, &pins), kDefaultDeny);
}

TEST(EvaluatorTest, RuleMatchesIsThePerRuleTest) {
  Evaluator e(P({}), {});
  FlowQuery q = Egress("8.8.8.8", 443);
  EXPECT_TRUE(e.RuleMatches(testing::R("allow@public:tcp:443"), q, nullptr));
  EXPECT_FALSE(e.RuleMatches(testing::R("allow@public:udp:443"), q, nullptr));
  EXPECT_FALSE(e.RuleMatches(testing::R("allow:ingress@public"), q, nullptr));
  EXPECT_TRUE(e.RuleMatches(testing::R("allow:any@public"), q, nullptr));
  EXPECT_FALSE(e.RuleMatches(testing::R("allow@private"), q, nullptr));
}

}  // namespace
}  // namespace msb::policy
