// HostPattern grammar, label-aware matching, specificity, and HostPatternMap's "most specific
// wins, declaration order irrelevant" lookup.
#include "base/host_pattern.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace msb {
namespace {

using ::testing::HasSubstr;

HostPattern P(std::string_view text, bool allow_any = false) {
  auto p = HostPattern::Parse(text, allow_any);
  EXPECT_TRUE(p.ok()) << text << ": " << (p.ok() ? "" : p.error());
  return std::move(p).value();
}

TEST(HostPatternTest, ParsesTheThreeForms) {
  HostPattern exact = P("API.Example.com.");
  EXPECT_EQ(exact.kind(), HostPattern::Kind::kExact);
  EXPECT_EQ(exact.name(), "api.example.com");
  EXPECT_EQ(exact.ToString(), "api.example.com");
  HostPattern wild = P("*.Example.COM");
  EXPECT_EQ(wild.kind(), HostPattern::Kind::kWildcard);
  EXPECT_EQ(wild.name(), "example.com");
  EXPECT_EQ(wild.ToString(), "*.example.com");
  HostPattern any = P("*", true);
  EXPECT_EQ(any.kind(), HostPattern::Kind::kAny);
  EXPECT_EQ(any.ToString(), "*");
  EXPECT_EQ(P("*.internal").ToString(), "*.internal");
}

TEST(HostPatternTest, IpLiteralsAreExactPatterns) {
  EXPECT_EQ(P("192.168.1.10").ToString(), "192.168.1.10");
  EXPECT_EQ(P("2001:DB8:0::1").ToString(), "2001:db8::1");
  EXPECT_EQ(P("[2001:db8::1]").ToString(), "2001:db8::1");
  EXPECT_TRUE(P("192.168.1.10").Matches("192.168.1.10"));
  EXPECT_FALSE(P("192.168.1.10").Matches("192.168.1.1"));
  EXPECT_TRUE(P("2001:db8::1").Matches("2001:db8::1"));
}

TEST(HostPatternTest, ToStringRoundTrips) {
  for (const char* text : {"a.example", "*.a.example", "10.0.0.1", "::1", "xn--bcher-kva.de"}) {
    HostPattern p = P(text);
    EXPECT_EQ(P(p.ToString()), p) << text;
  }
  EXPECT_EQ(P(P("*", true).ToString(), true), P("*", true));
}

TEST(HostPatternTest, RejectionsSayWhy) {
  struct Bad {
    const char* text;
    const char* expected;
  } cases[] = {
      {"", "host pattern is empty"},
      {"*", "\"*\" (every host) is not allowed here"},
      {"*.", "it is empty"},
      {"**.example.com", "'*' is only allowed as the whole first label"},
      {"a*.example.com", "'*' is only allowed as the whole first label"},
      {"*.*.example.com", "'*' is only allowed as the whole first label"},
      {"api.*.example.com", "'*' is only allowed as the whole first label"},
      {"example.com:443", "contains ':' but is not an IP address"},
      {"[10.0.0.1]", "brackets must enclose an IPv6 address"},
      {"*.10.0.0.1", "last label is numeric"},
      {"under_score.example", "contains the byte \"_\""},
      {"https://example.com", "contains ':'"},
      {"-bad.example", "starts or ends with '-'"},
  };
  for (const Bad& c : cases) {
    auto r = HostPattern::Parse(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_THAT(r.error(), HasSubstr(c.expected)) << c.text;
  }
  auto r = HostPattern::Parse(std::string(300, 'a'));
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.error().size(), 160U) << r.error();
}

TEST(HostPatternTest, WildcardIsLabelAwareAndCoversTheApex) {
  HostPattern p = P("*.example.com");
  EXPECT_TRUE(p.Matches("example.com"));
  EXPECT_TRUE(p.Matches("a.example.com"));
  EXPECT_TRUE(p.Matches("a.b.example.com"));
  EXPECT_TRUE(p.Matches("A.Example.COM."));
  EXPECT_FALSE(p.Matches("evilexample.com"));
  EXPECT_FALSE(p.Matches("example.com.evil"));
  EXPECT_FALSE(p.Matches("xample.com"));
  EXPECT_FALSE(p.Matches(""));
  EXPECT_FALSE(p.Matches("."));
}

TEST(HostPatternTest, ExactMatchesOnlyThatName) {
  HostPattern p = P("api.example.com");
  EXPECT_TRUE(p.Matches("api.example.com"));
  EXPECT_TRUE(p.Matches("API.example.com."));
  EXPECT_FALSE(p.Matches("x.api.example.com"));
  EXPECT_FALSE(p.Matches("example.com"));
}

TEST(HostPatternTest, AnyMatchesEverythingButEmpty) {
  HostPattern p = P("*", true);
  EXPECT_TRUE(p.Matches("example.com"));
  EXPECT_TRUE(p.Matches("10.0.0.1"));
  EXPECT_FALSE(p.Matches(""));
}

TEST(HostPatternTest, SpecificityOrdering) {
  EXPECT_EQ(P("*", true).Specificity(), 0U);
  EXPECT_GT(P("a.x.com").Specificity(), P("*.a.x.com").Specificity());  // exact beats apex wildcard
  EXPECT_GT(P("*.a.x.com").Specificity(), P("*.x.com").Specificity());
  EXPECT_GT(P("*.x.com").Specificity(), P("*", true).Specificity());
  EXPECT_GT(P("b.a.x.com").Specificity(), P("*.a.x.com").Specificity());
}

TEST(HostPatternMapTest, MostSpecificWinsWhateverTheOrder) {
  std::vector<std::pair<std::string, int>> decls = {
      {"*", 0}, {"*.x.com", 1}, {"*.a.x.com", 2}, {"a.x.com", 3}, {"b.a.x.com", 4}};
  std::sort(decls.begin(), decls.end());
  int permutations = 0;
  do {
    HostPatternMap<int> map;
    for (const auto& [text, value] : decls) {
      map.Insert(P(text, true), value);
    }
    EXPECT_EQ(map.Find("a.x.com")->value, 3);
    EXPECT_EQ(map.Find("b.a.x.com")->value, 4);
    EXPECT_EQ(map.Find("c.a.x.com")->value, 2);
    EXPECT_EQ(map.Find("x.com")->value, 1);
    EXPECT_EQ(map.Find("y.x.com")->value, 1);
    EXPECT_EQ(map.Find("other.org")->value, 0);
    EXPECT_EQ(map.Find("evilx.com")->value, 0);
    ++permutations;
  } while (std::next_permutation(decls.begin(), decls.end()));
  EXPECT_EQ(permutations, 120);
}

TEST(HostPatternMapTest, EqualPatternLastDeclarationWins) {
  HostPatternMap<int> map;
  map.Insert(P("*.x.com"), 1);
  map.Insert(P("*.X.com."), 2);
  EXPECT_EQ(map.size(), 1U);
  EXPECT_EQ(map.Find("a.x.com")->value, 2);
  EXPECT_EQ(map.Find("other.org"), nullptr);
}

}  // namespace
}  // namespace msb
