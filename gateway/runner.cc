// Runner: builds policy, audit log, loop and gateway for a command and runs it to completion.
#include "gateway/runner.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "base/errno_message.h"
#include "gateway/dns/nameservers.h"
#include "gateway/guest_interface.h"
#include "gateway/publish/host_listeners.h"
#include "gateway/publish/publisher.h"
#include "gateway/sandbox.h"
#include "gateway/secrets_runtime.h"
#include "gateway/tls/intercept_context.h"
#include "policy/config.h"
#include "policy/explain.h"
#include "stack/tap_device.h"
#include "stack/unix_dgram_device.h"
#include "stack/unix_stream_device.h"

namespace msb::gateway {
namespace {

constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

int Fail(const std::string& message, int status = 2) {
  std::fprintf(stderr, "msb-gateway: %s\n", message.c_str());
  return status;
}

// Setup is what a command needs once the flags and the config file are combined.
struct Setup {
  std::shared_ptr<const policy::Evaluator> evaluator;
  GatewayOptions gateway;
  std::shared_ptr<tls::InterceptContext> intercept;  // null when interception is off
  std::shared_ptr<SecretsRuntime> secrets;           // null when no secret is configured
  // What `run` hides from CMD (SandboxSpec::hidden_paths): the --config file, the resolved state
  // directory (the persistent CA key) and an operator CA key, whether or not interception is on.
  std::vector<std::string> hidden_paths;
  // The published ports: the config file's "ports", then -p/--publish (checked for conflicts).
  std::vector<policy::PublishedPort> publish;
};

// MergeTls applies the config file's `tls` section, then the flags (which win, and extend its
// lists), to the defaults.
tls::InterceptOptions MergeTls(const CliConfig& c, const std::optional<policy::TlsSettings>& file) {
  tls::InterceptOptions o;
  if (file) {
    const policy::TlsSettings& t = *file;
    o.enabled = t.enabled.value_or(false);
    if (t.intercepted_ports) {
      o.ports = *t.intercepted_ports;
    }
    o.bypass = t.bypass;
    o.trust.verify = t.verify_upstream.value_or(true);
    o.block_quic = t.block_quic_on_intercept.value_or(true);
    o.trust.extra_ca_files = t.upstream_ca_cert;
    o.trust.scoped_ca_files = t.scoped_upstream_ca_cert;
    o.trust.scoped_verify = t.scoped_verify_upstream;
    o.ca_cert = t.intercept_ca_cert.value_or("");
    o.ca_key = t.intercept_ca_key.value_or("");
    if (t.cache_capacity && *t.cache_capacity != 0) {
      o.cache_capacity = *t.cache_capacity;
    }
    if (t.validity_hours) {
      o.validity_hours = static_cast<int64_t>(*t.validity_hours);
    }
  }
  const tls::InterceptOptions& f = c.tls;
  if (c.tls_flag_given) {
    o.enabled = true;
    if (c.tls_ports_given) {
      o.ports = f.ports;
    }
    o.bypass.insert(o.bypass.end(), f.bypass.begin(), f.bypass.end());
    o.trust.extra_ca_files.insert(o.trust.extra_ca_files.end(), f.trust.extra_ca_files.begin(),
                                  f.trust.extra_ca_files.end());
    o.trust.scoped_ca_files.insert(o.trust.scoped_ca_files.end(), f.trust.scoped_ca_files.begin(),
                                   f.trust.scoped_ca_files.end());
    o.trust.scoped_verify.insert(o.trust.scoped_verify.end(), f.trust.scoped_verify.begin(),
                                 f.trust.scoped_verify.end());
    if (!f.ca_cert.empty()) {
      o.ca_cert = f.ca_cert;
      o.ca_key = f.ca_key;
    }
    if (!f.block_quic) {
      o.block_quic = false;
    }
  }
  o.state_dir = c.state_dir_given ? f.state_dir : tls::DefaultStateDir();
  return o;
}

// CreateIntercept builds the interception state; errors say which flag, file or setting.
Result<std::shared_ptr<tls::InterceptContext>> CreateIntercept(const CliConfig& c,
                                                               const tls::InterceptOptions& o) {
  auto ca = tls::LoadInterceptCa(o);
  if (!ca.ok()) {
    std::string where = !c.tls.ca_cert.empty() ? "--intercept-ca/--intercept-ca-key: "
                        : !o.ca_cert.empty() ? "--config " + c.config_path + ": tls.intercept_ca: "
                        : c.state_dir_given  ? "--state-dir: "
                                             : "intercept CA: ";
    return Status::Error(where + ca.error());
  }
  auto ctx = tls::InterceptContext::Create(o, std::move(ca).value());
  if (!ctx.ok()) {
    return ctx.status();
  }
  for (const std::string& w : ctx.value()->ca().warnings()) {
    std::fprintf(stderr, "msb-gateway: warning: intercept CA: %s\n", w.c_str());
  }
  return std::shared_ptr<tls::InterceptContext>(std::move(ctx).value());
}

Result<policy::NetworkConfig> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::Error("--config " + path + ": " + strerror(errno));
  }
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > (1u << 20)) {
      return Status::Error("--config " + path + ": larger than 1 MiB");
    }
  }
  auto config = policy::ParseNetworkConfig(text);
  if (!config.ok()) {
    return Status::Error("--config " + path + ": " + config.error());
  }
  return config;
}

