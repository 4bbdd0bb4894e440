// Punycode (RFC 3492): the ASCII encoding of Unicode labels used by IDNA A-labels ("xn--...").
// msb-gateway never converts names for display; it decodes A-labels only to reject garbage that
// merely starts with "xn--", and re-encodes to insist on the one canonical encoding of a label.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace msb {

// PunycodeDecode decodes the part of an A-label after "xn--". Digits are case-insensitive.
// Returns nullopt on any malformation: a non-basic byte before the last '-', an invalid digit, a
// truncated variable-length integer, or arithmetic overflow. Work is linear in the input times the
// output length; callers cap the input (labels are at most 63 bytes).
std::optional<std::u32string> PunycodeDecode(std::string_view encoded);

// PunycodeEncode is the inverse (lowercase digits). Returns nullopt on overflow or for code points
// above U+10FFFF.
std::optional<std::string> PunycodeEncode(std::u32string_view decoded);

}  // namespace msb
