// `policy explain`: destination parsing and the rendered explanation.
#include "policy/explain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/presets.h"
#include "test_util.h"

namespace msb::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::Ip;
using testing::P;
using ::testing::StartsWith;

ExplainTarget Parsed(std::string_view text) {
  auto t = ParseExplainTarget(text);
  EXPECT_TRUE(t.ok()) << text << ": " << (t.ok() ? "" : t.error());
  return t.ok() ? t.value() : ExplainTarget();
}

TEST(ParseExplainTargetTest, AddressForms) {
  ExplainTarget a = Parsed("198.51.100.10");
  EXPECT_EQ(a.ip, Ip("198.51.100.10"));
  EXPECT_EQ(a.port, std::nullopt);
  EXPECT_EQ(a.protocol, Protocol::kTcp);
  EXPECT_TRUE(a.name.empty());

  ExplainTarget b = Parsed("198.51.100.10:443");
  EXPECT_EQ(b.port, 443);
  ExplainTarget c = Parsed("198.51.100.10:443/udp");
  EXPECT_EQ(c.port, 443);
  EXPECT_EQ(c.protocol, Protocol::kUdp);
  ExplainTarget d = Parsed("[2001:db8::1]:443/tcp");
  EXPECT_EQ(d.ip, Ip("2001:db8::1"));
  EXPECT_EQ(d.port, 443);
  ExplainTarget e = Parsed("2001:db8::1");
  EXPECT_EQ(e.ip, Ip("2001:db8::1"));
  EXPECT_EQ(e.port, std::nullopt);
  ExplainTarget f = Parsed("10.0.0.1/icmpv4");
  EXPECT_EQ(f.protocol, Protocol::kIcmpv4);
  EXPECT_EQ(f.port, std::nullopt);
  ExplainTarget g = Parsed("[2001:db8::1]/icmpv6");
  EXPECT_EQ(g.protocol, Protocol::kIcmpv6);
  ExplainTarget h = Parsed("fe80::1/udp");
  EXPECT_EQ(h.ip, Ip("fe80::1"));
  EXPECT_EQ(h.protocol, Protocol::kUdp);
}

TEST(ParseExplainTargetTest, NameForms) {
  ExplainTarget a = Parsed("API.Example.com:443");
  EXPECT_EQ(a.ip, std::nullopt);
  EXPECT_EQ(a.name, "api.example.com");
  EXPECT_EQ(a.port, 443);
  ExplainTarget b = Parsed("localhost");
  EXPECT_EQ(b.name, "localhost");
}

TEST(ParseExplainTargetTest, ErrorsNameTheArgument) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "expected DEST[:PORT][/PROTO]"},
      {"10.0.0.0/8", "a CIDR is not a destination"},
      {"10.0.0.1/any", "unknown protocol \"any\": expected tcp, udp, icmpv4 or icmpv6"},
      {"10.0.0.1:53/upd", "(did you mean \"udp\"?)"},
      {"10.0.0.1:0", "invalid port \"0\": expected 1-65535"},
      {"10.0.0.1:70000", "invalid port \"70000\""},
      {"10.0.0.1:", "invalid port \"\""},
      {"10.0.0.1:443/icmpv4", "ICMP has no ports"},
      {"10.0.0.1/icmpv6", "icmpv6 needs an IPv6 destination"},
      {"[::1]/icmpv4", "icmpv4 needs an IPv4 destination"},
      {"[10.0.0.1]:80", "brackets must hold an IPv6 address"},
      {"[2001:db8::1", "unclosed '['"},
      {"[2001:db8::1]x", "expected ':PORT' or '/PROTO' after ']'"},
      {"2001:db8:::1", "not a valid IPv6 address"},
      {"10.0.0.256:80", "not a valid IPv4 address"},
      {"exa mple.com", "whitespace"},
      {"exa$mple.com:80", "is not a valid domain name"},
      {":80", "expected DEST[:PORT][/PROTO]"},
  };
  for (const auto& [text, hint] : cases) {
    auto t = ParseExplainTarget(text);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_THAT(t.error(), StartsWith("invalid destination " + QuoteForMessage(text) + ": "));
    EXPECT_THAT(t.error(), HasSubstr(hint)) << text;
  }
}

std::string Explain(const Policy& policy, std::string_view text) {
  Evaluator e(policy, HostAddresses{Ip("172.16.0.1"), std::nullopt});
  return ExplainDecision(e, Parsed(text));
}

TEST(ExplainDecisionTest, DefaultDecision) {
  EXPECT_EQ(Explain(PresetPolicy(Preset::kPublicOnly), "10.0.0.5:80"),
            "destination  10.0.0.5:80/tcp (group: private)\n"
            "decision     deny (default egress)\n");
}

TEST(ExplainDecisionTest, RuleDecision) {
  EXPECT_EQ(Explain(PresetPolicy(Preset::kPublicOnly), "198.51.100.10:443"),
            "destination  198.51.100.10:443/tcp (group: public)\n"
            "decision     allow by rule #2 allow@public\n");
  EXPECT_EQ(Explain(PresetPolicy(Preset::kPublicOnly), "172.16.0.1:53/udp"),
            "destination  172.16.0.1:53/udp (group: host)\n"
            "decision     allow by rule #1 allow@host:tcp+udp:53\n");
}

