// Publisher: serves the published ports (policy/publish_spec.h) on the event loop. It watches the
// host sockets HostListeners opened at start-up:
//   - TCP: each accepted connection is judged by ingress policy on the peer's address and the
//     guest port. Denied, or beyond --max-connections: closed with RST (SO_LINGER 0), so the
//     peer's next read fails with ECONNRESET, and audited. Allowed: a PublishedTcpFlow connects
//     to the guest and splices (tcp_flow.h).
//   - UDP: every datagram is judged the same way and carried through UdpNat (udp_nat.h); the
//     gateway hands the guest's datagrams to OnGuestUdp first, which takes the replies.
// The guest is reached at its IPv4 address whatever the bind's family (the guest has no IPv6).
// One thread (the loop's); flows are destroyed only from deferred tasks.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "gateway/publish/host_listeners.h"
#include "gateway/publish/publish_context.h"
#include "gateway/publish/tcp_flow.h"
#include "gateway/publish/udp_nat.h"
#include "stack/flow.h"

namespace msb::gateway {

struct PublishStats {
  uint64_t tcp_accepted = 0;  // allowed connections (flows started)
  uint64_t tcp_denied = 0;    // reset by policy or the connection limit
  uint64_t udp_in = 0;        // datagrams from peers
  uint64_t udp_denied = 0;    // datagrams dropped by policy or the mapping limit
};

class Publisher {
 public:
  // Create watches every listener of `listeners` (borrowed; it must outlive the Publisher).
  static Result<std::unique_ptr<Publisher>> Create(const PublishContext& ctx,
                                                   const HostListeners* listeners);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // OnGuestUdp: true when the guest's datagram is a reply to a published UDP port's peer (it is
  // then sent to that peer); false for anything else, which the gateway handles as usual.
  bool OnGuestUdp(const stack::FlowTuple& tuple, std::span<const uint8_t> payload) {
    return udp_.OnGuestDatagram(tuple, payload);
  }
  // Shutdown stops accepting and aborts every TCP flow (audited as "shutdown").
  void Shutdown();
  size_t open_flows() const { return flows_.size(); }
  size_t udp_mappings() const { return udp_.mappings(); }
  const PublishStats& stats() const { return stats_; }

 private:
  class Watch final : public IoHandler {
   public:
    Watch(Publisher* owner, const HostListeners::Listener* l) : owner_(owner), listener_(l) {}
    void OnIo(uint32_t) override { owner_->OnReadable(*listener_); }

   private:
    Publisher* owner_;
    const HostListeners::Listener* listener_;
  };

  explicit Publisher(const PublishContext& ctx) : ctx_(ctx), udp_(ctx) {}
  void OnReadable(const HostListeners::Listener& l);
  void Accept(const HostListeners::Listener& l);
  void Admit(const HostListeners::Listener& l, int fd, const SocketAddress& peer);
  void Receive(const HostListeners::Listener& l);
  // Pause stops watching `l` for a moment (out of descriptors: accept would fail in a loop).
  void Pause(const HostListeners::Listener& l);
  void Release(uint64_t flow_id);
  void ExpireUdp();

  PublishContext ctx_;
  std::vector<std::unique_ptr<Watch>> watches_;
  std::vector<const HostListeners::Listener*> watched_;
  std::unordered_map<uint64_t, std::unique_ptr<PublishedTcpFlow>> flows_;
  UdpNat udp_;
  PublishStats stats_;
  std::vector<uint8_t> datagram_;
  TimerId expire_timer_ = 0;
  std::vector<TimerId> pause_timers_;
  bool shut_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for deferred releases
};

}  // namespace msb::gateway