// ApplyInterface takes the config file's `interface` section where no flag said otherwise
// (--gateway-ip/--guest-ip/--prefix-len, --mtu, --guest-mac win).
void ApplyInterface(const policy::InterfaceSettings& iface, const CliConfig& c,
                    stack::NetstackConfig* net) {
  if (iface.guest_v4 && !c.addresses_set) {
    net->guest_v4 = *iface.guest_v4;
    net->gateway_v4 = *iface.gateway_v4;
    net->v4_prefix_len = 30;
  }
  if (iface.guest_v6 && !c.addresses6_set) {
    net->guest_v6 = *iface.guest_v6;
    net->gateway_v6 = *iface.gateway_v6;
  }
  if (iface.mtu && !c.mtu_set) {
    net->mtu = *iface.mtu;
  }
  if (iface.mac && !c.guest_mac_set) {
    net->guest_mac = *iface.mac;
  }
}

// PrepareSetup applies the flags on top of the config file (docs/config.md): --net-rule rules are
// prepended, --net/--no-net replace its policy, --net-default-* override its defaults, and the DNS
// and limit flags override its values.
Result<Setup> PrepareSetup(const CliConfig& c, bool resolve_nameservers) {
  Setup setup;
  setup.gateway = c.gateway;
  policy::PolicyOptions options = c.policy;
  policy::DnsSettings dns;
  std::optional<policy::TlsSettings> tls_file;
  std::optional<JsonValue> secrets_file;
  if (!c.config_path.empty()) {
    auto config = LoadConfig(c.config_path);
    if (!config.ok()) {
      return config.status();
    }
    options.config_policy = config.value().policy;
    dns = config.value().dns;
    tls_file = config.value().tls;
    secrets_file = config.value().secrets;
    if (config.value().max_connections && !c.max_connections_set) {
      setup.gateway.max_connections = *config.value().max_connections;
    }
    if (const auto& iface = config.value().interface) {
      ApplyInterface(*iface, c, &setup.gateway.net);
    }
    setup.publish = config.value().ports;
  }
  setup.publish.insert(setup.publish.end(), c.publish.begin(), c.publish.end());
  if (auto conflict = policy::FindPublishConflict(setup.publish)) {
    return Status::Error("--config " + c.config_path + " and --publish: " +
                         policy::PublishConflictMessage(setup.publish[conflict->first],
                                                        setup.publish[conflict->second]));
  }
  auto built = policy::BuildPolicy(options);
  if (!built.ok()) {
    return built.status();
  }
  for (const std::string& w : built.value().warnings) {
    std::fprintf(stderr, "msb-gateway: warning: %s\n", w.c_str());
  }
  policy::HostAddresses host;
  host.v4 = setup.gateway.net.gateway_v4;
  if (setup.gateway.net.ipv6) {
    host.v6 = setup.gateway.net.gateway_v6;
  }
  setup.evaluator =
      std::make_shared<const policy::Evaluator>(std::move(built.value().policy), host);
  DnsOptions& d = setup.gateway.dns;
  d.rebind_protection = !c.no_dns_rebind_protection && dns.rebind_protection.value_or(true);
  uint64_t timeout_ms = c.dns_query_timeout_ms.value_or(dns.query_timeout_ms.value_or(5000));
  d.query_timeout = std::chrono::milliseconds(timeout_ms);
  tls::InterceptOptions tls_options = MergeTls(c, tls_file);
  SecretsSources sources;
  sources.flags = c.secrets;
  sources.flag_action = c.on_secret_violation;
  sources.config_path = c.config_path;
  if (!c.config_path.empty()) {
    sources.read_section = [path = c.config_path]() -> Result<std::optional<JsonValue>> {
      auto config = LoadConfig(path);
      if (!config.ok()) {
        return config.status();
      }
      return std::move(config.value().secrets);
    };
  }
  auto secrets_config = SecretsRuntime::Merge(sources, secrets_file);
  if (!secrets_config.ok()) {
    return secrets_config.status();
  }
  if (!secrets_config.value().specs.empty()) {
    // A secret turns interception on, unless the config file turned it off and no flag says
    // otherwise: then CheckInjectable refuses to start rather than send placeholders as is.
    bool file_disabled = tls_file && tls_file->enabled == std::optional<bool>(false);
    if (!file_disabled || c.tls_flag_given || !c.secrets.specs.empty()) {
      tls_options.enabled = true;
    }
    if (Status st = SecretsRuntime::CheckInjectable(secrets_config.value(), tls_options);
        !st.ok()) {
      return st;
    }
  }
  if (!secrets_config.value().specs.empty() && resolve_nameservers) {
    auto rt = SecretsRuntime::Create(std::move(sources), secrets_config.value(), tls_options);
    if (!rt.ok()) {
      return rt.status();
    }
    setup.secrets = std::move(rt).value();
    setup.gateway.secrets = setup.secrets.get();
  }
  for (const std::string& path : {c.config_path, tls_options.state_dir, tls_options.ca_key}) {
    if (!path.empty()) {
      setup.hidden_paths.push_back(path);
    }
  }
  for (const secrets::SecretSpec& spec : secrets_config.value().specs) {
    if (spec.source.kind == secrets::SecretSource::Kind::kFile) {
      setup.hidden_paths.push_back(spec.source.name);  // a value file
    }
  }
  if (tls_options.enabled && resolve_nameservers) {
    auto intercept = CreateIntercept(c, tls_options);
    if (!intercept.ok()) {
      return intercept.status();
    }
    setup.intercept = std::move(intercept).value();
    setup.gateway.intercept = setup.intercept.get();
  }
  if (resolve_nameservers) {
    const std::vector<std::string>& specs =
        c.dns_nameservers.empty() ? dns.nameservers : c.dns_nameservers;
    for (const std::string& spec : specs) {
      auto servers = ParseNameserver(spec);
      if (!servers.ok()) {
        return servers.status();
      }
      for (const SocketAddress& a : servers.value()) {
        d.nameservers.push_back(a);
      }
    }
  }
  return setup;
}

