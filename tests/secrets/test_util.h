// Builders shared by the secrets tests: specs with inline values, a loaded set, and connection
// identities that pass (or fail) each eligibility gate.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "secrets/connection_plan.h"
#include "secrets/secret_set.h"
#include "secrets/secret_spec.h"

namespace msb::secrets::testing {

inline SecretSpec Spec(const std::string& env, const std::string& value,
                       const std::vector<std::string>& hosts, Injection injection = {}) {
  SecretSpec spec;
  spec.env_var = env;
  spec.placeholder = DefaultPlaceholder(env);
  for (const std::string& h : hosts) {
    auto p = HostPattern::Parse(h, /*allow_any=*/true);
    EXPECT_TRUE(p.ok()) << h;
    if (p.ok()) {
      spec.allowed_hosts.push_back(p.value());
    }
  }
  spec.injection = injection;
  spec.source.kind = SecretSource::Kind::kInline;
  spec.source.inline_value = SecretValue::Adopt(std::string(value));
  return spec;
}

inline Injection AllScopes() {
  return Injection{true, true, true, true};
}

inline std::shared_ptr<const SecretSet> LoadSet(SecretsConfig config) {
  auto r = SecretSet::Load(
      config, [](const std::string&) -> std::optional<std::string> { return std::nullopt; },
      [](const std::string& p) -> Result<std::string> {
        return Status::Error("cannot read " + p + ": No such file or directory");
      });
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? r.value() : std::make_shared<const SecretSet>();
}

inline std::shared_ptr<const SecretSet> LoadSet(std::vector<SecretSpec> specs) {
  SecretsConfig config;
  config.specs = std::move(specs);
  return LoadSet(std::move(config));
}

// An intercepted TLS connection to `host` whose destination IP is pinned to it: every gate holds.
inline ConnectionIdentity Pinned(const std::string& host) {
  ConnectionIdentity id;
  id.host = host;
  id.tls_intercepted = true;
  id.pinned_names = {host};
  return id;
}

inline std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace msb::secrets::testing
