// The --config file's `secrets` section (config_section.h), parsed as strictly as the rest of the
// file: unknown fields and wrong types are errors naming the JSON path (policy/config.h helpers),
// host patterns go through the one grammar, and nothing about "value" is ever quoted.
#include "secrets/config_section.h"

#include <array>

#include "base/strings.h"
#include "policy/config.h"

namespace msb::secrets {
namespace {

using policy::config_internal::IndexPath;
using policy::config_internal::MemberPath;
using policy::config_internal::PathError;
using policy::config_internal::TypeError;
using policy::config_internal::UnknownField;

Result<bool> Bool(const JsonValue& v, std::string_view path) {
  if (!v.is_bool()) {
    return TypeError(path, "a boolean", v);
  }
  return v.as_bool();
}

Result<std::string> String(const JsonValue& v, std::string_view path, std::string_view what) {
  if (!v.is_string()) {
    return TypeError(path, what, v);
  }
  return v.as_string();
}

Result<HostPattern> Pattern(const JsonValue& v, std::string_view path, bool allow_any) {
  if (!v.is_string()) {
    return TypeError(path, "a host pattern (string)", v);
  }
  auto p = HostPattern::Parse(v.as_string(), allow_any);
  if (!p.ok()) {
    return PathError(path, p.error());
  }
  return p;
}

// AllowedHost: {"exact": NAME} | {"wildcard": "*.SUFFIX"} | "any" | a bare pattern string.
Result<HostPattern> AllowedHost(const JsonValue& v, std::string_view path) {
  if (v.is_string()) {
    if (v.as_string() == "any") {
      return HostPattern::Parse("*", /*allow_any=*/true);
    }
    return Pattern(v, path, /*allow_any=*/true);
  }
  if (!v.is_object()) {
    return TypeError(path, R"("any", {"exact": NAME} or {"wildcard": "*.SUFFIX"})", v);
  }
  if (v.members().size() != 1) {
    return PathError(path, R"(expected exactly one of "exact" or "wildcard")");
  }
  const auto& [key, member] = v.members()[0];
  std::string mp = MemberPath(path, key);
  if (key != "exact" && key != "wildcard") {
    return UnknownField(mp, key, {"exact", "wildcard"});
  }
  auto p = Pattern(member, mp, /*allow_any=*/false);
  if (!p.ok()) {
    return p;
  }
  if (key == "exact" && p.value().kind() != HostPattern::Kind::kExact) {
    return PathError(mp, R"(expected a host name; a pattern with '*' goes in {"wildcard": ...})");
  }
  if (key == "wildcard" && p.value().kind() != HostPattern::Kind::kWildcard) {
    return PathError(mp, R"(expected "*.SUFFIX"; a single host goes in {"exact": ...})");
  }
  return p;
}

Status AllowedHosts(const JsonValue& v, std::string_view path, SecretSpec* spec) {
  if (!v.is_array()) {
    return TypeError(path, "an array of hosts", v);
  }
  for (size_t i = 0; i < v.items().size(); ++i) {
    auto p = AllowedHost(v.items()[i], IndexPath(path, i));
    if (!p.ok()) {
      return p.status();
    }
    spec->allowed_hosts.push_back(std::move(p).value());
  }
  if (spec->allowed_hosts.empty()) {
    return PathError(path, "at least one host is required");
  }
  return Status::Ok();
}

Status InjectionObject(const JsonValue& v, std::string_view path, Injection* inj) {
  if (!v.is_object()) {
    return TypeError(path, "an object", v);
  }
  for (const auto& [key, member] : v.members()) {
    std::string mp = MemberPath(path, key);
    bool* field = key == "headers"        ? &inj->headers
                  : key == "basic_auth"   ? &inj->basic_auth
                  : key == "query_params" ? &inj->query
                  : key == "body"         ? &inj->body
                                          : nullptr;
    if (field == nullptr) {
      return UnknownField(mp, key, {"headers", "basic_auth", "query_params", "body"});
    }
    auto b = Bool(member, mp);
    if (!b.ok()) {
      return b.status();
    }
    *field = b.value();
  }
  return Status::Ok();
}

// OnViolation: an action name, or {"passthrough": [PATTERN...]}.
Status OnViolation(const JsonValue& v, std::string_view path, ViolationAction* action,
                   std::vector<HostPattern>* hosts) {
  if (v.is_string()) {
    auto a = ParseViolationAction(v.as_string());
    if (!a.ok()) {
      return PathError(path, a.error());
    }
    *action = a.value();
    return Status::Ok();
  }
  if (!v.is_object()) {
    return TypeError(path, R"(an action name or {"passthrough": [HOST...]})", v);
  }
  if (v.members().size() != 1 || v.members()[0].first != "passthrough") {
    const std::string& key = v.members().empty() ? std::string() : v.members()[0].first;
    if (v.members().empty() || key == "passthrough") {
      return PathError(path, R"(expected {"passthrough": [HOST...]})");
    }
    return UnknownField(MemberPath(path, key), key, {"passthrough"});
  }
  std::string mp = MemberPath(path, "passthrough");
  const JsonValue& list = v.members()[0].second;
  if (!list.is_array()) {
    return TypeError(mp, "an array of host patterns", list);
  }
  hosts->clear();
  for (size_t i = 0; i < list.items().size(); ++i) {
    auto p = Pattern(list.items()[i], IndexPath(mp, i), /*allow_any=*/true);
    if (!p.ok()) {
      return p.status();
    }
    hosts->push_back(std::move(p).value());
  }
  *action = ViolationAction::kPassthrough;
  return Status::Ok();
}

Status Source(const JsonValue& v, std::string_view path, std::string_view base_dir,
              SecretSource* source) {
  if (!v.is_object()) {
    return TypeError(path, R"({"kind": "env", "var": NAME} or {"kind": "file", "path": PATH})", v);
  }
  const JsonValue* kind = v.Find("kind");
  std::string kp = MemberPath(path, "kind");
  if (kind == nullptr) {
    return PathError(path, R"(needs "kind": "env" or "file")");
  }
  if (!kind->is_string()) {
    return TypeError(kp, "a string", *kind);
  }
  const std::string& k = kind->as_string();
  if (k == "store") {
    return PathError(kp, R"(a secret store is not supported; use {"kind": "env", "var": NAME} or )"
                         R"({"kind": "file", "path": PATH})");
  }
  if (k != "env" && k != "file") {
    constexpr std::array<std::string_view, 2> kKinds = {"env", "file"};
    std::string msg = "unknown source kind: expected \"env\" or \"file\"";
    if (auto s = Suggest(k, kKinds)) {
      msg += " (did you mean \"" + std::string(*s) + "\"?)";
    }
    return PathError(kp, msg);
  }
  const std::string_view field = k == "env" ? "var" : "path";
  const JsonValue* target = nullptr;
  for (const auto& [key, member] : v.members()) {
    if (key == "kind") {
      continue;
    }
    if (key != field) {
      return UnknownField(MemberPath(path, key), key, {"kind", field});
    }
    target = &member;
  }
  std::string fp = MemberPath(path, field);
  if (target == nullptr) {
    return PathError(path, "needs \"" + std::string(field) + "\"");
  }
  if (!target->is_string()) {
    return TypeError(
        fp, k == "env" ? "an environment variable name (string)" : "a file path (string)", *target);
  }
  const std::string& s = target->as_string();
  if (s.empty() || s.find('\0') != std::string::npos ||
      (k == "env" && s.find('=') != std::string::npos)) {
    return PathError(fp, k == "env" ? "the name is empty or holds '=' or a NUL byte"
                                    : "the path is empty or holds a NUL byte");
  }
  if (k == "env") {
    source->kind = SecretSource::Kind::kEnv;
    source->name = s;
  } else {
    source->kind = SecretSource::Kind::kFile;
    source->name = s.front() == '/' || base_dir.empty() ? s : std::string(base_dir) + "/" + s;
  }
  return Status::Ok();
}

Result<SecretSpec> Entry(const JsonValue& v, std::string_view path, std::string_view base_dir) {
  if (!v.is_object()) {
    return TypeError(path, "an object", v);
  }
  SecretSpec spec;
  const JsonValue* value = nullptr;
  const JsonValue* source = nullptr;
  bool has_placeholder = false;
  bool has_hosts = false;
  for (const auto& [key, member] : v.members()) {
    std::string mp = MemberPath(path, key);
    if (key == "env_var") {
      auto s = String(member, mp, "an environment variable name (string)");
      if (!s.ok()) {
        return s.status();
      }
      spec.env_var = std::move(s).value();
    } else if (key == "value") {
      if (!member.is_string()) {
        return TypeError(mp, "a string", member);
      }
      value = &member;
    } else if (key == "source") {
      if (!member.is_null()) {
        source = &member;
      }
    } else if (key == "placeholder") {
      auto s = String(member, mp, "a string");
      if (!s.ok()) {
        return s.status();
      }
      spec.placeholder = std::move(s).value();
      has_placeholder = true;
    } else if (key == "allowed_hosts") {
      Status st = AllowedHosts(member, mp, &spec);
      if (!st.ok()) {
        return st;
      }
      has_hosts = true;
    } else if (key == "injection") {
      Status st = InjectionObject(member, mp, &spec.injection);
      if (!st.ok()) {
        return st;
      }
    } else if (key == "on_violation") {
      if (member.is_null()) {
        continue;
      }
      ViolationAction action = ViolationAction::kBlockAndLog;
      Status st = OnViolation(member, mp, &action, &spec.passthrough_hosts);
      if (!st.ok()) {
        return st;
      }
      spec.on_violation = action;
    } else if (key == "require_tls_identity") {
      auto b = Bool(member, mp);
      if (!b.ok()) {
        return b.status();
      }
      spec.require_tls_identity = b.value();
    } else {
      return UnknownField(mp, key,
                          {"env_var", "value", "source", "placeholder", "allowed_hosts",
                           "injection", "on_violation", "require_tls_identity"});
    }
  }
  if (v.Find("env_var") == nullptr) {
    return PathError(path, "needs \"env_var\"");
  }
  if (!has_hosts) {
    return PathError(path, "needs \"allowed_hosts\" (at least one host)");
  }
  // The wire format writes "value": "" next to a "source": an empty value is no value.
  const bool has_value = value != nullptr && !value->as_string().empty();
  if (has_value && source != nullptr) {
    return PathError(path, R"(give either "value" or "source", not both)");
  }
  if (!has_value && source == nullptr) {
    return PathError(path, value != nullptr ? R"("value" is empty and there is no "source")"
                                            : R"(needs "value" or "source")");
  }
  if (has_value) {
    spec.source.kind = SecretSource::Kind::kInline;
    spec.source.inline_value = SecretValue::Adopt(std::string(value->as_string()));
  } else {
    Status st = Source(*source, MemberPath(path, "source"), base_dir, &spec.source);
    if (!st.ok()) {
      return st;
    }
  }
  if (!has_placeholder) {
    spec.placeholder = DefaultPlaceholder(spec.env_var);
  }
  Status st = ValidateSpec(spec);
  if (!st.ok()) {
    // ValidateSpec says "field: what"; the field is a member of this entry.
    return Status::Error(std::string(path) + "." + st.message());
  }
  return spec;
}

}  // namespace

Result<SecretsConfig> ParseSecretsSection(const JsonValue& section, std::string_view path,
                                          std::string_view base_dir) {
  if (!section.is_object()) {
    return TypeError(path, "an object", section);
  }
  SecretsConfig config;
  for (const auto& [key, member] : section.members()) {
    std::string mp = MemberPath(path, key);
    if (key == "secrets") {
      if (!member.is_array()) {
        return TypeError(mp, "an array of secrets", member);
      }
      for (size_t i = 0; i < member.items().size(); ++i) {
        auto spec = Entry(member.items()[i], IndexPath(mp, i), base_dir);
        if (!spec.ok()) {
          return spec.status();
        }
        config.specs.push_back(std::move(spec).value());
      }
    } else if (key == "on_violation") {
      Status st = OnViolation(member, mp, &config.on_violation, &config.passthrough_hosts);
      if (!st.ok()) {
        return st;
      }
    } else {
      return UnknownField(mp, key, {"secrets", "on_violation"});
    }
  }
  return config;
}

}  // namespace msb::secrets