// TlsJson describes interception for gateway.start: on or off, ports, bypass patterns and the
// CA's fingerprint (what a guest must trust).
std::string TlsJson(const tls::InterceptContext* intercept) {
  JsonWriter j;
  j.Bool("enabled", intercept != nullptr);
  if (intercept != nullptr) {
    std::vector<std::string> ports;
    for (uint16_t p : intercept->options().ports) {
      ports.push_back(std::to_string(p));
    }
    std::vector<std::string> bypass;
    for (const HostPattern& p : intercept->options().bypass) {
      bypass.push_back(p.ToString());
    }
    std::string port_list = "[";
    for (size_t i = 0; i < ports.size(); ++i) {
      port_list += (i == 0 ? "" : ",") + ports[i];
    }
    port_list += "]";
    j.Raw("ports", port_list)
        .Raw("bypass", JsonStringArray(bypass))
        .Str("ca_fingerprint", intercept->ca().fingerprint_sha256())
        .Bool("block_quic", intercept->options().block_quic);
  }
  return j.Finish();
}

// SecretsJson names the configured secrets for gateway.start: env var, allowed hosts, scopes
// (never a value, never a source path).
std::string SecretsJson(const SecretsRuntime* secrets) {
  std::string out = "[";
  if (secrets != nullptr) {
    bool first = true;
    for (const secrets::Secret& s : secrets->current()->secrets()) {
      std::vector<std::string> hosts;
      for (const HostPattern& h : s.spec.allowed_hosts) {
        hosts.push_back(h.ToString());
      }
      std::vector<std::string> scopes;
      const secrets::Injection& in = s.spec.injection;
      for (auto [on, name] :
           {std::pair{in.headers, "headers"}, std::pair{in.basic_auth, "basic_auth"},
            std::pair{in.query, "query"}, std::pair{in.body, "body"}}) {
        if (on) {
          scopes.push_back(name);
        }
      }
      JsonWriter j;
      j.Str("env_var", s.spec.env_var)
          .Raw("allowed_hosts", JsonStringArray(hosts))
          .Raw("injection", JsonStringArray(scopes))
          .Bool("require_tls_identity", s.spec.require_tls_identity);
      out += (first ? "" : ",") + j.Finish();
      first = false;
    }
  }
  return out + "]";
}

