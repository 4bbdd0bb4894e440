// SecretsRuntime: merge, start-up checks, loading, environment hiding, reload and violation
// handling for the gateway's secrets (secrets_runtime.h).
#include "gateway/secrets_runtime.h"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>

#include "gateway/core/session_context.h"
#include "secrets/config_section.h"

extern char** environ;

namespace msb::gateway {
namespace {

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Covers reports whether bypass pattern `b` takes in every host `a` matches.
bool Covers(const HostPattern& b, const HostPattern& a) {
  if (b.kind() == HostPattern::Kind::kAny) {
    return true;
  }
  if (a.kind() == HostPattern::Kind::kAny) {
    return false;
  }
  if (a.kind() == HostPattern::Kind::kExact) {
    return b.Matches(a.name());
  }
  // a = *.s: covered by *.t when s is t or below it.
  return b.kind() == HostPattern::Kind::kWildcard && b.Matches(a.name());
}

// HideFromEnvironment overwrites NAME's value where the process environment holds it (the
// original bytes, which /proc/PID/environ shows, included), then sets the placeholder, so a
// child started later inherits only the placeholder.
void HideFromEnvironment(const std::string& name, const std::string& placeholder) {
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, name.c_str(), name.size()) == 0 && (*e)[name.size()] == '=') {
      char* value = *e + name.size() + 1;
      OPENSSL_cleanse(value, std::strlen(value));
    }
  }
  setenv(name.c_str(), placeholder.c_str(), 1);
}

}  // namespace

Result<secrets::SecretsConfig> SecretsRuntime::Merge(const SecretsSources& sources,
                                                     const std::optional<JsonValue>& section) {
  secrets::SecretsConfig config;
  if (section) {
    auto parsed = secrets::ParseSecretsSection(*section, "$.secrets", DirOf(sources.config_path));
    if (!parsed.ok()) {
      return Status::Error("--config " + sources.config_path + ": " + parsed.error());
    }
    config = std::move(parsed).value();
  }
  for (const secrets::SecretSpec& spec : sources.flags.specs) {
    secrets::AddOrMerge(&config, spec);
  }
  if (sources.flag_action) {
    config.on_violation = *sources.flag_action;
    config.passthrough_hosts.clear();
  }
  return config;
}

Status SecretsRuntime::CheckInjectable(const secrets::SecretsConfig& config,
                                       const tls::InterceptOptions& tls) {
  for (const secrets::SecretSpec& spec : config.specs) {
    if (!tls.enabled) {
      return Status::Error("secret " + spec.env_var +
                           " can never be injected: TLS interception is disabled (the config "
                           "file's tls.enabled is false); enable it or remove the secret");
    }
    bool reachable = false;
    for (const HostPattern& host : spec.allowed_hosts) {
      bool bypassed = false;
      for (const HostPattern& b : tls.bypass) {
        bypassed = bypassed || Covers(b, host);
      }
      reachable = reachable || !bypassed;
    }
    if (!reachable) {
      return Status::Error("secret " + spec.env_var +
                           " can never be injected: every host it is allowed for is in the TLS "
                           "bypass list (bypassed connections are not intercepted)");
    }
  }
  return Status::Ok();
}

