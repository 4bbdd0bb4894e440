// Host-name validation shared by every module that accepts a DNS host name for TLS purposes: the
// SNI / authority parser (certs/server_name.h) and host patterns (base/host_pattern.h). One
// validator for one job, so a pattern can never be written for a name the parser would reject.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace msb {

inline constexpr size_t kMaxHostnameLength = 253;  // octets, without the optional trailing dot
inline constexpr size_t kMaxHostnameLabelLength = 63;
// Error messages show at most this many bytes of untrusted input.
inline constexpr size_t kMaxQuotedInput = 64;

// CanonicalHostname validates `text` as a DNS host name in strict LDH form and returns it ASCII-
// lowercased with one trailing dot removed. Rules: ASCII only; labels of 1..63 letters, digits and
// '-' (not first or last in a label; "--" in positions 3-4 is allowed, e.g. r3---sn-x.example);
// the whole name at most 253 octets; no empty label; a label starting with "xn--" must be a valid,
// canonically encoded Punycode A-label carrying at least one non-ASCII code point; the last label
// must not be numeric or 0x-hex (such names are mistyped or shorthand IPv4 literals, which
// resolvers would read as an address). '_' is rejected: no publicly trusted certificate can carry
// it (CA/Browser Forum ballot SC12) and OpenSSL's wildcard matching refuses it.
// On failure the Status message is a bare phrase ("a label is longer than 63 bytes") that callers
// prefix with their own context and QuoteUntrusted(text); it never echoes the input.
Result<std::string> CanonicalHostname(std::string_view text);

// IsCanonicalHostname: CanonicalHostname(name) succeeds and returns `name` unchanged.
bool IsCanonicalHostname(std::string_view name);

// QuoteUntrusted renders untrusted bytes for an error message: double-quoted, with '"' and '\'
// escaped and every byte outside printable ASCII written as \xNN, and cut after `max_bytes` input
// bytes (then `..." (N bytes)` follows), so a message stays one short line whatever a guest sent.
std::string QuoteUntrusted(std::string_view text, size_t max_bytes = kMaxQuotedInput);

}  // namespace msb
