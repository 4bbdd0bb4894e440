// RequestRewriter: each scope substitutes only where enabled; each detection form in headers,
// targets and Basic credentials; strictest action wins; eligible placeholders outside their scopes
// pass unchanged.
#include "secrets/request_rewriter.h"

#include <gtest/gtest.h>

#include "secrets/match.h"
#include "tests/secrets/test_util.h"

namespace msb::secrets {
namespace {

using testing::LoadSet;
using testing::Pinned;
using testing::Spec;

Injection Only(bool headers, bool basic, bool query, bool body) {
  return Injection{headers, basic, query, body};
}

struct Fixture {
  explicit Fixture(std::vector<SecretSpec> specs, std::string host = "api.x.com")
      : plan(LoadSet(std::move(specs)), Pinned(host)), rw(plan) {}
  std::string Header(std::string_view name, std::string value, bool* sub = nullptr,
                     std::optional<Violation>* v = nullptr) {
    bool s = false;
    auto found = rw.RewriteHeader(name, &value, &s);
    if (sub != nullptr) {
      *sub = s;
    }
    if (v != nullptr) {
      *v = found;
    }
    return value;
  }
  std::string Target(std::string target, bool* sub = nullptr,
                     std::optional<Violation>* v = nullptr) {
    bool s = false;
    auto found = rw.RewriteTarget(&target, &s);
    if (sub != nullptr) {
      *sub = s;
    }
    if (v != nullptr) {
      *v = found;
    }
    return target;
  }
  ConnectionPlan plan;
  RequestRewriter rw;
};

TEST(RequestRewriterTest, Names) {
  EXPECT_EQ(LocationName(Location::kHeader), "header");
  EXPECT_EQ(LocationName(Location::kQuery), "query");
  EXPECT_EQ(LocationName(Location::kPath), "path");
  EXPECT_EQ(LocationName(Location::kBasicAuth), "authorization_basic");
  EXPECT_EQ(LocationName(Location::kBody), "body");
  EXPECT_EQ(MatchFormName(MatchForm::kRaw), "raw");
  EXPECT_EQ(MatchFormName(MatchForm::kPercentDecoded), "percent_decoded");
  EXPECT_EQ(MatchFormName(MatchForm::kJsonUnescaped), "json_unescaped");
  EXPECT_EQ(MatchFormName(MatchForm::kBasicAuthDecoded), "basic_auth_decoded");
}

TEST(RequestRewriterTest, HeaderScope) {
  Fixture f({Spec("TOK", "real-token", {"api.x.com"})});
  bool sub = false;
  std::optional<Violation> v;
  EXPECT_EQ(f.Header("authorization", "Bearer $MSB_TOK", &sub, &v), "Bearer real-token");
  EXPECT_TRUE(sub);
  EXPECT_FALSE(v.has_value());
  EXPECT_EQ(f.Header("x-a", "$MSB_TOK,$MSB_TOK", &sub), "real-token,real-token");
  EXPECT_EQ(f.Header("x-a", "nothing here", &sub), "nothing here");
  EXPECT_FALSE(sub);
  // Encoded forms of an eligible placeholder are not substituted and not violations.
  EXPECT_EQ(f.Header("x-a", "%24MSB_TOK", &sub, &v), "%24MSB_TOK");
  EXPECT_FALSE(sub);
  EXPECT_FALSE(v.has_value());
}

TEST(RequestRewriterTest, HeaderScopeDisabled) {
  Fixture f({Spec("TOK", "real-token", {"api.x.com"}, Only(false, true, true, true))});
  bool sub = true;
  std::optional<Violation> v;
  EXPECT_EQ(f.Header("x-a", "$MSB_TOK", &sub, &v), "$MSB_TOK");
  EXPECT_FALSE(sub);
  EXPECT_FALSE(v.has_value());
}

TEST(RequestRewriterTest, BasicAuth) {
  Fixture f({Spec("PASS", "hunter2", {"api.x.com"})});
  bool sub = false;
  std::string in = "Basic " + internal::Base64Encode("user:$MSB_PASS");
  EXPECT_EQ(f.Header("Authorization", in, &sub), "Basic " + internal::Base64Encode("user:hunter2"));
  EXPECT_TRUE(sub);
  // Scheme case-insensitive, casing kept.
  EXPECT_EQ(f.Header("AUTHORIZATION", "bAsIc " + internal::Base64Encode("$MSB_PASS:x"), &sub),
            "bAsIc " + internal::Base64Encode("hunter2:x"));
  // Other header names are not Basic credentials.
  EXPECT_EQ(f.Header("x-auth", in, &sub), in);
  EXPECT_FALSE(sub);
  // Invalid base64 is left alone.
  EXPECT_EQ(f.Header("authorization", "Basic !!notbase64$MSB_PASS", &sub),
            "Basic !!notbase64$MSB_PASS");
  EXPECT_FALSE(sub);
  EXPECT_EQ(f.Header("authorization", "Basic ", &sub), "Basic ");
  // Two spaces: not the Basic form.
  EXPECT_EQ(f.Header("authorization", "Basic  " + internal::Base64Encode("u:$MSB_PASS"), &sub),
            "Basic  " + internal::Base64Encode("u:$MSB_PASS"));
}

TEST(RequestRewriterTest, BasicAuthScopeDisabled) {
  Fixture f({Spec("PASS", "hunter2", {"api.x.com"}, Only(true, false, false, false))});
  bool sub = true;
  std::string in = "Basic " + internal::Base64Encode("user:$MSB_PASS");
  EXPECT_EQ(f.Header("authorization", in, &sub), in);
  EXPECT_FALSE(sub);
}

TEST(RequestRewriterTest, QueryScope) {
  Fixture on({Spec("K", "va/l ue", {"api.x.com"}, Only(false, false, true, false))});
  bool sub = false;
  EXPECT_EQ(on.Target("/$MSB_K/p?key=$MSB_K&b=1", &sub), "/$MSB_K/p?key=va/l ue&b=1");
  EXPECT_TRUE(sub);
  EXPECT_EQ(on.Target("https://api.x.com/$MSB_K?k=$MSB_K", &sub),
            "https://api.x.com/$MSB_K?k=va/l ue");
  EXPECT_EQ(on.Target("/p?a=1?k=$MSB_K", &sub), "/p?a=1?k=va/l ue");
  EXPECT_EQ(on.Target("/$MSB_K", &sub), "/$MSB_K");
  EXPECT_FALSE(sub);
  Fixture off({Spec("K", "v", {"api.x.com"})});
  EXPECT_EQ(off.Target("/p?k=$MSB_K", &sub), "/p?k=$MSB_K");
  EXPECT_FALSE(sub);
}

// Every detection form of an ineligible placeholder, in a header, the path, the query.
TEST(RequestRewriterTest, DetectionForms) {
  Fixture f({Spec("OTHER", "other-value", {"other.com"})});
  struct Case {
    std::string text;
    MatchForm form;
  };
  const Case cases[] = {
      {"$MSB_OTHER", MatchForm::kRaw},
      {"%24MSB_OTHER", MatchForm::kPercentDecoded},
      {"%24%4d%53%42_OTHER", MatchForm::kPercentDecoded},
      {"%24%4D%53%42%5F%4F%54%48%45%52", MatchForm::kPercentDecoded},
      {"\\u0024MSB_OTHER", MatchForm::kJsonUnescaped},
      {"\\u0024\\u004d\\u0053B_OTHER", MatchForm::kJsonUnescaped},
      {"\\u0024\\u004D\\u0053B_OTHER", MatchForm::kJsonUnescaped},
  };
  for (const Case& c : cases) {
    std::optional<Violation> v;
    f.Header("x-h", "pre " + c.text + " post", nullptr, &v);
    ASSERT_TRUE(v.has_value()) << c.text;
    EXPECT_EQ(v->form, c.form) << c.text;
    EXPECT_EQ(v->location, Location::kHeader);
    EXPECT_EQ(v->action, ViolationAction::kBlockAndLog);
    EXPECT_EQ(v->secret->spec.env_var, "OTHER");
    f.Target("/a/" + c.text + "?q=1", nullptr, &v);
    ASSERT_TRUE(v.has_value()) << c.text;
    EXPECT_EQ(v->location, Location::kPath);
    EXPECT_EQ(v->form, c.form);
    f.Target("/a?q=" + c.text, nullptr, &v);
    ASSERT_TRUE(v.has_value()) << c.text;
    EXPECT_EQ(v->location, Location::kQuery);
  }
  // Invalid escapes are not decoded.
  std::optional<Violation> v;
  f.Header("x-h", "%2G$MSB_OTHE", nullptr, &v);
  EXPECT_FALSE(v.has_value());
  f.Header("x-h", "%2MSB_OTHER \\u002MSB_OTHER", nullptr, &v);
  EXPECT_FALSE(v.has_value());
  f.Header("x-h", "\\\\u0024MSB_OTHER", nullptr, &v);  // an escaped backslash, then text
  EXPECT_FALSE(v.has_value());
  // JSON \/ decodes (a placeholder with a '/').
  Fixture slash({[] {
    SecretSpec s = Spec("S", "v", {"other.com"});
    s.placeholder = "$MSB/S";
    return s;
  }()});
  slash.Header("x-h", "$MSB\\/S", nullptr, &v);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->form, MatchForm::kJsonUnescaped);
  // Across the '?'.
  f.Target("/x$MSB_OT?HER", nullptr, &v);
  EXPECT_FALSE(v.has_value());
  f.Target("/x%24MSB_OTHER?", nullptr, &v);
  EXPECT_TRUE(v.has_value());
}

TEST(RequestRewriterTest, DetectionInBasicCredential) {
  Fixture f({Spec("OTHER", "other-value", {"other.com"})});
  for (std::string cred : {"u:$MSB_OTHER", "u:%24MSB_OTHER", "\\u0024MSB_OTHER:p"}) {
    std::optional<Violation> v;
    bool sub = true;
    std::string in = "Basic " + internal::Base64Encode(cred);
    EXPECT_EQ(f.Header("authorization", in, &sub, &v), in);
    EXPECT_FALSE(sub);
    ASSERT_TRUE(v.has_value()) << cred;
    EXPECT_EQ(v->location, Location::kBasicAuth);
    EXPECT_EQ(v->form, MatchForm::kBasicAuthDecoded);
  }
}

TEST(RequestRewriterTest, IneligibleIsNeverSubstituted) {
  Fixture f({Spec("OTHER", "other-value", {"other.com"}, testing::AllScopes())});
  bool sub = true;
  std::optional<Violation> v;
  EXPECT_EQ(f.Header("x", "$MSB_OTHER", &sub, &v), "$MSB_OTHER");
  EXPECT_FALSE(sub);
  EXPECT_TRUE(v.has_value());
  EXPECT_EQ(f.Target("/p?$MSB_OTHER", &sub), "/p?$MSB_OTHER");
  EXPECT_FALSE(sub);
}

TEST(RequestRewriterTest, EligibleAndIneligibleTogether) {
  Fixture f({Spec("MINE", "mine-value", {"api.x.com"}), Spec("OTHER", "other-value", {"o.com"})});
  bool sub = false;
  std::optional<Violation> v;
  EXPECT_EQ(f.Header("x", "$MSB_MINE $MSB_OTHER", &sub, &v), "mine-value $MSB_OTHER");
  EXPECT_TRUE(sub);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->secret->spec.env_var, "OTHER");
}