// PublishedJson lists the published ports for gateway.start, in canonical spec form.
std::string PublishedJson(const HostListeners* listeners) {
  std::vector<std::string> specs;
  if (listeners != nullptr) {
    for (const HostListeners::Listener& l : listeners->listeners()) {
      specs.push_back(l.port.ToString());
    }
  }
  return JsonStringArray(specs);
}

// OpenPublished opens the published ports' host sockets (before the sandbox's command runs) and
// prints a warning for each one bound beyond loopback.
Result<std::unique_ptr<HostListeners>> OpenPublished(const Setup& setup) {
  auto listeners = HostListeners::Open(setup.publish);
  if (!listeners.ok()) {
    return listeners.status();
  }
  for (const std::string& w : listeners.value()->Warnings()) {
    std::fprintf(stderr, "msb-gateway: warning: %s\n", w.c_str());
  }
  return listeners;
}

void EmitStart(AuditLog& audit, const char* mode, const policy::Evaluator& ev, Gateway& gw,
               const tls::InterceptContext* intercept, const SecretsRuntime* secrets) {
  const DnsForwarder& dns = gw.dns();
  std::vector<std::string> rules;
  for (const policy::Rule& r : ev.policy().rules) {
    rules.push_back(policy::RuleToString(r));
  }
  std::vector<std::string> nameservers;
  for (const SocketAddress& a : dns.nameservers()) {
    nameservers.push_back(a.ToString());
  }
  AuditRecord rec("gateway.start");
  rec.json()
      .Str("mode", mode)
      .Uint("pid", static_cast<uint64_t>(getpid()))
      .Str("default_egress", policy::ActionName(ev.policy().default_egress))
      .Str("default_ingress", policy::ActionName(ev.policy().default_ingress))
      .Raw("rules", JsonStringArray(rules))
      .Raw("nameservers", JsonStringArray(nameservers))
      .Raw("tls", TlsJson(intercept))
      .Raw("secrets", SecretsJson(secrets))
      .Raw("published", PublishedJson(gw.options().publish))
      .Raw("link", JsonWriter()
                       .Uint("mtu", gw.options().net.mtu)
                       .Bool("offload", gw.link_offload())
                       .Finish());
  audit.Emit(std::move(rec));
}

