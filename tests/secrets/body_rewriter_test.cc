// BodyRewriter: output equals the one-shot replacement for any split of the body (random splits
// with a fixed seed, 1-byte feeds), binary bytes exact, memory bounded over tens of MiB, encoded
// forms detected across Feed boundaries, header-only secrets ignored in bodies.
#include "secrets/body_rewriter.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/secrets/test_util.h"

namespace msb::secrets {
namespace {

using testing::Bytes;
using testing::LoadSet;
using testing::Pinned;
using testing::Spec;

Injection BodyOnly() {
  return Injection{false, false, false, true};
}

// Reference: replace every occurrence left to right (no placeholder is inside another).
std::string Reference(std::string_view in,
                      const std::vector<std::pair<std::string, std::string>>& pats) {
  std::string out;
  size_t i = 0;
  while (i < in.size()) {
    bool hit = false;
    for (const auto& [from, to] : pats) {
      if (in.compare(i, from.size(), from) == 0) {
        out += to;
        i += from.size();
        hit = true;
        break;
      }
    }
    if (!hit) {
      out += in[i++];
    }
  }
  return out;
}

struct BodyRun {
  std::string out;
  std::optional<Violation> violation;
  bool substituted = false;
  bool saw_eligible = false;
  size_t max_held = 0;
};

BodyRun Feed(const ConnectionPlan& plan, std::string_view body, const std::vector<size_t>& cuts) {
  BodyRewriter rw(plan);
  BodyRun r;
  size_t pos = 0;
  for (size_t cut : cuts) {
    auto v = rw.Feed(Bytes(body.substr(pos, cut - pos)), &r.out);
    pos = cut;
    if (v) {
      r.violation = v;
      return r;
    }
  }
  auto v = rw.Feed(Bytes(body.substr(pos)), &r.out);
  if (!v) {
    v = rw.Finish(&r.out);
  }
  r.violation = v;
  r.substituted = rw.substituted();
  r.saw_eligible = rw.saw_eligible();
  return r;
}

std::vector<size_t> RandomCuts(std::mt19937& rng, size_t n) {
  std::vector<size_t> cuts;
  size_t pos = 0;
  while (n > 0 && pos < n) {
    pos += 1 + rng() % 7;
    if (pos < n) {
      cuts.push_back(pos);
    }
  }
  return cuts;
}

std::vector<size_t> EveryByte(size_t n) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < n; ++i) {
    cuts.push_back(i);
  }
  return cuts;
}

TEST(BodyRewriterTest, InactiveWithoutBodySecrets) {
  ConnectionPlan plan(LoadSet({Spec("K", "v", {"api.x.com"})}), Pinned("api.x.com"));
  BodyRewriter rw(plan);
  EXPECT_FALSE(rw.active());
  std::string out;
  EXPECT_FALSE(rw.Feed(Bytes("$MSB_K"), &out).has_value());
  EXPECT_FALSE(rw.Finish(&out).has_value());
  EXPECT_EQ(out, "$MSB_K");
}

TEST(BodyRewriterTest, HeaderOnlyIneligibleIsNotAViolationInBodies) {
  ConnectionPlan plan(
      LoadSet({Spec("K", "v", {"api.x.com"}, BodyOnly()), Spec("H", "h", {"other.com"})}),
      Pinned("api.x.com"));
  BodyRun r = Feed(plan, "history: $MSB_H and %24MSB_H", {});
  EXPECT_FALSE(r.violation.has_value());
  EXPECT_EQ(r.out, "history: $MSB_H and %24MSB_H");
}

TEST(BodyRewriterTest, SubstitutesAcrossEverySplit) {
  ConnectionPlan plan(LoadSet({Spec("K", "the-value", {"api.x.com"}, BodyOnly()),
                               Spec("LONGER_NAME", "L", {"api.x.com"}, BodyOnly())}),
                      Pinned("api.x.com"));
  const std::string body = "{\"k\":\"$MSB_K\",\"l\":\"$MSB_LONGER_NAME$MSB_K$MSB_\"}$MSB_K";
  const std::string want = Reference(body, {{"$MSB_K", "the-value"}, {"$MSB_LONGER_NAME", "L"}});
  EXPECT_EQ(want, "{\"k\":\"the-value\",\"l\":\"Lthe-value$MSB_\"}the-value");
  for (size_t a = 0; a <= body.size(); ++a) {
    for (size_t b = a; b <= body.size(); ++b) {
      std::vector<size_t> cuts;
      if (a > 0) {
        cuts.push_back(a);
      }
      if (b > a && b < body.size()) {
        cuts.push_back(b);
      }
      BodyRun r = Feed(plan, body, cuts);
      ASSERT_EQ(r.out, want) << a << "," << b;
      EXPECT_TRUE(r.substituted);
      EXPECT_TRUE(r.saw_eligible);
    }
  }
  EXPECT_EQ(Feed(plan, body, EveryByte(body.size())).out, want);
}

