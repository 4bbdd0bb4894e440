// The `--config FILE` parser (config.h), first half: the document's top level, the "dns" section,
// and the error helpers both halves share. The "policy" section is in config_rules.cc. Every error
// starts with the JSON path of the offending value, because a config file is edited by hand and
// "invalid config" alone would leave the user searching.
#include "policy/config.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <iterator>
#include <span>
#include <string>
#include <system_error>

#include "base/strings.h"

namespace msb::policy {
namespace config_internal {
namespace {

bool IsPlainKey(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string_view FoundName(const JsonValue& v) {
  switch (v.kind()) {
    case JsonValue::Kind::kNull:
      return "null";
    case JsonValue::Kind::kBool:
      return "a boolean";
    case JsonValue::Kind::kNumber:
      return "a number";
    case JsonValue::Kind::kString:
      return "a string";
    case JsonValue::Kind::kArray:
      return "an array";
    case JsonValue::Kind::kObject:
      return "an object";
  }
  return "?";
}

// NumberText renders a number for "found ..." messages: integers exactly, others in the shortest
// form that reads back to the same double.
std::string NumberText(const JsonValue& v) {
  if (auto u = v.as_uint64()) {
    return std::to_string(*u);
  }
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), v.as_double());
  return ec == std::errc() ? std::string(buffer, end) : std::string("a number");
}

}  // namespace

std::string MemberPath(std::string_view path, std::string_view key) {
  if (IsPlainKey(key)) {
    return std::string(path) + "." + std::string(key);
  }
  return std::string(path) + "[" + QuoteForMessage(key) + "]";
}

std::string IndexPath(std::string_view path, size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

Status PathError(std::string_view path, std::string_view what) {
  return Status::Error(std::string(path) + ": " + std::string(what));
}

Status TypeError(std::string_view path, std::string_view expected, const JsonValue& found) {
  return PathError(
      path, "expected " + std::string(expected) + ", found " + std::string(FoundName(found)));
}

Status UnknownField(std::string_view member_path, std::string_view key,
                    std::initializer_list<std::string_view> known) {
  std::span<const std::string_view> names(known.begin(), known.size());
  return PathError(member_path, "unknown field: expected " + ListAlternatives(names, true) +
                                    SuggestionNote(Suggestions(key, names)));
}

Result<uint64_t> IntegerField(const JsonValue& value, std::string_view path, uint64_t min,
                              uint64_t max) {
  std::string expected = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!value.is_number()) {
    return TypeError(path, expected, value);
  }
  auto u = value.as_uint64();
  if (!u || *u < min || *u > max) {
    // 1000.0 or 1e3 is in range yet not an integer as JSON writes one; say why it was refused.
    double d = value.as_double();
    bool integral_in_range =
        !u && d == std::floor(d) && d >= static_cast<double>(min) && d <= static_cast<double>(max);
    std::string found = NumberText(value);
    if (integral_in_range) {
      found += " written with a fraction or an exponent (write " +
               std::to_string(static_cast<uint64_t>(d)) + ")";
    }
    return PathError(path, "expected " + expected + ", found " + found);
  }
  return *u;
}

}  // namespace config_internal