TEST(ExplainDecisionTest, UnclassifiedAndEmbedded) {
  Policy p = P({"deny@private"}, Action::kAllow);
  EXPECT_EQ(Explain(p, "[::ffff:10.0.0.1]:80"),
            "destination  [::ffff:10.0.0.1]:80/tcp (group: private, embeds 10.0.0.1)\n"
            "decision     deny by rule #1 deny@private\n");
  EXPECT_EQ(Explain(p, "10.0.0.1/icmpv4"),
            "destination  10.0.0.1/icmpv4 (group: private)\n"
            "decision     deny by rule #1 deny@private\n");
}

TEST(ExplainDecisionTest, InvalidDestinationsAreRefusedBeforePolicy) {
  // Even allow-all (allow by default, no rules) cannot admit them, and no rule is named.
  for (std::string_view text : {"0.0.0.0:80", "0.1.2.3:443", "127.0.0.1:80", "[::]:80", "[::1]:22",
                                "[::ffff:127.0.0.1]:80", "255.255.255.255:53/udp", "240.0.0.1:80",
                                "224.0.0.1:80"}) {
    SCOPED_TRACE(text);
    std::string out = Explain(PresetPolicy(Preset::kAllowAll), text);
    EXPECT_THAT(out, HasSubstr("\ndecision     deny (refused before policy: not a valid "
                               "destination)\nreason       "));
    EXPECT_THAT(out, Not(HasSubstr("rule #")));
  }
  EXPECT_THAT(Explain(PresetPolicy(Preset::kAllowAll), "0.0.0.0:80"),
              HasSubstr("reason       0.0.0.0/8 means \"this host on this network\""));
  // Multicast is refused for TCP only; for UDP the multicast group decides.
  EXPECT_EQ(Explain(PresetPolicy(Preset::kAllowAll), "224.0.0.1:5000/udp"),
            "destination  224.0.0.1:5000/udp (group: multicast)\n"
            "decision     allow (default egress)\n");
}

TEST(ExplainDecisionTest, MissingPortIsNoted) {
  EXPECT_EQ(Explain(P({"allow@public:tcp:443"}), "198.51.100.10"),
            "destination  198.51.100.10/tcp (group: public)\n"
            "decision     deny (default egress)\n"
            "note         no port given: rules that name ports were skipped\n");
}

TEST(ExplainDecisionTest, EarlierNameRulesAreNoted) {
  std::string out = Explain(P({"deny@*.example.com", "allow@api.example.org:udp", "allow@public"}),
                            "198.51.100.10:443");
  EXPECT_EQ(out,
            "destination  198.51.100.10:443/tcp (group: public)\n"
            "decision     allow by rule #3 allow@public\n"
            "note         name rule #1 comes first: it decides instead if the guest resolved "
            "this IP from a name it matches through the gateway (a deny rule also on the TLS "
            "SNI)\n");
  std::string two = Explain(
      P({"deny@*.example.com", "allow@a.example.org", "deny@8.8.8.8", "allow@b.example.org"}),
      "8.8.8.8:53/udp");
  EXPECT_THAT(two, HasSubstr("decision     deny by rule #3 deny@8.8.8.8\n"));
  EXPECT_THAT(two, HasSubstr("note         name rules #1, #2 come first"));
}

TEST(ExplainDecisionTest, NameDestination) {
  Policy p = P({"deny@*.ads.example", "allow@api.example.com:tcp:443", "deny@*.example.com",
                "allow@public"});
  EXPECT_EQ(Explain(p, "api.example.com:443"),
            "destination  api.example.com:443/tcp (domain name)\n"
            "dns query    allow by rule #2 allow@api.example.com:tcp:443\n"
            "connect      allow by rule #2 allow@api.example.com:tcp:443\n"
            "             (to an IP the guest resolved from this name through the gateway, until "
            "the answer's TTL runs out)\n"
            "other IPs    depends on the address: the first rule that looks at it is rule #4 "
            "allow@public (explain the IP to see)\n");
  // A name under a denied suffix: denied at DNS and, if it was resolved anyway, at connect.
  std::string ads = Explain(p, "x.ads.example:443");
  EXPECT_THAT(ads, HasSubstr("dns query    deny by rule #1 deny@*.ads.example (the guest gets "
                             "NXDOMAIN)\n"));
  EXPECT_THAT(ads, HasSubstr("connect      deny by rule #1 deny@*.ads.example\n"));
}

TEST(ExplainDecisionTest, NameDestinationTransportsAndDefaults) {
  // Name rules decide DNS whatever their port filter; a port-less explanation skips them for
  // connections.
  std::string out = Explain(P({"deny@*.intranet.example:tcp:80"}), "intranet.example");
  EXPECT_THAT(out, HasSubstr("dns query    deny by rule #1 deny@*.intranet.example:tcp:80"));
  EXPECT_THAT(out, HasSubstr("connect      deny (default egress)\n"));
  EXPECT_THAT(out, ::testing::EndsWith("note         no port given: rules that name ports were "
                                       "skipped\n"));
  std::string split = Explain(P({"deny@dns:tcp", "allow@dns"}), "intranet.example:80");
  EXPECT_THAT(split, HasSubstr("dns query    udp: allow by rule #2"));
  EXPECT_THAT(split, HasSubstr("             tcp: deny by rule #1"));
  std::string any = Explain(P({"allow@api.example.com:tcp:80", "allow@any:udp", "deny@any"}),
                            "intranet.example:80");
  EXPECT_THAT(any, HasSubstr("connect      deny by rule #3 deny@any\n"));
  EXPECT_THAT(any, HasSubstr("other IPs    deny by rule #3 deny@any\n"));
}

}  // namespace
}  // namespace msb::policy
