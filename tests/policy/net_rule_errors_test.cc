// --net-rule grammar errors: every error class names the whole token and says what was expected,
// with a suggestion where the intent is clear.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "policy/net_rule.h"
#include "policy/types.h"

namespace msb::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct ErrorCase {
  std::string token;
  std::string hint;  // must appear in the message
};

void ExpectErrors(const std::vector<ErrorCase>& cases) {
  for (const ErrorCase& c : cases) {
    auto r = ParseNetRuleToken(c.token);
    ASSERT_FALSE(r.ok()) << c.token << " parsed as " << RuleToString(r.value());
    EXPECT_THAT(r.error(),
                StartsWith("invalid --net-rule token " + QuoteForMessage(c.token) + ": "))
        << c.token;
    EXPECT_THAT(r.error(), HasSubstr(c.hint)) << c.token;
  }
}

TEST(NetRuleErrorsTest, MissingAtAndEmpty) {
  ExpectErrors({{"allow", "missing '@'"},
                {"allow-public", "missing '@'"},
                {"", "the token is empty"},
                {"@public", "missing action before '@'"}});
}

TEST(NetRuleErrorsTest, InvalidActionWithSuggestion) {
  ExpectErrors(
      {{"alow@public", "unknown action \"alow\": expected allow or deny (did you mean \"allow\"?)"},
       {"Allow@public", "(did you mean \"allow\"?)"},
       {"dney@public", "(did you mean \"deny\"?)"},
       {"permit@public", "expected allow or deny"}});
  auto far = ParseNetRuleToken("permit@public");
  EXPECT_THAT(far.error(), Not(HasSubstr("did you mean")));
}

TEST(NetRuleErrorsTest, InvalidDirectionWithSuggestion) {
  ExpectErrors(
      {{"allow:egres@public", "unknown direction \"egres\": expected egress, ingress or any"},
       {"allow:egres@public", "(did you mean \"egress\"?)"},
       {"allow:ingres@public", "(did you mean \"ingress\"?)"},
       {"allow:out@public", "expected egress, ingress or any"},
       {"allow:@public", "unknown direction \"\""}});
}

TEST(NetRuleErrorsTest, MissingTargetAndAmbiguousBareWords) {
  ExpectErrors({{"allow@", "missing target after '@'"},
                {"allow@:tcp", "missing target after '@'"},
                {"allow@localhost", "\"localhost\" is ambiguous"},
                {"allow@localhost", "write domain=localhost"},
                {"allow@*", "\"*\" is ambiguous; write any"},
                {"allow@publc", "(did you mean \"public\"?)"},
                {"allow@PUBLIC", "(did you mean \"public\"?)"},
                {"allow@linklocal", "(did you mean \"link-local\"?)"}});
}

TEST(NetRuleErrorsTest, InvalidDomainsAndSuffixes) {
  ExpectErrors({{"allow@exa$mple.com", "\"exa$mple.com\" is not a valid domain name"},
                {"allow@-bad.example", "starts or ends with '-'"},
                {"allow@a..example", "empty label"},
                {"allow@domain=", "it is empty"},
                {"allow@domain=a/b", "contains a path"},
                {"deny@*.com", "suffix \"com\" is too broad"},
                {"deny@suffix=local", "suffix \"local\" is too broad"},
                {"deny@*.", "is not a valid domain suffix: it is empty"},
                {"deny@*.*.example.com", "is not a valid domain suffix"},
                {"deny@.example.com", "write *.example.com or suffix=example.com"},
                {"allow@http=x.example", "the character \"=\""}});
}

TEST(NetRuleErrorsTest, InvalidAddressesAndCidrs) {
  ExpectErrors({{"allow@10.0.0.256", "\"10.0.0.256\" is not a valid IPv4 address"},
                {"allow@1.2.3", "is not a valid IPv4 address"},
                {"allow@010.0.0.1", "is not a valid IPv4 address"},
                {"allow@10.0.0.1/8", "host bits are set (did you mean 10.0.0.0/8?)"},
                {"allow@10.0.0.0/33", "the prefix length must be a number from 0 to 32"},
                {"allow@10.0.0.0/", "the prefix length must be a number from 0 to 32"},
                {"allow@10.0.0.0/08", "the prefix length must be a number from 0 to 32"},
                {"allow@10.0.0.0/x", "the prefix length must be a number"},
                {"allow@example.com/8", "\"example.com\" is not an IP address"},
                {"allow@[2001:db8::1/32]", "host bits are set (did you mean [2001:db8::/32]?)"},
                {"allow@[2001:db8::/129]", "from 0 to 128"},
                {"allow@[2001:db8::zz]", "is not an IPv6 address"}});
}

TEST(NetRuleErrorsTest, Brackets) {
  ExpectErrors({{"allow@[2001:db8::1", "unclosed '['"},
                {"allow@[2001:db8::1]x", "unexpected \"x\" after ']'"},
                {"allow@[2001:db8::1]443", "unexpected \"443\" after ']'"},
                {"allow@[1.2.3.4]", "brackets are only for IPv6; write 1.2.3.4 without them"},
                {"allow@[10.0.0.0/8]", "brackets are only for IPv6"},
                {"allow@[example.com]", "\"[example.com]\" is not an IPv6 address"},
                {"allow@[]", "is not an IPv6 address"}});
}