namespace {

using config_internal::IndexPath;
using config_internal::IntegerField;
using config_internal::MemberPath;
using config_internal::PathError;
using config_internal::TypeError;

constexpr uint64_t kMaxConnections = 65536;
constexpr uint64_t kMaxQueryTimeoutMs = 600000;
constexpr size_t kMaxNameservers = 16;

// Sections of microsandbox's wire format that this version does not implement. Accepting and
// ignoring them would silently drop protections (TLS interception, secrets) the user asked for.
constexpr std::string_view kUnsupportedSections[] = {"rate_limiter"};

// kTopLevelFields are the suggestions for an unknown top-level field: the supported ones and the
// unsupported sections (so "rate_limit" is told that "rate_limiter" exists but is not supported).
constexpr std::array<std::string_view, 10> kTopLevelFields = {
    "policy",  "dns",   "max_connections", "enabled",      "tls",
    "secrets", "ports", "interface",       "rate_limiter", "trust_host_cas"};

bool IsSpaceOrControl(char c) {
  auto byte = static_cast<unsigned char>(c);
  return byte <= 0x20 || byte == 0x7f;
}

Status ParseNameservers(const JsonValue& value, std::string_view path, DnsSettings& dns) {
  if (!value.is_array()) {
    return TypeError(path, "an array of strings", value);
  }
  if (value.items().size() > kMaxNameservers) {
    return PathError(path, std::to_string(value.items().size()) + " nameservers given; at most " +
                               std::to_string(kMaxNameservers) + " are allowed");
  }
  for (size_t i = 0; i < value.items().size(); ++i) {
    const JsonValue& item = value.items()[i];
    std::string item_path = IndexPath(path, i);
    if (!item.is_string()) {
      return TypeError(item_path, "a string", item);
    }
    const std::string& text = item.as_string();
    if (text.empty()) {
      return PathError(item_path,
                       "the nameserver is empty: expected IP, IP:PORT, [IPv6]:PORT, HOST or "
                       "HOST:PORT");
    }
    if (std::any_of(text.begin(), text.end(), IsSpaceOrControl)) {
      return PathError(item_path, "nameserver " + QuoteForMessage(text) +
                                      " contains whitespace or a control character");
    }
    dns.nameservers.push_back(text);
  }
  return Status::Ok();
}

Result<DnsSettings> ParseDns(const JsonValue& value, std::string_view path) {
  if (!value.is_object()) {
    return TypeError(path, "an object", value);
  }
  DnsSettings dns;
  for (const auto& [key, member] : value.members()) {
    std::string member_path = MemberPath(path, key);
    if (member.is_null()) {
      continue;  // null is the wire format's "not set"
    }
    if (key == "nameservers") {
      Status status = ParseNameservers(member, member_path, dns);
      if (!status.ok()) {
        return status;
      }
    } else if (key == "rebind_protection") {
      if (!member.is_bool()) {
        return TypeError(member_path, "a boolean", member);
      }
      dns.rebind_protection = member.as_bool();
    } else if (key == "query_timeout_ms") {
      auto timeout = IntegerField(member, member_path, 1, kMaxQueryTimeoutMs);
      if (!timeout.ok()) {
        return timeout.status();
      }
      dns.query_timeout_ms = timeout.value();
    } else {
      return config_internal::UnknownField(
          member_path, key, {"nameservers", "rebind_protection", "query_timeout_ms"});
    }
  }
  return dns;
}

bool IsUnsupportedSection(std::string_view key) {
  return std::any_of(std::begin(kUnsupportedSections), std::end(kUnsupportedSections),
                     [key](std::string_view section) { return key == section; });
}

// ParseTopLevelMember handles one member of the document object.
Status ParseTopLevelMember(std::string_view key, const JsonValue& member, NetworkConfig& config) {
  std::string path = MemberPath("$", key);
  if (member.is_null()) {
    return Status::Ok();  // null is the wire format's "not set", e.g. "max_connections": null
  }
  if (key == "policy") {
    auto policy = config_internal::ParsePolicyObject(member, path);
    if (!policy.ok()) {
      return policy.status();
    }
    config.policy = std::move(policy).value();
  } else if (key == "dns") {
    auto dns = ParseDns(member, path);
    if (!dns.ok()) {
      return dns.status();
    }
    config.dns = std::move(dns).value();
  } else if (key == "max_connections") {
    auto max = IntegerField(member, path, 1, kMaxConnections);
    if (!max.ok()) {
      return max.status();
    }
    config.max_connections = max.value();
  } else if (key == "tls") {
    auto tls = config_internal::ParseTlsObject(member, path);
    if (!tls.ok()) {
      return tls.status();
    }
    config.tls = std::move(tls).value();
  } else if (key == "interface") {
    auto interface = config_internal::ParseInterfaceObject(member, path);
    if (!interface.ok()) {
      return interface.status();
    }
    config.interface = std::move(interface).value();
  } else if (key == "trust_host_cas") {
    if (!member.is_bool()) {
      return TypeError(path, "a boolean", member);
    }
    config.trust_host_cas = member.as_bool();
  } else if (key == "enabled") {
    if (!member.is_bool()) {
      return TypeError(path, "a boolean", member);
    }
    if (!member.as_bool()) {
      return PathError(path, "disabling the network device is not supported; use policy none");
    }
  } else if (key == "ports") {
    auto ports = config_internal::ParsePortsArray(member, path);
    if (!ports.ok()) {
      return ports.status();
    }
    config.ports = std::move(ports).value();
  } else if (key == "secrets") {
    if (!member.is_object()) {
      return TypeError(path, "an object", member);
    }
    config.secrets = member;  // parsed by secrets/config_section.h (values never reach policy/)
  } else if (IsUnsupportedSection(key)) {
    return PathError(path, "not supported by this version of msb-gateway");
  } else {
    return PathError(
        path,
        "unknown field: expected \"policy\", \"dns\", \"tls\", \"secrets\", "
        "\"interface\", \"ports\", \"trust_host_cas\", \"max_connections\" or \"enabled\"" +
            SuggestionNote(Suggestions(key, kTopLevelFields)));
  }
  return Status::Ok();
}

}  // namespace

Result<NetworkConfig> ParseNetworkConfig(std::string_view json_text) {
  auto document = ParseJson(json_text);
  if (!document.ok()) {
    return document.status();
  }
  const JsonValue& root = document.value();
  if (!root.is_object()) {
    return TypeError("$", "an object", root);
  }
  NetworkConfig config;
  for (const auto& [key, member] : root.members()) {
    Status status = ParseTopLevelMember(key, member, config);
    if (!status.ok()) {
      return status;
    }
  }
  return config;
}

}  // namespace msb::policy
