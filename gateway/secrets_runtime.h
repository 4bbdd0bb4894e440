// SecretsRuntime: the gateway's live secrets. It combines the --config file's `secrets` section
// with the --secret flags, checks at start that every secret can be injected at all (never the
// silent failure of a secret configured while interception is off or all its hosts bypassed),
// loads the values, hides env-sourced values from the process environment (CMD inherits only the
// placeholders), and swaps in a new snapshot on reload (SIGHUP). Sessions take the current
// snapshot when they start (in-flight requests keep theirs). Violations found by the HTTP relays
// come here: audited as secret.violation (block-and-log, block-and-terminate) and, for
// block-and-terminate, the sandbox is ended through the terminate hook.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/status.h"
#include "gateway/core/audit_log.h"
#include "gateway/http/secret_guard.h"
#include "gateway/tls/intercept_options.h"
#include "secrets/secret_set.h"

namespace msb::gateway {

// Where the secrets configuration comes from: the flags and, optionally, the config file's
// section (re-read on reload).
struct SecretsSources {
  secrets::SecretsConfig flags;                         // --secret entries
  std::optional<secrets::ViolationAction> flag_action;  // --on-secret-violation
  std::string config_path;                              // "" = no config file
  // Re-reads the config file's `secrets` section (nullopt: the file has none).
  std::function<Result<std::optional<JsonValue>>()> read_section;
};

class SecretsRuntime {
 public:
  // Merge parses the file section (if any) and adds the flags (same env var: hosts merged into
  // the file's entry); the flag action overrides the file's.
  static Result<secrets::SecretsConfig> Merge(const SecretsSources& sources,
                                              const std::optional<JsonValue>& section);
  // CheckInjectable fails (exit 2) when interception is off, or every allowed host of a secret is
  // bypassed: such a secret's placeholder would go upstream as is.
  static Status CheckInjectable(const secrets::SecretsConfig& config,
                                const tls::InterceptOptions& tls);

  // Create loads the values (errors name the variable or file, never a value), then replaces
  // each env-sourced value in this process's environment by the placeholder.
  static Result<std::unique_ptr<SecretsRuntime>> Create(SecretsSources sources,
                                                        const secrets::SecretsConfig& config,
                                                        tls::InterceptOptions tls);

  std::shared_ptr<const secrets::SecretSet> current() const { return current_; }
  // Reload re-reads the file section and the value sources. On error the old set stays and the
  // error says why; a reload that would make a secret uninjectable is an error too.
  Status Reload();

  // Hooks set by the command: the audit log (may be null) and what ends the sandbox.
  void set_audit(AuditLog* audit) { audit_ = audit; }
  void set_terminate(std::function<void()> terminate) { terminate_ = std::move(terminate); }

  // OnViolation: a relay refused (or, for passthrough, let through) a request.
  void OnViolation(const secrets::Violation& v, const http::ViolationSite& site,
                   std::string_view sni, const AuditFlow& flow);
  bool terminated() const { return terminated_; }

 private:
  SecretsRuntime(SecretsSources sources, tls::InterceptOptions tls)
      : sources_(std::move(sources)), tls_(std::move(tls)) {}
  Result<std::shared_ptr<const secrets::SecretSet>> LoadSet(const secrets::SecretsConfig& config);

  SecretsSources sources_;
  tls::InterceptOptions tls_;
  std::shared_ptr<const secrets::SecretSet> current_;
  // Env-sourced values, captured at start: the environment no longer holds them after Create.
  std::vector<std::pair<std::string, secrets::SecretValue>> env_values_;
  AuditLog* audit_ = nullptr;
  std::function<void()> terminate_;
  bool terminated_ = false;
};

// MakeSecretGuard builds the guard for a connection (or, on plain HTTP, one request) to `host`
// from the current snapshot: the identity's pin gate looks up the flow's destination in the pin
// set, the host alias is host.microsandbox.internal at the gateway's own address. Null when no
// secret is configured.
struct SessionContext;
std::unique_ptr<http::SecretGuard> MakeSecretGuard(const SessionContext& ctx, const AuditFlow& flow,
                                                   std::string host, bool tls_intercepted,
                                                   bool via_connect, http::SecretEvents* events);

}  // namespace msb::gateway
