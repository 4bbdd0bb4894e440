// Gateway: policy at SYN time, session ownership, device I/O (see gateway.h).
#include "gateway/gateway.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include "gateway/core/guest_stream.h"
#include "gateway/dns/tcp_session.h"
#include "gateway/publish/netstack_link.h"
#include "gateway/publish/publisher.h"
#include "gateway/tcp_session.h"
#include "gateway/tls/intercept_context.h"
#include "policy/destination_validity.h"
#include "policy/types.h"

namespace msb::gateway {

Gateway::Gateway(EventLoop* loop, std::unique_ptr<stack::FrameDevice> device,
                 std::shared_ptr<const policy::Evaluator> policy, AuditLog* audit,
                 const GatewayOptions& options)
    : loop_(loop),
      device_(std::move(device)),
      policy_(std::move(policy)),
      audit_(audit),
      options_(options),
      connector_(loop) {}

Result<std::unique_ptr<Gateway>> Gateway::Create(EventLoop* loop,
                                                 std::unique_ptr<stack::FrameDevice> device,
                                                 std::shared_ptr<const policy::Evaluator> policy,
                                                 AuditLog* audit, const GatewayOptions& options) {
  std::unique_ptr<Gateway> gw(
      new Gateway(loop, std::move(device), std::move(policy), audit, options));
  gw->pins_ = std::make_unique<policy::PinSet>(loop->clock());
  auto dns = DnsForwarder::Create(loop, gw->policy_, gw->pins_.get(), audit, options.dns);
  if (!dns.ok()) {
    return dns.status();
  }
  gw->dns_ = std::move(dns).value();
  auto ns = stack::Netstack::Create(options.net, gw->device_.get(), loop->clock(), gw.get());
  if (!ns.ok()) {
    return ns.status();
  }
  gw->netstack_ = std::move(ns).value();
  GuestDatagrams* to_guest = gw.get();
  gw->udp_ = std::make_unique<UdpRelay>(loop, audit, to_guest, options.udp);
  gw->icmp_ = std::make_unique<IcmpRelay>(loop, to_guest, IcmpRelayOptions{});
  for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
    if (!gw->icmp_->available(family) && (family == IpFamily::kV4 || options.net.ipv6)) {
      spdlog::warn("ICMP{} echo relay off: {}; pings to hosts other than the gateway go unanswered",
                   family == IpFamily::kV4 ? "" : "v6", gw->icmp_->unavailable_reason(family));
    }
  }
  if (Status st = gw->StartPublishing(); !st.ok()) {
    return st;
  }
  gw->device_watch_ = std::make_unique<DeviceWatch>(loop, gw->device_.get(), gw.get());
  if (Status st = gw->device_watch_->Start(); !st.ok()) {
    return st;
  }
  loop->SetPollHook([g = gw.get()] { return g->PollHook(); });
  gw->SweepPins();
  return gw;
}

void Gateway::SweepPins() {
  // Lookups ignore expired pins anyway; the sweep only bounds memory.
  pins_->Sweep();
  ReturnFreedMemory();
  sweep_timer_ = loop_->AddTimer(std::chrono::seconds(10), [this] { SweepPins(); });
}

void Gateway::ReturnFreedMemory() {
  // Thousands of flows leave thousands of small freed blocks (pcbs, sessions) spread through the
  // heap, which free() keeps; once most of them are gone, hand their pages back to the system so
  // that RSS returns to its baseline (within one sweep, 10 s). lwIP's side of a connection can
  // outlive its session (the closing handshake), so its pcbs count as well: a trim while they
  // are still there would leave their memory, freed later, unreturned.
  constexpr size_t kWorthTrimming = 256;
  size_t live = sessions_.size() + (netstack_ != nullptr ? netstack_->TcpPcbCount() : 0);
  if (sessions_peak_ >= kWorthTrimming && live <= sessions_peak_ / 2) {
    malloc_trim(0);
    sessions_peak_ = live;
  }
}

