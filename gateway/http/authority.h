// Authority checks for intercepted HTTP: every request inside a TLS tunnel must name the host the
// tunnel was opened for (the SNI, or the dialled IP when the client sent no SNI), so one
// connection cannot be used to talk to another host (domain fronting) under an allowed name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace msb::gateway::http {

// ExpectedAuthority is what a tunnel's requests must name: `host` canonical (a certs::ServerName
// text: lowercase host name or IP literal) and the port the guest dialled.
struct ExpectedAuthority {
  std::string host;
  uint16_t port = 443;
  bool is_ip = false;
};

// AuthorityMatches: `authority` ("host", "host:port", "[v6]:port") names `expected`: the host
// canonicalises (certs::ParseServerName rules: case, one trailing dot, IP forms) to the same
// name, and a port, when given, is the dialled one. A malformed authority never matches.
bool AuthorityMatches(std::string_view authority, const ExpectedAuthority& expected);

// AuthorityHost is the host part of "host", "host:port" or "[v6]:port" (brackets kept), as
// written.
std::string_view AuthorityHost(std::string_view authority);

}  // namespace msb::gateway::http
