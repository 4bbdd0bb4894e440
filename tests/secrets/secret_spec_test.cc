// The --secret and --on-secret-violation grammar, ValidateSpec's messages, AddOrMerge.
#include "secrets/secret_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace msb::secrets {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kValueOnCommandLine =
    "--secret: a value must not appear on the command line (it would be visible in "
    "/proc/*/cmdline and shell history); export it in the environment variable and pass "
    "--secret ENV@HOST";

TEST(ViolationActionTest, NamesRoundTrip) {
  for (ViolationAction a : {ViolationAction::kPassthrough, ViolationAction::kBlock,
                            ViolationAction::kBlockAndLog, ViolationAction::kBlockAndTerminate}) {
    auto r = ParseViolationAction(ViolationActionName(a));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), a);
  }
}

TEST(ViolationActionTest, CamelCaseAliases) {
  EXPECT_EQ(ParseViolationAction("Block").value(), ViolationAction::kBlock);
  EXPECT_EQ(ParseViolationAction("BlockAndLog").value(), ViolationAction::kBlockAndLog);
  EXPECT_EQ(ParseViolationAction("BlockAndTerminate").value(), ViolationAction::kBlockAndTerminate);
}

TEST(ViolationActionTest, StrictnessOrder) {
  EXPECT_LT(ViolationAction::kPassthrough, ViolationAction::kBlock);
  EXPECT_LT(ViolationAction::kBlock, ViolationAction::kBlockAndLog);
  EXPECT_LT(ViolationAction::kBlockAndLog, ViolationAction::kBlockAndTerminate);
}

TEST(ViolationActionTest, UnknownSuggests) {
  auto r = ParseViolationAction("block-and-lgo");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            "unknown violation action \"block-and-lgo\": expected block, block-and-log, "
            "block-and-terminate or passthrough (did you mean block-and-log?)");
  EXPECT_THAT(ParseViolationAction("xyzzy").error(), Not(HasSubstr("did you mean")));
}

TEST(ParseSecretFlagTest, EnvAndHosts) {
  auto r = ParseSecretFlag("GITHUB_TOKEN@api.github.com, *.githubusercontent.com,,");
  ASSERT_TRUE(r.ok()) << r.error();
  const SecretSpec& s = r.value();
  EXPECT_EQ(s.env_var, "GITHUB_TOKEN");
  EXPECT_EQ(s.placeholder, "$MSB_GITHUB_TOKEN");
  EXPECT_EQ(s.source.kind, SecretSource::Kind::kEnv);
  EXPECT_EQ(s.source.name, "GITHUB_TOKEN");
  ASSERT_EQ(s.allowed_hosts.size(), 2u);
  EXPECT_EQ(s.allowed_hosts[0].ToString(), "api.github.com");
  EXPECT_EQ(s.allowed_hosts[1].ToString(), "*.githubusercontent.com");
  EXPECT_EQ(s.injection, Injection{});
  EXPECT_TRUE(s.require_tls_identity);
}

TEST(ParseSecretFlagTest, SplitsAtTheLastAt) {
  auto r = ParseSecretFlag("A@B@example.com");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value().env_var, "A@B");
  EXPECT_EQ(r.value().allowed_hosts[0].ToString(), "example.com");
}

TEST(ParseSecretFlagTest, StarIsAccepted) {
  auto r = ParseSecretFlag("K@*");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value().allowed_hosts[0].kind(), HostPattern::Kind::kAny);
}

TEST(ParseSecretFlagTest, ValueIsRefusedWithoutEchoingIt) {
  for (std::string_view text : {"API_KEY=sk-live-123@api.x.com", "API_KEY@api.x.com=sk-live-123",
                                "=sk-live-123", "API_KEY=sk-live-123"}) {
    auto r = ParseSecretFlag(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error(), kValueOnCommandLine);
    EXPECT_THAT(r.error(), Not(HasSubstr("sk-live")));
    EXPECT_THAT(r.error(), Not(HasSubstr("API_KEY")));
  }
}

TEST(ParseSecretFlagTest, PreciseErrors) {
  EXPECT_EQ(ParseSecretFlag("API_KEY").error(),
            "--secret: expected ENV@HOST[,HOST...], found no '@'");
  EXPECT_EQ(ParseSecretFlag("@api.x.com").error(),
            "--secret: the environment variable name before '@' is empty (expected "
            "ENV@HOST[,HOST...])");
  EXPECT_EQ(ParseSecretFlag("API_KEY@").error(),
            "--secret API_KEY: no host after '@' (expected --secret API_KEY@HOST[,HOST...])");
  EXPECT_EQ(ParseSecretFlag("API_KEY@ , ,").error(),
            "--secret API_KEY: no host after '@' (expected --secret API_KEY@HOST[,HOST...])");
  auto bad = ParseSecretFlag("API_KEY@api.x.com,bad_host!");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error(), ::testing::StartsWith("--secret API_KEY: host pattern"));
  EXPECT_THAT(bad.error(), HasSubstr("bad_host!"));
  EXPECT_THAT(ParseSecretFlag("K@a.*.com").error(), HasSubstr("'*'"));
}

TEST(ValidateSpecTest, Messages) {
  SecretSpec s = ParseSecretFlag("K@x.com").value();
  EXPECT_TRUE(ValidateSpec(s).ok());
  SecretSpec t = s;
  t.env_var = "";
  EXPECT_EQ(ValidateSpec(t).message(), "env_var: empty");
  t.env_var = "A=B";
  EXPECT_EQ(ValidateSpec(t).message(), "env_var: must not contain '=' or a NUL byte");
  t = s;
  t.placeholder = std::string(1025, 'x');
  EXPECT_EQ(ValidateSpec(t).message(), "placeholder: longer than 1024 bytes");
  t.placeholder = std::string(1024, 'x');
  EXPECT_TRUE(ValidateSpec(t).ok());
  t.placeholder = "";
  EXPECT_EQ(ValidateSpec(t).message(), "placeholder: empty");
  for (char c : {'\0', '\r', '\n'}) {
    t.placeholder = std::string("a") + c + "b";
    EXPECT_EQ(ValidateSpec(t).message(), "placeholder: must not contain NUL, CR or LF");
  }
  t = s;
  t.allowed_hosts.clear();
  EXPECT_EQ(ValidateSpec(t).message(), "allowed_hosts: at least one host is required");
}

TEST(AddOrMergeTest, MergesHostsOfTheSameVariable) {
  SecretsConfig config;
  AddOrMerge(&config, ParseSecretFlag("K@a.com,b.com").value());
  AddOrMerge(&config, ParseSecretFlag("K@b.com,c.com").value());
  AddOrMerge(&config, ParseSecretFlag("L@a.com").value());
  ASSERT_EQ(config.specs.size(), 2u);
  ASSERT_EQ(config.specs[0].allowed_hosts.size(), 3u);
  EXPECT_EQ(config.specs[0].allowed_hosts[2].ToString(), "c.com");
  EXPECT_EQ(config.specs[1].env_var, "L");
}

TEST(DefaultPlaceholderTest, Verbatim) {
  EXPECT_EQ(DefaultPlaceholder("gh_Tok"), "$MSB_gh_Tok");
}

}  // namespace
}  // namespace msb::secrets