Gateway::~Gateway() {
  Shutdown();
  if (sweep_timer_ != 0) {
    loop_->CancelTimer(sweep_timer_);
  }
  loop_->SetPollHook(nullptr);
  sessions_.clear();
  publish_.reset();  // its flows hold guest connections: before the stack
  udp_.reset();
  icmp_.reset();
  dns_.reset();  // pending answers are dropped, never delivered to freed sessions
  netstack_.reset();
}

void Gateway::Shutdown() {
  if (shutting_down_) {
    return;
  }
  shutting_down_ = true;
  open_at_shutdown_.flows = session_count();
  open_at_shutdown_.tcp_pcbs = netstack_ != nullptr ? netstack_->TcpPcbCount() : 0;
  for (auto& [id, session] : sessions_) {
    session->Abort(CloseReason::kShutdown);
  }
  if (udp_ != nullptr) {
    udp_->CloseAll("shutdown");
  }
  if (publish_ != nullptr) {
    publish_->Shutdown();
  }
  if (device_watch_ != nullptr) {
    device_watch_->Stop();
  }
  if (netstack_ != nullptr) {
    netstack_->OnDeviceWritable();  // last RSTs out, if the device takes them
  }
}

void Gateway::DrainAndShutdown(Duration grace) {
  if (!shutting_down_ && !device_failed_) {
    netstack_->OnDeviceReadable();
  }
  device_watch_->Stop();
  device_failed_ = true;  // nothing more can come from the guest
  TimePoint deadline = loop_->clock().Now() + grace;
  while (!sessions_.empty()) {
    TimePoint now = loop_->clock().Now();
    if (now >= deadline) {
      break;
    }
    loop_->RunOnce(deadline - now);
  }
  Shutdown();
}

Duration Gateway::PollHook() {
  if (netstack_ == nullptr || shutting_down_) {
    return std::chrono::seconds(1);
  }
  netstack_->RunTimers();
  if (!device_failed_) {
    RefreshDeviceWatch();
  }
  return netstack_->NextTimerDelay();
}

void Gateway::OnIo(uint32_t events) {
  if ((events & EPOLLOUT) != 0) {
    netstack_->OnDeviceWritable();
  }
  if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
    if (!netstack_->OnDeviceReadable()) {
      device_failed_ = true;
      loop_->Stop();
      return;
    }
    RefreshDeviceWatch();  // a stream device may have a new peer, or lost one
  }
}

void Gateway::RefreshDeviceWatch() {
  if (Status st = device_watch_->Refresh(netstack_->WantsDeviceWritable()); !st.ok()) {
    spdlog::error("guest device: {}", st.message());
    device_failed_ = true;
    loop_->Stop();
  }
}

SocketAddress Gateway::UpstreamAddressFor(const SocketAddress& dest) const {
  // The gateway's own address stands for the host (host.microsandbox.internal): dial loopback.
  if (dest.ip == options_.net.gateway_v4) {
    return {IpAddress::V4(0x7f000001), dest.port};
  }
  if (options_.net.ipv6 && dest.ip == options_.net.gateway_v6) {
    return {*IpAddress::Parse("::1"), dest.port};
  }
  return dest;
}

std::optional<SocketAddress> Gateway::HostAliasFallback(const SocketAddress& dest) const {
  // microsandbox's order: the gateway's IPv4 address dials 127.0.0.1, then [::1]; its IPv6
  // address [::1], then 127.0.0.1.
  if (dest.ip == options_.net.gateway_v4) {
    return SocketAddress{*IpAddress::Parse("::1"), dest.port};
  }
  if (options_.net.ipv6 && dest.ip == options_.net.gateway_v6) {
    return SocketAddress{IpAddress::V4(0x7f000001), dest.port};
  }
  return std::nullopt;
}

bool Gateway::RefuseInvalidDestination(uint64_t flow_id, const stack::FlowTuple& tuple,
                                       policy::Protocol protocol) {
  auto invalid = policy::CheckDestination(tuple.dest.ip, protocol);
  if (!invalid) {
    return false;
  }
  // Before policy, DNS interception and every preset: see policy/destination_validity.h.
  policy::Decision decision;
  decision.action = policy::Action::kDeny;
  EmitDecision(flow_id, tuple, decision, "invalid_destination",
               policy::InvalidDestinationName(*invalid));
  ++stats_.flows_denied;
  return true;
}

