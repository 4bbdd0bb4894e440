// The two rule front ends agree: the same rule written as a --net-rule token and as a JSON config
// rule is accepted by both (as the same Rule) or rejected by both with the same error kind, each
// message naming the offending token or JSON path. Covers every ICMP and ingress invariant, every
// group spelling, keywords, CIDRs, ports and domains, plus every combination of direction,
// protocol, ports and destination kind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "policy/config.h"
#include "policy/group_table.h"
#include "policy/net_rule.h"
#include "policy/rule_error.h"
#include "policy/types.h"

namespace msb::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Kind = RuleErrorKind;

constexpr std::string_view kPath = "$.policy.rules[0]";

RuleResult<Rule> ParseJsonRule(std::string_view json) {
  auto value = ParseJson(json);
  if (!value.ok()) {
    ADD_FAILURE() << "bad test JSON " << json << ": " << value.error();
    return RuleParseError{Kind::kNotation, "bad test JSON"};
  }
  return ParseConfigRule(value.value(), kPath);
}

std::string KindText(const RuleResult<Rule>& r) {
  return r.ok() ? "accepted as " + RuleToString(r.value())
                : std::string(RuleErrorKindName(r.error_kind())) + ": " + r.error();
}

// ExpectAgree checks both front ends against one expectation: nullopt means both accept, to equal
// rules; otherwise both reject with `expected` and a message that names the token or the path.
void ExpectAgree(std::string_view token, std::string_view json, std::optional<Kind> expected) {
  SCOPED_TRACE("token " + std::string(token) + "\njson  " + std::string(json));
  auto cli = ParseNetRuleToken(token);
  auto config = ParseJsonRule(json);
  if (!expected) {
    ASSERT_TRUE(cli.ok()) << KindText(cli);
    ASSERT_TRUE(config.ok()) << KindText(config);
    EXPECT_EQ(cli.value(), config.value())
        << RuleToString(cli.value()) << " vs " << RuleToString(config.value());
    return;
  }
  ASSERT_FALSE(cli.ok()) << KindText(cli);
  ASSERT_FALSE(config.ok()) << KindText(config);
  EXPECT_EQ(RuleErrorKindName(cli.error_kind()), RuleErrorKindName(*expected)) << cli.error();
  EXPECT_EQ(RuleErrorKindName(config.error_kind()), RuleErrorKindName(*expected)) << config.error();
  EXPECT_THAT(cli.error(), StartsWith("invalid --net-rule token " + QuoteForMessage(token) + ": "));
  EXPECT_THAT(config.error(), StartsWith(std::string(kPath)));
}

struct Case {
  std::string token;
  std::string json;
  std::optional<Kind> error;  // nullopt: both accept
};

// J builds a rule object; `extra` is appended inside it.
std::string J(std::string_view action, std::string_view direction, std::string_view destination,
              std::string_view extra = "") {
  return R"({"action": ")" + std::string(action) + R"(", "direction": ")" + std::string(direction) +
         R"(", "destination": )" + std::string(destination) + (extra.empty() ? "" : ", ") +
         std::string(extra) + "}";
}

void ExpectTable(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    ExpectAgree(c.token, c.json, c.error);
  }
}

TEST(RuleAgreementTest, IcmpInvariants) {
  ExpectTable({
      {"allow@any:icmpv4", J("allow", "egress", R"("any")", R"("protocols": ["icmpv4"])"),
       std::nullopt},
      {"deny@public:icmpv6:any",
       J("deny", "egress", R"({"group": "public"})", R"("protocols": ["icmpv6"], "ports": [])"),
       std::nullopt},
      {"allow:ingress@any:icmpv4", J("allow", "ingress", R"("any")", R"("protocols": ["icmpv4"])"),
       Kind::kIcmpNotEgress},
      {"allow:any@any:icmpv6", J("allow", "any", R"("any")", R"("protocol": "icmpv6")"),
       Kind::kIcmpNotEgress},
      {"deny:ingress@10.0.0.0/8:icmpv6",
       J("deny", "ingress", R"({"cidr": "10.0.0.0/8"})", R"("protocols": ["icmpv6"])"),
       Kind::kIcmpNotEgress},
      {"allow@any:icmpv4:7",
       J("allow", "egress", R"("any")", R"("protocols": ["icmpv4"], "ports": [7])"),
       Kind::kIcmpWithPorts},
      {"allow@public:icmpv6:1-10",
       J("allow", "egress", R"({"group": "public"})",
         R"("protocols": ["icmpv6"], "ports": [{"start": 1, "end": 10}])"),
       Kind::kIcmpWithPorts},
      // Both broken: the direction is reported first by both.
      {"allow:ingress@any:icmpv4:7",
       J("allow", "ingress", R"("any")", R"("protocols": ["icmpv4"], "ports": [7])"),
       Kind::kIcmpNotEgress},
  });
}

