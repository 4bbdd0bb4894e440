// ServerName: a validated, canonical TLS server name (SNI host name or IP literal). Every name
// that reaches certificate code (leaf minting, the leaf cache key, upstream verification) has come
// through ParseServerName first, so OpenSSL never sees raw guest bytes as a name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/ip_address.h"
#include "base/status.h"

namespace msb::certs {

enum class ServerNameKind : uint8_t { kHostname, kIp };

struct ServerName {
  ServerNameKind kind = ServerNameKind::kHostname;
  // text is canonical: a host name ASCII-lowercased with one trailing dot stripped, or the IP in
  // IpAddress::ToString form (dotted quad; RFC 5952 IPv6, no brackets).
  std::string text;
  // ip is set exactly when kind == kIp.
  std::optional<IpAddress> ip;

  bool is_ip() const { return kind == ServerNameKind::kIp; }
  friend bool operator==(const ServerName&, const ServerName&) = default;
};

// Longest raw input considered at all (a 253-octet name plus its trailing dot, with slack for a
// bracketed IPv6 literal); anything longer is rejected before it is looked at.
inline constexpr size_t kMaxRawServerNameLength = 254;

// ParseServerName validates raw bytes as found in a ClientHello SNI or an HTTP authority's host
// part (without the port):
//   - IPv4: strict dotted quad only ("1.2.3.4"; no leading zeros, octal, hex or fewer parts;
//     no trailing dot).
//   - IPv6: bare ("2001:db8::1") or in brackets ("[2001:db8::1]") as in an HTTP authority; no
//     zone id. Canonical text is bare.
//   - Host name: base/hostname.h CanonicalHostname (strict LDH, Punycode A-labels decoded and
//     checked, at most 253 octets, last label not numeric: "1.2.3" is rejected as ambiguous).
// Errors say what is wrong and quote at most 64 bytes of the input, escaped (no control bytes).
Result<ServerName> ParseServerName(std::string_view raw);

// ServerNameFromIp builds the kIp name for an address (e.g. an upstream reached without SNI).
ServerName ServerNameFromIp(const IpAddress& ip);

}  // namespace msb::certs