void Gateway::EmitDecision(uint64_t flow_id, const stack::FlowTuple& tuple,
                           const policy::Decision& decision, std::string_view reason,
                           std::string_view detail) {
  AuditRecord rec("flow.decision");
  const char* proto = tuple.transport == stack::Transport::kTcp   ? "tcp"
                      : tuple.transport == stack::Transport::kUdp ? "udp"
                      : tuple.dest.ip.is_v6()                     ? "icmpv6"
                                                                  : "icmpv4";
  rec.Flow({flow_id, proto, tuple.guest, tuple.dest});
  JsonWriter& j = rec.json();
  j.Str("dir", "egress").Str("action", policy::ActionName(decision.action));
  auto group = policy::Classify(tuple.dest.ip, policy_->host());
  if (group) {
    j.Str("group", policy::GroupName(*group));
  } else {
    j.Null("group");
  }
  // With a reason, the gateway decided (DNS interception, a limit), not a policy default.
  AddRuleFields(j, policy_->policy(), decision, reason.empty() ? "default egress" : "gateway");
  if (!reason.empty()) {
    j.Str("reason", reason);
  }
  if (!detail.empty()) {
    j.Str("detail", detail);
  }
  audit_->Emit(std::move(rec));
}

stack::SynVerdict Gateway::OnTcpSyn(uint64_t syn_id, const stack::FlowTuple& tuple) {
  uint64_t flow_id = NextFlowId();
  policy::Decision decision;
  if (shutting_down_) {
    decision.action = policy::Action::kDeny;
    EmitDecision(flow_id, tuple, decision, "shutdown");
    return stack::SynVerdict::kReject;
  }
  if (RefuseInvalidDestination(flow_id, tuple, policy::Protocol::kTcp)) {
    return stack::SynVerdict::kReject;
  }
  bool full = !HasRoomForFlow();
  if (tuple.dest.port == 53) {
    // DNS over TCP to any address is answered by the gateway; policy applies per query.
    decision.action = full ? policy::Action::kDeny : policy::Action::kAllow;
    EmitDecision(flow_id, tuple, decision, full ? "max_connections" : "dns");
    if (full) {
      ++stats_.flows_denied;
      return stack::SynVerdict::kReject;
    }
    return AdmitSession(
        flow_id, syn_id,
        std::make_unique<DnsTcpSession>(MakeSessionContext(), flow_id, syn_id, tuple));
  }
  tls::InterceptContext* intercept = options_.intercept;
  if (tuple.dest.port == 853) {
    if (intercept == nullptr) {
      // Without interception DNS over TLS cannot be inspected: refusing it makes stubs fall back
      // to port 53.
      decision.action = policy::Action::kDeny;
      EmitDecision(flow_id, tuple, decision, "dot_not_supported");
      ++stats_.flows_denied;
      return stack::SynVerdict::kReject;
    }
    // With interception the gateway terminates DNS over TLS itself and answers its queries,
    // which policy judges one by one, as for TCP to port 53.
    decision.action = full ? policy::Action::kDeny : policy::Action::kAllow;
    EmitDecision(flow_id, tuple, decision, full ? "max_connections" : "dot");
    if (full) {
      ++stats_.flows_denied;
      return stack::SynVerdict::kReject;
    }
    return AdmitSession(flow_id, syn_id,
                        std::make_unique<DnsTcpSession>(MakeSessionContext(), flow_id, syn_id,
                                                        tuple, /*over_tls=*/true));
  }
  bool intercepted = intercept != nullptr && intercept->IsInterceptedPort(tuple.dest.port);
  policy::FlowQuery q;
  q.direction = policy::Direction::kEgress;
  q.protocol = policy::Protocol::kTcp;
  q.ip = tuple.dest.ip;
  q.port = tuple.dest.port;
  q.sni_pending = intercepted;  // the ClientHello decides again, with the SNI
  decision = policy_->Evaluate(q, pins_.get());
  if (decision.action == policy::Action::kAllow && full) {
    decision.action = policy::Action::kDeny;
    EmitDecision(flow_id, tuple, decision, "max_connections");
    ++stats_.flows_denied;
    return stack::SynVerdict::kReject;
  }
  EmitDecision(flow_id, tuple, decision, {});
  if (decision.action == policy::Action::kDeny) {
    ++stats_.flows_denied;
    return stack::SynVerdict::kReject;
  }
  return AdmitSession(flow_id, syn_id,
                      std::make_unique<TcpSession>(MakeSessionContext(), flow_id, syn_id, tuple,
                                                   UpstreamAddressFor(tuple.dest), intercepted,
                                                   HostAliasFallback(tuple.dest)));
}

