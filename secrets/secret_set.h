// SecretSet: the loaded secrets, an immutable snapshot. Connections take a shared_ptr to the
// current set when they start and keep it (rotation never changes a request in flight); a reload
// (SIGHUP) builds a new set and swaps it in. Load reads every source: an unset or empty
// environment variable, an unreadable or empty file is an error naming the variable or the path
// (never the value), exit 2 at start, "keep the old set" on reload. A value file's one trailing
// newline (LF or CRLF) is dropped; a value with NUL, CR or LF left in it is refused (it could not
// travel in a header). Placeholders must be unique to one secret unless the entries are for the
// same env var; a placeholder that is a substring of another's is refused (one would match inside
// the other).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "secrets/secret_spec.h"

namespace msb::secrets {

struct Secret {
  SecretSpec spec;    // source.inline_value is cleared after loading; `value` holds it
  SecretValue value;  // non-empty
};

class SecretSet {
 public:
  // EnvLookup returns the variable's value, or nullopt when unset (tests pass a fake).
  using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
  // ReadFile returns a file's contents (tests pass a fake); errors name the path.
  using FileReader = std::function<Result<std::string>(const std::string& path)>;

  static Result<std::shared_ptr<const SecretSet>> Load(const SecretsConfig& config,
                                                       const EnvLookup& env,
                                                       const FileReader& read_file);
  // The process environment and the file system.
  static Result<std::shared_ptr<const SecretSet>> Load(const SecretsConfig& config);

  const std::vector<Secret>& secrets() const { return secrets_; }
  ViolationAction default_action() const { return default_action_; }
  const std::vector<HostPattern>& default_passthrough_hosts() const { return passthrough_; }
  bool empty() const { return secrets_.empty(); }
  // Longest placeholder and longest value, in bytes (the streaming engines' hold-back sizes).
  size_t max_placeholder() const { return max_placeholder_; }
  size_t max_value() const { return max_value_; }

 private:
  std::vector<Secret> secrets_;
  ViolationAction default_action_ = ViolationAction::kBlockAndLog;
  std::vector<HostPattern> passthrough_;
  size_t max_placeholder_ = 0;
  size_t max_value_ = 0;
};

// PlaceholderEnvironment is what `run` puts in CMD's environment: env_var=placeholder for each
// secret (never the value).
std::vector<std::pair<std::string, std::string>> PlaceholderEnvironment(const SecretSet& set);

}  // namespace msb::secrets
