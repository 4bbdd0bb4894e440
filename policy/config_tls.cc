// The `tls` section of the JSON network configuration, in microsandbox's wire format
// (docs/config.md): enabled, intercepted_ports, bypass, verify_upstream, block_quic_on_intercept,
// upstream_ca_cert, scoped_upstream_ca_cert(s), scoped_verify_upstream, intercept_ca (alias ca),
// cache. Strict like the rest of the file: unknown fields and wrong types are errors naming the
// JSON path; host patterns go through the one grammar (base/host_pattern.h).
#include <algorithm>

#include "policy/config.h"

namespace msb::policy {
namespace {

using config_internal::IndexPath;
using config_internal::IntegerField;
using config_internal::MemberPath;
using config_internal::PathError;
using config_internal::TypeError;
using config_internal::UnknownField;

Result<bool> Bool(const JsonValue& v, std::string_view path) {
  if (!v.is_bool()) {
    return TypeError(path, "a boolean", v);
  }
  return v.as_bool();
}

Result<std::string> Path(const JsonValue& v, std::string_view path) {
  if (!v.is_string()) {
    return TypeError(path, "a file path (string)", v);
  }
  if (v.as_string().empty() || v.as_string().find('\0') != std::string::npos) {
    return PathError(path, "the path is empty or holds a NUL byte");
  }
  return v.as_string();
}

Result<HostPattern> Pattern(const JsonValue& v, std::string_view path) {
  if (!v.is_string()) {
    return TypeError(path, "a host pattern (string)", v);
  }
  auto p = HostPattern::Parse(v.as_string());
  if (!p.ok()) {
    return PathError(path, p.error());
  }
  return p;
}

Status Ports(const JsonValue& v, std::string_view path, TlsSettings& tls) {
  if (!v.is_array()) {
    return TypeError(path, "an array of ports", v);
  }
  std::vector<uint16_t> ports;
  for (size_t i = 0; i < v.items().size(); ++i) {
    auto p = IntegerField(v.items()[i], IndexPath(path, i), 1, 65535);
    if (!p.ok()) {
      return p.status();
    }
    if (std::find(ports.begin(), ports.end(), p.value()) == ports.end()) {
      ports.push_back(static_cast<uint16_t>(p.value()));
    }
  }
  if (ports.empty()) {
    return PathError(path, "no ports given; omit the field for the default [443]");
  }
  tls.intercepted_ports = std::move(ports);
  return Status::Ok();
}

// ScopedList parses [{"pattern": P, KEY: V}, ...] calling `each(pattern, value, item_path)`.
template <typename F>
Status ScopedList(const JsonValue& v, std::string_view path, std::string_view key, F each) {
  if (!v.is_array()) {
    return TypeError(path, "an array of objects", v);
  }
  for (size_t i = 0; i < v.items().size(); ++i) {
    const JsonValue& item = v.items()[i];
    std::string item_path = IndexPath(path, i);
    if (!item.is_object()) {
      return TypeError(item_path, "an object", item);
    }
    const JsonValue* pattern = item.Find("pattern");
    const JsonValue* value = item.Find(key);
    for (const auto& [k, m] : item.members()) {
      if (k != "pattern" && k != key) {
        return UnknownField(MemberPath(item_path, k), k, {"pattern", key});
      }
    }
    if (pattern == nullptr || value == nullptr) {
      return PathError(item_path, "needs \"pattern\" and \"" + std::string(key) + "\"");
    }
    auto p = Pattern(*pattern, MemberPath(item_path, "pattern"));
    if (!p.ok()) {
      return p.status();
    }
    Status st = each(std::move(p).value(), *value, MemberPath(item_path, key));
    if (!st.ok()) {
      return st;
    }
  }
  return Status::Ok();
}

Status InterceptCa(const JsonValue& v, std::string_view path, TlsSettings& tls) {
  if (!v.is_object()) {
    return TypeError(path, "an object", v);
  }
  for (const auto& [key, member] : v.members()) {
    std::string mp = MemberPath(path, key);
    if (member.is_null()) {
      continue;
    }
    if (key != "cert_path" && key != "key_path") {
      return UnknownField(mp, key, {"cert_path", "key_path"});
    }
    auto p = Path(member, mp);
    if (!p.ok()) {
      return p.status();
    }
    (key == "cert_path" ? tls.intercept_ca_cert : tls.intercept_ca_key) = std::move(p).value();
  }
  if (tls.intercept_ca_cert.has_value() != tls.intercept_ca_key.has_value()) {
    return PathError(path, "give both cert_path and key_path, or neither");
  }
  return Status::Ok();
}

Status Cache(const JsonValue& v, std::string_view path, TlsSettings& tls) {
  if (!v.is_object()) {
    return TypeError(path, "an object", v);
  }
  for (const auto& [key, member] : v.members()) {
    std::string mp = MemberPath(path, key);
    if (member.is_null()) {
      continue;
    }
    if (key == "capacity") {
      auto n = IntegerField(member, mp, 0, 1000000);
      if (!n.ok()) {
        return n.status();
      }
      tls.cache_capacity = n.value();
    } else if (key == "validity_hours") {
      auto n = IntegerField(member, mp, 1, 397 * 24);
      if (!n.ok()) {
        return n.status();
      }
      tls.validity_hours = n.value();
    } else {
      return UnknownField(mp, key, {"capacity", "validity_hours"});
    }
  }
  return Status::Ok();
}

}  // namespace

Result<TlsSettings> config_internal::ParseTlsObject(const JsonValue& value, std::string_view path) {
  if (!value.is_object()) {
    return TypeError(path, "an object", value);
  }
  TlsSettings tls;
  for (const auto& [key, member] : value.members()) {
    std::string mp = MemberPath(path, key);
    if (member.is_null()) {
      continue;
    }
    Status st;
    if (key == "enabled" || key == "verify_upstream" || key == "block_quic_on_intercept") {
      auto b = Bool(member, mp);
      if (!b.ok()) {
        return b.status();
      }
      (key == "enabled"           ? tls.enabled
       : key == "verify_upstream" ? tls.verify_upstream
                                  : tls.block_quic_on_intercept) = b.value();
    } else if (key == "intercepted_ports") {
      st = Ports(member, mp, tls);
    } else if (key == "bypass") {
      if (!member.is_array()) {
        return TypeError(mp, "an array of host patterns", member);
      }
      for (size_t i = 0; i < member.items().size(); ++i) {
        auto p = Pattern(member.items()[i], IndexPath(mp, i));
        if (!p.ok()) {
          return p.status();
        }
        tls.bypass.push_back(std::move(p).value());
      }
    } else if (key == "upstream_ca_cert") {
      if (!member.is_array()) {
        return TypeError(mp, "an array of file paths", member);
      }
      for (size_t i = 0; i < member.items().size(); ++i) {
        auto p = Path(member.items()[i], IndexPath(mp, i));
        if (!p.ok()) {
          return p.status();
        }
        tls.upstream_ca_cert.push_back(std::move(p).value());
      }
    } else if (key == "scoped_upstream_ca_cert" || key == "scoped_upstream_ca_certs") {
      st = ScopedList(member, mp, "path",
                      [&](HostPattern p, const JsonValue& v, const std::string& vp) -> Status {
                        auto file = Path(v, vp);
                        if (!file.ok()) {
                          return file.status();
                        }
                        tls.scoped_upstream_ca_cert.emplace_back(std::move(p), file.value());
                        return Status::Ok();
                      });
    } else if (key == "scoped_verify_upstream") {
      st = ScopedList(member, mp, "verify",
                      [&](HostPattern p, const JsonValue& v, const std::string& vp) -> Status {
                        auto b = Bool(v, vp);
                        if (!b.ok()) {
                          return b.status();
                        }
                        tls.scoped_verify_upstream.emplace_back(std::move(p), b.value());
                        return Status::Ok();
                      });
    } else if (key == "intercept_ca" || key == "ca") {
      st = InterceptCa(member, mp, tls);
    } else if (key == "cache") {
      st = Cache(member, mp, tls);
    } else {
      return UnknownField(mp, key,
                          {"enabled", "intercepted_ports", "bypass", "verify_upstream",
                           "block_quic_on_intercept", "upstream_ca_cert", "scoped_upstream_ca_cert",
                           "scoped_verify_upstream", "intercept_ca", "cache"});
    }
    if (!st.ok()) {
      return st;
    }
  }
  return tls;
}

}  // namespace msb::policy