stack::SynVerdict Gateway::AdmitSession(uint64_t flow_id, uint64_t syn_id,
                                        std::unique_ptr<GuestSession> session) {
  ++stats_.flows_allowed;
  GuestSession* raw = session.get();
  sessions_[flow_id] = std::move(session);
  sessions_peak_ = std::max(sessions_peak_, sessions_.size());
  flow_of_syn_[syn_id] = flow_id;
  // The session starts after lwIP has finished with this SYN (the stack must record it as held
  // before anything can resolve it).
  loop_->Defer([this, flow_id, raw] {
    if (sessions_.count(flow_id) != 0) {
      raw->Start();
    }
  });
  return stack::SynVerdict::kHold;
}

void Gateway::OnTcpAccepted(std::unique_ptr<stack::GuestTcp> conn) {
  auto it = flow_of_syn_.find(conn->syn_id());
  if (it == flow_of_syn_.end()) {
    conn->Abort();
    return;
  }
  auto sit = sessions_.find(it->second);
  flow_of_syn_.erase(it);
  if (sit == sessions_.end() || !sit->second->accepting()) {
    conn->Abort();
    return;
  }
  sit->second->OnAccepted(std::make_unique<GuestStream>(std::move(conn)));
}

void Gateway::OnTcpAcceptFailed(uint64_t syn_id) {
  auto it = flow_of_syn_.find(syn_id);
  if (it == flow_of_syn_.end()) {
    return;
  }
  uint64_t flow_id = it->second;
  flow_of_syn_.erase(it);
  auto sit = sessions_.find(flow_id);
  if (sit != sessions_.end()) {
    sit->second->OnAcceptFailed();
  }
}

stack::IcmpVerdict Gateway::OnIcmpEcho(const stack::IcmpEcho& req) {
  // One ping sends an echo a second under one identifier: each is decided, a (destination,
  // identifier) pair is audited once per minute, so a ping is one audit line, not one per packet.
  const stack::FlowTuple& echo = req.flow;
  bool audit = icmp_audits_.ShouldAudit(echo, loop_->clock().Now());
  uint64_t flow_id = NextFlowId();
  policy::Protocol protocol =
      echo.dest.ip.is_v6() ? policy::Protocol::kIcmpv6 : policy::Protocol::kIcmpv4;
  if (auto invalid = policy::CheckDestination(echo.dest.ip, protocol)) {
    if (audit) {
      RefuseInvalidDestination(flow_id, echo, protocol);
    }
    return stack::IcmpVerdict::kDrop;
  }
  policy::FlowQuery q;
  q.direction = policy::Direction::kEgress;
  q.protocol = protocol;
  q.ip = echo.dest.ip;
  policy::Decision decision = policy_->Evaluate(q, pins_.get());
  bool allowed = decision.action == policy::Action::kAllow;
  bool to_gateway = echo.dest.ip == options_.net.gateway_v4 ||
                    (options_.net.ipv6 && echo.dest.ip == options_.net.gateway_v6);
  std::string_view reason;
  if (allowed && !to_gateway && !icmp_->available(echo.dest.ip.family())) {
    decision.action = policy::Action::kDeny;  // allowed, but this host cannot send it
    reason = "icmp_relay_unavailable";
  }
  if (audit) {
    EmitDecision(flow_id, echo, decision, reason);
    ++(decision.action == policy::Action::kAllow ? stats_.flows_allowed : stats_.flows_denied);
  }
  if (decision.action != policy::Action::kAllow) {
    return stack::IcmpVerdict::kDrop;
  }
  if (to_gateway) {
    return stack::IcmpVerdict::kAnswer;
  }
  return icmp_->Send(req) ? stack::IcmpVerdict::kRelayed : stack::IcmpVerdict::kDrop;
}