// LinkJson: the guest link's counters; open flows and lwIP connections now, or as Shutdown()
// found them.
std::string LinkJson(const Gateway& gw, bool at_shutdown) {
  const stack::NetstackStats& st = gw.link_stats();
  size_t flows = at_shutdown ? gw.open_at_shutdown().flows : gw.session_count();
  size_t pcbs = at_shutdown ? gw.open_at_shutdown().tcp_pcbs : gw.link_tcp_pcbs();
  JsonWriter dhcp;
  if (const stack::Dhcp4ServerStats* d = gw.link_dhcp4_stats(); d != nullptr) {
    dhcp.Uint("discovers", d->discovers)
        .Uint("offers", d->offers)
        .Uint("requests", d->requests)
        .Uint("acks", d->acks)
        .Uint("naks", d->naks)
        .Uint("declines", d->declines)
        .Uint("releases", d->releases)
        .Uint("malformed", d->malformed)
        .Uint("ignored", d->ignored);
  }
  const stack::DeviceCounters dc = gw.device_counters();
  std::string device = JsonWriter()
                           .Uint("malformed", dc.malformed)
                           .Uint("framing_errors", dc.framing_errors)
                           .Uint("peers_accepted", dc.peers_accepted)
                           .Uint("peers_refused", dc.peers_refused)
                           .Uint("peer_disconnects", dc.peer_disconnects)
                           .Uint("dropped_no_peer", dc.dropped_no_peer)
                           .Uint("dropped_peer_gone", dc.dropped_peer_gone)
                           .Uint("dropped_peer_busy", dc.dropped_peer_busy)
                           .Uint("dropped_oversize", dc.dropped_oversize)
                           .Finish();
  JsonWriter link;
  link.Uint("frames_in", st.frames_in)
      .Uint("frames_out", st.frames_out)
      .Uint("gso_in", st.gso_frames_in)
      .Uint("gso_out", st.gso_frames_out)
      .Uint("bad", st.bad_packets)
      .Uint("dropped_tx_full", st.frames_dropped_tx_full)
      .Uint("open_flows", flows)
      .Uint("tcp_pcbs", pcbs)
      .Raw("device", device);
  if (gw.link_dhcp4_stats() != nullptr) {
    link.Raw("dhcp", dhcp.Finish());
  }
  const UdpRelayStats& u = gw.udp_relay().stats();
  link.Raw("udp", JsonWriter()
                      .Uint("flows", u.flows_opened)
                      .Uint("evicted", u.flows_evicted)
                      .Uint("datagrams_up", u.datagrams_up)
                      .Uint("datagrams_down", u.datagrams_down)
                      .Uint("dropped_up", u.dropped_up)
                      .Uint("port_unreachable", u.port_unreachable)
                      .Finish());
  const IcmpRelayStats& i = gw.icmp_relay().stats();
  link.Raw("icmp", JsonWriter()
                       .Uint("answered", st.icmp_echo_answered)
                       .Uint("relayed", i.requests)
                       .Uint("replies", i.replies)
                       .Uint("relay_dropped", i.dropped)
                       .Uint("dropped", st.icmp_dropped)
                       .Finish());
  return link.Finish();
}

// AddPublishStats adds the published ports' counters ("publish") when any port is published.
void AddPublishStats(JsonWriter& j, const Gateway& gw) {
  const Publisher* p = gw.publisher();
  if (p == nullptr) {
    return;
  }
  const PublishStats& st = p->stats();
  j.Raw("publish", JsonWriter()
                       .Uint("tcp_accepted", st.tcp_accepted)
                       .Uint("tcp_denied", st.tcp_denied)
                       .Uint("tcp_open", p->open_flows())
                       .Uint("udp_in", st.udp_in)
                       .Uint("udp_denied", st.udp_denied)
                       .Uint("udp_mappings", p->udp_mappings())
                       .Finish());
}

void EmitStats(AuditLog& audit, const Gateway& gw) {
  AuditRecord rec("gateway.stats");
  rec.json().Raw("link", LinkJson(gw, false));
  AddPublishStats(rec.json(), gw);
  audit.Emit(std::move(rec));
}

void EmitStop(AuditLog& audit, const Gateway& gw, const char* reason, int exit_status) {
  // The gateway's own CPU time (children excluded): what a benchmark needs to say where the time
  // went, and a cheap health signal in production.
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ms = [](const timeval& tv) { return int64_t{tv.tv_sec} * 1000 + tv.tv_usec / 1000; };
  AuditRecord rec("gateway.stop");
  rec.json()
      .Str("reason", reason)
      .Int("exit_status", exit_status)
      .Int("cpu_user_ms", ms(ru.ru_utime))
      .Int("cpu_sys_ms", ms(ru.ru_stime))
      .Int("max_rss_kb", ru.ru_maxrss)
      .Raw("link", LinkJson(gw, true));
  AddPublishStats(rec.json(), gw);
  audit.Emit(std::move(rec));
}

// SignalWatcher turns blocked signals into loop events through a signalfd.
class SignalWatcher final : public IoHandler {
 public:
  explicit SignalWatcher(std::function<void(const signalfd_siginfo&)> on_signal)
      : on_signal_(std::move(on_signal)) {}
  ~SignalWatcher() override {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  Status Init(EventLoop* loop, const sigset_t& set) {
    fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd_ < 0) {
      return Status::Error(std::string("signalfd: ") + strerror(errno));
    }
    return loop->Watch(fd_, EPOLLIN, this);
  }
  void OnIo(uint32_t) override {
    signalfd_siginfo si{};
    while (read(fd_, &si, sizeof(si)) == sizeof(si)) {
      on_signal_(si);
    }
  }

