// Authority checks for intercepted HTTP (see authority.h).
#include "gateway/http/authority.h"

#include <optional>

#include "base/strings.h"
#include "certs/server_name.h"

namespace msb::gateway::http {

std::string_view AuthorityHost(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    size_t end = authority.find(']');
    return authority.substr(0, end == std::string_view::npos ? authority.size() : end + 1);
  }
  return authority.substr(0, authority.find(':'));
}

bool AuthorityMatches(std::string_view authority, const ExpectedAuthority& expected) {
  std::string_view host = authority;
  std::optional<std::string_view> port;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    std::string_view rest = host.substr(close + 1);
    host = host.substr(0, close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return false;
      }
      port = rest.substr(1);
    }
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    if (host.find(':') != colon) {
      return false;  // an unbracketed IPv6 literal is not an authority
    }
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (port) {
    auto n = ParseUint(*port, 1, 65535);
    if (!n || *n != expected.port) {
      return false;
    }
  }
  auto name = certs::ParseServerName(host);
  return name.ok() && name.value().text == expected.host && name.value().is_ip() == expected.is_ip;
}

}  // namespace msb::gateway::http
