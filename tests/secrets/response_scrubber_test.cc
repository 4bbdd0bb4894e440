// ResponseScrubber: values in headers and bodies become placeholders, for any split of the body,
// with bounded held bytes; overlapping values take the longest.
#include "secrets/response_scrubber.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/secrets/test_util.h"

namespace msb::secrets {
namespace {

using testing::Bytes;
using testing::LoadSet;
using testing::Spec;

std::string Scrub(ResponseScrubber& s, std::string_view body, std::mt19937* rng) {
  std::string out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t n = rng == nullptr ? 1 : 1 + (*rng)() % 9;
    n = std::min(n, body.size() - pos);
    s.Feed(Bytes(body.substr(pos, n)), &out);
    pos += n;
  }
  s.Finish(&out);
  return out;
}

TEST(ResponseScrubberTest, Header) {
  ResponseScrubber s(LoadSet({Spec("TOK", "sk-live-1", {"x.com"})}));
  std::string v = "error: token sk-live-1 rejected (sk-live-1)";
  EXPECT_TRUE(s.ScrubHeader(&v));
  EXPECT_EQ(v, "error: token $MSB_TOK rejected ($MSB_TOK)");
  std::string clean = "nothing sk-live-";
  EXPECT_FALSE(s.ScrubHeader(&clean));
  EXPECT_EQ(clean, "nothing sk-live-");
}

TEST(ResponseScrubberTest, BodyAnySplit) {
  ResponseScrubber s(LoadSet({Spec("A", "secret", {"x.com"}), Spec("B", "secret-long", {"x.com"}),
                              Spec("C", std::string("\xff\x01v", 3), {"x.com"})}));
  const std::string body =
      std::string("<p>secret-long secret secret-lon \0", 34) + "\xff\x01v" + "secretsecret-long";
  const std::string want =
      std::string("<p>$MSB_B $MSB_A $MSB_A-lon \0", 29) + "$MSB_C" + "$MSB_A$MSB_B";
  std::mt19937 rng(7);
  EXPECT_EQ(Scrub(s, body, nullptr), want);
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(Scrub(s, body, &rng), want);
  }
  EXPECT_TRUE(s.scrubbed());
}

TEST(ResponseScrubberTest, ReadyForTheNextBody) {
  ResponseScrubber s(LoadSet({Spec("A", "secret", {"x.com"})}));
  std::string out;
  s.Feed(Bytes("abc secr"), &out);
  EXPECT_EQ(out, "abc ");
  s.Finish(&out);
  EXPECT_EQ(out, "abc secr");
  EXPECT_FALSE(s.scrubbed());
  out.clear();
  s.Feed(Bytes("et"), &out);
  s.Finish(&out);
  EXPECT_EQ(out, "et");  // the previous body's tail does not join this one
}

TEST(ResponseScrubberTest, BoundedHold) {
  ResponseScrubber s(LoadSet({Spec("A", "0123456789", {"x.com"})}));
  std::string out;
  size_t fed = 0;
  for (int i = 0; i < 200000; ++i) {
    s.Feed(Bytes("012345678"), &out);
    fed += 9;
    ASSERT_LE(fed - out.size(), 9u);
  }
  s.Finish(&out);
  EXPECT_EQ(out.size(), fed);
}

TEST(ResponseScrubberTest, EmptySetCopies) {
  ResponseScrubber s(LoadSet(std::vector<SecretSpec>{}));
  std::string out;
  s.Feed(Bytes("abc"), &out);
  s.Finish(&out);
  EXPECT_EQ(out, "abc");
  std::string h = "x";
  EXPECT_FALSE(s.ScrubHeader(&h));
}

}  // namespace
}  // namespace msb::secrets