TEST(RequestRewriterTest, StrictestWins) {
  SecretsConfig c;
  c.specs = {Spec("A", "a-value", {"o.com"}), Spec("B", "b-value", {"o.com"}),
             Spec("C", "c-value", {"o.com"})};
  c.specs[0].on_violation = ViolationAction::kBlock;
  c.specs[1].on_violation = ViolationAction::kBlockAndTerminate;
  c.specs[2].on_violation = ViolationAction::kBlockAndLog;
  ConnectionPlan plan(LoadSet(std::move(c)), Pinned("api.x.com"));
  RequestRewriter rw(plan);
  std::string value = "$MSB_A $MSB_C %24MSB_B";
  bool sub = false;
  auto v = rw.RewriteHeader("x", &value, &sub);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->secret->spec.env_var, "B");
  EXPECT_EQ(v->action, ViolationAction::kBlockAndTerminate);
  EXPECT_EQ(v->form, MatchForm::kPercentDecoded);
  value = "$MSB_A";
  EXPECT_EQ(rw.RewriteHeader("x", &value, &sub)->action, ViolationAction::kBlock);
}

TEST(RequestRewriterTest, StricterTies) {
  Secret s1;
  Secret s2;
  Violation a{&s1, ViolationAction::kBlock, Location::kHeader, MatchForm::kRaw};
  Violation b{&s2, ViolationAction::kBlock, Location::kPath, MatchForm::kRaw};
  EXPECT_EQ(Stricter(a, b)->secret, &s1);
  EXPECT_EQ(Stricter(std::nullopt, b)->secret, &s2);
  EXPECT_EQ(Stricter(a, std::nullopt)->secret, &s1);
  EXPECT_FALSE(Stricter(std::nullopt, std::nullopt).has_value());
  b.action = ViolationAction::kBlockAndLog;
  EXPECT_EQ(Stricter(a, b)->secret, &s2);
}