TEST(NetRuleErrorsTest, UnbracketedIpv6SuggestsBrackets) {
  ExpectErrors({{"allow@2001:db8::1", "(did you mean \"allow@[2001:db8::1]\"?)"},
                {"allow@::1", "(did you mean \"allow@[::1]\"?)"},
                {"deny:any@fe80::1", "(did you mean \"deny:any@[fe80::1]\"?)"},
                {"allow@2001:db8::/32", "(did you mean \"allow@[2001:db8::/32]\"?)"},
                {"allow@2001:db8::1:tcp", "IPv6 addresses must be bracketed"},
                {"allow@2001:db8::1:tcp:443", "(did you mean \"allow@[2001:db8::1]:tcp:443\"?)"}});
}

TEST(NetRuleErrorsTest, TrailingJunk) {
  ExpectErrors({{"allow@example.com:tcp:443:x", "unexpected \":x\" after <target>:<proto>:<ports>"},
                {"allow@[::1]:tcp:443:x", "unexpected \":x\" after <target>:<proto>:<ports>"},
                {"allow@example.com:tcp:443:x", "IPv6 addresses must be bracketed"},
                {"allow@public:tcp:80:90:100", "unexpected \":90:100\""}});
}

TEST(NetRuleErrorsTest, InvalidProtocol) {
  ExpectErrors(
      {{"allow@public:tpc", "unknown protocol \"tpc\": expected any, tcp, udp, icmpv4 or icmpv6"},
       {"allow@public:tpc", "(did you mean \"tcp\"?)"},
       {"allow@public:TCP", "(did you mean \"tcp\"?)"},
       {"allow@public:icmp", "(did you mean \"icmpv4\" or \"icmpv6\"?)"},
       {"allow@public:", "empty protocol after ':'"},
       {"allow@public:sctp", "expected any, tcp, udp, icmpv4 or icmpv6"}});
}

TEST(NetRuleErrorsTest, PortInProtocolSlot) {
  ExpectErrors(
      {{"allow@example.com:443", "(did you mean \"allow@example.com:tcp:443\"?)"},
       {"allow:any@10.0.0.0/8:8000-9000", "(did you mean \"allow:any@10.0.0.0/8:tcp:8000-9000\"?)"},
       {"allow@[2001:db8::1]:443", "(did you mean \"allow@[2001:db8::1]:tcp:443\"?)"}});
}

TEST(NetRuleErrorsTest, InvalidPorts) {
  ExpectErrors({{"allow@public:tcp:0", "invalid port \"0\": expected any, a port 1-65535"},
                {"allow@public:tcp:65536", "invalid port \"65536\""},
                {"allow@public:tcp:+80", "invalid port \"+80\""},
                {"allow@public:tcp:080", "invalid port \"080\""},
                {"allow@public:tcp:http", "invalid port \"http\""},
                {"allow@public:tcp:80-", "invalid port \"80-\""},
                {"allow@public:tcp:-80", "invalid port \"-80\""},
                {"allow@public:tcp:1-2-3", "invalid port \"1-2-3\""},
                {"allow@public:tcp:", "empty port after ':'"},
                {"allow@public:tcp:80,443", "one port or range per token"}});
}

TEST(NetRuleErrorsTest, ReversedPortRange) {
  ExpectErrors({{"allow@public:tcp:9000-8000",
                 "port range \"9000-8000\" is reversed: the low port comes first (did you mean "
                 "8000-9000?)"}});
}

TEST(NetRuleErrorsTest, IcmpRules) {
  ExpectErrors({{"allow:ingress@any:icmpv4", "ICMP rules must be egress"},
                {"deny:any@public:icmpv6", "ICMP rules must be egress"},
                {"allow@any:icmpv4:7", "ICMP has no ports"},
                {"allow@any:icmpv6:1-10", "ICMP has no ports"}});
}

TEST(NetRuleErrorsTest, DnsTarget) {
  ExpectErrors({{"allow:ingress@dns", "the dns target is egress only"},
                {"allow:any@dns", "(did you mean \"allow@dns\"?)"},
                {"allow@dns:icmpv4", "the dns target takes udp, tcp or any as its protocol"},
                {"allow@dns:api.example.com",
                 "(to allow connections to a domain write \"allow@api.example.com\")"},
                {"allow@dns:53", "the dns target is always port 53 (did you mean \"allow@dns\"?)"},
                {"allow@dns:udp:853", "the dns target is always port 53, not \"853\""},
                {"allow@dns:tcp:53-54", "always port 53"}});
}

TEST(NetRuleErrorsTest, Whitespace) {
  ExpectErrors({{"allow @public", "whitespace is not allowed inside a token"},
                {" allow@public", "whitespace is not allowed"},
                {"allow@exa\nmple.com", "whitespace is not allowed"}});
  // The flag, unlike the single token, trims around tokens but not inside them.
  auto r = ParseNetRuleFlag("allow@public:tcp: 443");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("whitespace is not allowed inside a token"));
}

TEST(NetRuleErrorsTest, BinaryInputIsEscapedInMessages) {
  std::string token = std::string("allow@a\x01") + "b.example";
  auto r = ParseNetRuleToken(token);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("\"allow@a\\x01b.example\""));
}

}  // namespace
}  // namespace msb::policy
