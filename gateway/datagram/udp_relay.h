// UdpRelay: the guest's UDP flows to the outside (everything but DNS, which the gateway answers).
//
// A flow is one (guest endpoint, destination) pair; it gets a host socket connected to the
// upstream address, so only that peer's datagrams come back, and they reach the guest as if sent
// by the destination it addressed. The Gateway decides policy per datagram and audits the flow's
// opening; the relay audits its end (flow.close: idle, evicted, policy, shutdown) with byte and
// datagram counts. When the host reports the destination port unreachable, the guest is told so
// (ICMP port unreachable, its socket sees ECONNREFUSED). Flows expire after idle_timeout without
// traffic either way; at max_flows the least recently used flow is evicted. Nothing is queued: a
// datagram the host cannot take right now is dropped and counted, as a lossy link would.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "gateway/core/audit_log.h"
#include "gateway/core/event_loop.h"
#include "gateway/datagram/guest_datagrams.h"
#include "stack/flow.h"

namespace msb::gateway {

struct UdpRelayOptions {
  Duration idle_timeout = std::chrono::seconds(60);
  size_t max_flows = 256;
};

struct UdpRelayStats {
  uint64_t flows_opened = 0;
  uint64_t flows_evicted = 0;
  uint64_t datagrams_up = 0;
  uint64_t datagrams_down = 0;
  uint64_t dropped_up = 0;        // the host would not take a datagram (buffer full, too large)
  uint64_t port_unreachable = 0;  // host-reported unreachable ports passed to the guest
};

class UdpRelay {
 public:
  UdpRelay(EventLoop* loop, AuditLog* audit, GuestDatagrams* guest, const UdpRelayOptions& options);
  ~UdpRelay();  // ends every flow (flow.close "shutdown")
  UdpRelay(const UdpRelay&) = delete;
  UdpRelay& operator=(const UdpRelay&) = delete;

  bool Has(const stack::FlowTuple& flow) const { return flows_.count(flow) != 0; }
  // Open starts a flow the caller has allowed and audited under `flow_id`, with a socket
  // connected to `upstream` (what the guest's destination is dialled as).
  Status Open(uint64_t flow_id, const stack::FlowTuple& flow, const SocketAddress& upstream);
  // Send forwards one datagram of an open flow (ignored for a flow that is not open).
  void Send(const stack::FlowTuple& flow, std::span<const uint8_t> payload);
  // Close ends one flow, CloseAll every flow, audited with `reason`.
  void Close(const stack::FlowTuple& flow, std::string_view reason);
  void CloseAll(std::string_view reason);

  size_t size() const { return flows_.size(); }
  const UdpRelayStats& stats() const { return stats_; }

 private:
  struct Flow;
  void OnReadable(Flow* f);
  void End(std::map<stack::FlowTuple, std::unique_ptr<Flow>>::iterator it, std::string_view reason);
  void ArmSweep();
  void Sweep();

  EventLoop* loop_;
  AuditLog* audit_;
  GuestDatagrams* guest_;
  UdpRelayOptions options_;
  UdpRelayStats stats_;
  std::map<stack::FlowTuple, std::unique_ptr<Flow>> flows_;
  TimerId sweep_timer_ = 0;
};

}  // namespace msb::gateway