TEST(RuleAgreementTest, IngressRules) {
  ExpectTable({
      {"allow:ingress@any:tcp:8080",
       J("allow", "ingress", R"("any")", R"("protocols": ["tcp"], "ports": [8080])"), std::nullopt},
      {"deny:ingress@private:udp:5000-5100",
       J("deny", "ingress", R"({"group": "private"})",
         R"("protocols": ["udp"], "ports": [{"start": 5000, "end": 5100}])"),
       std::nullopt},
      {"deny:any@loopback", J("deny", "any", R"({"group": "loopback"})"), std::nullopt},
      {"allow:ingress@[2001:db8::/32]:tcp",
       J("allow", "ingress", R"({"cidr": "2001:db8::/32"})", R"("protocols": ["tcp"])"),
       std::nullopt},
      {"allow:ingress@api.example.com", J("allow", "ingress", R"({"domain": "api.example.com"})"),
       std::nullopt},
      {"allow:ingress@any:tcp:9000-8000",
       J("allow", "ingress", R"("any")",
         R"("protocols": ["tcp"], "ports": [{"start": 9000, "end": 8000}])"),
       Kind::kReversedPortRange},
  });
}

TEST(RuleAgreementTest, EveryGroupSpelling) {
  for (std::string_view spelling : GroupSpellings()) {
    ExpectAgree("allow@" + std::string(spelling),
                J("allow", "egress", R"({"group": ")" + std::string(spelling) + "\"}"),
                std::nullopt);
  }
  for (const GroupNames& names : GroupTable()) {
    auto cli = ParseNetRuleToken("allow@" + std::string(names.json_name));
    ASSERT_TRUE(cli.ok()) << cli.error();
    EXPECT_EQ(cli.value().destination, Destination::OfGroup(names.group));
  }
  for (std::string_view wrong : {"Public", "LINK-LOCAL", "Link_Local", "linklocal", "link-locl",
                                 "meta_data", "Meta", "metdata", "privat", "hosts"}) {
    ExpectAgree("allow@" + std::string(wrong),
                J("allow", "egress", R"({"group": ")" + std::string(wrong) + "\"}"),
                Kind::kUnknownGroup);
  }
}

TEST(RuleAgreementTest, GroupSuggestionsUseEachFrontEndsSpelling) {
  auto cli = ParseNetRuleToken("allow@linklocal");
  auto config = ParseJsonRule(J("allow", "egress", R"({"group": "linklocal"})"));
  ASSERT_FALSE(cli.ok());
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(cli.error(), HasSubstr(R"((did you mean "link-local"?))"));
  EXPECT_THAT(config.error(), HasSubstr(R"((did you mean "link_local"?))"));
  auto cli_meta = ParseNetRuleToken("allow@metdata");
  auto config_meta = ParseJsonRule(J("allow", "egress", R"({"group": "metdata"})"));
  EXPECT_THAT(cli_meta.error(), HasSubstr(R"((did you mean "metadata"?))"));
  EXPECT_THAT(config_meta.error(), HasSubstr(R"((did you mean "metadata"?))"));
}