stack::UdpVerdict Gateway::OnUdp(const stack::FlowTuple& tuple, std::span<const uint8_t> payload) {
  if (publish_ != nullptr && publish_->OnGuestUdp(tuple, payload)) {
    return stack::UdpVerdict::kHandled;  // a reply to a published UDP port's peer
  }
  if (RefuseInvalidDestination(NextFlowId(), tuple, policy::Protocol::kUdp)) {
    return stack::UdpVerdict::kDrop;  // no ICMP: an error "from" such an address means nothing
  }
  uint16_t port = tuple.dest.port;
  if (port == 53) {
    DnsRequest req;
    req.flow_id = NextFlowId();
    req.transport = policy::DnsTransport::kUdp;
    req.guest = tuple.guest;
    req.dest = tuple.dest;
    req.message.assign(payload.begin(), payload.end());
    // The answer comes from the address the guest asked, whichever that was.
    dns_->Handle(std::move(req), [this, tuple](std::vector<uint8_t>&& answer) {
      if (!answer.empty() && netstack_ != nullptr) {
        netstack_->SendUdp(tuple.dest, tuple.guest, answer);
      }
    });
    return stack::UdpVerdict::kHandled;
  }
  policy::Decision decision;
  decision.action = policy::Action::kDeny;
  tls::InterceptContext* intercept = options_.intercept;
  if (intercept != nullptr && intercept->options().block_quic &&
      intercept->IsInterceptedPort(port)) {
    // QUIC would carry HTTPS past the interception: dropped silently, clients fall back to TCP.
    if (udp_denials_.ShouldAudit(tuple, loop_->clock().Now())) {
      EmitDecision(NextFlowId(), tuple, decision, "quic_blocked");
    }
    ++stats_.flows_denied;
    return stack::UdpVerdict::kDrop;
  }
  if (port == 853 || port == 5353 || port == 5355 || port == 137) {
    // DNS over QUIC, mDNS, LLMNR and NetBIOS name service would bypass the gateway's resolver:
    // refuse them at once so stubs fall back to plain DNS, which the gateway sees.
    if (udp_denials_.ShouldAudit(tuple, loop_->clock().Now())) {
      EmitDecision(NextFlowId(), tuple, decision, "alternative_dns_refused");
    }
    ++stats_.flows_denied;
    return stack::UdpVerdict::kPortUnreachable;
  }
  return RelayUdp(tuple, payload);
}

stack::UdpVerdict Gateway::RelayUdp(const stack::FlowTuple& tuple,
                                    std::span<const uint8_t> payload) {
  // Policy judges every datagram (a pin can expire, the name's rule then no longer matches), but
  // a flow is audited when it opens and when it ends; denials once a minute per flow.
  policy::FlowQuery q;
  q.direction = policy::Direction::kEgress;
  q.protocol = policy::Protocol::kUdp;
  q.ip = tuple.dest.ip;
  q.port = tuple.dest.port;
  policy::Decision decision = policy_->Evaluate(q, pins_.get());
  if (decision.action != policy::Action::kAllow || shutting_down_) {
    udp_->Close(tuple, "policy");
    if (udp_denials_.ShouldAudit(tuple, loop_->clock().Now())) {
      decision.action = policy::Action::kDeny;
      EmitDecision(NextFlowId(), tuple, decision, shutting_down_ ? "shutdown" : "");
    }
    ++stats_.flows_denied;
    // Refused like a closed port, so the guest's socket fails at once (as a denied TCP flow
    // gets RST) instead of waiting for an answer that never comes.
    return stack::UdpVerdict::kPortUnreachable;
  }
  if (!udp_->Has(tuple)) {
    uint64_t flow_id = NextFlowId();
    EmitDecision(flow_id, tuple, decision, {});
    ++stats_.flows_allowed;
    if (Status st = udp_->Open(flow_id, tuple, UpstreamAddressFor(tuple.dest)); !st.ok()) {
      AuditRecord rec =
          FlowCloseRecord({flow_id, "udp", tuple.guest, tuple.dest}, "upstream_error", 0, 0, 0);
      rec.json().Str("detail", st.message());
      audit_->Emit(std::move(rec));
      return stack::UdpVerdict::kDrop;
    }
  }
  udp_->Send(tuple, payload);
  return stack::UdpVerdict::kHandled;
}

