// Strict LDH host-name validation, Punycode A-labels, and the untrusted-bytes quoting helper.
#include "base/hostname.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "base/punycode.h"

namespace msb {
namespace {

using ::testing::HasSubstr;

TEST(CanonicalHostnameTest, LowercasesAndStripsOneTrailingDot) {
  EXPECT_EQ(CanonicalHostname("API.Example.COM.").value(), "api.example.com");
  EXPECT_EQ(CanonicalHostname("localhost").value(), "localhost");
  EXPECT_EQ(CanonicalHostname("1.2.3.example").value(), "1.2.3.example");
  EXPECT_EQ(CanonicalHostname("XN--BCHER-KVA.example").value(), "xn--bcher-kva.example");
  EXPECT_FALSE(CanonicalHostname("example.com..").ok());
}

TEST(CanonicalHostnameTest, HyphensInPositionsThreeAndFourAreFine) {
  EXPECT_TRUE(CanonicalHostname("r3---sn-abc.googlevideo.com").ok());
  EXPECT_TRUE(CanonicalHostname("ab--cd.example").ok());
  EXPECT_TRUE(CanonicalHostname("a-b.example").ok());
}

TEST(CanonicalHostnameTest, LengthLimits) {
  std::string label63(63, 'a');
  EXPECT_TRUE(CanonicalHostname(label63 + ".com").ok());
  EXPECT_EQ(CanonicalHostname(std::string(64, 'a') + ".com").error(),
            "a label is longer than 63 bytes");
  std::string name253;
  while (name253.size() < 253) {
    name253 += name253.empty() ? "a" : ".a";
  }
  ASSERT_EQ(name253.size(), 253U);
  EXPECT_TRUE(CanonicalHostname(name253).ok());
  EXPECT_TRUE(CanonicalHostname(name253 + ".").ok());
  EXPECT_EQ(CanonicalHostname(name253 + "a").error(), "it is longer than 253 bytes");
}

struct Bad {
  std::string input;
  const char* expected;
};

TEST(CanonicalHostnameTest, RejectionsSayWhy) {
  const Bad cases[] = {
      {"", "it is empty"},
      {".", "it has no labels"},
      {".example.com", "it has an empty label"},
      {"a..b", "it has an empty label"},
      {"-a.example", "a label starts or ends with '-'"},
      {"a-.example", "a label starts or ends with '-'"},
      {"under_score.example", "contains the byte \"_\""},
      {"sp ace.example", "contains the byte \" \""},
      {std::string("nul\0.example", 12), "contains the byte \"\\x00\""},
      {"caf\xc3\xa9.example", "non-ASCII byte"},
      {"example.com:443", "contains the byte \":\""},
      {"1.2.3", "last label is numeric"},
      {"10.0.0.256", "last label is numeric"},
      {"01.2.3.4", "last label is numeric"},
      {"host.0x7f", "last label is numeric"},
      {"123", "last label is numeric"},
      {"xn--", "a label starts or ends with '-'"},
      {"xn--abc-.example", "a label starts or ends with '-'"},   // would decode to ASCII only
      {"xn--a.example", "not a valid Punycode A-label"},         // decodes to U+0080
      {"xn--bcher-kv.example", "not a valid Punycode A-label"},  // truncated integer
      {"xn--99999999999.example", "not a valid Punycode A-label"},
      {"xn--bcher-kva-.example", "a label starts or ends with '-'"},
  };
  for (const Bad& c : cases) {
    auto r = CanonicalHostname(c.input);
    ASSERT_FALSE(r.ok()) << c.input;
    EXPECT_THAT(r.error(), HasSubstr(c.expected)) << c.input;
    EXPECT_EQ(r.error().find(c.input.empty() ? "\x01" : c.input), std::string::npos)
        << "messages must not echo the whole input: " << r.error();
  }
}

TEST(CanonicalHostnameTest, NumericButNotLastLabelIsAName) {
  EXPECT_TRUE(CanonicalHostname("0x7f.example").ok());
  EXPECT_TRUE(CanonicalHostname("host.0xzz").ok());
  EXPECT_FALSE(CanonicalHostname("host.0x").ok());  // WHATWG reads a bare "0x" as the number 0
}

TEST(CanonicalHostnameTest, ValidALabels) {
  for (const char* ok : {"xn--bcher-kva.example", "xn--mnchen-3ya.de", "xn--fsqu00a.xn--p1ai",
                         "xn--80akhbyknj4f", "xn--wgv71a119e.jp", "xn----dha.example"}) {
    EXPECT_TRUE(CanonicalHostname(ok).ok()) << ok;
  }
}

TEST(IsCanonicalHostnameTest, OnlyTheCanonicalForm) {
  EXPECT_TRUE(IsCanonicalHostname("a.example"));
  EXPECT_FALSE(IsCanonicalHostname("A.example"));
  EXPECT_FALSE(IsCanonicalHostname("a.example."));
  EXPECT_FALSE(IsCanonicalHostname("1.2.3.4"));
}

TEST(PunycodeTest, RfcSamplesRoundTrip) {
  EXPECT_EQ(PunycodeDecode("bcher-kva").value(), U"b\u00fccher");
  EXPECT_EQ(PunycodeEncode(U"b\u00fccher").value(), "bcher-kva");
  EXPECT_EQ(PunycodeEncode(U"\u4f8b\u5b50").value(), "fsqu00a");
  EXPECT_EQ(PunycodeDecode("fsqu00a").value(), U"\u4f8b\u5b50");
  EXPECT_EQ(PunycodeEncode(U"\u65e5\u672c\u8a9e").value(), "wgv71a119e");
  EXPECT_EQ(PunycodeDecode("WGV71A119E").value(), U"\u65e5\u672c\u8a9e");  // digits ignore case
  EXPECT_EQ(PunycodeEncode(U"a-\u00fc").value(), "a--yka");
  EXPECT_EQ(PunycodeDecode("abc-").value(), U"abc");
}

TEST(PunycodeTest, RejectsMalformedInput) {
  EXPECT_FALSE(PunycodeDecode("bcher-kv"));                  // cut short
  EXPECT_FALSE(PunycodeDecode("99999999999"));               // overflow
  EXPECT_FALSE(PunycodeDecode("a\xc3\xa9-kva"));             // non-basic before the delimiter
  EXPECT_FALSE(PunycodeDecode("bcher-k!a"));                 // not a digit
  EXPECT_FALSE(PunycodeDecode(std::string(60, '9') + "a"));  // huge deltas
}

TEST(QuoteUntrustedTest, EscapesAndTruncates) {
  EXPECT_EQ(QuoteUntrusted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(QuoteUntrusted(std::string("\x00\x1f\x7f\xff", 4)), "\"\\x00\\x1f\\x7f\\xff\"");
  std::string big(300, 'x');
  EXPECT_EQ(QuoteUntrusted(big), "\"" + std::string(64, 'x') + "\"... (300 bytes)");
  EXPECT_EQ(QuoteUntrusted("abcdef", 3), "\"abc\"... (6 bytes)");
}

}  // namespace
}  // namespace msb