TEST(RuleAgreementTest, Keywords) {
  ExpectTable({
      {"alow@public", J("alow", "egress", R"({"group": "public"})"), Kind::kUnknownAction},
      {"Allow@public", J("Allow", "egress", R"({"group": "public"})"), Kind::kUnknownAction},
      {"permit@public", J("permit", "egress", R"({"group": "public"})"), Kind::kUnknownAction},
      {"allow:egres@public", J("allow", "egres", R"({"group": "public"})"),
       Kind::kUnknownDirection},
      {"allow:both@public", J("allow", "both", R"({"group": "public"})"), Kind::kUnknownDirection},
      {"allow@public:icmp",
       J("allow", "egress", R"({"group": "public"})", R"("protocols": ["icmp"])"),
       Kind::kUnknownProtocol},
      {"allow@public:TCP", J("allow", "egress", R"({"group": "public"})", R"("protocol": "TCP")"),
       Kind::kUnknownProtocol},
      {"allow@public:sctp",
       J("allow", "egress", R"({"group": "public"})", R"("protocols": ["sctp"])"),
       Kind::kUnknownProtocol},
      {"deny@public:udp", J("deny", "egress", R"({"group": "public"})", R"("protocols": ["udp"])"),
       std::nullopt},
  });
  // The same suggestion engine: both front ends suggest the same keyword.
  auto cli = ParseNetRuleToken("allow@public:icmp");
  auto config =
      ParseJsonRule(J("allow", "egress", R"({"group": "public"})", R"("protocols": ["icmp"])"));
  EXPECT_THAT(cli.error(), HasSubstr(R"((did you mean "icmpv4" or "icmpv6"?))"));
  EXPECT_THAT(config.error(), HasSubstr(R"((did you mean "icmpv4" or "icmpv6"?))"));
}

TEST(RuleAgreementTest, CidrsAndAddresses) {
  ExpectTable({
      {"allow@10.0.0.0/8", J("allow", "egress", R"({"cidr": "10.0.0.0/8"})"), std::nullopt},
      {"allow@203.0.113.7", J("allow", "egress", R"({"cidr": "203.0.113.7"})"), std::nullopt},
      {"allow@203.0.113.7/32", J("allow", "egress", R"({"cidr": "203.0.113.7"})"), std::nullopt},
      {"allow@[2001:db8::1]", J("allow", "egress", R"({"cidr": "2001:db8::1/128"})"), std::nullopt},
      {"allow@10.0.0.1/8", J("allow", "egress", R"({"cidr": "10.0.0.1/8"})"), Kind::kHostBitsSet},
      {"allow@[2001:db8::1/32]", J("allow", "egress", R"({"cidr": "2001:db8::1/32"})"),
       Kind::kHostBitsSet},
      {"allow@10.0.0.0/33", J("allow", "egress", R"({"cidr": "10.0.0.0/33"})"),
       Kind::kInvalidPrefixLength},
      {"allow@10.0.0.0/08", J("allow", "egress", R"({"cidr": "10.0.0.0/08"})"),
       Kind::kInvalidPrefixLength},
      {"allow@[fc00::/129]", J("allow", "egress", R"({"cidr": "fc00::/129"})"),
       Kind::kInvalidPrefixLength},
      {"allow@10.0.0.256", J("allow", "egress", R"({"cidr": "10.0.0.256"})"),
       Kind::kInvalidAddress},
      {"allow@example.com/8", J("allow", "egress", R"({"cidr": "example.com/8"})"),
       Kind::kInvalidAddress},
  });
  // Both explain host bits with the fixed prefix, each in its notation.
  auto cli = ParseNetRuleToken("allow@[2001:db8::1/32]");
  auto config = ParseJsonRule(J("allow", "egress", R"({"cidr": "2001:db8::1/32"})"));
  EXPECT_THAT(cli.error(), HasSubstr("host bits are set (did you mean [2001:db8::/32]?)"));
  EXPECT_THAT(config.error(), HasSubstr(R"(host bits are set (did you mean "2001:db8::/32"?))"));
}

