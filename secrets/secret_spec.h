// SecretSpec: one configured secret as written by the user (--secret, the --config file's
// `secrets` section), before its value is read. Also the CLI grammar of --secret and
// --on-secret-violation. Pure: no I/O here (secret_set.h reads the sources).
//
//   --secret ENV@HOST[,HOST...]   value from the host environment variable ENV at start; split at
//                                 the last '@'; hosts are HostPatterns (exact, *.suffix; `*` only
//                                 as the explicit any-host spelling, see ParseSecretFlag); any '='
//                                 in the spec is refused (a value must never appear in argv), and
//                                 the error never repeats the spec's text after the '='.
//   --on-secret-violation block|block-and-log|block-and-terminate|passthrough
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/host_pattern.h"
#include "base/status.h"
#include "secrets/secret_value.h"

namespace msb::secrets {

inline constexpr size_t kMaxPlaceholderBytes = 1024;

// ViolationAction: what happens when a request carries a placeholder of a secret that is not
// eligible on its connection (docs/secrets.md). Ordered by strictness for "strictest wins".
enum class ViolationAction : uint8_t {
  kPassthrough,        // forward the placeholder unchanged (never the value)
  kBlock,              // refuse the request (h1 403 + x-msb-blocked, h2 RST_STREAM)
  kBlockAndLog,        // kBlock plus a secret.violation audit event (the default)
  kBlockAndTerminate,  // kBlockAndLog plus the sandbox ends
};
// Wire / CLI names: "passthrough", "block", "block-and-log", "block-and-terminate".
std::string_view ViolationActionName(ViolationAction action);
// ParseViolationAction accepts the names above (and the wire format's CamelCase aliases "Block",
// "BlockAndLog", "BlockAndTerminate"); errors list the accepted names and suggest the nearest.
Result<ViolationAction> ParseViolationAction(std::string_view text);

// Injection: where a placeholder of an eligible secret is replaced by its value.
struct Injection {
  bool headers = true;     // every request header value (never the request line)
  bool basic_auth = true;  // inside the decoded user:password of `Authorization: Basic`
  bool query = false;      // the query of the request target (never the path)
  bool body = false;       // request bodies (HTTP/1.1 and HTTP/2)
  bool operator==(const Injection&) const = default;
};

// SecretSource: where the value comes from.
struct SecretSource {
  enum class Kind : uint8_t { kEnv, kFile, kInline };
  Kind kind = Kind::kEnv;
  std::string name;    // the environment variable (kEnv) or the file path (kFile)
  SecretValue inline_value;  // kInline only (the config file's "value")
};

struct SecretSpec {
  std::string env_var;      // non-empty, no '=' or NUL: the name CMD's environment gets
  std::string placeholder;  // default "$MSB_" + env_var; 1..1024 bytes, no NUL, CR or LF
  std::vector<HostPattern> allowed_hosts;  // at least one
  Injection injection;
  bool require_tls_identity = true;
  // Per-secret override of the set's default action; with kPassthrough, `passthrough_hosts`
  // (empty = every host) are where the placeholder may pass.
  std::optional<ViolationAction> on_violation;
  std::vector<HostPattern> passthrough_hosts;
  SecretSource source;
};

// SecretsConfig: every configured secret and the default violation action.
struct SecretsConfig {
  std::vector<SecretSpec> specs;
  ViolationAction on_violation = ViolationAction::kBlockAndLog;
  std::vector<HostPattern> passthrough_hosts;  // with kPassthrough: empty = every host
};

// DefaultPlaceholder is "$MSB_" + env_var.
std::string DefaultPlaceholder(std::string_view env_var);

// ValidateSpec checks env_var, placeholder and allowed_hosts as described above; messages name
// the field ("placeholder: longer than 1024 bytes") and never contain a value.
Status ValidateSpec(const SecretSpec& spec);

// ParseSecretFlag parses one --secret argument (source kEnv, name = ENV). `*` as a host is
// accepted (the flag is explicit) and documented as dangerous.
Result<SecretSpec> ParseSecretFlag(std::string_view text);

// AddOrMerge adds `spec` to `config`, or merges its allowed hosts into an existing entry with the
// same env_var (repeated --secret ENV@...).
void AddOrMerge(SecretsConfig* config, SecretSpec spec);

}  // namespace msb::secrets
