// The internal engines: decoders against their one-shot form for every split, base64 round trips
// and strictness, leftmost-longest replacement.
#include "secrets/match.h"

#include <gtest/gtest.h>

#include <random>

namespace msb::secrets::internal {
namespace {

TEST(MatchTest, PercentDecode) {
  EXPECT_EQ(Decode(Decoding::kPercent, "%24MSB%5f%5F"), "$MSB__");
  EXPECT_EQ(Decode(Decoding::kPercent, "%%41%4%2G%"), "%A%4%2G%");
  EXPECT_EQ(Decode(Decoding::kPercent, "%00%ff"), std::string("\0\xff", 2));
  EXPECT_EQ(Decode(Decoding::kPercent, "%2524"), "%24");  // one level only
}

TEST(MatchTest, JsonUnescape) {
  EXPECT_EQ(Decode(Decoding::kJson, R"(\u0024MSB\/\\\"\n)"), "$MSB/\\\"\n");
  EXPECT_EQ(Decode(Decoding::kJson, R"(\u00e9\u20AC)"), "\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(Decode(Decoding::kJson, R"(\ud83d\u00)"), R"(\ud83d\u00)");  // surrogate kept
  EXPECT_EQ(Decode(Decoding::kJson, R"(\x\u12G4\)"), R"(\x\u12G4\)");
  EXPECT_EQ(Decode(Decoding::kJson, R"(\\u0024)"), R"(\u0024)");
  EXPECT_EQ(Decode(Decoding::kJson, R"(\u\u0041)"), R"(\uA)");
}

// Streaming decode equals one-shot decode for random inputs and splits.
TEST(MatchTest, StreamDecoderAnySplit) {
  std::mt19937 rng(42);
  const std::string alphabet = "%\\u0aAfF/\"xG24";
  for (Decoding d : {Decoding::kPercent, Decoding::kJson}) {
    for (int iter = 0; iter < 5000; ++iter) {
      std::string in;
      for (size_t n = rng() % 24; n > 0; --n) {
        in += alphabet[rng() % alphabet.size()];
      }
      const std::string want = Decode(d, in);
      StreamDecoder sd(d);
      std::string out;
      size_t pos = 0;
      while (pos < in.size()) {
        size_t n = std::min<size_t>(1 + rng() % 4, in.size() - pos);
        sd.Feed(std::string_view(in).substr(pos, n), &out);
        pos += n;
      }
      sd.Finish(&out);
      ASSERT_EQ(out, want) << in;
    }
  }
}

TEST(MatchTest, StreamSearcherAcrossFeeds) {
  StreamSearcher s(Decoding::kPercent, {"$MSB_X", "other"});
  std::vector<bool> found(2, false);
  for (char c : std::string_view("zz%2")) {
    s.Feed(std::string_view(&c, 1), &found);
  }
  s.Feed("4MSB_", &found);
  EXPECT_FALSE(found[0]);
  s.Feed("X", &found);
  EXPECT_TRUE(found[0]);
  EXPECT_FALSE(found[1]);
  EXPECT_LE(s.held(), 5u);
}

TEST(MatchTest, Base64) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", "user:pass",
                                                       std::string("\0\xff\x10", 3)}) {
    std::string out;
    if (s.empty()) {
      EXPECT_FALSE(Base64Decode(Base64Encode(s), &out));
      continue;
    }
    ASSERT_TRUE(Base64Decode(Base64Encode(s), &out)) << s;
    EXPECT_EQ(out, s);
  }
  EXPECT_EQ(Base64Encode("user:pass"), "dXNlcjpwYXNz");
  std::string out;
  EXPECT_FALSE(Base64Decode("dXNlcjpwYXN", &out));   // length
  EXPECT_FALSE(Base64Decode("dXNl cjpw", &out));     // space
  EXPECT_FALSE(Base64Decode("dX=lcjpw", &out));      // padding inside
  EXPECT_FALSE(Base64Decode("dXNlcjp=YXNz", &out));  // padding not at the end
  EXPECT_FALSE(Base64Decode("dXNl-_pw", &out));      // URL alphabet
  EXPECT_FALSE(Base64Decode("d===", &out));
  EXPECT_TRUE(Base64Decode("YQ==", &out));
  EXPECT_EQ(out, "a");
}

TEST(MatchTest, ReplacerLeftmostLongest) {
  Replacer r({{"ab", "1"}, {"abc", "2"}, {"bc", "3"}});
  size_t n = 0;
  EXPECT_EQ(r.ReplaceAll("abcab bc a", &n), "21 3 a");
  EXPECT_EQ(n, 3u);
  std::string out;
  n = 0;
  EXPECT_EQ(r.Process("xxab", false, &out, &n), 2u);  // "ab" could become "abc"
  EXPECT_EQ(out, "xx");
  EXPECT_EQ(r.Process("ab", true, &out, &n), 2u);
  EXPECT_EQ(out, "xx1");
}

}  // namespace
}  // namespace msb::secrets::internal
