// The --config file's `secrets` section: the wire format, defaults, and every error with the exact
// JSON path, never quoting a value.
#include "secrets/config_section.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace msb::secrets {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Result<SecretsConfig> ParseText(std::string_view text) {
  auto json = ParseJson(text);
  EXPECT_TRUE(json.ok()) << json.error();
  if (!json.ok()) {
    return Status::Error("bad json");
  }
  return ParseSecretsSection(json.value(), "$.secrets", "/etc/msb");
}

SecretsConfig Parse(std::string_view text) {
  auto r = ParseText(text);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? std::move(r).value() : SecretsConfig();
}

std::string Error(std::string_view text) {
  auto r = ParseText(text);
  EXPECT_FALSE(r.ok()) << "accepted: " << text;
  return r.ok() ? std::string() : r.error();
}

// One entry with `extra` members added to a minimal valid one.
std::string Entry(std::string_view extra) {
  return R"({"secrets": [{"env_var": "TOK", "value": "v", "allowed_hosts": ["api.x.com"])" +
         std::string(extra) + "}]}";
}

TEST(ConfigSectionTest, FullEntry) {
  SecretsConfig c = Parse(R"({
    "secrets": [{
      "env_var": "GITHUB_TOKEN",
      "value": "",
      "source": {"kind": "env", "var": "GH"},
      "placeholder": "$GH_PLACEHOLDER",
      "allowed_hosts": [{"exact": "api.github.com"}, {"wildcard": "*.githubusercontent.com"},
                        "any", "raw.example.com"],
      "injection": {"headers": false, "basic_auth": false, "query_params": true, "body": true},
      "on_violation": "block",
      "require_tls_identity": false}],
    "on_violation": "block-and-terminate"})");
  ASSERT_EQ(c.specs.size(), 1u);
  const SecretSpec& s = c.specs[0];
  EXPECT_EQ(s.env_var, "GITHUB_TOKEN");
  EXPECT_EQ(s.source.kind, SecretSource::Kind::kEnv);
  EXPECT_EQ(s.source.name, "GH");
  EXPECT_EQ(s.placeholder, "$GH_PLACEHOLDER");
  ASSERT_EQ(s.allowed_hosts.size(), 4u);
  EXPECT_EQ(s.allowed_hosts[0].kind(), HostPattern::Kind::kExact);
  EXPECT_EQ(s.allowed_hosts[1].kind(), HostPattern::Kind::kWildcard);
  EXPECT_EQ(s.allowed_hosts[2].kind(), HostPattern::Kind::kAny);
  EXPECT_EQ(s.allowed_hosts[3].ToString(), "raw.example.com");
  EXPECT_EQ(s.injection, (Injection{false, false, true, true}));
  EXPECT_EQ(s.on_violation, ViolationAction::kBlock);
  EXPECT_FALSE(s.require_tls_identity);
  EXPECT_EQ(c.on_violation, ViolationAction::kBlockAndTerminate);
}

TEST(ConfigSectionTest, Defaults) {
  SecretsConfig c = Parse(Entry(""));
  ASSERT_EQ(c.specs.size(), 1u);
  const SecretSpec& s = c.specs[0];
  EXPECT_EQ(s.placeholder, "$MSB_TOK");
  EXPECT_EQ(s.injection, Injection{});
  EXPECT_TRUE(s.require_tls_identity);
  EXPECT_FALSE(s.on_violation.has_value());
  EXPECT_EQ(s.source.kind, SecretSource::Kind::kInline);
  EXPECT_EQ(s.source.inline_value.Reveal(), "v");
  EXPECT_EQ(c.on_violation, ViolationAction::kBlockAndLog);
  EXPECT_TRUE(Parse("{}").specs.empty());
}

TEST(ConfigSectionTest, FileSourceRelativeToTheConfigDirectory) {
  auto rel = Parse(R"({"secrets": [{"env_var": "T", "source": {"kind": "file", "path": "tok"},
                       "allowed_hosts": ["x.com"]}]})");
  EXPECT_EQ(rel.specs[0].source.kind, SecretSource::Kind::kFile);
  EXPECT_EQ(rel.specs[0].source.name, "/etc/msb/tok");
  auto abs = Parse(R"({"secrets": [{"env_var": "T", "source": {"kind": "file", "path": "/run/t"},
                       "allowed_hosts": ["x.com"]}]})");
  EXPECT_EQ(abs.specs[0].source.name, "/run/t");
}

