// Enum names and their parsers, the message wording helpers (QuoteForMessage, ListAlternatives,
// SuggestionNote) and the canonical RuleToString form, including round trips through the grammar.
#include "policy/types.h"

#include <gtest/gtest.h>

#include <array>
#include <string_view>

#include "test_util.h"

namespace msb::policy {
namespace {

using testing::Prefix;
using testing::R;

TEST(TypesTest, Names) {
  EXPECT_EQ(ActionName(Action::kAllow), "allow");
  EXPECT_EQ(ActionName(Action::kDeny), "deny");
  EXPECT_EQ(DirectionName(Direction::kEgress), "egress");
  EXPECT_EQ(DirectionName(Direction::kIngress), "ingress");
  EXPECT_EQ(DirectionName(Direction::kAny), "any");
  EXPECT_EQ(ProtocolName(Protocol::kIcmpv6), "icmpv6");
  EXPECT_EQ(GroupName(Group::kLinkLocal), "link-local");
  EXPECT_EQ(GroupName(Group::kMetadata), "meta");
  EXPECT_EQ(GroupJsonName(Group::kLinkLocal), "link_local");
  EXPECT_EQ(GroupJsonName(Group::kMetadata), "metadata");
  EXPECT_EQ(GroupJsonName(Group::kHost), "host");
  for (int i = 0; i < kNumProtocols; ++i) {
    auto p = static_cast<Protocol>(i);
    EXPECT_EQ(ParseProtocol(ProtocolName(p)), p);
  }
  EXPECT_EQ(ParseProtocol("TCP"), std::nullopt);
  EXPECT_EQ(ParseProtocol("any"), std::nullopt);
}

TEST(TypesTest, QuoteForMessageEscapes) {
  EXPECT_EQ(QuoteForMessage("plain"), "\"plain\"");
  EXPECT_EQ(QuoteForMessage("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(QuoteForMessage(std::string_view("\x00\n\x7f\xff", 4)), "\"\\x00\\x0a\\x7f\\xff\"");
}

TEST(TypesTest, KeywordParsersInvertTheNames) {
  for (Action a : {Action::kAllow, Action::kDeny}) {
    EXPECT_EQ(ParseAction(ActionName(a)), a);
  }
  for (Direction d : {Direction::kEgress, Direction::kIngress, Direction::kAny}) {
    EXPECT_EQ(ParseDirection(DirectionName(d)), d);
  }
  EXPECT_EQ(ParseAction("Allow"), std::nullopt);
  EXPECT_EQ(ParseAction("permit"), std::nullopt);
  EXPECT_EQ(ParseDirection("both"), std::nullopt);
  EXPECT_EQ(ParseDirection(""), std::nullopt);
}

TEST(TypesTest, MessageWording) {
  constexpr std::array<std::string_view, 1> kOne = {"allow"};
  EXPECT_EQ(ListAlternatives(kProtocolNames, false), "tcp, udp, icmpv4 or icmpv6");
  EXPECT_EQ(ListAlternatives(kActionNames, true), R"("allow" or "deny")");
  EXPECT_EQ(ListAlternatives(kOne, true), R"("allow")");
  EXPECT_EQ(SuggestionNote(kOne), R"( (did you mean "allow"?))");
  constexpr std::array<std::string_view, 2> kTwo = {"icmpv4", "icmpv6"};
  EXPECT_EQ(SuggestionNote(kTwo), R"( (did you mean "icmpv4" or "icmpv6"?))");
  EXPECT_EQ(SuggestionNote({}), "");
}

TEST(RuleToStringTest, CanonicalForms) {
  const std::pair<const char*, const char*> cases[] = {
      {"allow@any", "allow@any"},
      {"allow:egress@public", "allow@public"},
      {"deny:any@private", "deny:any@private"},
      {"allow:ingress@any:tcp:8080", "allow:ingress@any:tcp:8080"},
      {"allow@metadata", "allow@meta"},
      {"allow@198.51.100.10:tcp:80", "allow@198.51.100.10:tcp:80"},
      {"allow@198.51.100.10/32", "allow@198.51.100.10"},
      {"allow@10.0.0.0/8", "allow@10.0.0.0/8"},
      {"allow@[2001:DB8::1]", "allow@[2001:db8::1]"},
      {"allow@[2001:db8::1/128]", "allow@[2001:db8::1]"},
      {"allow@[2001:db8::/32]:udp", "allow@[2001:db8::/32]:udp"},
      {"allow@API.example.com.", "allow@api.example.com"},
      {"allow@domain=api.example.com", "allow@api.example.com"},
      {"allow@domain=localhost", "allow@domain=localhost"},
      {"allow@suffix=example.com:tcp:443-444", "allow@*.example.com:tcp:443-444"},
      {"allow@public:any", "allow@public"},
      {"allow@public:tcp:any", "allow@public:tcp"},
      {"allow@public:any:443", "allow@public:any:443"},
      {"allow@any:icmpv4", "allow@any:icmpv4"},
      {"allow@dns", "allow@host:tcp+udp:53"},
      {"allow@dns:udp", "allow@host:udp:53"},
  };
  for (const auto& [token, canonical] : cases) {
    EXPECT_EQ(RuleToString(R(token)), canonical) << token;
  }
}

TEST(RuleToStringTest, DisplayOnlyForms) {
  Rule r;
  r.protocols = ProtocolSet::Of({Protocol::kIcmpv6, Protocol::kTcp});
  r.ports = {{80, 80}, {443, 444}};
  EXPECT_EQ(RuleToString(r), "allow@any:tcp+icmpv6:80,443-444");
  Rule ports_only;
  ports_only.ports = {{22, 22}};
  EXPECT_EQ(RuleToString(ports_only), "allow@any:any:22");
}

TEST(RuleToStringTest, SingleTokenRulesRoundTrip) {
  const char* tokens[] = {
      "allow@any",
      "deny:ingress@public:tcp:22",
      "deny:any@10.0.0.0/8:udp:1-1024",
      "allow@[::ffff:10.0.0.0/104]",
      "allow@[fe80::1]:tcp:80",
      "allow@0.0.0.0",
      "deny@*.ads.example",
      "allow@domain=intranet:tcp",
      "allow@dns:tcp",
      "deny@link-local:any:7",
      "allow@host:udp:5353",
      "allow@x_y.example:tcp:8000-8080",
  };
  for (const char* token : tokens) {
    Rule rule = R(token);
    std::string text = RuleToString(rule);
    auto again = ParseNetRuleToken(text);
    ASSERT_TRUE(again.ok()) << token << " -> " << text << ": " << again.error();
    EXPECT_EQ(again.value(), rule) << token << " -> " << text;
  }
}

TEST(RuleToStringTest, PrefixRendering) {
  Rule r;
  r.destination = Destination::OfCidr(Prefix("::/0"));
  EXPECT_EQ(RuleToString(r), "allow@[::/0]");
  r.destination = Destination::OfCidr(Prefix("0.0.0.0/0"));
  EXPECT_EQ(RuleToString(r), "allow@0.0.0.0/0");
}

}  // namespace
}  // namespace msb::policy
