// Character classes of the HTTP/1.1 grammar (RFC 9110 5.6, RFC 9112), shared by the head scanner,
// the chunked decoder, the head rules and the writer, so that what the parser accepts and what the
// writer agrees to emit are defined in one place.
#pragma once

#include <cstdint>
#include <string_view>

#include "base/strings.h"

namespace msb::gateway::http {

// tchar: "!#$%&'*+-.^_`|~" DIGIT ALPHA (field names, methods, tokens).
inline bool IsTokenChar(uint8_t c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

inline bool IsWhitespace(uint8_t c) {
  return c == ' ' || c == '\t';
}

// Field values, reason phrases: HTAB, SP, VCHAR and obs-text; never CR, LF, NUL, other controls
// or DEL.
inline bool IsFieldValueChar(uint8_t c) {
  return c == '\t' || (c >= 0x20 && c != 0x7F);
}

// Request-targets: visible ASCII only (no SP, controls, DEL, or non-ASCII).
inline bool IsTargetChar(uint8_t c) {
  return c >= 0x21 && c <= 0x7E;
}

inline bool IsDigit(uint8_t c) {
  return c >= '0' && c <= '9';
}

// HexValue is the value of a hex digit, or -1.
inline int HexValue(uint8_t c) { return HexDigitValue(static_cast<char>(c)); }

inline bool IsToken(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    if (!IsTokenChar(static_cast<uint8_t>(c))) {
      return false;
    }
  }
  return true;
}

inline bool IsFieldValue(std::string_view s) {
  for (char c : s) {
    if (!IsFieldValueChar(static_cast<uint8_t>(c))) {
      return false;
    }
  }
  // A value as stored has no surrounding whitespace (it would be trimmed away on re-parse).
  return s.empty() || (!IsWhitespace(static_cast<uint8_t>(s.front())) &&
                       !IsWhitespace(static_cast<uint8_t>(s.back())));
}

}  // namespace msb::gateway::http