void Gateway::SendUdp(const SocketAddress& from, const SocketAddress& to,
                      std::span<const uint8_t> payload) {
  if (netstack_ != nullptr) {
    netstack_->SendUdp(from, to, payload);
  }
}

void Gateway::SendUdpPortUnreachable(const stack::FlowTuple& udp, size_t payload_len) {
  if (netstack_ != nullptr) {
    netstack_->SendUdpPortUnreachable(udp, payload_len);
  }
}

void Gateway::SendEchoReply(const IpAddress& from, const IpAddress& to, uint16_t identifier,
                            uint16_t sequence, std::span<const uint8_t> data) {
  if (netstack_ != nullptr) {
    netstack_->SendIcmpEchoReply(from, to, identifier, sequence, data);
  }
}

size_t Gateway::session_count() const {
  return sessions_.size() + (publish_ != nullptr ? publish_->open_flows() : 0);
}

bool Gateway::HasRoomForFlow() const {
  return session_count() < options_.max_connections;
}

Status Gateway::StartPublishing() {
  if (options_.publish == nullptr || options_.publish->empty()) {
    return Status::Ok();
  }
  publish_link_ = std::make_unique<NetstackLink>(netstack_.get());
  PublishContext ctx;
  ctx.loop = loop_;
  ctx.audit = audit_;
  ctx.policy = policy_.get();
  ctx.guest = publish_link_.get();
  ctx.options = &options_.session;
  ctx.guest_v4 = options_.net.guest_v4;
  ctx.gateway_v4 = options_.net.gateway_v4;
  ctx.next_flow_id = [this] { return NextFlowId(); };
  ctx.has_room = [this] { return !shutting_down_ && HasRoomForFlow(); };
  auto publisher = Publisher::Create(ctx, options_.publish);
  if (!publisher.ok()) {
    return publisher.status();
  }
  publish_ = std::move(publisher).value();
  return Status::Ok();
}

SessionContext Gateway::MakeSessionContext() {
  SessionContext ctx;
  ctx.loop = loop_;
  ctx.audit = audit_;
  ctx.syns = this;
  ctx.connector = &connector_;
  ctx.owner = this;
  ctx.options = &options_.session;
  ctx.policy = policy_.get();
  ctx.pins = pins_.get();
  ctx.stats = &stats_.sessions;
  ctx.dns = dns_.get();
  ctx.intercept = options_.intercept;
  ctx.secrets = options_.secrets;
  return ctx;
}

bool Gateway::ResolveSyn(uint64_t syn_id, stack::SynOutcome outcome) {
  return netstack_->ResolveSyn(syn_id, outcome);
}

void Gateway::ReleaseSession(uint64_t flow_id) {
  loop_->Defer([this, flow_id] {
    auto it = sessions_.find(flow_id);
    if (it == sessions_.end()) {
      return;
    }
    for (auto s = flow_of_syn_.begin(); s != flow_of_syn_.end();) {
      s = s->second == flow_id ? flow_of_syn_.erase(s) : std::next(s);
    }
    sessions_.erase(it);
  });
}

}  // namespace msb::gateway
