// Tests for the string helpers.
#include "base/strings.h"

#include <gtest/gtest.h>

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace msb {
namespace {

TEST(StringsTest, EditDistance) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("allow", "alow"), 1u);
  EXPECT_EQ(EditDistance("deny", "deyn"), 2u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
}

TEST(StringsTest, SuggestPicksClosestWithinLimit) {
  constexpr std::array<std::string_view, 3> kFlags = {"--net", "--net-rule", "--mtu"};
  EXPECT_EQ(Suggest("--net-rul", kFlags), "--net-rule");
  EXPECT_EQ(Suggest("--mtv", kFlags), "--mtu");
  EXPECT_FALSE(Suggest("--completely-different", kFlags));
  // An exact match (ignoring case) beats the longer flags it is a prefix of.
  EXPECT_EQ(Suggest("--NET", kFlags), "--net");
  EXPECT_EQ(Suggest("--mtux", kFlags, 0), std::nullopt);
}

using Words = std::vector<std::string_view>;

TEST(StringsTest, SuggestionsRanksCaseThenPrefixThenDistance) {
  constexpr std::array<std::string_view, 2> kActions = {"allow", "deny"};
  constexpr std::array<std::string_view, 4> kProtocols = {"tcp", "udp", "icmpv4", "icmpv6"};
  constexpr std::array<std::string_view, 2> kGroups = {"public", "private"};
  EXPECT_EQ(Suggestions("alow", kActions), Words{"allow"});
  EXPECT_EQ(Suggestions("ALLOW", kActions), Words{"allow"});
  EXPECT_EQ(Suggestions("dnye", kActions), Words{"deny"});
  // A prefix of several candidates names them all, in candidate order.
  EXPECT_EQ(Suggestions("icmp", kProtocols), (Words{"icmpv4", "icmpv6"}));
  EXPECT_EQ(Suggestions("ICMP", kProtocols), (Words{"icmpv4", "icmpv6"}));
  EXPECT_EQ(Suggestions("pub", kGroups), Words{"public"});
  // A prefix beats a candidate one edit away; ties at one distance are all named.
  constexpr std::array<std::string_view, 2> kUdp = {"udp", "udplite"};
  EXPECT_EQ(Suggestions("udpl", kUdp), Words{"udplite"});
  EXPECT_EQ(Suggestions("ucp", kProtocols), (Words{"tcp", "udp"}));
}

TEST(StringsTest, SuggestionsStaysQuietWhenNothingIsClose) {
  constexpr std::array<std::string_view, 2> kActions = {"allow", "deny"};
  constexpr std::array<std::string_view, 1> kAny = {"any"};
  EXPECT_EQ(Suggestions("permit", kActions), Words{});
  // Distance 2 is not below a one-letter word's length, and one letter is no prefix.
  EXPECT_EQ(Suggestions("a", kAny), Words{});
  EXPECT_EQ(Suggestions("", kAny), Words{});
  EXPECT_EQ(Suggestions(std::string(65, 'a'), kAny), Words{});
  EXPECT_EQ(Suggestions("any", std::span<const std::string_view>()), Words{});
  // max_distance bounds the edit distance, not the exact or prefix matches.
  EXPECT_EQ(Suggestions("deyn", kActions, 1), Words{});
  EXPECT_EQ(Suggestions("deyn", kActions, 2), Words{"deny"});
  EXPECT_EQ(Suggestions("al", kActions, 0), Words{"allow"});
}

TEST(StringsTest, ParseUintIsStrict) {
  EXPECT_EQ(ParseUint("1500", 576, 65520), 1500u);
  EXPECT_EQ(ParseUint("0", 0, 10), 0u);
  for (const char* bad : {"", "-1", "+1", "01", "1.5", "12a", " 1", "99999999999999999999999"}) {
    EXPECT_FALSE(ParseUint(bad, 0, UINT64_MAX)) << bad;
  }
  EXPECT_FALSE(ParseUint("575", 576, 65520));
  EXPECT_FALSE(ParseUint("65521", 576, 65520));
}

}  // namespace
}  // namespace msb