TEST(RequestRewriterTest, PassthroughIsNeverDetected) {
  SecretsConfig c;
  c.specs = {Spec("OTHER", "other-value", {"o.com"})};
  c.specs[0].on_violation = ViolationAction::kPassthrough;
  ConnectionPlan plan(LoadSet(std::move(c)), Pinned("api.x.com"));
  EXPECT_TRUE(plan.inert());
  RequestRewriter rw(plan);
  std::string value = "$MSB_OTHER";
  bool sub = true;
  EXPECT_FALSE(rw.RewriteHeader("x", &value, &sub).has_value());
  EXPECT_EQ(value, "$MSB_OTHER");
  EXPECT_FALSE(sub);
}

TEST(RequestRewriterTest, ValueWithPlaceholderTextIsNotRescanned) {
  // A value that happens to contain another placeholder is inserted once, not substituted again.
  Fixture f({Spec("A", "x$MSB_Bx", {"api.x.com"}), Spec("B", "b-value", {"api.x.com"})});
  EXPECT_EQ(f.Header("h", "$MSB_A|$MSB_B"), "x$MSB_Bx|b-value");
}

TEST(RequestRewriterTest, OddInputs) {
  Fixture f({Spec("K", "v", {"api.x.com"}), Spec("O", "o", {"o.com"})});
  EXPECT_EQ(f.Header("x", ""), "");
  EXPECT_EQ(f.Target(""), "");
  EXPECT_EQ(f.Target("?"), "?");
  std::string big(1 << 20, 'a');
  big += "$MSB_K";
  EXPECT_EQ(f.Header("x", big).size(), big.size() - 6 + 1);
  std::string binary("\0\xff$MSB_K\0", 9);
  EXPECT_EQ(f.Header("x", binary), std::string("\0\xffv\0", 4));
  std::optional<Violation> v;
  f.Header("x", "%", nullptr, &v);
  f.Header("x", "\\", nullptr, &v);
  f.Header("x", "\\u00", nullptr, &v);
  EXPECT_FALSE(v.has_value());
}

}  // namespace
}  // namespace msb::secrets
