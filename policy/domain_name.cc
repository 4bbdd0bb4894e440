// Domain-name canonicalisation for domain and suffix rules. Names come from users (flags, config),
// so every rejection says what is wrong with the input instead of just "invalid".
#include "policy/domain_name.h"

#include <algorithm>

#include "base/ip_address.h"
#include "policy/types.h"

namespace msb::policy {
namespace {

constexpr size_t kMaxNameLength = 253;
constexpr size_t kMaxLabelLength = 63;

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-' || c == '_';
}

char ToLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Problem names the first thing wrong with `name` (raw user input), or "" when it is acceptable.
// The URL-shaped checks come first because "https://example.com/x" has several problems and the
// scheme is the one that explains them all.
std::string Problem(std::string_view name) {
  if (name.empty()) {
    return "it is empty";
  }
  if (std::any_of(name.begin(), name.end(), IsAsciiSpace)) {
    return "it contains whitespace";
  }
  if (name.find("://") != std::string_view::npos) {
    return "it looks like a URL (scheme); give just the host name";
  }
  if (name.find('@') != std::string_view::npos) {
    return "it looks like a URL (userinfo); give just the host name";
  }
  if (name.find('/') != std::string_view::npos) {
    return "it contains a path; give just the host name";
  }
  if (name.front() == '[' || IpAddress::Parse(name)) {
    return "it is an IP address, not a domain name";
  }
  if (name.find(':') != std::string_view::npos) {
    return "it contains a port; give just the host name";
  }
  std::string_view body = name;
  if (body.back() == '.') {
    body.remove_suffix(1);  // one trailing dot is the fully-qualified form
  }
  if (body.empty()) {
    return "it has no labels";
  }
  if (body.front() == '.') {
    return "it starts with '.'";
  }
  if (body.size() > kMaxNameLength) {
    return "it is longer than 253 characters";
  }
  size_t start = 0;
  std::string_view last_label;
  while (start <= body.size()) {
    size_t dot = body.find('.', start);
    if (dot == std::string_view::npos) {
      dot = body.size();
    }
    std::string_view label = body.substr(start, dot - start);
    if (label.empty()) {
      return "it has an empty label (\"..\")";
    }
    if (label.size() > kMaxLabelLength) {
      return "it has a label longer than 63 characters";
    }
    for (char c : label) {
      if (static_cast<unsigned char>(c) >= 0x80) {
        return "it contains a non-ASCII character (use the xn-- punycode form)";
      }
      if (!IsLabelChar(ToLower(c))) {
        return "it contains the character " + QuoteForMessage(std::string_view(&c, 1)) +
               " (labels are letters, digits, '-' and '_')";
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return "a label starts or ends with '-'";
    }
    last_label = label;
    start = dot + 1;
  }
  // No top-level domain is numeric; "10.0.0.256" or "1.2.3" is a mistyped address, not a name.
  if (std::all_of(last_label.begin(), last_label.end(), IsDigit)) {
    return "it looks like an IP address (its last label is numeric)";
  }
  return "";
}

std::string Canonical(std::string_view name) {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  std::string out(name);
  std::transform(out.begin(), out.end(), out.begin(), ToLower);
  return out;
}

}  // namespace

Result<std::string> CanonicalDomain(std::string_view name) {
  std::string problem = Problem(name);
  if (!problem.empty()) {
    return Status::Error(QuoteForMessage(name) + " is not a valid domain name: " + problem);
  }
  return Canonical(name);
}

Result<std::string> CanonicalSuffix(std::string_view suffix) {
  std::string problem = Problem(suffix);
  if (!problem.empty()) {
    return Status::Error(QuoteForMessage(suffix) + " is not a valid domain suffix: " + problem);
  }
  std::string canonical = Canonical(suffix);
  // A one-label suffix (a TLD or "local") would match a whole namespace of unrelated hosts.
  if (canonical.find('.') == std::string::npos) {
    return Status::Error("suffix " + QuoteForMessage(suffix) +
                         " is too broad: a suffix needs at least two labels");
  }
  return canonical;
}

bool NameHasSuffix(std::string_view name, std::string_view suffix) {
  if (suffix.empty() || name.size() < suffix.size()) {
    return false;
  }
  if (name.size() == suffix.size()) {
    return name == suffix;
  }
  return name.ends_with(suffix) && name[name.size() - suffix.size() - 1] == '.';
}

}  // namespace msb::policy
