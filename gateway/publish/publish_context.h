// PublishContext: the narrow view of the gateway the published ports work through (the
// counterpart of SessionContext for flows the host opens): the loop, the audit log, policy, the
// guest link, the session options, flow ids and the connection budget. Every member is borrowed
// and outlives the Publisher (the Gateway, or a test fixture, owns them); a test builds one from
// fakes.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "base/ip_address.h"
#include "base/status.h"
#include "gateway/core/audit_log.h"
#include "gateway/core/event_loop.h"
#include "gateway/core/session_context.h"
#include "policy/evaluator.h"
#include "stack/guest_connect.h"

namespace msb::gateway {

// GuestLink is what the published ports need of the guest-facing stack (stack::Netstack in
// production, gateway/publish/netstack_link.h): TCP connects to a guest port, datagrams to one.
class GuestLink {
 public:
  virtual ~GuestLink() = default;
  // Connect: see stack::Netstack::ConnectToGuest (`done` runs inside lwIP processing).
  virtual Result<uint64_t> Connect(uint16_t guest_port, Duration timeout,
                                   stack::GuestConnectDone done) = 0;
  virtual void CancelConnect(uint64_t id) = 0;
  // SendUdp sends a datagram to the guest's `guest_port` from the gateway's `gateway_port`.
  virtual void SendUdp(uint16_t gateway_port, uint16_t guest_port,
                       std::span<const uint8_t> payload) = 0;
};

struct PublishContext {
  EventLoop* loop = nullptr;
  AuditLog* audit = nullptr;
  const policy::Evaluator* policy = nullptr;
  GuestLink* guest = nullptr;
  const SessionOptions* options = nullptr;  // connect (to the guest) and idle timeouts
  IpAddress guest_v4;
  IpAddress gateway_v4;
  std::function<uint64_t()> next_flow_id;
  // has_room: a new TCP flow fits under --max-connections (the gateway's flows and the published
  // ones count together).
  std::function<bool()> has_room;

  const Clock& clock() const { return loop->clock(); }
};

}  // namespace msb::gateway