// Property: random bodies over a small alphabet rich in placeholder pieces, random splits.
TEST(BodyRewriterTest, PropertyRandomBodiesAndSplits) {
  ConnectionPlan p2(LoadSet({Spec("AB", "<1>", {"api.x.com"}, BodyOnly()),
                             Spec("CD", std::string("\x01\xff", 2), {"api.x.com"}, BodyOnly())}),
                    Pinned("api.x.com"));
  const std::vector<std::pair<std::string, std::string>> pats = {
      {"$MSB_AB", "<1>"}, {"$MSB_CD", std::string("\x01\xff", 2)}};
  const std::string pieces[] = {"$",
                                "$MSB_",
                                "$MSB_A",
                                "$MSB_AB",
                                "$MSB_CD",
                                "M",
                                "S",
                                "B",
                                "_",
                                "A",
                                "C",
                                "x",
                                std::string("\0", 1),
                                "\xff"};
  std::mt19937 rng(20261202);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string body;
    const int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      body += pieces[rng() % std::size(pieces)];
    }
    const std::string want = Reference(body, pats);
    BodyRun r = Feed(p2, body, RandomCuts(rng, body.size()));
    ASSERT_FALSE(r.violation.has_value());
    ASSERT_EQ(r.out, want) << "body: " << body;
    ASSERT_EQ(Feed(p2, body, EveryByte(body.size())).out, want);
    ASSERT_EQ(Feed(p2, body, {}).out, want);
  }
}

TEST(BodyRewriterTest, BinaryBytesPassExactly) {
  ConnectionPlan plan(LoadSet({Spec("K", "v", {"api.x.com"}, BodyOnly())}), Pinned("api.x.com"));
  std::string body;
  for (int i = 0; i < 256; ++i) {
    body.push_back(static_cast<char>(i));
  }
  body += body;
  EXPECT_EQ(Feed(plan, body, EveryByte(body.size())).out, body);
  EXPECT_FALSE(Feed(plan, body, {}).substituted);
}

TEST(BodyRewriterTest, MemoryBoundedOverTensOfMiB) {
  ConnectionPlan plan(LoadSet({Spec("K", "value", {"api.x.com"}, BodyOnly()),
                               Spec("O", "o", {"o.com"}, BodyOnly())}),
                      Pinned("api.x.com"));
  BodyRewriter rw(plan);
  std::string piece(64 * 1024, 'a');
  piece += "$MSB_K";
  piece += "%24MSB_";  // an encoded prefix of the ineligible placeholder at every boundary
  piece += "$MSB_";    // and a raw prefix of the eligible one, withheld every time
  std::string out;
  size_t total_out = 0;
  for (size_t i = 1; i <= 400; ++i) {  // ~26 MiB
    out.clear();
    ASSERT_FALSE(rw.Feed(Bytes(piece), &out).has_value());
    total_out += out.size();
    // Everything but the withheld "$MSB_" came out (one byte less per replaced placeholder).
    ASSERT_EQ(piece.size() * i - i - total_out, 5u);
  }
  out.clear();
  ASSERT_FALSE(rw.Finish(&out).has_value());
  total_out += out.size();
  // Each piece: "$MSB_K" (6) -> "value" (5); the trailing "$MSB_" of one piece + "a..." is not
  // a placeholder.
  EXPECT_EQ(total_out, piece.size() * 400 - 400);
  EXPECT_TRUE(rw.substituted());
}

TEST(BodyRewriterTest, HeldBytesAreBounded) {
  ConnectionPlan plan(LoadSet({Spec("K", "value", {"api.x.com"}, BodyOnly())}),
                      Pinned("api.x.com"));
  BodyRewriter rw(plan);
  std::string out;
  size_t fed = 0;
  for (int i = 0; i < 100000; ++i) {
    const std::string_view chunk = i % 2 == 0 ? "xx$MSB" : "_";
    ASSERT_FALSE(rw.Feed(Bytes(chunk), &out).has_value());
    fed += chunk.size();
    ASSERT_LE(fed - out.size(), std::string("$MSB_K").size() - 1);
  }
  ASSERT_FALSE(rw.Finish(&out).has_value());
  EXPECT_EQ(out.size(), fed);
}

