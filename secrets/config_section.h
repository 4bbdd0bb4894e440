// The --config file's `secrets` section in microsandbox's wire format (docs/config.md):
//   "secrets": {
//     "secrets": [{"env_var": "GITHUB_TOKEN",
//                  "value": "...",                                // or "source", exactly one
//                  "source": {"kind": "env", "var": "GITHUB_TOKEN"} | {"kind": "file", "path": P},
//                  "placeholder": "$MSB_GITHUB_TOKEN",            // optional
//                  "allowed_hosts": [{"exact": "api.github.com"}, {"wildcard": "*.x.com"}, "any"],
//                  "injection": {"headers", "basic_auth", "query_params", "body"},  // booleans
//                  "on_violation": "block" | ... | {"passthrough": [PATTERN...]},
//                  "require_tls_identity": true}],
//     "on_violation": "block-and-log"}
// Unknown fields and invalid values are errors naming the JSON path, the same way the rest of the
// file is checked (policy/config.h); an error about "value" never quotes it. An empty "value"
// with a "source" counts as no value (the wire format writes both). A relative file path is
// relative to `base_dir` (the config file's directory).
#pragma once

#include <string_view>

#include "base/json.h"
#include "base/status.h"
#include "secrets/secret_spec.h"

namespace msb::secrets {

Result<SecretsConfig> ParseSecretsSection(const JsonValue& section, std::string_view path,
                                          std::string_view base_dir);

}  // namespace msb::secrets
