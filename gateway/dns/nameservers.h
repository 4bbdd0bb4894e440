// Nameserver specifications (--dns-nameserver, the config's dns.nameservers) and the host's
// /etc/resolv.conf, turned into the ordered list of upstream resolvers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.h"
#include "base/status.h"

namespace msb::gateway {

// ParseNameserver accepts IP, IP:PORT (IPv4), [IPv6]:PORT, a bare IPv6 address, HOST and
// HOST:PORT. Hostnames are resolved once, now, with the host's resolver (getaddrinfo); every
// address they resolve to is returned in order. Errors quote the specification:
//   invalid nameserver "x y": expected IP, IP:PORT, [IPv6]:PORT, HOST or HOST:PORT
Result<std::vector<SocketAddress>> ParseNameserver(std::string_view spec);

// ParseResolvConf extracts the `nameserver` lines of a resolv.conf text (port 53; IPv6 zone
// suffixes are dropped with their lines, since they cannot be dialled portably).
std::vector<SocketAddress> ParseResolvConf(std::string_view text);

// HostNameservers reads /etc/resolv.conf.
Result<std::vector<SocketAddress>> HostNameservers();

}  // namespace msb::gateway