 private:
  int fd_ = -1;
  std::function<void(const signalfd_siginfo&)> on_signal_;
};

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGPIPE);
  for (int s : kForwardedSignals) {
    sigaddset(&set, s);
  }
  return set;
}

// Running is a started gateway; the gateway is destroyed before its loop.
struct Running {
  std::unique_ptr<EventLoop> loop;
  std::unique_ptr<Gateway> gateway;
};

Result<Running> StartGateway(std::unique_ptr<stack::FrameDevice> device, const Setup& setup,
                             AuditLog* audit) {
  Running r;
  auto loop = EventLoop::Create(SystemClock::Instance());
  if (!loop.ok()) {
    return loop.status();
  }
  r.loop = std::move(loop).value();
  auto gw = Gateway::Create(r.loop.get(), std::move(device), setup.evaluator, audit, setup.gateway);
  if (!gw.ok()) {
    return gw.status();
  }
  r.gateway = std::move(gw).value();
  return r;
}

}  // namespace

int ExplainCommand(const CliConfig& c) {
  auto setup = PrepareSetup(c, /*resolve_nameservers=*/false);
  if (!setup.ok()) {
    return Fail(setup.error());
  }
  auto target = policy::ParseExplainTarget(c.explain_target);
  if (!target.ok()) {
    return Fail(target.error());
  }
  std::fputs(policy::ExplainDecision(*setup.value().evaluator, target.value()).c_str(), stdout);
  return 0;
}

// ReloadSecrets applies SIGHUP: new values and hosts from their sources, or the old set kept.
static void ReloadSecrets(SecretsRuntime* secrets, AuditLog* audit) {
  Status st = secrets->Reload();
  AuditRecord rec("secrets.reload");
  rec.json().Str("result", st.ok() ? "ok" : "error");
  if (!st.ok()) {
    rec.json().Str("error", st.message());
    std::fprintf(stderr, "msb-gateway: secrets reload failed, keeping the old set: %s\n",
                 st.message().c_str());
  } else {
    rec.json().Uint("secrets", secrets->current()->secrets().size());
  }
  audit->Emit(std::move(rec));
}

namespace {

// RaiseFdLimit lifts the soft descriptor limit to the hard one: each guest connection holds an
// upstream socket, and --max-connections may allow thousands.
void RaiseFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

template <typename Device>
Result<std::unique_ptr<stack::FrameDevice>> AsFrameDevice(Result<std::unique_ptr<Device>> d) {
  if (!d.ok()) {
    return d.status();
  }
  return std::unique_ptr<stack::FrameDevice>(std::move(d).value());
}

// AdoptSocket: serve --fd N, a stream (QEMU -netdev stream, passt framing) or datagram socket.
Result<std::unique_ptr<stack::FrameDevice>> AdoptSocket(int fd) {
  int type = 0;
  socklen_t len = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) {
    return Status::Error(ErrnoMessage("--fd " + std::to_string(fd) + ": not a socket"));
  }
  if (type == SOCK_STREAM) {
    return AsFrameDevice(stack::UnixStreamDevice::Adopt(fd));
  }
  if (type == SOCK_DGRAM || type == SOCK_SEQPACKET) {
    return AsFrameDevice(stack::UnixDgramDevice::Adopt(fd));
  }
  return Status::Error("--fd " + std::to_string(fd) + ": a stream or datagram socket is needed");
}

// OpenServeDevice: serve's TAP (attached by name, adopted, or created inside --netns) or unix
// socket front end.
Result<std::unique_ptr<stack::FrameDevice>> OpenServeDevice(const CliConfig& c,
                                                            const stack::NetstackConfig& net) {
  if (!c.unix_stream_path.empty()) {
    return AsFrameDevice(stack::UnixStreamDevice::Listen(c.unix_stream_path));
  }
  if (!c.unixgram_path.empty()) {
    return AsFrameDevice(stack::UnixDgramDevice::Bind(c.unixgram_path));
  }
  if (c.socket_fd >= 0) {
    return AdoptSocket(c.socket_fd);
  }
  if (c.tap_fd >= 0) {
    return AsFrameDevice(stack::TapDevice::Adopt(c.tap_fd, c.offload));
  }
  if (c.netns_path.empty()) {
    return AsFrameDevice(stack::TapDevice::Open(c.tap_name, c.offload));
  }
  auto fd = CreateGuestTapInNetns(c.netns_path, c.tap_name, net, c.offload);
  if (!fd.ok()) {
    return fd.status();
  }
  return AsFrameDevice(stack::TapDevice::Adopt(fd.value(), c.offload));
}

