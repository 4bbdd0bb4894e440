// Shared by the secrets fuzz harnesses (secrets_request_fuzzer, secrets_body_fuzzer): a plan
// with one ELIGIBLE secret (every scope) and one INELIGIBLE one (allowed on another host, action
// block), a Check that aborts with the invariant's name, and the one-shot reference substitution.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "base/host_pattern.h"
#include "secrets/connection_plan.h"
#include "secrets/secret_set.h"

namespace msb::secrets::fuzz {

namespace s = msb::secrets;

inline constexpr std::string_view kEligibleValue = "eligible-value";
inline constexpr std::string_view kEligiblePlaceholder = "$MSB_ELIG";
inline constexpr std::string_view kIneligibleValue = "INELIGIBLE-SECRET-VALUE-42";
inline constexpr std::string_view kIneligiblePlaceholder = "$MSB_INEL";

inline void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

inline s::SecretSpec Spec(const char* env, std::string_view value, const char* host) {
  s::SecretSpec spec;
  spec.env_var = env;
  spec.placeholder = s::DefaultPlaceholder(env);
  spec.allowed_hosts.push_back(msb::HostPattern::Parse(host).value());
  spec.injection = s::Injection{true, true, true, true};
  spec.on_violation = s::ViolationAction::kBlock;
  spec.source.kind = s::SecretSource::Kind::kInline;
  spec.source.inline_value = s::SecretValue::Adopt(std::string(value));
  return spec;
}

inline const s::ConnectionPlan& Plan() {
  static const s::ConnectionPlan* plan = [] {
    s::SecretsConfig config;
    config.specs.push_back(Spec("ELIG", kEligibleValue, "api.example.com"));
    config.specs.push_back(Spec("INEL", kIneligibleValue, "other.example.com"));
    auto set = s::SecretSet::Load(
        config, [](const std::string&) -> std::optional<std::string> { return std::nullopt; },
        [](const std::string&) -> msb::Result<std::string> { return msb::Status::Error("no"); });
    Check(set.ok(), "test set loads");
    s::ConnectionIdentity id;
    id.host = "api.example.com";
    id.tls_intercepted = true;
    id.pinned_names = {"api.example.com"};
    return new s::ConnectionPlan(set.value(), id);
  }();
  return *plan;
}

inline std::string ReplaceAll(std::string_view in) {
  std::string out;
  size_t i = 0;
  while (true) {
    size_t j = in.find(kEligiblePlaceholder, i);
    if (j == std::string_view::npos) {
      out.append(in.substr(i));
      return out;
    }
    out.append(in.substr(i, j - i));
    out.append(kEligibleValue);
    i = j + kEligiblePlaceholder.size();
  }
}

}  // namespace msb::secrets::fuzz
