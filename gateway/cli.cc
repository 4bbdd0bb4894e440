// Command-line parsing (see cli.h). One table of flags; each entry says which commands accept it
// and how to apply its value, so help, validation and "did you mean" all come from one place.
#include "gateway/cli.h"

#include <algorithm>
#include <array>
#include <functional>
#include <optional>

#include "base/host_pattern.h"
#include "base/ip_address.h"
#include "base/logging.h"
#include "base/strings.h"
#include "policy/config.h"

namespace msb::gateway {
namespace {

// Which commands take a flag.
constexpr unsigned kRunCmd = 1;
constexpr unsigned kServeCmd = 2;
constexpr unsigned kExplainCmd = 4;
constexpr unsigned kCaCmd = 8;
constexpr unsigned kGatewayCmds = kRunCmd | kServeCmd;
constexpr unsigned kPolicyCmds = kRunCmd | kServeCmd | kExplainCmd;

unsigned CommandBit(Command c) {
  switch (c) {
    case Command::kRun:
      return kRunCmd;
    case Command::kServe:
      return kServeCmd;
    case Command::kPolicyExplain:
      return kExplainCmd;
    case Command::kCa:
      return kCaCmd;
    default:
      return 0;
  }
}

using Apply = std::function<Status(CliConfig*, std::string_view)>;

struct FlagSpec {
  std::string_view name;
  bool takes_value;
  unsigned commands;
  Apply apply;
};

Status BadValue(std::string_view flag, std::string_view value, std::string_view expected) {
  return Status::Error(std::string(flag) + ": invalid value \"" + std::string(value) +
                       "\": expected " + std::string(expected));
}

Result<policy::Action> ParseAction(std::string_view flag, std::string_view v) {
  if (v == "allow") {
    return policy::Action::kAllow;
  }
  if (v == "deny") {
    return policy::Action::kDeny;
  }
  return BadValue(flag, v, "allow or deny");
}

std::optional<stack::MacAddress> ParseMac(std::string_view v) {
  stack::MacAddress mac{};
  if (v.size() != 17) {
    return std::nullopt;
  }
  for (size_t i = 0; i < 6; ++i) {
    int hi = HexDigitValue(v[i * 3]);
    int lo = HexDigitValue(v[i * 3 + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && v[i * 3 + 2] != ':')) {
      return std::nullopt;
    }
    mac[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  if ((mac[0] & 1) != 0) {
    return std::nullopt;  // a multicast address cannot be a station address
  }
  return mac;
}

Apply UintFlag(std::string_view flag, uint64_t min, uint64_t max,
               std::function<void(CliConfig*, uint64_t)> set) {
  return [flag, min, max, set](CliConfig* c, std::string_view v) {
    auto n = ParseUint(v, min, max);
    if (!n) {
      return BadValue(flag, v,
                      "a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    }
    set(c, *n);
    return Status::Ok();
  };
}

Apply Ipv4Flag(std::string_view flag, IpAddress stack::NetstackConfig::*field) {
  return [flag, field](CliConfig* c, std::string_view v) {
    auto ip = IpAddress::Parse(v);
    if (!ip || !ip->is_v4()) {
      return BadValue(flag, v, "an IPv4 address");
    }
    c->gateway.net.*field = *ip;
    c->addresses_set = true;
    return Status::Ok();
  };
}

Apply Ipv6Flag(std::string_view flag, IpAddress stack::NetstackConfig::*field) {
  return [flag, field](CliConfig* c, std::string_view v) {
    auto ip = IpAddress::Parse(v);
    if (!ip || !ip->is_v6()) {
      return BadValue(flag, v, "an IPv6 address");
    }
    c->gateway.net.*field = *ip;
    c->addresses6_set = true;
    return Status::Ok();
  };
}

Apply MacFlag(std::string_view flag, stack::MacAddress stack::NetstackConfig::*field) {
  return [flag, field](CliConfig* c, std::string_view v) {
    auto mac = ParseMac(v);
    if (!mac) {
      return BadValue(flag, v, "a unicast MAC address like 02:6d:73:00:00:01");
    }
    c->gateway.net.*field = *mac;
    c->guest_mac_set = c->guest_mac_set || field == &stack::NetstackConfig::guest_mac;
    return Status::Ok();
  };
}

// TlsFlag marks the flag as one that turns interception on, then applies it.
Apply TlsFlag(std::function<Status(CliConfig*, std::string_view)> apply) {
  return [apply](CliConfig* c, std::string_view v) {
    c->tls.enabled = true;
    c->tls_flag_given = true;
    return apply(c, v);
  };
}

Result<HostPattern> PatternValue(std::string_view flag, std::string_view v) {
  auto p = HostPattern::Parse(v);
  if (!p.ok()) {
    return Status::Error(std::string(flag) + ": " + p.error());
  }
  return p;
}

Apply FileFlag(std::string_view flag, std::string tls::InterceptOptions::*field) {
  return TlsFlag([flag, field](CliConfig* c, std::string_view v) {
    if (v.empty()) {
      return BadValue(flag, v, "a PEM file");
    }
    if (!(c->tls.*field).empty()) {
      return Status::Error(std::string(flag) + " given twice");
    }
    c->tls.*field = v;
    return Status::Ok();
  });
}

// PublishFlag parses one published port; --publish, --port and -p are the same flag.
Apply PublishFlag(std::string_view flag) {
  return [flag](CliConfig* c, std::string_view v) {
    auto port = policy::ParsePublishSpec(v);
    if (!port.ok()) {
      return Status::Error(std::string(flag) + " " + policy::QuoteForMessage(v) + ": " +
                           port.error());
    }
    c->publish.push_back(port.value());
    return Status::Ok();
  };
}

const std::vector<FlagSpec>& Flags() {
  static const std::vector<FlagSpec> flags = {
      {"--publish", true, kGatewayCmds, PublishFlag("--publish")},
      {"--port", true, kGatewayCmds, PublishFlag("--port")},
      {"--net", true, kPolicyCmds,
       [](CliConfig* c, std::string_view v) {
         auto p = policy::ParsePreset(v);
         if (!p) {
           return BadValue("--net", v, "public-only, non-local, allow-all or none");
         }
         if (c->policy.preset) {
           return Status::Error("--net given twice (\"" +
                                std::string(policy::PresetName(*c->policy.preset)) + "\" and \"" +
                                std::string(v) + "\")");
         }
         c->policy.preset = *p;
         return Status::Ok();
       }},
      {"--no-net", false, kPolicyCmds,
       [](CliConfig* c, std::string_view) {
         c->policy.no_net = true;
         return Status::Ok();
       }},
      {"--net-default-egress", true, kPolicyCmds,
       [](CliConfig* c, std::string_view v) {
         auto a = ParseAction("--net-default-egress", v);
         if (!a.ok()) {
           return a.status();
         }
         c->policy.default_egress = a.value();
         return Status::Ok();
       }},
      {"--net-default-ingress", true, kPolicyCmds,
       [](CliConfig* c, std::string_view v) {
         auto a = ParseAction("--net-default-ingress", v);
         if (!a.ok()) {
           return a.status();
         }
         c->policy.default_ingress = a.value();
         return Status::Ok();
       }},
      {"--net-rule", true, kPolicyCmds,
       [](CliConfig* c, std::string_view v) {
         c->policy.net_rules.emplace_back(v);
         return Status::Ok();
       }},
      {"--deny-domain", true, kPolicyCmds,
       [](CliConfig* c, std::string_view v) {
         c->policy.deny_domains.emplace_back(v);
         return Status::Ok();
       }},
      {"--deny-domain-suffix", true, kPolicyCmds,
       [](CliConfig* c, std::string_view v) {
         c->policy.deny_domain_suffixes.emplace_back(v);
         return Status::Ok();
       }},
      {"--config", true, kPolicyCmds,
       [](CliConfig* c, std::string_view v) {
         if (v.empty()) {
           return BadValue("--config", v, "a JSON file");
         }
         if (!c->config_path.empty()) {
           return Status::Error("--config given twice");
         }
         c->config_path = v;
         return Status::Ok();
       }},
      {"--dns-nameserver", true, kGatewayCmds,
       [](CliConfig* c, std::string_view v) {
         if (v.empty()) {
           return BadValue("--dns-nameserver", v, "IP, IP:PORT, [IPv6]:PORT, HOST or HOST:PORT");
         }
         c->dns_nameservers.emplace_back(v);
         return Status::Ok();
       }},
      {"--dns-query-timeout-ms", true, kGatewayCmds,
       UintFlag("--dns-query-timeout-ms", 1, 600000,
                [](CliConfig* c, uint64_t n) { c->dns_query_timeout_ms = n; })},
      {"--no-dns-rebind-protection", false, kGatewayCmds,
       [](CliConfig* c, std::string_view) {
         c->no_dns_rebind_protection = true;
         return Status::Ok();
       }},
      {"--gateway-ip", true, kPolicyCmds,
       Ipv4Flag("--gateway-ip", &stack::NetstackConfig::gateway_v4)},
      {"--guest-ip", true, kGatewayCmds, Ipv4Flag("--guest-ip", &stack::NetstackConfig::guest_v4)},
      {"--gateway-ipv6", true, kPolicyCmds,
       Ipv6Flag("--gateway-ipv6", &stack::NetstackConfig::gateway_v6)},
      {"--guest-ipv6", true, kGatewayCmds,
       Ipv6Flag("--guest-ipv6", &stack::NetstackConfig::guest_v6)},
      {"--no-ipv6", false, kPolicyCmds,
       [](CliConfig* c, std::string_view) {
         c->gateway.net.ipv6 = false;
         return Status::Ok();
       }},
      {"--prefix-len", true, kGatewayCmds,
       UintFlag("--prefix-len", 1, 30,
                [](CliConfig* c, uint64_t n) {
                  c->gateway.net.v4_prefix_len = unsigned(n);
                  c->addresses_set = true;
                })},
      {"--mtu", true, kGatewayCmds,
       UintFlag("--mtu", policy::kMinLinkMtu, policy::kMaxLinkMtu,
                [](CliConfig* c, uint64_t n) {
                  c->gateway.net.mtu = uint16_t(n);
                  c->mtu_set = true;
                })},
      {"--no-offload", false, kGatewayCmds,
       [](CliConfig* c, std::string_view) {
         c->offload = false;
         return Status::Ok();
       }},
      {"--no-dhcp", false, kGatewayCmds,
       [](CliConfig* c, std::string_view) {
         c->gateway.net.dhcp4 = false;
         return Status::Ok();
       }},
      {"--dhcp-lease-s", true, kGatewayCmds,
       UintFlag("--dhcp-lease-s", 60, 86400 * 365,
                [](CliConfig* c, uint64_t n) { c->gateway.net.dhcp4_lease_seconds = uint32_t(n); })},
      {"--gateway-mac", true, kGatewayCmds,
       MacFlag("--gateway-mac", &stack::NetstackConfig::gateway_mac)},
      {"--guest-mac", true, kGatewayCmds,
       MacFlag("--guest-mac", &stack::NetstackConfig::guest_mac)},
      {"--max-connections", true, kGatewayCmds,
       UintFlag("--max-connections", 1, 65536,
                [](CliConfig* c, uint64_t n) {
                  c->gateway.max_connections = n;
                  c->max_connections_set = true;
                })},
      {"--connect-timeout-ms", true, kGatewayCmds,
       UintFlag("--connect-timeout-ms", 100, 600000,
                [](CliConfig* c, uint64_t n) {
                  c->gateway.session.connect_timeout = std::chrono::milliseconds(n);
                })},
      {"--idle-timeout-s", true, kGatewayCmds,
       UintFlag("--idle-timeout-s", 0, 7 * 24 * 3600,
                [](CliConfig* c, uint64_t n) {
                  c->gateway.session.idle_timeout = std::chrono::seconds(n);
                })},
      {"--audit-log", true, kGatewayCmds,
       [](CliConfig* c, std::string_view v) {
         if (v.empty()) {
           return BadValue("--audit-log", v, "a file path or - for stdout");
         }
         c->audit_log = v;
         return Status::Ok();
       }},
      {"--log-level", true, kGatewayCmds,
       [](CliConfig* c, std::string_view v) {
         auto l = ParseLogLevel(v);
         if (!l) {
           return BadValue("--log-level", v, "trace, debug, info, warn, error or off");
         }
         c->log_level = *l;
         return Status::Ok();
       }},
      {"--tls-intercept", false, kGatewayCmds,
       TlsFlag([](CliConfig*, std::string_view) { return Status::Ok(); })},
      {"--tls-intercept-port", true, kGatewayCmds, TlsFlag([](CliConfig* c, std::string_view v) {
         auto n = ParseUint(v, 1, 65535);
         if (!n) {
           return BadValue("--tls-intercept-port", v, "a port from 1 to 65535");
         }
         if (!c->tls_ports_given) {
           c->tls.ports.clear();  // the first one replaces the default 443
           c->tls_ports_given = true;
         }
         if (std::find(c->tls.ports.begin(), c->tls.ports.end(), *n) == c->tls.ports.end()) {
           c->tls.ports.push_back(static_cast<uint16_t>(*n));
         }
         return Status::Ok();
       })},
      {"--tls-bypass", true, kGatewayCmds, TlsFlag([](CliConfig* c, std::string_view v) {
         auto p = PatternValue("--tls-bypass", v);
         if (!p.ok()) {
           return p.status();
         }
         c->tls.bypass.push_back(std::move(p).value());
         return Status::Ok();
       })},
      {"--tls-upstream-ca-cert", true, kGatewayCmds, TlsFlag([](CliConfig* c, std::string_view v) {
         if (v.empty()) {
           return BadValue("--tls-upstream-ca-cert", v, "a PEM file");
         }
         c->tls.trust.extra_ca_files.emplace_back(v);
         return Status::Ok();
       })},
      {"--tls-upstream-ca-cert-for", true, kGatewayCmds,
       TlsFlag([](CliConfig* c, std::string_view v) {
         size_t eq = v.find('=');
         if (eq == std::string_view::npos || eq == 0 || eq + 1 == v.size()) {
           return BadValue("--tls-upstream-ca-cert-for", v,
                           "PATTERN=PEM, e.g. "
                           "*.corp.example=/etc/ssl/corp-root.pem");
         }
         auto p = PatternValue("--tls-upstream-ca-cert-for", v.substr(0, eq));
         if (!p.ok()) {
           return p.status();
         }
         c->tls.trust.scoped_ca_files.emplace_back(std::move(p).value(),
                                                   std::string(v.substr(eq + 1)));
         return Status::Ok();
       })},
      {"--tls-no-verify-upstream-for", true, kGatewayCmds,
       TlsFlag([](CliConfig* c, std::string_view v) {
         auto p = PatternValue("--tls-no-verify-upstream-for", v);
         if (!p.ok()) {
           return p.status();
         }
         c->tls.trust.scoped_verify.emplace_back(std::move(p).value(), false);
         return Status::Ok();
       })},
      {"--intercept-ca", true, kGatewayCmds,
       FileFlag("--intercept-ca", &tls::InterceptOptions::ca_cert)},
      {"--tls-intercept-ca-cert", true, kGatewayCmds,
       FileFlag("--tls-intercept-ca-cert", &tls::InterceptOptions::ca_cert)},
      {"--intercept-ca-key", true, kGatewayCmds,
       FileFlag("--intercept-ca-key", &tls::InterceptOptions::ca_key)},
      {"--tls-intercept-ca-key", true, kGatewayCmds,
       FileFlag("--tls-intercept-ca-key", &tls::InterceptOptions::ca_key)},
      {"--no-block-quic", false, kGatewayCmds, TlsFlag([](CliConfig* c, std::string_view) {
         c->tls.block_quic = false;
         return Status::Ok();
       })},
      {"--state-dir", true, kGatewayCmds | kCaCmd,
       [](CliConfig* c, std::string_view v) {
         if (v.empty() || v[0] != '/') {
           return BadValue("--state-dir", v, "an absolute directory path");
         }
         c->tls.state_dir = v;
         c->state_dir_given = true;
         return Status::Ok();
       }},
      {"--secret", true, kGatewayCmds,
       [](CliConfig* c, std::string_view v) {
         auto spec = secrets::ParseSecretFlag(v);
         if (!spec.ok()) {
           return spec.status();
         }
         secrets::AddOrMerge(&c->secrets, std::move(spec).value());
         return Status::Ok();
       }},
      {"--on-secret-violation", true, kGatewayCmds,
       [](CliConfig* c, std::string_view v) {
         auto a = secrets::ParseViolationAction(v);
         if (!a.ok()) {
           return Status::Error("--on-secret-violation: " + a.error());
         }
         c->on_secret_violation = a.value();
         return Status::Ok();
       }},
      {"--tap", true, kServeCmd,
       [](CliConfig* c, std::string_view v) {
         if (v.empty() || v.size() > 15) {
           return BadValue("--tap", v, "an interface name (1-15 chars)");
         }
         c->tap_name = v;
         return Status::Ok();
       }},
      {"--tap-fd", true, kServeCmd,
       UintFlag("--tap-fd", 3, 1 << 20, [](CliConfig* c, uint64_t n) { c->tap_fd = int(n); })},
      {"--netns", true, kServeCmd,
       [](CliConfig* c, std::string_view v) {
         if (v.empty()) {
           return BadValue("--netns", v,
                           "a network namespace path (/run/netns/NAME, /proc/PID/ns/net)");
         }
         c->netns_path = v;
         return Status::Ok();
       }},
      {"--unix-stream", true, kServeCmd,
       [](CliConfig* c, std::string_view v) {
         if (v.empty() || v.size() > 107) {
           return BadValue("--unix-stream", v, "a unix socket path (1-107 bytes)");
         }
         c->unix_stream_path = v;
         return Status::Ok();
       }},
      {"--unixgram", true, kServeCmd,
       [](CliConfig* c, std::string_view v) {
         if (v.empty() || v.size() > 107) {
           return BadValue("--unixgram", v, "a unix socket path (1-107 bytes)");
         }
         c->unixgram_path = v;
         return Status::Ok();
       }},
      {"--fd", true, kServeCmd,
       UintFlag("--fd", 3, 1 << 20, [](CliConfig* c, uint64_t n) { c->socket_fd = int(n); })},
      {"--interface", true, kRunCmd | kServeCmd,
       [](CliConfig* c, std::string_view v) {
         if (v.empty() || v.size() > 15 || v.find('/') != std::string_view::npos) {
           return BadValue("--interface", v, "an interface name (1-15 chars)");
         }
         c->interface_name = v;
         return Status::Ok();
       }},
      {"--user", true, kRunCmd,
       [](CliConfig* c, std::string_view v) {
         if (c->run_user) {
           return Status::Error("--user given twice");
         }
         auto spec = ParseUserSpec(v);
         if (!spec.ok()) {
           return spec.status();
         }
         c->run_user = std::move(spec).value();
         return Status::Ok();
       }},
  };
  return flags;
}

Status UnknownFlag(std::string_view flag, Command command) {
  std::vector<std::string_view> names;
  for (const FlagSpec& f : Flags()) {
    if ((f.commands & CommandBit(command)) != 0) {
      names.push_back(f.name);
    }
  }
  std::string msg = "unknown flag \"" + std::string(flag) + "\"";
  for (const FlagSpec& f : Flags()) {
    if (f.name == flag) {
      msg = "flag \"" + std::string(flag) + "\" does not apply to this command";
    }
  }
  if (auto s = Suggest(flag, names, 3)) {
    msg += " (did you mean \"" + std::string(*s) + "\"?)";
  }
  return Status::Error(msg + "; see msb-gateway help");
}

// UnknownShortFlag: msb-gateway has no single-dash flags but -h and -p (--publish). A word like
// "-x" before the command is a mistyped flag, never the command to run (that needs "--" first).
Status UnknownShortFlag(std::string_view word, Command command) {
  std::string msg = "unknown flag \"" + std::string(word) + "\"";
  std::string_view bare = word;
  while (!bare.empty() && bare.front() == '-') {
    bare.remove_prefix(1);
  }
  std::string as_long = "--" + std::string(bare);
  if (as_long.size() > 3) {
    std::vector<std::string_view> names;
    for (const FlagSpec& f : Flags()) {
      if ((f.commands & CommandBit(command)) != 0) {
        names.push_back(f.name);
      }
    }
    if (auto s = Suggest(as_long, names, 2)) {
      msg += " (did you mean \"" + std::string(*s) + "\"?)";
    }
  }
  msg += "; flags are long (--name) except -h and -p";
  if (command == Command::kRun) {
    msg += ", and a command that starts with \"-\" goes after \"--\"";
  }
  return Status::Error(msg + "; see msb-gateway help");
}

Status Validate(CliConfig* c) {
  if (c->tls.ca_cert.empty() != c->tls.ca_key.empty()) {
    return Status::Error(c->tls.ca_cert.empty()
                             ? "--intercept-ca-key needs --intercept-ca (the CA certificate)"
                             : "--intercept-ca needs --intercept-ca-key (the CA's private key)");
  }
  if (c->command == Command::kServe) {
    int given = int(!c->tap_name.empty()) + int(c->tap_fd >= 0) + int(!c->netns_path.empty()) +
                int(!c->unix_stream_path.empty()) + int(!c->unixgram_path.empty()) +
                int(c->socket_fd >= 0);
    if (given != 1) {
      return Status::Error(
          "serve needs exactly one of --tap NAME, --tap-fd N, --netns PATH, --unix-stream PATH, "
          "--unixgram PATH or --fd N");
    }
    if (!c->interface_name.empty() && c->netns_path.empty()) {
      return Status::Error("--interface applies to run and serve --netns (--tap names the TAP)");
    }
    if (!c->netns_path.empty()) {
      c->tap_name = c->interface_name.empty() ? "eth0" : c->interface_name;
    }
  }
  // The sandbox interfaces the gateway creates itself get a jumbo MTU unless told otherwise;
  // a TAP someone else made (a VM's) keeps Ethernet's 1500 unless --mtu says it is larger.
  bool creates_interface =
      c->command == Command::kRun || (c->command == Command::kServe && !c->netns_path.empty());
  if (creates_interface && !c->mtu_set) {
    c->gateway.net.mtu = kJumboMtu;
  }
  if (c->command == Command::kRun && c->command_argv.empty()) {
    return Status::Error("run needs a command: msb-gateway run [flags] -- CMD [ARGS...]");
  }
  if (c->command == Command::kRun) {
    c->tap_name = c->interface_name.empty() ? "eth0" : c->interface_name;
  }
  if (c->command == Command::kPolicyExplain && c->explain_target.empty()) {
    return Status::Error("policy explain needs a destination: DEST[:PORT][/PROTO]");
  }
  if (auto conflict = policy::FindPublishConflict(c->publish)) {
    return Status::Error(
        "--publish: " +
        policy::PublishConflictMessage(c->publish[conflict->first], c->publish[conflict->second]));
  }
  const stack::NetstackConfig& n = c->gateway.net;
  if (c->command == Command::kRun || c->command == Command::kServe) {
    auto net = IpPrefix::Make(n.gateway_v4, n.v4_prefix_len);
    if (n.gateway_v4 == n.guest_v4 || !net->Contains(n.guest_v4)) {
      return Status::Error("--gateway-ip " + n.gateway_v4.ToString() + " and --guest-ip " +
                           n.guest_v4.ToString() + " must be different addresses in one /" +
                           std::to_string(n.v4_prefix_len));
    }
    if (n.ipv6 &&
        (n.gateway_v6 == n.guest_v6 || !IpPrefix::Make(n.gateway_v6, 64)->Contains(n.guest_v6))) {
      return Status::Error("--gateway-ipv6 " + n.gateway_v6.ToString() + " and --guest-ipv6 " +
                           n.guest_v6.ToString() + " must be different addresses in one /64");
    }
    if (n.ipv6 && n.mtu < 1280) {
      return Status::Error("--mtu " + std::to_string(n.mtu) +
                           " is below IPv6's minimum of 1280 (use --no-ipv6 for a smaller MTU)");
    }
    if (n.gateway_mac == n.guest_mac) {
      return Status::Error("--gateway-mac and --guest-mac must differ");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<CliConfig> ParseCommandLine(std::span<const std::string> args) {
  CliConfig c;
  size_t i = 0;
  if (args.empty()) {
    return c;  // help
  }
  std::string_view cmd = args[0];
  if (cmd == "run") {
    c.command = Command::kRun;
  } else if (cmd == "serve") {
    c.command = Command::kServe;
  } else if (cmd == "policy") {
    if (args.size() < 2 || args[1] != "explain") {
      return Status::Error("policy needs a subcommand: msb-gateway policy explain DEST");
    }
    c.command = Command::kPolicyExplain;
    ++i;
  } else if (cmd == "ca") {
    constexpr std::array<std::string_view, 3> kActions = {"init", "show", "export"};
    if (args.size() < 2 || std::find(kActions.begin(), kActions.end(), args[1]) == kActions.end()) {
      std::string msg = "ca needs an action: msb-gateway ca init|show|export [--state-dir DIR]";
      if (args.size() >= 2) {
        msg = "unknown ca action \"" + args[1] + "\"";
        if (auto s = Suggest(args[1], kActions)) {
          msg += " (did you mean \"" + std::string(*s) + "\"?)";
        }
        msg += "; expected init, show or export";
      }
      return Status::Error(msg);
    }
    c.command = Command::kCa;
    c.ca_action = args[1];
    ++i;
  } else if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    c.command = Command::kHelp;
    if (args.size() > 1) {
      c.help_topic = args[1];
    }
    return c;
  } else if (cmd == "version" || cmd == "--version") {
    c.command = Command::kVersion;
    return c;
  } else {
    constexpr std::array<std::string_view, 6> kCommands = {"run", "serve", "policy",
                                                           "ca",  "help",  "version"};
    std::string msg = "unknown command \"" + std::string(cmd) + "\"";
    if (auto s = Suggest(cmd, kCommands)) {
      msg += " (did you mean \"" + std::string(*s) + "\"?)";
    }
    return Status::Error(msg + "; commands: run, serve, policy explain, ca, help, version");
  }
  ++i;
  for (; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--") {
      if (c.command != Command::kRun) {
        return Status::Error("\"--\" is only used by run, before the command to start");
      }
      c.command_argv.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (a == "--help" || a == "-h") {
      c.help_topic = cmd;
      c.command = Command::kHelp;
      return c;
    }
    if (a.empty() || a[0] != '-') {
      if (c.command == Command::kRun) {
        c.command_argv.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
        break;
      }
      if (c.command == Command::kPolicyExplain && c.explain_target.empty()) {
        c.explain_target = a;
        continue;
      }
      return Status::Error("unexpected argument \"" + std::string(a) + "\"");
    }
    if (a == "-p" && (CommandBit(c.command) & kGatewayCmds) != 0) {
      a = "--publish";  // the one short flag besides -h, as docker, podman and msb spell it
    } else if (a.size() < 2 || a[1] != '-') {
      return UnknownShortFlag(a, c.command);
    }
    std::string_view name = a;
    std::optional<std::string_view> value;
    if (size_t eq = a.find('='); eq != std::string_view::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& f : Flags()) {
      if (f.name == name && (f.commands & CommandBit(c.command)) != 0) {
        spec = &f;
      }
    }
    if (spec == nullptr) {
      return UnknownFlag(name, c.command);
    }
    if (spec->takes_value && !value) {
      if (i + 1 >= args.size()) {
        return Status::Error(std::string(name) + " needs a value");
      }
      value = args[++i];
    } else if (!spec->takes_value && value) {
      return Status::Error(std::string(name) + " takes no value");
    }
    Status st = spec->apply(&c, value.value_or(""));
    if (!st.ok()) {
      return st;
    }
  }
  Status st = Validate(&c);
  if (!st.ok()) {
    return st;
  }
  return c;
}

std::string UsageText(Command command) {
  switch (command) {
    case Command::kRun:
      return R"(usage: msb-gateway run [flags] -- CMD [ARGS...]

Runs CMD in a new network and mount namespace whose only interface is a TAP served by the gateway.
Every connection CMD makes is decided by policy and audited; CMD's exit status is returned.

Policy:     --net PRESET  --no-net  --net-default-egress allow|deny
            --net-default-ingress allow|deny  --net-rule TOKENS (repeatable)
            --deny-domain NAME  --deny-domain-suffix SUFFIX  --config FILE
DNS:        --dns-nameserver ADDR (repeatable)  --dns-query-timeout-ms 5000
            --no-dns-rebind-protection
Addresses:  --gateway-ip 172.16.0.1  --guest-ip 172.16.0.2  --prefix-len 30  --mtu 65520
            --gateway-mac MAC  --guest-mac MAC  --interface eth0  --no-offload
            --no-dhcp  --dhcp-lease-s 3600
            --gateway-ipv6 fd42:6d73:62::1  --guest-ipv6 fd42:6d73:62::2  --no-ipv6
Sandbox:    --user NAME|UID[:GID] (default: sudo's invoking user, else root without capabilities)
Publish:    -p/--publish [BIND:]HOST_PORT:GUEST_PORT[/tcp|/udp] (repeatable; BIND 127.0.0.1 unless
            given, e.g. 0.0.0.0 or [::1]; ingress policy judges each peer)
TLS:        --tls-intercept  --tls-intercept-port 443 (repeatable)  --tls-bypass PATTERN
            --tls-upstream-ca-cert PEM  --tls-upstream-ca-cert-for PATTERN=PEM
            --tls-no-verify-upstream-for PATTERN  --intercept-ca CERT --intercept-ca-key KEY
            --state-dir DIR  --no-block-quic
Secrets:    --secret ENV@HOST[,HOST...] (repeatable; the value is read from $ENV, CMD sees only
            the placeholder $MSB_ENV)  --on-secret-violation block|block-and-log|
            block-and-terminate|passthrough (default block-and-log); SIGHUP reloads secrets
Limits:     --max-connections 256  --connect-timeout-ms 10000  --idle-timeout-s 3600
Output:     --audit-log PATH|-  --log-level warn
See docs/cli.md for every flag.
)";
    case Command::kServe:
      return R"(usage: msb-gateway serve (--tap NAME | --tap-fd N | --netns PATH | --unix-stream PATH |
                           --unixgram PATH | --fd N) [flags]

Serves an existing TAP (a VM's network device; MTU 1500 unless --mtu), or creates one inside the
network namespace at PATH configured as run does (--interface eth0, MTU 65520, offloads), or
serves a VM over a unix socket: --unix-stream listens for QEMU's -netdev stream / libkrun's
unixstream (4-byte length + frame; a VM that disconnects and reconnects is served again),
--unixgram binds a datagram socket for QEMU's -netdev dgram / vfkit / libkrun's unixgram (one
frame per datagram), --fd adopts an inherited socket of either kind. Runs until SIGINT or
SIGTERM; SIGUSR1 writes a gateway.stats audit event. Takes the same policy, address, publish, limit
and output flags as run. docs/frontends.md has VM command lines.
)";
    case Command::kCa:
      return R"(usage: msb-gateway ca init|show|export [--state-dir DIR]

The certificate authority TLS interception signs its leaf certificates with, kept in DIR (default
$XDG_STATE_HOME/msb-gateway, else ~/.local/state/msb-gateway; key file 0600):
  init    create it if it does not exist (idempotent), then show it
  show    subject, SHA-256 fingerprint, validity and files
  export  print the CA certificate (PEM), e.g. for a VM's trust store
)";
    case Command::kPolicyExplain:
      return R"(usage: msb-gateway policy explain [policy flags] DEST[:PORT][/PROTO]

Prints the decision for one destination and the rule that made it, e.g.
  msb-gateway policy explain 10.0.0.5:5432
  msb-gateway policy explain --net-rule allow@10.0.0.0/8:tcp '[2001:db8::1]:443/udp'
  msb-gateway policy explain --net-rule allow@api.example.com api.example.com:443
)";
    default:
      return R"(msb-gateway: a userspace network gateway for sandboxes.

usage:
  msb-gateway run [flags] -- CMD [ARGS...]     run CMD in a namespace wired to the gateway
  msb-gateway serve --tap NAME [flags]         serve an existing TAP (VM set-ups), or
                   --netns PATH                a namespace made by someone else
  msb-gateway policy explain [flags] DEST      explain the decision for a destination
  msb-gateway ca init|show|export [--state-dir DIR]
                                               the TLS-interception CA (export prints the PEM)
  msb-gateway help [COMMAND] | version

Run `msb-gateway help run` for the flags; docs/cli.md has the full reference.
)";
  }
}

}  // namespace msb::gateway
