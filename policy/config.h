// The JSON network configuration (`--config FILE`) in microsandbox's wire format (docs/config.md):
//   {"policy": {"default_egress", "default_ingress", "rules": [...]},
//    "dns": {"nameservers", "rebind_protection", "query_timeout_ms"},
//    "tls": {...}, "secrets": {...}, "interface": {...}, "ports": [...], "trust_host_cas": bool,
//    "max_connections": N}
// Parsing is pure (text in, struct out). Unknown fields and invalid values are errors naming the
// JSON path, e.g. `$.policy.rules[2].destination.group: unknown group "privat" (did you mean
// "private"?)`. Sections of the wire format this version does not implement yet (`rate_limiter`)
// are errors saying so, never silently ignored.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/host_pattern.h"
#include "base/ip_address.h"
#include "base/json.h"
#include "base/status.h"
#include "policy/publish_spec.h"
#include "policy/rule_error.h"
#include "policy/types.h"

namespace msb::policy {

struct DnsSettings {
  std::vector<std::string> nameservers;  // as written; validated by the gateway's resolver set-up
  std::optional<bool> rebind_protection;
  std::optional<uint64_t> query_timeout_ms;  // 1..600000
};

// TlsSettings is the `tls` section (docs/config.md); unset members keep the gateway's defaults.
struct TlsSettings {
  std::optional<bool> enabled;
  std::optional<std::vector<uint16_t>> intercepted_ports;
  std::vector<HostPattern> bypass;
  std::optional<bool> verify_upstream;
  std::optional<bool> block_quic_on_intercept;
  std::vector<std::string> upstream_ca_cert;  // paths
  std::vector<std::pair<HostPattern, std::string>> scoped_upstream_ca_cert;
  std::vector<std::pair<HostPattern, bool>> scoped_verify_upstream;
  std::optional<std::string> intercept_ca_cert;  // both or neither
  std::optional<std::string> intercept_ca_key;
  std::optional<uint64_t> cache_capacity;  // 0 = the default (1000)
  std::optional<uint64_t> validity_hours;  // 1..9528 (397 days)
};

// The guest link's MTU bounds, for --mtu and the `interface` section alike.
inline constexpr uint64_t kMinLinkMtu = 576;
inline constexpr uint64_t kMaxLinkMtu = 65520;

// InterfaceSettings is the `interface` section. Addresses follow microsandbox's derivation: the
// guest's IPv4 address is the second of a /30 (from `ipv4_address`, or the first /30 of
// `ipv4_pool`), and the gateway's the first.
struct InterfaceSettings {
  std::optional<std::array<uint8_t, 6>> mac;  // the guest's
  std::optional<uint16_t> mtu;
  std::optional<IpAddress> guest_v4;
  std::optional<IpAddress> gateway_v4;  // set whenever guest_v4 is
  // IPv6: `ipv6_address` (or ::2 of `ipv6_pool`'s first /64); the gateway is ::1 of that /64.
  std::optional<IpAddress> guest_v6;
  std::optional<IpAddress> gateway_v6;  // set whenever guest_v6 is
};

struct NetworkConfig {
  // The policy object when present. Missing fields inside it take the wire format's fail-closed
  // defaults: default_egress deny, default_ingress deny, no rules.
  std::optional<Policy> policy;
  DnsSettings dns;
  std::optional<uint64_t> max_connections;  // 1..65536
  std::optional<TlsSettings> tls;
  std::optional<InterfaceSettings> interface;
  // trust_host_cas: accepted for compatibility; `run` always keeps the host's roots in the
  // sandbox's bundle (docs/tls.md).
  std::optional<bool> trust_host_cas;
  // The `secrets` section as written (an object); secrets/config_section.h parses it, so secret
  // values never pass through policy types.
  std::optional<JsonValue> secrets;
  // The `ports` section: published ports (publish_spec.h), validated like --publish (no two on the
  // same host socket).
  std::vector<PublishedPort> ports;
};

Result<NetworkConfig> ParseNetworkConfig(std::string_view json_text);

// ParseConfigRule parses one rule object of the "policy" section as found at `path` (e.g.
// "$.policy.rules[0]"), the way ParseNetworkConfig does for each rule. Errors start with the JSON
// path and keep their kind (rule_error.h), the same kind the --net-rule grammar gives the same
// rule.
RuleResult<Rule> ParseConfigRule(const JsonValue& value, std::string_view path);

// Shared by the parser's two halves (config.cc: the document, dns; config_rules.cc: the policy).
// Not for other callers.
namespace config_internal {

// MemberPath appends `.key`, or `["key"]` (quoted for a message) when the key is not a plain word.
std::string MemberPath(std::string_view path, std::string_view key);
std::string IndexPath(std::string_view path, size_t index);
// PathError is "PATH: what".
Status PathError(std::string_view path, std::string_view what);
// TypeError is "PATH: expected EXPECTED, found a string" (or "an object", "null", ...).
Status TypeError(std::string_view path, std::string_view expected, const JsonValue& found);
// UnknownField is "PATH.key: unknown field: expected "a", "b" or "c" (did you mean "a"?)".
Status UnknownField(std::string_view member_path, std::string_view key,
                    std::initializer_list<std::string_view> known);
// IntegerField accepts a JSON integer (no fraction, no exponent) within [min, max].
Result<uint64_t> IntegerField(const JsonValue& value, std::string_view path, uint64_t min,
                              uint64_t max);
// CidrField is rule_check.h's ParseCidr worded for a JSON string at `path` (IPv6 without
// brackets).
RuleResult<IpPrefix> CidrField(std::string_view text, std::string_view path);
// ParsePolicyObject parses the "policy" section.
Result<Policy> ParsePolicyObject(const JsonValue& value, std::string_view path);
// ParseTlsObject parses the "tls" section (config_tls.cc).
Result<TlsSettings> ParseTlsObject(const JsonValue& value, std::string_view path);
// ParseInterfaceObject parses the "interface" section (config_interface.cc).
Result<InterfaceSettings> ParseInterfaceObject(const JsonValue& value, std::string_view path);
// ParsePortsArray parses the "ports" section (config_ports.cc).
Result<std::vector<PublishedPort>> ParsePortsArray(const JsonValue& value, std::string_view path);

}  // namespace config_internal

}  // namespace msb::policy