TEST(ConfigSectionTest, Passthrough) {
  SecretsConfig c = Parse(R"({"secrets": [{"env_var": "T", "value": "v", "allowed_hosts": ["x.com"],
      "on_violation": {"passthrough": ["*.docs.x.com", "*"]}}],
      "on_violation": {"passthrough": []}})");
  EXPECT_EQ(c.specs[0].on_violation, ViolationAction::kPassthrough);
  ASSERT_EQ(c.specs[0].passthrough_hosts.size(), 2u);
  EXPECT_EQ(c.specs[0].passthrough_hosts[1].kind(), HostPattern::Kind::kAny);
  EXPECT_EQ(c.on_violation, ViolationAction::kPassthrough);
  EXPECT_TRUE(c.passthrough_hosts.empty());
  EXPECT_EQ(Parse(R"({"on_violation": "passthrough"})").on_violation,
            ViolationAction::kPassthrough);
  EXPECT_EQ(Parse(R"({"on_violation": "BlockAndLog"})").on_violation,
            ViolationAction::kBlockAndLog);
}

TEST(ConfigSectionTest, ErrorsNameThePath) {
  EXPECT_EQ(
      Error(R"({"secret": []})"),
      R"($.secrets.secret: unknown field: expected "secrets" or "on_violation" (did you mean "secrets"?))");
  EXPECT_EQ(Error(R"({"secrets": {}})"),
            "$.secrets.secrets: expected an array of secrets, found an object");
  EXPECT_THAT(Error(R"({"secrets": [{"env_var": "T", "value": "v",
                        "allowed_hosts": ["x.com", "bad_host!"]}]})"),
              ::testing::StartsWith("$.secrets.secrets[0].allowed_hosts[1]: host pattern"));
  EXPECT_EQ(
      Error(Entry(R"(, "injection": {"query": true})")),
      R"($.secrets.secrets[0].injection.query: unknown field: expected "headers", "basic_auth", "query_params" or "body" (did you mean "query_params"?))");
  EXPECT_EQ(Error(Entry(R"(, "injection": {"body": 1})")),
            "$.secrets.secrets[0].injection.body: expected a boolean, found a number");
  EXPECT_EQ(Error(Entry(R"(, "require_tls_identity": "yes")")),
            "$.secrets.secrets[0].require_tls_identity: expected a boolean, found a string");
  EXPECT_EQ(Error(Entry(R"(, "placeholder": "")")), "$.secrets.secrets[0].placeholder: empty");
  EXPECT_EQ(Error(Entry(R"(, "placeholder": ")" + std::string(1025, 'p') + "\"")),
            "$.secrets.secrets[0].placeholder: longer than 1024 bytes");
  EXPECT_EQ(Error(Entry(R"(, "placeholder": "a\nb")")),
            "$.secrets.secrets[0].placeholder: must not contain NUL, CR or LF");
  EXPECT_EQ(Error(Entry(R"(, "on_violation": "blok")")),
            "$.secrets.secrets[0].on_violation: unknown violation action \"blok\": expected "
            "block, block-and-log, block-and-terminate or passthrough (did you mean block?)");
  EXPECT_EQ(
      Error(Entry(R"(, "on_violation": {"pass": []})")),
      R"($.secrets.secrets[0].on_violation.pass: unknown field: expected "passthrough" (did you mean "passthrough"?))");
  EXPECT_EQ(
      Error(Entry(R"(, "extra": 1)")),
      R"($.secrets.secrets[0].extra: unknown field: expected "env_var", "value", "source", "placeholder", "allowed_hosts", "injection", "on_violation" or "require_tls_identity")");
  EXPECT_EQ(Error(R"({"secrets": [{"value": "v", "allowed_hosts": ["x.com"]}]})"),
            R"($.secrets.secrets[0]: needs "env_var")");
  EXPECT_EQ(Error(R"({"secrets": [{"env_var": "", "value": "v", "allowed_hosts": ["x.com"]}]})"),
            "$.secrets.secrets[0].env_var: empty");
  EXPECT_EQ(Error(R"({"secrets": [{"env_var": "A=B", "value": "v", "allowed_hosts": ["x.com"]}]})"),
            "$.secrets.secrets[0].env_var: must not contain '=' or a NUL byte");
  EXPECT_EQ(Error(R"({"secrets": [{"env_var": "T", "value": "v"}]})"),
            R"($.secrets.secrets[0]: needs "allowed_hosts" (at least one host))");
  EXPECT_EQ(Error(R"({"secrets": [{"env_var": "T", "value": "v", "allowed_hosts": []}]})"),
            "$.secrets.secrets[0].allowed_hosts: at least one host is required");
  EXPECT_EQ(Error(R"({"secrets": [{"env_var": "T", "allowed_hosts": ["x.com"]}]})"),
            R"($.secrets.secrets[0]: needs "value" or "source")");
  EXPECT_EQ(Error(R"({"secrets": [{"env_var": "T", "value": "", "allowed_hosts": ["x.com"]}]})"),
            R"($.secrets.secrets[0]: "value" is empty and there is no "source")");
  EXPECT_EQ(
      Error(R"({"on_violation": 3})"),
      R"($.secrets.on_violation: expected an action name or {"passthrough": [HOST...]}, found a number)");
}

