// SecretSet::Load: every source kind, the trailing-newline rule, values that cannot travel in a
// header, placeholder uniqueness and the substring rule; errors name variables and paths only.
#include "secrets/secret_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "tests/secrets/test_util.h"

namespace msb::secrets {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::Spec;

struct Fakes {
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> files;
  SecretSet::EnvLookup Env() const {
    return [this](const std::string& n) -> std::optional<std::string> {
      auto it = env.find(n);
      if (it == env.end()) {
        return std::nullopt;
      }
      return it->second;
    };
  }
  SecretSet::FileReader Files() const {
    return [this](const std::string& p) -> Result<std::string> {
      auto it = files.find(p);
      if (it == files.end()) {
        return Status::Error("cannot read " + p + ": No such file or directory");
      }
      return it->second;
    };
  }
  Result<std::shared_ptr<const SecretSet>> Load(const SecretsConfig& c) const {
    return SecretSet::Load(c, Env(), Files());
  }
};

SecretSpec EnvSpec(const std::string& env_var, const std::string& var) {
  SecretSpec s = ParseSecretFlag(env_var + "@api.x.com").value();
  s.source.name = var;
  return s;
}

SecretSpec FileSpec(const std::string& env_var, const std::string& path) {
  SecretSpec s = ParseSecretFlag(env_var + "@api.x.com").value();
  s.source.kind = SecretSource::Kind::kFile;
  s.source.name = path;
  return s;
}

TEST(SecretSetTest, LoadsEverySourceKind) {
  Fakes f;
  f.env["API_KEY"] = "env-value";
  f.files["/run/tok"] = "file-value\n";
  f.files["/run/crlf"] = "crlf-value\r\n";
  SecretsConfig c;
  c.specs = {EnvSpec("API_KEY", "API_KEY"), FileSpec("TOK", "/run/tok"),
             FileSpec("CRLF", "/run/crlf"), Spec("INL", "inline-value", {"x.com"})};
  c.on_violation = ViolationAction::kBlock;
  auto r = f.Load(c);
  ASSERT_TRUE(r.ok()) << r.error();
  const SecretSet& set = *r.value();
  ASSERT_EQ(set.secrets().size(), 4u);
  EXPECT_EQ(set.secrets()[0].value.Reveal(), "env-value");
  EXPECT_EQ(set.secrets()[1].value.Reveal(), "file-value");
  EXPECT_EQ(set.secrets()[2].value.Reveal(), "crlf-value");
  EXPECT_EQ(set.secrets()[3].value.Reveal(), "inline-value");
  EXPECT_TRUE(set.secrets()[3].spec.source.inline_value.empty());  // cleared after loading
  EXPECT_EQ(set.default_action(), ViolationAction::kBlock);
  EXPECT_EQ(set.max_placeholder(), std::string("$MSB_API_KEY").size());
  EXPECT_EQ(set.max_value(), std::string("inline-value").size());
  EXPECT_FALSE(set.empty());
}

TEST(SecretSetTest, OnlyOneTrailingNewlineIsDropped) {
  Fakes f;
  f.files["/a"] = "v\n\n";
  SecretsConfig c;
  c.specs = {FileSpec("A", "/a")};
  auto r = f.Load(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            "secret A: the value holds a NUL, CR or LF byte (it could not travel in a header)");
}

TEST(SecretSetTest, SourceErrors) {
  Fakes f;
  f.env["EMPTY"] = "";
  f.files["/empty"] = "\n";
  f.env["NUL"] = std::string("a\0b", 3);
  auto error = [&](SecretSpec s) {
    SecretsConfig c;
    c.specs = {std::move(s)};
    auto r = f.Load(c);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.error();
  };
  EXPECT_EQ(error(EnvSpec("API_KEY", "API_KEY")),
            "secret API_KEY: environment variable API_KEY is not set");
  EXPECT_EQ(error(EnvSpec("API_KEY", "EMPTY")),
            "secret API_KEY: environment variable EMPTY is empty");
  EXPECT_EQ(error(FileSpec("X", "/path")),
            "secret X: cannot read /path: No such file or directory");
  EXPECT_EQ(error(FileSpec("X", "/empty")), "secret X: file /empty is empty");
  EXPECT_EQ(error(EnvSpec("X", "NUL")),
            "secret X: the value holds a NUL, CR or LF byte (it could not travel in a header)");
  SecretSpec bad = Spec("X", "v", {"x.com"});
  bad.placeholder = "";
  EXPECT_EQ(error(std::move(bad)), "secret X: placeholder: empty");
}

TEST(SecretSetTest, RealFileSystemAndEnvironment) {
  char path[] = "/tmp/msb_secret_set_testXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  FILE* fp = fdopen(fd, "w");
  std::fputs("from-file\n", fp);
  std::fclose(fp);
  setenv("MSB_SECRET_SET_TEST_VAR", "from-env", 1);
  SecretsConfig c;
  c.specs = {FileSpec("F", path), EnvSpec("E", "MSB_SECRET_SET_TEST_VAR")};
  auto r = SecretSet::Load(c);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value()->secrets()[0].value.Reveal(), "from-file");
  EXPECT_EQ(r.value()->secrets()[1].value.Reveal(), "from-env");
  std::remove(path);
  auto gone = SecretSet::Load(c);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error(),
            std::string("secret F: cannot read ") + path + ": No such file or directory");
  unsetenv("MSB_SECRET_SET_TEST_VAR");
}

TEST(SecretSetTest, PlaceholderRules) {
  Fakes f;
  SecretsConfig same_env;
  same_env.specs = {Spec("A", "v1", {"a.com"}), Spec("A", "v1", {"b.com"})};
  EXPECT_TRUE(f.Load(same_env).ok());

  SecretsConfig dup;
  dup.specs = {Spec("A", "secret-a", {"a.com"}), Spec("B", "secret-b", {"b.com"})};
  dup.specs[1].placeholder = "$MSB_A";
  auto r = f.Load(dup);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "secrets A and B use the same placeholder; give each its own");

  SecretsConfig sub;
  sub.specs = {Spec("TOKEN_LONG", "secret-a", {"a.com"}), Spec("TOKEN", "secret-b", {"b.com"})};
  auto s = f.Load(sub);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(),
            "the placeholder of secret TOKEN is a substring of the placeholder of secret "
            "TOKEN_LONG (one would match inside the other); give them distinct placeholders");
  EXPECT_THAT(s.error(), Not(HasSubstr("secret-a")));
}

TEST(SecretSetTest, PlaceholderEnvironmentNeverHoldsTheValue) {
  auto set = testing::LoadSet(std::vector<SecretSpec>{Spec("A", "value-a", {"a.com"}),
                                                      Spec("A", "value-a", {"b.com"}),
                                                      Spec("B", "value-b", {"b.com"})});
  auto env = PlaceholderEnvironment(*set);
  ASSERT_EQ(env.size(), 2u);
  EXPECT_EQ(env[0], (std::pair<std::string, std::string>{"A", "$MSB_A"}));
  EXPECT_EQ(env[1], (std::pair<std::string, std::string>{"B", "$MSB_B"}));
}

}  // namespace
}  // namespace msb::secrets
