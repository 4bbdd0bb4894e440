// SNI / authority host validation (see server_name.h). IP literals are recognised first, so a
// dotted quad is never mistaken for a host name, and a name that looks numeric but is not a strict
// dotted quad is rejected rather than guessed at.
#include "certs/server_name.h"

#include "base/hostname.h"

namespace msb::certs {
namespace {

Status Invalid(std::string_view raw, std::string_view problem) {
  return Status::Error("server name " + QuoteUntrusted(raw) +
                       " is not valid: " + std::string(problem));
}

}  // namespace

ServerName ServerNameFromIp(const IpAddress& ip) {
  return ServerName{ServerNameKind::kIp, ip.ToString(), ip};
}

Result<ServerName> ParseServerName(std::string_view raw) {
  if (raw.empty()) {
    return Status::Error("server name is empty");
  }
  if (raw.size() > kMaxRawServerNameLength) {
    return Invalid(raw, "it is longer than 253 bytes");
  }
  if (raw.front() == '[') {
    if (raw.size() < 3 || raw.back() != ']') {
      return Invalid(raw, "it starts with '[' but is not a bracketed IPv6 address");
    }
    auto ip = IpAddress::Parse(raw.substr(1, raw.size() - 2));
    if (!ip || !ip->is_v6()) {
      return Invalid(raw, "brackets must enclose an IPv6 address");
    }
    return ServerNameFromIp(*ip);
  }
  if (raw.find(':') != std::string_view::npos) {
    auto ip = IpAddress::Parse(raw);
    if (!ip) {
      return Invalid(raw, "it contains ':' but is not an IPv6 address (a server name has no port)");
    }
    return ServerNameFromIp(*ip);
  }
  if (auto ip = IpAddress::Parse(raw)) {
    return ServerNameFromIp(*ip);
  }
  auto name = CanonicalHostname(raw);
  if (!name.ok()) {
    return Invalid(raw, name.error());
  }
  return ServerName{ServerNameKind::kHostname, std::move(name).value(), std::nullopt};
}

}  // namespace msb::certs