Result<std::shared_ptr<const secrets::SecretSet>> SecretsRuntime::LoadSet(
    const secrets::SecretsConfig& config) {
  auto env = [this](const std::string& name) -> std::optional<std::string> {
    for (const auto& [n, v] : env_values_) {
      if (n == name) {
        return std::string(v.Reveal());
      }
    }
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
  auto files = [](const std::string& path) -> Result<std::string> {
    FILE* f = std::fopen(path.c_str(), "rbe");
    if (f == nullptr) {
      return Status::Error("cannot read " + path + ": " + std::strerror(errno));
    }
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0 && out.size() <= 64 * 1024) {
      out.append(buf, n);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    std::fclose(f);
    if (out.size() > 64 * 1024) {
      OPENSSL_cleanse(out.data(), out.size());
      return Status::Error("cannot use " + path + ": larger than 64 KiB");
    }
    return out;
  };
  return secrets::SecretSet::Load(config, env, files);
}

Result<std::unique_ptr<SecretsRuntime>> SecretsRuntime::Create(SecretsSources sources,
                                                               const secrets::SecretsConfig& config,
                                                               tls::InterceptOptions tls) {
  std::unique_ptr<SecretsRuntime> rt(new SecretsRuntime(std::move(sources), std::move(tls)));
  auto set = rt->LoadSet(config);
  if (!set.ok()) {
    return set.status();
  }
  rt->current_ = std::move(set).value();
  for (const secrets::Secret& s : rt->current_->secrets()) {
    if (s.spec.source.kind == secrets::SecretSource::Kind::kEnv) {
      rt->env_values_.emplace_back(s.spec.source.name, s.value);
    }
  }
  for (const secrets::Secret& s : rt->current_->secrets()) {
    if (s.spec.source.kind == secrets::SecretSource::Kind::kEnv) {
      HideFromEnvironment(s.spec.source.name, s.spec.placeholder);
    }
    if (s.spec.source.name != s.spec.env_var) {
      setenv(s.spec.env_var.c_str(), s.spec.placeholder.c_str(), 1);
    }
  }
  return rt;
}

Status SecretsRuntime::Reload() {
  std::optional<JsonValue> section;
  if (sources_.read_section) {
    auto s = sources_.read_section();
    if (!s.ok()) {
      return s.status();
    }
    section = std::move(s).value();
  }
  auto config = Merge(sources_, section);
  if (!config.ok()) {
    return config.status();
  }
  // Placeholders are what the guest holds: they must stay as they were.
  for (const secrets::SecretSpec& spec : config.value().specs) {
    bool known = false;
    for (const secrets::Secret& s : current_->secrets()) {
      if (s.spec.env_var == spec.env_var) {
        known = true;
        if (s.spec.placeholder != spec.placeholder) {
          return Status::Error("secret " + spec.env_var +
                               ": its placeholder cannot change without a restart");
        }
      }
    }
    if (!known) {
      return Status::Error("secret " + spec.env_var +
                           " is new: adding a secret needs a restart (the sandbox's environment "
                           "is fixed)");
    }
  }
  if (Status st = CheckInjectable(config.value(), tls_); !st.ok()) {
    return st;
  }
  auto set = LoadSet(config.value());
  if (!set.ok()) {
    return set.status();
  }
  current_ = std::move(set).value();
  return Status::Ok();
}

void SecretsRuntime::OnViolation(const secrets::Violation& v, const http::ViolationSite& site,
                                 std::string_view sni, const AuditFlow& flow) {
  using secrets::ViolationAction;
  if (audit_ != nullptr && v.action != ViolationAction::kBlock) {
    AuditRecord rec("secret.violation");
    rec.Flow(flow);
    JsonWriter& j = rec.json();
    j.Str("action", secrets::ViolationActionName(v.action))
        .Str("env_var", v.secret->spec.env_var)
        .Str("sni", sni)
        .Str("proto", site.proto)
        .Str("method", site.method)
        .Str("authority", site.authority)
        .Str("path", site.path)
        .Str("location", secrets::LocationName(v.location))
        .Str("form", secrets::MatchFormName(v.form));
    if (site.stream_id != 0) {
      j.Int("stream", site.stream_id);
    }
    audit_->Emit(std::move(rec));
  }
  if (v.action == ViolationAction::kBlockAndTerminate && !terminated_) {
    terminated_ = true;
    spdlog::error("secret {} sent toward {}: block-and-terminate ends the sandbox",
                  v.secret->spec.env_var, sni);
    if (terminate_) {
      terminate_();
    }
  }
}

std::unique_ptr<http::SecretGuard> MakeSecretGuard(const SessionContext& ctx, const AuditFlow& flow,
                                                   std::string host, bool tls_intercepted,
                                                   bool via_connect, http::SecretEvents* events) {
  if (ctx.secrets == nullptr) {
    return nullptr;
  }
  std::shared_ptr<const secrets::SecretSet> set = ctx.secrets->current();
  if (set == nullptr || set->empty()) {
    return nullptr;
  }
  secrets::ConnectionIdentity id;
  for (char& c : host) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  id.host = std::move(host);
  id.tls_intercepted = tls_intercepted;
  id.connect_tunnel = via_connect;
  const policy::HostAddresses& addrs = ctx.policy->host();
  id.host_alias =
      id.host == "host.microsandbox.internal" &&
      ((addrs.v4 && flow.dst.ip == *addrs.v4) || (addrs.v6 && flow.dst.ip == *addrs.v6));
  if (ctx.pins != nullptr) {
    id.pinned_names = ctx.pins->NamesFor(flow.dst.ip);
  }
  return std::make_unique<http::SecretGuard>(std::move(set), id, events);
}

}  // namespace msb::gateway
