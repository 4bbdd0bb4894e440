// Domain-name canonicalisation and label-aware suffix matching.
#include "policy/domain_name.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace msb::policy {
namespace {

using ::testing::HasSubstr;

TEST(CanonicalDomainTest, LowercasesAndStripsOneTrailingDot) {
  EXPECT_EQ(CanonicalDomain("API.Example.COM.").value(), "api.example.com");
  EXPECT_EQ(CanonicalDomain("localhost").value(), "localhost");
  EXPECT_EQ(CanonicalDomain("_dmarc.example.com").value(), "_dmarc.example.com");
  EXPECT_EQ(CanonicalDomain("xn--bcher-kva.example").value(), "xn--bcher-kva.example");
  EXPECT_EQ(CanonicalDomain("1.2.3.example").value(), "1.2.3.example");
}

TEST(CanonicalDomainTest, LengthLimits) {
  std::string label63(63, 'a');
  EXPECT_TRUE(CanonicalDomain(label63 + ".com").ok());
  auto long_label = CanonicalDomain(std::string(64, 'a') + ".com");
  ASSERT_FALSE(long_label.ok());
  EXPECT_THAT(long_label.error(), HasSubstr("longer than 63"));

  std::string name253;
  while (name253.size() < 253) {
    name253 += name253.empty() ? "a" : ".a";
  }
  ASSERT_EQ(name253.size(), 253U);
  EXPECT_TRUE(CanonicalDomain(name253).ok());
  EXPECT_TRUE(CanonicalDomain(name253 + ".").ok());
  auto too_long = CanonicalDomain(name253 + "a");
  ASSERT_FALSE(too_long.ok());
  EXPECT_THAT(too_long.error(), HasSubstr("longer than 253"));
}

struct Bad {
  const char* input;
  const char* expected;
};

TEST(CanonicalDomainTest, RejectionsSayWhy) {
  const Bad cases[] = {
      {"", "it is empty"},
      {"exa mple.com", "it contains whitespace"},
      {"example.com\t", "it contains whitespace"},
      {"https://example.com", "looks like a URL (scheme)"},
      {"user@example.com", "looks like a URL (userinfo)"},
      {"example.com/path", "contains a path"},
      {"example.com:443", "contains a port"},
      {"10.0.0.1", "is an IP address"},
      {"::1", "is an IP address"},
      {"[::1]", "is an IP address"},
      {"10.0.0.256", "its last label is numeric"},
      {"1.2.3", "its last label is numeric"},
      {".example.com", "starts with '.'"},
      {".", "has no labels"},
      {"a..b", "empty label"},
      {"example.com..", "empty label"},
      {"-a.example", "starts or ends with '-'"},
      {"a-.example", "starts or ends with '-'"},
      {"*.example.com", "the character \"*\""},
      {"exa$mple.com", "the character \"$\""},
      {"b\xc3\xbc"
       "cher.example",
       "non-ASCII"},
  };
  for (const Bad& c : cases) {
    auto r = CanonicalDomain(c.input);
    ASSERT_FALSE(r.ok()) << c.input;
    EXPECT_THAT(r.error(), HasSubstr("is not a valid domain name")) << c.input;
    EXPECT_THAT(r.error(), HasSubstr(c.expected)) << c.input;
  }
}

TEST(CanonicalDomainTest, MessageQuotesTheInput) {
  auto r = CanonicalDomain("exa mple.com");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "\"exa mple.com\" is not a valid domain name: it contains whitespace");
  auto ctl =
      CanonicalDomain(std::string("a\x01"
                                  "b.com"));
  ASSERT_FALSE(ctl.ok());
  EXPECT_THAT(ctl.error(), HasSubstr("\"a\\x01b.com\""));
}

TEST(CanonicalSuffixTest, NeedsTwoLabels) {
  EXPECT_EQ(CanonicalSuffix("Example.COM.").value(), "example.com");
  for (const char* broad : {"com", "local", "internal", "com."}) {
    auto r = CanonicalSuffix(broad);
    ASSERT_FALSE(r.ok()) << broad;
    EXPECT_THAT(r.error(), HasSubstr("is too broad: a suffix needs at least two labels"));
  }
  EXPECT_EQ(CanonicalSuffix("com").error(),
            "suffix \"com\" is too broad: a suffix needs at least two labels");
}

TEST(CanonicalSuffixTest, RejectsWildcardAndLeadingDot) {
  auto star = CanonicalSuffix("*.example.com");
  ASSERT_FALSE(star.ok());
  EXPECT_THAT(star.error(), HasSubstr("is not a valid domain suffix"));
  auto dot = CanonicalSuffix(".example.com");
  ASSERT_FALSE(dot.ok());
  EXPECT_THAT(dot.error(), HasSubstr("starts with '.'"));
}

TEST(NameHasSuffixTest, IsLabelAware) {
  EXPECT_TRUE(NameHasSuffix("example.com", "example.com"));
  EXPECT_TRUE(NameHasSuffix("a.example.com", "example.com"));
  EXPECT_TRUE(NameHasSuffix("a.b.example.com", "example.com"));
  EXPECT_FALSE(NameHasSuffix("evilexample.com", "example.com"));
  EXPECT_FALSE(NameHasSuffix("example.com", "a.example.com"));
  EXPECT_FALSE(NameHasSuffix("example.co", "example.com"));
  EXPECT_FALSE(NameHasSuffix("example.com", ""));
  EXPECT_FALSE(NameHasSuffix(".example.com.x", "example.com"));
}

}  // namespace
}  // namespace msb::policy