// ServedDeviceName: what serve's log line says it serves.
std::string ServedDeviceName(const CliConfig& c) {
  if (!c.unix_stream_path.empty()) {
    return "stream socket " + c.unix_stream_path;
  }
  if (!c.unixgram_path.empty()) {
    return "datagram socket " + c.unixgram_path;
  }
  if (c.socket_fd >= 0) {
    return "socket fd " + std::to_string(c.socket_fd);
  }
  if (c.tap_fd >= 0) {
    return "TAP fd " + std::to_string(c.tap_fd);
  }
  return c.netns_path.empty() ? c.tap_name : c.tap_name + " in " + c.netns_path;
}

}  // namespace

int ServeCommand(const CliConfig& c) {
  RaiseFdLimit();
  auto setup = PrepareSetup(c, /*resolve_nameservers=*/true);
  if (!setup.ok()) {
    return Fail(setup.error());
  }
  auto audit = AuditLog::Open(c.audit_log);
  if (!audit.ok()) {
    return Fail(audit.error());
  }
  auto published = OpenPublished(setup.value());
  if (!published.ok()) {
    return Fail(published.error(), 1);
  }
  setup.value().gateway.publish = published.value().get();
  auto device = OpenServeDevice(c, setup.value().gateway.net);
  if (!device.ok()) {
    return Fail(device.error());
  }
  bool device_offloads = device.value()->offloads();
  sigset_t set = HandledSignals();
  sigprocmask(SIG_BLOCK, &set, nullptr);
  auto running = StartGateway(std::move(device).value(), setup.value(), audit.value().get());
  if (!running.ok()) {
    return Fail(running.error(), 1);
  }
  EventLoop& loop = *running.value().loop;
  Gateway& gw = *running.value().gateway;
  SecretsRuntime* secrets = setup.value().secrets.get();
  bool terminated = false;
  if (secrets != nullptr) {
    secrets->set_audit(audit.value().get());
    secrets->set_terminate([&] {
      terminated = true;
      loop.Stop();
    });
  }
  SignalWatcher signals([&](const signalfd_siginfo& si) {
    if (si.ssi_signo == SIGHUP && secrets != nullptr) {
      ReloadSecrets(secrets, audit.value().get());
      return;
    }
    if (si.ssi_signo == SIGUSR1) {
      EmitStats(*audit.value(), gw);
      return;
    }
    if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP) {
      loop.Stop();
    }
  });
  if (Status st = signals.Init(&loop, set); !st.ok()) {
    return Fail(st.message(), 1);
  }
  EmitStart(*audit.value(), "serve", *setup.value().evaluator, gw, setup.value().intercept.get(),
            setup.value().secrets.get());
  spdlog::info("serving {}{}", ServedDeviceName(c), device_offloads ? " with offloads" : "");
  loop.Run();
  bool failed = gw.device_failed();
  gw.Shutdown();
  loop.RunOnce(Duration::zero());  // deferred session releases
  if (terminated) {
    EmitStop(*audit.value(), gw, "secret_violation", 1);
    return 1;
  }
  EmitStop(*audit.value(), gw, failed ? "device_closed" : "signal", failed ? 1 : 0);
  return failed ? 1 : 0;
}

namespace {

// RunUser resolves who CMD runs as (sandbox_user.h); errors name the flag or variable.
Result<std::optional<RunAs>> RunUser(const CliConfig& c) {
  auto chosen = ChooseRunUser(c.run_user, geteuid(), getenv("SUDO_UID"), getenv("SUDO_GID"));
  if (!chosen.ok()) {
    return chosen.status();
  }
  if (!chosen.value()) {
    return std::optional<RunAs>();
  }
  return ResolveRunUser(*chosen.value());
}

}  // namespace

