// Strict LDH host-name validation (see hostname.h). Each rejection names the first problem found,
// in input order, so a user sees the error closest to where they typed it.
#include "base/hostname.h"

#include <algorithm>

#include "base/punycode.h"

namespace msb {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsHexDigit(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f');
}

bool IsLdh(char c) {
  return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-';
}

char ToLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// ValidALabel: `label` (lowercase, starting with "xn--") decodes, carries at least one non-ASCII
// code point (an all-ASCII decode is not an A-label), holds no control, surrogate or
// noncharacter code points, and re-encodes to exactly itself (one encoding per label).
bool ValidALabel(std::string_view label) {
  std::string_view encoded = label.substr(4);
  if (encoded.empty()) {
    return false;
  }
  auto decoded = PunycodeDecode(encoded);
  if (!decoded) {
    return false;
  }
  bool any_non_ascii = false;
  for (char32_t c : *decoded) {
    if (c >= 0x80) {
      any_non_ascii = true;
    }
    bool control = c >= 0x80 && c < 0xA0;
    bool surrogate = c >= 0xD800 && c <= 0xDFFF;
    bool nonchar = (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE;
    if (control || surrogate || nonchar) {
      return false;
    }
  }
  if (!any_non_ascii) {
    return false;
  }
  auto again = PunycodeEncode(*decoded);
  return again && *again == encoded;
}

// LastLabelLooksNumeric: "10.0.0.256", "1.2.3" and "1.0x7f" are what resolvers (inet_aton) and
// browsers (WHATWG "ends in a number") would read as IPv4 literals.
bool LastLabelLooksNumeric(std::string_view label) {
  if (std::all_of(label.begin(), label.end(), IsDigit)) {
    return true;
  }
  return label.size() >= 2 && label[0] == '0' && label[1] == 'x' &&
         std::all_of(label.begin() + 2, label.end(), IsHexDigit);
}

std::string LabelProblem(std::string_view label) {
  if (label.empty()) {
    return "it has an empty label";
  }
  if (label.size() > kMaxHostnameLabelLength) {
    return "a label is longer than 63 bytes";
  }
  for (char c : label) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return "it contains a non-ASCII byte (internationalized names must use the xn-- A-label "
             "form)";
    }
    if (!IsLdh(c)) {
      return "it contains the byte " + QuoteUntrusted(std::string_view(&c, 1)) +
             " (labels are letters, digits and '-')";
    }
  }
  if (label.front() == '-' || label.back() == '-') {
    return "a label starts or ends with '-'";
  }
  if (label.starts_with("xn--") && !ValidALabel(label)) {
    return "the label " + QuoteUntrusted(label) + " is not a valid Punycode A-label";
  }
  return "";
}

}  // namespace

Result<std::string> CanonicalHostname(std::string_view text) {
  if (text.empty()) {
    return Status::Error("it is empty");
  }
  if (text.back() == '.') {
    text.remove_suffix(1);  // one trailing dot is the fully-qualified form
  }
  if (text.empty()) {
    return Status::Error("it has no labels");
  }
  if (text.size() > kMaxHostnameLength) {
    return Status::Error("it is longer than 253 bytes");
  }
  std::string name(text);
  std::transform(name.begin(), name.end(), name.begin(), ToLower);
  std::string_view rest = name;
  std::string_view label;
  while (true) {
    size_t dot = rest.find('.');
    label = rest.substr(0, dot);
    std::string problem = LabelProblem(label);
    if (!problem.empty()) {
      return Status::Error(std::move(problem));
    }
    if (dot == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(dot + 1);
  }
  if (LastLabelLooksNumeric(label)) {
    return Status::Error(
        "its last label is numeric, so it is neither a host name nor a strict dotted-quad IPv4 "
        "address");
  }
  return name;
}

bool IsCanonicalHostname(std::string_view name) {
  auto canonical = CanonicalHostname(name);
  return canonical.ok() && canonical.value() == name;
}

std::string QuoteUntrusted(std::string_view text, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  std::string_view shown = text.substr(0, max_bytes);
  for (char c : shown) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  if (shown.size() < text.size()) {
    out += "... (" + std::to_string(text.size()) + " bytes)";
  }
  return out;
}

}  // namespace msb
