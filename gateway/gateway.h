// Gateway: joins the guest-facing stack, the policy engine, upstream sockets and the audit log.
//
// Flow lifecycle (TCP): the stack reports a guest SYN -> the Gateway evaluates policy for the
// original destination (an audit "flow.decision" either way) -> denied: RST at once -> allowed: a
// TcpSession connects upstream while the SYN is held -> connected: the guest handshake completes
// and the session splices bytes both ways with flow control -> both directions closed, a reset,
// or a timeout: "flow.close" with byte counts, duration and reason. Sessions are owned here and
// destroyed only from deferred tasks, never inside their own callbacks.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>

#include "base/clock.h"
#include "gateway/core/audit_log.h"
#include "gateway/core/audit_throttle.h"
#include "gateway/core/event_loop.h"
#include "gateway/core/guest_session.h"
#include "gateway/core/session_context.h"
#include "gateway/core/upstream_connector.h"
#include "gateway/datagram/guest_datagrams.h"
#include "gateway/datagram/icmp_relay.h"
#include "gateway/datagram/udp_relay.h"
#include "gateway/device_watch.h"
#include "gateway/dns/forwarder.h"
#include "policy/evaluator.h"
#include "policy/pin_set.h"
#include "stack/frame_device.h"
#include "stack/netstack.h"

