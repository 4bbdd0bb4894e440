// ParseServerName: IP literals first (strict), then strict LDH host names; canonical text;
// errors that say what is wrong without echoing more than 64 escaped bytes.
#include "certs/server_name.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace msb::certs {
namespace {

using ::testing::HasSubstr;

ServerName Parse(std::string_view raw) {
  auto r = ParseServerName(raw);
  EXPECT_TRUE(r.ok()) << raw << ": " << (r.ok() ? "" : r.error());
  return r.ok() ? r.value() : ServerName{};
}

TEST(ServerNameTest, HostNamesAreCanonicalised) {
  ServerName n = Parse("WWW.Example.COM.");
  EXPECT_EQ(n.kind, ServerNameKind::kHostname);
  EXPECT_EQ(n.text, "www.example.com");
  EXPECT_FALSE(n.ip.has_value());
  EXPECT_FALSE(n.is_ip());
  EXPECT_EQ(Parse("r3---sn-abc.googlevideo.com").text, "r3---sn-abc.googlevideo.com");
  EXPECT_EQ(Parse("xn--bcher-kva.example").text, "xn--bcher-kva.example");
  EXPECT_EQ(Parse("localhost").text, "localhost");
}

TEST(ServerNameTest, Ipv4LiteralsAreStrict) {
  ServerName n = Parse("192.0.2.10");
  EXPECT_EQ(n.kind, ServerNameKind::kIp);
  EXPECT_EQ(n.text, "192.0.2.10");
  ASSERT_TRUE(n.ip.has_value());
  EXPECT_EQ(*n.ip, *IpAddress::Parse("192.0.2.10"));
  for (const char* bad : {"1.2.3", "01.2.3.4", "0x7f.0.0.1", "1.2.3.4.", "256.1.1.1", "127.1",
                          "0177.0.0.1", "1.2.3.0x4"}) {
    EXPECT_FALSE(ParseServerName(bad).ok()) << bad;
  }
}

TEST(ServerNameTest, Ipv6BareOrBracketed) {
  ServerName bare = Parse("2001:DB8:0:0::1");
  EXPECT_EQ(bare.kind, ServerNameKind::kIp);
  EXPECT_EQ(bare.text, "2001:db8::1");
  EXPECT_EQ(Parse("[2001:db8::1]"), bare);
  EXPECT_EQ(Parse("::ffff:192.0.2.1").text, "::ffff:192.0.2.1");
  EXPECT_THAT(ParseServerName("fe80::1%eth0").error(), HasSubstr("not an IPv6 address"));
  EXPECT_THAT(ParseServerName("[::1]:443").error(), HasSubstr("not a bracketed IPv6"));
  EXPECT_THAT(ParseServerName("[10.0.0.1]").error(), HasSubstr("brackets must enclose an IPv6"));
  EXPECT_THAT(ParseServerName("[]").error(), HasSubstr("not a bracketed IPv6"));
  EXPECT_THAT(ParseServerName("example.com:443").error(), HasSubstr("has no port"));
}

TEST(ServerNameTest, FromIp) {
  ServerName n = ServerNameFromIp(*IpAddress::Parse("2001:db8::5"));
  EXPECT_EQ(n, Parse("2001:db8::5"));
}

TEST(ServerNameTest, RejectionsSayWhatIsWrong) {
  struct Bad {
    std::string raw;
    const char* expected;
  } cases[] = {
      {"", "server name is empty"},
      {".", "it has no labels"},
      {"a..example", "empty label"},
      {"-a.example", "starts or ends with '-'"},
      {"under_score.example", "contains the byte \"_\""},
      {std::string("a\0b.example", 11), "contains the byte \"\\x00\""},
      {"caf\xc3\xa9.example", "non-ASCII byte"},
      {"xn--bcher-kv.example", "not a valid Punycode A-label"},
      {std::string(64, 'a') + ".example", "longer than 63 bytes"},
      {"1.2.3", "last label is numeric"},
  };
  for (const Bad& c : cases) {
    auto r = ParseServerName(c.raw);
    ASSERT_FALSE(r.ok()) << c.raw;
    EXPECT_THAT(r.error(), HasSubstr(c.expected)) << c.raw;
  }
}

TEST(ServerNameTest, MessagesAreShortAndPrintable) {
  std::string evil(200, 'a');
  evil[3] = '\n';
  evil[4] = '\x1b';
  evil += ".example";
  auto r = ParseServerName(evil);
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.error().size(), 220U) << r.error();
  for (char c : r.error()) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << r.error();
    EXPECT_LT(static_cast<unsigned char>(c), 0x7f) << r.error();
  }
  EXPECT_THAT(r.error(), HasSubstr("\\x0a\\x1b"));
  EXPECT_THAT(r.error(), HasSubstr("(208 bytes)"));
  auto huge = ParseServerName(std::string(10000, 'a'));
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.error(), HasSubstr("longer than 253 bytes"));
  EXPECT_LT(huge.error().size(), 200U);
}

TEST(ServerNameTest, LengthCaps) {
  std::string name253;
  while (name253.size() < 253) {
    name253 += name253.empty() ? "a" : ".a";
  }
  EXPECT_EQ(Parse(name253).text, name253);
  EXPECT_EQ(Parse(name253 + ".").text, name253);
  EXPECT_FALSE(ParseServerName(name253 + "a").ok());
  EXPECT_FALSE(ParseServerName(name253 + "..").ok());
}

TEST(ServerNameTest, CanonicalTextReparsesToItself) {
  for (const char* raw : {"A.B.example.", "[2001:DB8::1]", "10.0.0.1", "XN--MNCHEN-3YA.de"}) {
    ServerName n = Parse(raw);
    EXPECT_EQ(Parse(n.text), n) << raw;
  }
}

}  // namespace
}  // namespace msb::certs
