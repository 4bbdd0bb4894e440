// Tests for the string helpers.
#include "base/strings.h"

#include <gtest/gtest.h>

#include <array>

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
