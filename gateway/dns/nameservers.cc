// Nameserver parsing (see nameservers.h).
#include "gateway/dns/nameservers.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "policy/domain_name.h"

namespace msb::gateway {
namespace {

Status Invalid(std::string_view spec) {
  return Status::Error("invalid nameserver \"" + std::string(spec) +
                       "\": expected IP, IP:PORT, [IPv6]:PORT, HOST or HOST:PORT");
}

Result<std::vector<SocketAddress>> ResolveHost(std::string_view spec, const std::string& host,
                                               uint16_t port) {
  auto canonical = policy::CanonicalDomain(host);
  if (!canonical.ok()) {
    return Invalid(spec);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(canonical.value().c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    return Status::Error("nameserver \"" + std::string(spec) + "\": cannot resolve \"" + host +
                         "\": " + gai_strerror(rc));
  }
  std::vector<SocketAddress> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    SocketAddress a;
    a.port = port;
    if (ai->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      a.ip = IpAddress::V4(ntohl(sin->sin_addr.s_addr));
    } else if (ai->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      std::array<uint8_t, 16> b{};
      std::memcpy(b.data(), &sin6->sin6_addr, 16);
      a.ip = IpAddress::V6(b);
    } else {
      continue;
    }
    bool seen = false;
    for (const auto& o : out) {
      seen |= o == a;
    }
    if (!seen) {
      out.push_back(a);
    }
  }
  freeaddrinfo(res);
  if (out.empty()) {
    return Status::Error("nameserver \"" + std::string(spec) + "\": \"" + host +
                         "\" has no addresses");
  }
  return out;
}

}  // namespace

Result<std::vector<SocketAddress>> ParseNameserver(std::string_view spec) {
  if (spec.empty() || spec.size() > 260) {
    return Invalid(spec);
  }
  for (char c : spec) {
    if (c <= ' ' || c == 0x7f) {
      return Invalid(spec);
    }
  }
  uint16_t port = 53;
  if (spec.front() == '[') {
    size_t close = spec.find(']');
    if (close == std::string_view::npos) {
      return Invalid(spec);
    }
    auto ip = IpAddress::Parse(spec.substr(1, close - 1));
    if (!ip || !ip->is_v6()) {
      return Invalid(spec);
    }
    std::string_view rest = spec.substr(close + 1);
    if (!rest.empty()) {
      auto p =
          rest.size() > 1 && rest[0] == ':' ? ParseUint(rest.substr(1), 1, 65535) : std::nullopt;
      if (!p) {
        return Invalid(spec);
      }
      port = static_cast<uint16_t>(*p);
    }
    return std::vector<SocketAddress>{{*ip, port}};
  }
  if (auto ip = IpAddress::Parse(spec)) {
    return std::vector<SocketAddress>{{*ip, port}};  // IPv4, or a bare IPv6 address
  }
  std::string_view host = spec;
  if (size_t colon = spec.rfind(':'); colon != std::string_view::npos) {
    if (spec.find(':') != colon) {
      return Invalid(spec);  // an unbracketed IPv6 address with a port is ambiguous
    }
    auto p = ParseUint(spec.substr(colon + 1), 1, 65535);
    if (!p) {
      return Invalid(spec);
    }
    port = static_cast<uint16_t>(*p);
    host = spec.substr(0, colon);
  }
  if (auto ip = IpAddress::Parse(host)) {
    return std::vector<SocketAddress>{{*ip, port}};
  }
  return ResolveHost(spec, std::string(host), port);
}

std::vector<SocketAddress> ParseResolvConf(std::string_view text) {
  std::vector<SocketAddress> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key;
    std::string value;
    if (!(words >> key >> value) || key != "nameserver") {
      continue;
    }
    if (auto ip = IpAddress::Parse(value)) {
      out.push_back({*ip, 53});
    }
  }
  return out;
}

Result<std::vector<SocketAddress>> HostNameservers() {
  std::ifstream in("/etc/resolv.conf");
  if (!in) {
    return Status::Error("cannot read /etc/resolv.conf; give --dns-nameserver");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto servers = ParseResolvConf(ss.str());
  if (servers.empty()) {
    return Status::Error("/etc/resolv.conf names no nameserver; give --dns-nameserver");
  }
  return servers;
}

}  // namespace msb::gateway
