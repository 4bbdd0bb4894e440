// HostPattern parsing and matching (see host_pattern.h).
#include "base/host_pattern.h"

#include "base/hostname.h"
#include "base/ip_address.h"

namespace msb {
namespace {

char ToLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) {
      return false;
    }
  }
  return true;
}

Status Invalid(std::string_view text, std::string_view problem) {
  return Status::Error("host pattern " + QuoteUntrusted(text) +
                       " is not valid: " + std::string(problem));
}

}  // namespace

Result<HostPattern> HostPattern::Parse(std::string_view text, bool allow_any) {
  if (text.empty()) {
    return Status::Error("host pattern is empty");
  }
  if (text == "*") {
    if (!allow_any) {
      return Status::Error("host pattern \"*\" (every host) is not allowed here");
    }
    return HostPattern(Kind::kAny, "");
  }
  std::string_view ip_text = text;
  if (ip_text.size() > 2 && ip_text.front() == '[' && ip_text.back() == ']') {
    ip_text = ip_text.substr(1, ip_text.size() - 2);
    auto ip = IpAddress::Parse(ip_text);
    if (!ip || !ip->is_v6()) {
      return Invalid(text, "brackets must enclose an IPv6 address");
    }
    return HostPattern(Kind::kExact, ip->ToString());
  }
  if (auto ip = IpAddress::Parse(text)) {
    return HostPattern(Kind::kExact, ip->ToString());
  }
  Kind kind = Kind::kExact;
  std::string_view name = text;
  if (name.starts_with("*.")) {
    kind = Kind::kWildcard;
    name.remove_prefix(2);
  }
  if (name.find('*') != std::string_view::npos) {
    return Invalid(text, "'*' is only allowed as the whole first label (\"*.example.com\")");
  }
  if (name.find(':') != std::string_view::npos) {
    return Invalid(text, "it contains ':' but is not an IP address (give no port or scheme)");
  }
  auto canonical = CanonicalHostname(name);
  if (!canonical.ok()) {
    return Invalid(text, canonical.error());
  }
  return HostPattern(kind, std::move(canonical).value());
}

bool HostPattern::Matches(std::string_view host) const {
  if (!host.empty() && host.back() == '.') {
    host.remove_suffix(1);
  }
  if (host.empty()) {
    return false;
  }
  switch (kind_) {
    case Kind::kAny:
      return true;
    case Kind::kExact:
      return EqualsIgnoreCase(host, name_);
    case Kind::kWildcard:
      if (host.size() == name_.size()) {
        return EqualsIgnoreCase(host, name_);
      }
      return host.size() > name_.size() && host[host.size() - name_.size() - 1] == '.' &&
             EqualsIgnoreCase(host.substr(host.size() - name_.size()), name_);
  }
  return false;
}

size_t HostPattern::Specificity() const {
  switch (kind_) {
    case Kind::kAny:
      return 0;
    case Kind::kWildcard:
      return 2 * name_.size();
    case Kind::kExact:
      return 2 * name_.size() + 1;
  }
  return 0;
}

std::string HostPattern::ToString() const {
  switch (kind_) {
    case Kind::kAny:
      return "*";
    case Kind::kWildcard:
      return "*." + name_;
    case Kind::kExact:
      return name_;
  }
  return name_;
}

}  // namespace msb