TEST(RuleAgreementTest, PortsAndDomains) {
  ExpectTable({
      {"allow@public:tcp:0",
       J("allow", "egress", R"({"group": "public"})", R"("protocols": ["tcp"], "ports": [0])"),
       Kind::kInvalidPort},
      {"allow@public:tcp:65536",
       J("allow", "egress", R"({"group": "public"})", R"("protocols": ["tcp"], "ports": [65536])"),
       Kind::kInvalidPort},
      {"allow@public:tcp:9000-8000",
       J("allow", "egress", R"({"group": "public"})",
         R"("protocols": ["tcp"], "ports": [{"start": 9000, "end": 8000}])"),
       Kind::kReversedPortRange},
      {"allow@public:any:443", J("allow", "egress", R"({"group": "public"})", R"("ports": [443])"),
       std::nullopt},
      {"allow@exa$mple.com", J("allow", "egress", R"({"domain": "exa$mple.com"})"),
       Kind::kInvalidDomain},
      {"deny@*.com", J("deny", "egress", R"({"domain_suffix": "com"})"), Kind::kInvalidDomain},
      {"deny@suffix=ads.example", J("deny", "egress", R"({"domain_suffix": "*.ads.example"})"),
       std::nullopt},
      {"allow@domain=intranet", J("allow", "egress", R"({"domain": "intranet"})"), std::nullopt},
  });
}

// Every combination of direction, protocol, ports and destination kind: both front ends reach the
// same verdict, and that verdict is the documented one.
TEST(RuleAgreementTest, EveryCombination) {
  struct Text {
    std::string cli;
    std::string json;
  };
  const std::vector<Text> directions = {{"", "egress"}, {":ingress", "ingress"}, {":any", "any"}};
  const std::vector<Text> protocols = {
      {"", ""}, {"tcp", "tcp"}, {"udp", "udp"}, {"icmpv4", "icmpv4"}, {"icmpv6", "icmpv6"}};
  const std::vector<Text> ports = {{"", ""},
                                   {"80", "80"},
                                   {"1-10", R"({"start": 1, "end": 10})"},
                                   {"10-1", R"({"start": 10, "end": 1})"},
                                   {"0", "0"}};
  const std::vector<Text> destinations = {{"any", R"("any")"},
                                          {"public", R"({"group": "public"})"},
                                          {"link_local", R"({"group": "link-local"})"},
                                          {"10.0.0.0/8", R"({"cidr": "10.0.0.0/8"})"},
                                          {"[2001:db8::/32]", R"({"cidr": "2001:db8::/32"})"},
                                          {"api.example.com", R"({"domain": "api.example.com"})"},
                                          {"*.example.com", R"({"domain_suffix": "example.com"})"}};
  int accepted = 0;
  for (size_t d = 0; d < directions.size(); ++d) {
    for (size_t p = 0; p < protocols.size(); ++p) {
      for (size_t o = 0; o < ports.size(); ++o) {
        for (const Text& dest : destinations) {
          std::string token = "allow" + directions[d].cli + "@" + dest.cli;
          if (!protocols[p].cli.empty() || !ports[o].cli.empty()) {
            token += ":" + (protocols[p].cli.empty() ? "any" : protocols[p].cli);
          }
          if (!ports[o].cli.empty()) {
            token += ":" + ports[o].cli;
          }
          std::string extra;
          if (!protocols[p].json.empty()) {
            extra = R"("protocols": [")" + protocols[p].json + "\"]";
          }
          if (!ports[o].json.empty()) {
            extra +=
                (extra.empty() ? "" : ", ") + std::string(R"("ports": [)") + ports[o].json + "]";
          }
          bool icmp = p >= 3;
          std::optional<Kind> expected;
          if (o == 4) {
            expected = Kind::kInvalidPort;
          } else if (o == 3) {
            expected = Kind::kReversedPortRange;
          } else if (icmp && d != 0) {
            expected = Kind::kIcmpNotEgress;
          } else if (icmp && o != 0) {
            expected = Kind::kIcmpWithPorts;
          }
          accepted += expected ? 0 : 1;
          ExpectAgree(token, J("allow", directions[d].json, dest.json, extra), expected);
        }
      }
    }
  }
  // tcp/udp/any: 3 directions x 3 good port forms; icmp: egress without ports only; per
  // destination.
  EXPECT_EQ(accepted, (3 * 3 * 3 + 2) * static_cast<int>(destinations.size()));
}

}  // namespace
}  // namespace msb::policy