int RunCommand(const CliConfig& c) {
  // Before any secret is read: a non-dumpable process's /proc/PID/{mem,environ} and ptrace need
  // CAP_SYS_PTRACE, which the sandboxed command never has. The sandbox's init, a fork of this
  // process, inherits it.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
    return Fail(std::string("prctl(PR_SET_DUMPABLE): ") + strerror(errno), 1);
  }
  auto run_as = RunUser(c);
  if (!run_as.ok()) {
    return Fail(run_as.error());
  }
  auto setup = PrepareSetup(c, /*resolve_nameservers=*/true);
  if (!setup.ok()) {
    return Fail(setup.error());
  }
  auto audit = AuditLog::Open(c.audit_log);
  if (!audit.ok()) {
    return Fail(audit.error());
  }
  sigset_t set = HandledSignals();
  sigset_t old;
  sigprocmask(SIG_BLOCK, &set, &old);
  SandboxSpec spec;
  spec.interface_name = c.tap_name;
  spec.net = setup.value().gateway.net;
  spec.offload = c.offload;
  spec.argv = c.command_argv;
  if (setup.value().intercept != nullptr) {
    spec.ca_pem = setup.value().intercept->ca().cert_pem();
  }
  spec.hidden_paths = setup.value().hidden_paths;
  spec.run_as = run_as.value();
  auto child = StartSandbox(spec);
  if (!child.ok()) {
    return Fail(child.error());
  }
  RaiseFdLimit();  // after the fork: CMD keeps the limits it was started with
  pid_t pid = child.value()->pid();
  // On any failure below the child dies with us (PR_SET_PDEATHSIG) before running CMD. The
  // published ports open after the fork, so the sandbox's init never holds their sockets.
  auto published = OpenPublished(setup.value());
  if (!published.ok()) {
    return Fail(published.error(), 1);
  }
  setup.value().gateway.publish = published.value().get();
  auto device = stack::TapDevice::Adopt(child.value()->TakeTapFd(), c.offload);
  if (!device.ok()) {
    return Fail(device.error(), 1);
  }
  auto running = StartGateway(std::move(device).value(), setup.value(), audit.value().get());
  if (!running.ok()) {
    return Fail(running.error(), 1);
  }
  EventLoop& loop = *running.value().loop;
  Gateway& gw = *running.value().gateway;
  int exit_status = -1;
  SecretsRuntime* secrets = setup.value().secrets.get();
  if (secrets != nullptr) {
    secrets->set_audit(audit.value().get());
    // block-and-terminate: CMD is killed at once; the gateway exits non-zero once it is reaped.
    secrets->set_terminate([pid] { kill(pid, SIGKILL); });
  }
  SignalWatcher signals([&](const signalfd_siginfo& si) {
    if (si.ssi_signo == SIGHUP && secrets != nullptr && si.ssi_code != SI_KERNEL) {
      ReloadSecrets(secrets, audit.value().get());  // with secrets, SIGHUP is the gateway's
      return;
    }
    if (si.ssi_signo == SIGCHLD) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        loop.Stop();
      }
      return;
    }
    if (si.ssi_signo == SIGPIPE) {
      return;
    }
    // A terminal's SIGINT/SIGQUIT already reached CMD (same process group); forward only what
    // was sent to the gateway itself, so CMD never sees a signal twice.
    if (si.ssi_code != SI_KERNEL) {
      kill(pid, static_cast<int>(si.ssi_signo));
    }
  });
  if (Status st = signals.Init(&loop, set); !st.ok()) {
    return Fail(st.message(), 1);
  }
  EmitStart(*audit.value(), "run", *setup.value().evaluator, gw, setup.value().intercept.get(),
            setup.value().secrets.get());
  if (Status st = child.value()->Release(); !st.ok()) {
    return Fail(st.message(), 1);
  }
  loop.Run();
  if (exit_status < 0) {
    // The device failed before CMD exited: CMD has lost its network; end it rather than leave it
    // running unguarded.
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    exit_status = 1;
  }
  // Flows the command closed on its way out still need their FINs forwarded upstream.
  gw.DrainAndShutdown(std::chrono::seconds(2));
  loop.RunOnce(Duration::zero());
  if (secrets != nullptr && secrets->terminated()) {
    exit_status = exit_status == 0 ? 1 : exit_status;
    EmitStop(*audit.value(), gw, "secret_violation", exit_status);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    return exit_status;
  }
  EmitStop(*audit.value(), gw, "command_exited", exit_status);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  return exit_status;
}

}  // namespace msb::gateway
