// Command-line parsing for msb-gateway: commands, flags and their validation. Pure (no I/O), so
// every error message is unit-tested. Usage errors exit with status 2 and name the bad token.
#pragma once

#include <spdlog/common.h>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "gateway/gateway.h"
#include "gateway/sandbox_user.h"
#include "gateway/tls/intercept_options.h"
#include "policy/presets.h"
#include "policy/publish_spec.h"
#include "secrets/secret_spec.h"

namespace msb::gateway {

enum class Command : uint8_t { kRun, kServe, kPolicyExplain, kCa, kHelp, kVersion };

struct CliConfig {
  Command command = Command::kHelp;
  policy::PolicyOptions policy;
  GatewayOptions gateway;
  std::string audit_log;                     // "" = no audit log, "-" = stdout
  std::string config_path;                   // --config FILE (JSON network configuration)
  std::vector<std::string> dns_nameservers;  // --dns-nameserver, in order
  std::optional<uint64_t> dns_query_timeout_ms;
  bool no_dns_rebind_protection = false;
  bool max_connections_set = false;  // --max-connections given (it overrides the config file)
  spdlog::level::level_enum log_level = spdlog::level::warn;
  std::string tap_name;  // serve: the TAP to attach; run/--netns: the interface name inside (eth0)
  int tap_fd = -1;       // serve: an inherited TAP descriptor instead of --tap
  std::string interface_name;    // --interface as given (run, serve --netns)
  std::string netns_path;        // serve --netns: create the TAP inside this network namespace
  std::string unix_stream_path;  // serve --unix-stream: listen for a VM's length-prefixed stream
  std::string unixgram_path;     // serve --unixgram: one frame per datagram, bound here
  int socket_fd = -1;            // serve --fd: an inherited stream or datagram socket
  bool mtu_set = false;          // --mtu given (else run and --netns default to kJumboMtu)
  // --gateway-ip, --guest-ip or --prefix-len given; --guest-mac given (both override the config
  // file's `interface` section).
  bool addresses_set = false;
  bool addresses6_set = false;  // --gateway-ipv6 or --guest-ipv6 given
  bool guest_mac_set = false;
  bool offload = true;  // --no-offload clears it: no virtio-net header offloads on the TAP
  std::vector<std::string> command_argv;  // run: CMD ARGS...
  std::string explain_target;             // policy explain: DEST[:PORT][/PROTO]
  std::string help_topic;                 // help: the command asked about, if any
  // TLS interception flags (docs/tls.md). Any of them turns interception on.
  tls::InterceptOptions tls;
  bool tls_flag_given = false;   // some TLS flag was given (they override the config file)
  bool tls_ports_given = false;  // --tls-intercept-port replaced the default list
  bool state_dir_given = false;
  std::string ca_action;  // ca: init | show | export
  // Secret injection (docs/secrets.md): --secret entries (values are read at start, never from
  // argv) and --on-secret-violation. Either turns interception on.
  secrets::SecretsConfig secrets;
  std::optional<secrets::ViolationAction> on_secret_violation;
  // run: --user NAME|UID[:GID], who CMD runs as (unset: sudo's invoking user, else root; see
  // sandbox_user.h). Resolved against the user database by the runner, not here.
  std::optional<UserSpec> run_user;
  // -p/--publish/--port [BIND:]HOST_PORT:GUEST_PORT[/tcp|/udp] (policy/publish_spec.h), in order;
  // added to the config file's "ports".
  std::vector<policy::PublishedPort> publish;
};

// kJumboMtu: the sandbox interface's MTU for `run` and `serve --netns` unless --mtu says
// otherwise, as pasta and slirp4netns give a namespace (docs/cli.md says why).
inline constexpr uint16_t kJumboMtu = 65520;

// ParseCommandLine parses argv[1..]. Errors are complete messages without the program prefix.
Result<CliConfig> ParseCommandLine(std::span<const std::string> args);

// UsageText is the help for `command` (kHelp: the overview).
std::string UsageText(Command command);

}  // namespace msb::gateway