namespace msb::gateway {

class HostListeners;
class NetstackLink;
class Publisher;

struct GatewayOptions {
  stack::NetstackConfig net;
  DnsOptions dns;
  size_t max_connections = 256;  // microsandbox's default: one guest cannot take them all
  SessionOptions session;
  UdpRelayOptions udp;
  // intercept: TLS interception's process-wide state (owned by the caller, outliving the
  // gateway); null when interception is off.
  tls::InterceptContext* intercept = nullptr;
  // secrets: the live secrets (owned by the caller); null when none is configured.
  SecretsRuntime* secrets = nullptr;
  // publish: the published ports' host sockets (owned by the caller, outliving the gateway,
  // gateway/publish/host_listeners.h); null or empty when nothing is published.
  const HostListeners* publish = nullptr;
};

struct GatewayStats {
  uint64_t flows_allowed = 0;
  uint64_t flows_denied = 0;
  SessionStats sessions;
};

class Gateway final : public stack::Netstack::Delegate,
                      public IoHandler,
                      private SessionOwner,
                      private SynResolver,
                      private GuestDatagrams {
 public:
  static Result<std::unique_ptr<Gateway>> Create(EventLoop* loop,
                                                 std::unique_ptr<stack::FrameDevice> device,
                                                 std::shared_ptr<const policy::Evaluator> policy,
                                                 AuditLog* audit, const GatewayOptions& options);
  ~Gateway() override;
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Shutdown aborts every flow (audited as "shutdown") and stops watching the device.
  void Shutdown();
  // DrainAndShutdown is for when the guest has gone (its process exited): it takes the frames the
  // guest sent before leaving (typically its FINs), lets flows finish in order with their
  // upstreams for at most `grace`, then shuts down what is left.
  void DrainAndShutdown(Duration grace);

  // Netstack::Delegate.
  stack::SynVerdict OnTcpSyn(uint64_t syn_id, const stack::FlowTuple& tuple) override;
  void OnTcpAccepted(std::unique_ptr<stack::GuestTcp> conn) override;
  void OnTcpAcceptFailed(uint64_t syn_id) override;
  stack::UdpVerdict OnUdp(const stack::FlowTuple& tuple, std::span<const uint8_t> payload) override;
  stack::IcmpVerdict OnIcmpEcho(const stack::IcmpEcho& echo) override;

  // IoHandler for the frame device.
  void OnIo(uint32_t events) override;

  const GatewayOptions& options() const { return options_; }
  const GatewayStats& stats() const { return stats_; }
  DnsForwarder& dns() { return *dns_; }
  policy::PinSet& pins() { return *pins_; }
  // session_count: the TCP flows open, the guest's and the published ports' (gateway.stats).
  size_t session_count() const;
  bool device_failed() const { return device_failed_; }
  // The guest link: its counters, and whether the device moves offloads (FrameDevice).
  const stack::NetstackStats& link_stats() const { return netstack_->stats(); }
  bool link_offload() const { return netstack_->offload(); }
  size_t link_tcp_pcbs() const { return netstack_->TcpPcbCount(); }
  stack::DeviceCounters device_counters() const { return device_->counters(); }
  // link_dhcp4_stats: the guest link's DHCP server counters (nullptr with --no-dhcp).
  const stack::Dhcp4ServerStats* link_dhcp4_stats() const { return netstack_->dhcp4_stats(); }
  // The datagram relays: UDP flows to the outside, pings to other hosts.
  const UdpRelay& udp_relay() const { return *udp_; }
  const IcmpRelay& icmp_relay() const { return *icmp_; }
  // What was still open when Shutdown() began (before it aborted it): the guest flows the
  // gateway tracked and lwIP's TCP connections. A leak shows as pcbs without flows.
  struct OpenAtShutdown {
    size_t flows = 0;
    size_t tcp_pcbs = 0;
  };
  const OpenAtShutdown& open_at_shutdown() const { return open_at_shutdown_; }
  // publisher: the published ports (nullptr when none is).
  const Publisher* publisher() const { return publish_.get(); }

 private:
  Gateway(EventLoop* loop, std::unique_ptr<stack::FrameDevice> device,
          std::shared_ptr<const policy::Evaluator> policy, AuditLog* audit,
          const GatewayOptions& options);
  Duration PollHook();
  void EmitDecision(uint64_t flow_id, const stack::FlowTuple& tuple,
                    const policy::Decision& decision, std::string_view reason,
                    std::string_view detail = {});
  // RefuseInvalidDestination audits and counts a flow to an address that is never a destination
  // (policy/destination_validity.h) and returns true; false when the address is a valid one.
  bool RefuseInvalidDestination(uint64_t flow_id, const stack::FlowTuple& tuple,
                                policy::Protocol protocol);
  SocketAddress UpstreamAddressFor(const SocketAddress& dest) const;
  // HostAliasFallback: for the gateway's own addresses, the other family's loopback (TCP).
  std::optional<SocketAddress> HostAliasFallback(const SocketAddress& dest) const;
  // SessionOwner and SynResolver: what sessions reach through their SessionContext.
  uint64_t NextFlowId() override { return next_flow_id_++; }
  void ReleaseSession(uint64_t flow_id) override;  // destroyed at the end of this iteration
  bool ResolveSyn(uint64_t syn_id, stack::SynOutcome outcome) override;
  SessionContext MakeSessionContext();
  // GuestDatagrams, for the relays: through the Netstack.
  void SendUdp(const SocketAddress& from, const SocketAddress& to,
               std::span<const uint8_t> payload) override;
  void SendUdpPortUnreachable(const stack::FlowTuple& udp, size_t payload_len) override;
  void SendEchoReply(const IpAddress& from, const IpAddress& to, uint16_t identifier,
                     uint16_t sequence, std::span<const uint8_t> data) override;
  // RelayUdp: policy for one datagram outside DNS and the gateway's own refusals, then the relay.
  stack::UdpVerdict RelayUdp(const stack::FlowTuple& tuple, std::span<const uint8_t> payload);
  // HasRoomForFlow: another TCP flow fits under --max-connections (the guest's and the published
  // ports' flows count together).
  bool HasRoomForFlow() const;
  Status StartPublishing();
  stack::SynVerdict AdmitSession(uint64_t flow_id, uint64_t syn_id,
                                 std::unique_ptr<GuestSession> session);
  void SweepPins();
  void ReturnFreedMemory();
  void RefreshDeviceWatch();

  EventLoop* loop_;
  std::unique_ptr<stack::FrameDevice> device_;
  std::unique_ptr<DeviceWatch> device_watch_;
  // Pings and denied UDP repeat: each flow is audited once a minute (OnIcmpEcho, RelayUdp).
  AuditThrottle icmp_audits_{std::chrono::minutes(1), 1024};
  AuditThrottle udp_denials_{std::chrono::minutes(1), 1024};
  std::unique_ptr<UdpRelay> udp_;
  std::unique_ptr<IcmpRelay> icmp_;
  std::shared_ptr<const policy::Evaluator> policy_;
  AuditLog* audit_;
  GatewayOptions options_;
  GatewayStats stats_;
  std::unique_ptr<policy::PinSet> pins_;
  std::unique_ptr<stack::Netstack> netstack_;
  OpenAtShutdown open_at_shutdown_;
  std::unique_ptr<DnsForwarder> dns_;
  std::unique_ptr<NetstackLink> publish_link_;
  std::unique_ptr<Publisher> publish_;  // flows the host opens (gateway/publish)
  SocketConnector connector_;
  uint64_t next_flow_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<GuestSession>> sessions_;  // by flow id
  std::unordered_map<uint64_t, uint64_t> flow_of_syn_;                    // syn id -> flow id
  TimerId sweep_timer_ = 0;
  // Most sessions open at once since memory was last trimmed (then: sessions + lwIP pcbs).
  size_t sessions_peak_ = 0;
  bool device_failed_ = false;
  bool shutting_down_ = false;
};

}  // namespace msb::gateway