TEST(ConfigSectionTest, AllowedHostShapes) {
  EXPECT_EQ(
      Error(
          R"({"secrets": [{"env_var": "T", "value": "v", "allowed_hosts": [{"exact": "*.x.com"}]}]})"),
      R"($.secrets.secrets[0].allowed_hosts[0].exact: expected a host name; a pattern with '*' goes in {"wildcard": ...})");
  EXPECT_EQ(
      Error(
          R"({"secrets": [{"env_var": "T", "value": "v", "allowed_hosts": [{"wildcard": "x.com"}]}]})"),
      R"($.secrets.secrets[0].allowed_hosts[0].wildcard: expected "*.SUFFIX"; a single host goes in {"exact": ...})");
  EXPECT_EQ(
      Error(
          R"({"secrets": [{"env_var": "T", "value": "v", "allowed_hosts": [{"exactly": "x.com"}]}]})"),
      R"($.secrets.secrets[0].allowed_hosts[0].exactly: unknown field: expected "exact" or "wildcard" (did you mean "exact"?))");
  EXPECT_EQ(
      Error(
          R"({"secrets": [{"env_var": "T", "value": "v", "allowed_hosts": [{"exact": "a.com", "wildcard": "*.b.com"}]}]})"),
      R"($.secrets.secrets[0].allowed_hosts[0]: expected exactly one of "exact" or "wildcard")");
  EXPECT_EQ(
      Error(R"({"secrets": [{"env_var": "T", "value": "v", "allowed_hosts": [7]}]})"),
      R"($.secrets.secrets[0].allowed_hosts[0]: expected "any", {"exact": NAME} or {"wildcard": "*.SUFFIX"}, found a number)");
  EXPECT_THAT(
      Error(R"({"secrets": [{"env_var": "T", "value": "v", "allowed_hosts": [{"exact": "*"}]}]})"),
      ::testing::StartsWith("$.secrets.secrets[0].allowed_hosts[0].exact: "));
}

TEST(ConfigSectionTest, Sources) {
  auto with_source = [](std::string_view source) {
    return R"({"secrets": [{"env_var": "T", "value": "", "allowed_hosts": ["x.com"], "source": )" +
           std::string(source) + "}]}";
  };
  EXPECT_EQ(
      Error(with_source(R"({"kind": "store", "reference": "vault://x"})")),
      R"($.secrets.secrets[0].source.kind: a secret store is not supported; use {"kind": "env", "var": NAME} or {"kind": "file", "path": PATH})");
  EXPECT_EQ(
      Error(with_source(R"({"kind": "enb", "var": "X"})")),
      R"($.secrets.secrets[0].source.kind: unknown source kind: expected "env" or "file" (did you mean "env"?))");
  EXPECT_EQ(Error(with_source(R"({"var": "X"})")),
            R"($.secrets.secrets[0].source: needs "kind": "env" or "file")");
  EXPECT_EQ(Error(with_source(R"({"kind": "env"})")),
            R"($.secrets.secrets[0].source: needs "var")");
  EXPECT_EQ(Error(with_source(R"({"kind": "env", "path": "/x"})")),
            R"($.secrets.secrets[0].source.path: unknown field: expected "kind" or "var")");
  EXPECT_EQ(Error(with_source(R"({"kind": "file", "path": ""})")),
            "$.secrets.secrets[0].source.path: the path is empty or holds a NUL byte");
  EXPECT_EQ(Error(with_source(R"({"kind": "env", "var": "A=B"})")),
            "$.secrets.secrets[0].source.var: the name is empty or holds '=' or a NUL byte");
  EXPECT_EQ(
      Error(with_source(R"("GH")")),
      R"($.secrets.secrets[0].source: expected {"kind": "env", "var": NAME} or {"kind": "file", "path": PATH}, found a string)");
}

TEST(ConfigSectionTest, ValueIsNeverQuoted) {
  std::string e = Error(
      R"({"secrets": [{"env_var": "T", "value": "sk-live-SECRET", "source": {"kind": "env", "var": "T"},
          "allowed_hosts": ["x.com"]}]})");
  EXPECT_EQ(e, R"($.secrets.secrets[0]: give either "value" or "source", not both)");
  EXPECT_THAT(e, Not(HasSubstr("sk-live")));
  std::string t =
      Error(R"({"secrets": [{"env_var": "T", "value": 12345, "allowed_hosts": ["x.com"]}]})");
  EXPECT_EQ(t, "$.secrets.secrets[0].value: expected a string, found a number");
}

}  // namespace
}  // namespace msb::secrets
