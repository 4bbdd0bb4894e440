// SecretSet::Load: reads every secret's value from its source and checks the set as a whole
// (placeholders unique and never inside one another). Errors name the secret, the variable or the
// path, never the value.
#include "secrets/secret_set.h"

#include <openssl/crypto.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace msb::secrets {
namespace {

constexpr size_t kMaxValueFileBytes = 1 << 20;

void WipeString(std::string* s) {
  OPENSSL_cleanse(s->data(), s->capacity());
  s->clear();
}

Result<std::string> ReadValueFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return Status::Error("cannot read " + path + ": " + std::strerror(errno));
  }
  std::string data;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    data.append(buf, n);
    if (data.size() > kMaxValueFileBytes) {
      std::fclose(f);
      OPENSSL_cleanse(buf, sizeof(buf));
      WipeString(&data);
      return Status::Error("cannot read " + path + ": larger than 1 MiB");
    }
  }
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  OPENSSL_cleanse(buf, sizeof(buf));
  if (failed) {
    WipeString(&data);
    return Status::Error("cannot read " + path + ": " + std::strerror(err));
  }
  return data;
}

Result<SecretValue> ReadSource(const SecretSpec& spec, const SecretSet::EnvLookup& env,
                               const SecretSet::FileReader& read_file) {
  const std::string prefix = "secret " + spec.env_var + ": ";
  switch (spec.source.kind) {
    case SecretSource::Kind::kEnv: {
      std::optional<std::string> v = env(spec.source.name);
      if (!v.has_value()) {
        return Status::Error(prefix + "environment variable " + spec.source.name + " is not set");
      }
      if (v->empty()) {
        return Status::Error(prefix + "environment variable " + spec.source.name + " is empty");
      }
      return SecretValue::Adopt(std::move(*v));
    }
    case SecretSource::Kind::kFile: {
      Result<std::string> data = read_file(spec.source.name);
      if (!data.ok()) {
        return Status::Error(prefix + data.error());
      }
      std::string& d = data.value();
      // The one trailing newline an editor or `echo` leaves is not part of the value.
      if (d.size() >= 2 && d.compare(d.size() - 2, 2, "\r\n") == 0) {
        d.resize(d.size() - 2);
      } else if (!d.empty() && d.back() == '\n') {
        d.pop_back();
      }
      if (d.empty()) {
        return Status::Error(prefix + "file " + spec.source.name + " is empty");
      }
      return SecretValue::Adopt(std::move(d));
    }
    case SecretSource::Kind::kInline:
      if (spec.source.inline_value.empty()) {
        return Status::Error(prefix + "the value is empty");
      }
      return spec.source.inline_value;
  }
  return Status::Error(prefix + "unknown source");
}

}  // namespace

Result<std::shared_ptr<const SecretSet>> SecretSet::Load(const SecretsConfig& config,
                                                         const EnvLookup& env,
                                                         const FileReader& read_file) {
  auto set = std::make_shared<SecretSet>();
  set->default_action_ = config.on_violation;
  set->passthrough_ = config.passthrough_hosts;
  for (const SecretSpec& spec : config.specs) {
    Status st = ValidateSpec(spec);
    if (!st.ok()) {
      return Status::Error("secret " + spec.env_var + ": " + st.message());
    }
    Result<SecretValue> value = ReadSource(spec, env, read_file);
    if (!value.ok()) {
      return value.status();
    }
    if (value.value().Reveal().find_first_of(std::string_view("\0\r\n", 3)) !=
        std::string_view::npos) {
      return Status::Error("secret " + spec.env_var +
                           ": the value holds a NUL, CR or LF byte (it could not travel in a "
                           "header)");
    }
    Secret secret{spec, std::move(value).value()};
    secret.spec.source.inline_value = SecretValue();
    set->max_placeholder_ = std::max(set->max_placeholder_, secret.spec.placeholder.size());
    set->max_value_ = std::max(set->max_value_, secret.value.size());
    set->secrets_.push_back(std::move(secret));
  }
  const auto& s = set->secrets_;
  for (size_t i = 0; i < s.size(); ++i) {
    for (size_t j = i + 1; j < s.size(); ++j) {
      const std::string& a = s[i].spec.placeholder;
      const std::string& b = s[j].spec.placeholder;
      if (a == b) {
        if (s[i].spec.env_var != s[j].spec.env_var) {
          return Status::Error("secrets " + s[i].spec.env_var + " and " + s[j].spec.env_var +
                               " use the same placeholder; give each its own");
        }
        continue;
      }
      if (b.find(a) != std::string::npos || a.find(b) != std::string::npos) {
        const bool a_in_b = b.find(a) != std::string::npos;
        const std::string& inner = a_in_b ? s[i].spec.env_var : s[j].spec.env_var;
        const std::string& outer = a_in_b ? s[j].spec.env_var : s[i].spec.env_var;
        return Status::Error("the placeholder of secret " + inner +
                             " is a substring of the placeholder of secret " + outer +
                             " (one would match inside the other); give them distinct "
                             "placeholders");
      }
    }
  }
  return std::shared_ptr<const SecretSet>(std::move(set));
}

Result<std::shared_ptr<const SecretSet>> SecretSet::Load(const SecretsConfig& config) {
  return Load(
      config,
      [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (v == nullptr) {
          return std::nullopt;
        }
        return std::string(v);
      },
      ReadValueFile);
}

std::vector<std::pair<std::string, std::string>> PlaceholderEnvironment(const SecretSet& set) {
  std::vector<std::pair<std::string, std::string>> env;
  for (const Secret& s : set.secrets()) {
    bool seen = false;
    for (const auto& [name, value] : env) {
      seen = seen || name == s.spec.env_var;
    }
    if (!seen) {
      env.emplace_back(s.spec.env_var, s.spec.placeholder);
    }
  }
  return env;
}

}  // namespace msb::secrets