TEST(BodyRewriterTest, DetectsEveryFormAcrossEverySplit) {
  ConnectionPlan plan(LoadSet({Spec("K", "v", {"api.x.com"}, BodyOnly()),
                               Spec("OTHER", "o", {"other.com"}, BodyOnly())}),
                      Pinned("api.x.com"));
  struct Case {
    std::string body;
    MatchForm form;
  };
  const Case cases[] = {
      {"aaa $MSB_OTHER bbb", MatchForm::kRaw},
      {"a=%24MSB_OTHER&b", MatchForm::kPercentDecoded},
      {"a=%24%4D%53%42%5f%4f%54%48%45%52", MatchForm::kPercentDecoded},
      {"{\"a\":\"\\u0024MSB_OTHER\"}", MatchForm::kJsonUnescaped},
      {"{\"a\":\"\\u0024\\u004d\\u0053\\u0042\\u005f\\u004f\\u0054\\u0048\\u0045\\u0052\"}",
       MatchForm::kJsonUnescaped},
  };
  for (const Case& c : cases) {
    for (size_t a = 0; a <= c.body.size(); ++a) {
      BodyRun r = Feed(plan, c.body,
                       a > 0 && a < c.body.size() ? std::vector<size_t>{a} : std::vector<size_t>{});
      ASSERT_TRUE(r.violation.has_value()) << c.body << " cut " << a;
      EXPECT_EQ(r.violation->form, c.form) << c.body << " cut " << a;
      EXPECT_EQ(r.violation->location, Location::kBody);
      EXPECT_EQ(r.violation->secret->spec.env_var, "OTHER");
    }
    BodyRun r = Feed(plan, c.body, EveryByte(c.body.size()));
    ASSERT_TRUE(r.violation.has_value()) << c.body;
  }
  // Not placeholders.
  for (std::string body : {"\\\\u0024MSB_OTHER", "%2524MSB_OTHER", "$MSB_OTHE", "%24MSB_OTHE"}) {
    EXPECT_FALSE(Feed(plan, body, EveryByte(body.size())).violation.has_value()) << body;
    EXPECT_FALSE(Feed(plan, body, {}).violation.has_value()) << body;
  }
}

TEST(BodyRewriterTest, ViolationIsSticky) {
  ConnectionPlan plan(LoadSet({Spec("OTHER", "o", {"other.com"}, BodyOnly())}),
                      Pinned("api.x.com"));
  BodyRewriter rw(plan);
  EXPECT_TRUE(rw.active());
  std::string out;
  EXPECT_FALSE(rw.Feed(Bytes("abc $MSB_OT"), &out).has_value());
  auto v = rw.Feed(Bytes("HER"), &out);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(out, "abc $MSB_OT");  // nothing of the violating feed was appended
  EXPECT_TRUE(rw.Feed(Bytes("more"), &out).has_value());
  EXPECT_TRUE(rw.Finish(&out).has_value());
  EXPECT_EQ(out, "abc $MSB_OT");
}

TEST(BodyRewriterTest, SawEligibleInEncodedForms) {
  ConnectionPlan plan(LoadSet({Spec("K", "v", {"api.x.com"}, BodyOnly())}), Pinned("api.x.com"));
  for (std::string body : {"%24MSB_K", "\\u0024MSB_K", "$MSB_K"}) {
    BodyRun r = Feed(plan, body, EveryByte(body.size()));
    EXPECT_TRUE(r.saw_eligible) << body;
    EXPECT_EQ(r.substituted, body == "$MSB_K");
  }
  EXPECT_FALSE(Feed(plan, "nothing", {}).saw_eligible);
}

TEST(BodyRewriterTest, EmptyFeedsAndEmptyBody) {
  ConnectionPlan plan(LoadSet({Spec("K", "v", {"api.x.com"}, BodyOnly())}), Pinned("api.x.com"));
  BodyRewriter rw(plan);
  std::string out;
  EXPECT_FALSE(rw.Feed({}, &out).has_value());
  EXPECT_FALSE(rw.Feed(Bytes("$MSB"), &out).has_value());
  EXPECT_FALSE(rw.Feed({}, &out).has_value());
  EXPECT_FALSE(rw.Finish(&out).has_value());
  EXPECT_EQ(out, "$MSB");
}

}  // namespace
}  // namespace msb::secrets
