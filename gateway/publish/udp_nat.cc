// UdpNat: peers of published UDP ports mapped to gateway ports, both ways (see udp_nat.h).
#include "gateway/publish/udp_nat.h"

#include <sys/socket.h>

#include "gateway/core/upstream_socket.h"
#include "gateway/publish/host_listeners.h"
#include "gateway/publish/ingress_audit.h"

namespace msb::gateway {

UdpNat::~UdpNat() {
  while (!by_port_.empty()) {
    Close(by_port_.begin(), "shutdown");
  }
}

bool UdpNat::ShouldAuditDenial(int fd, const IpAddress& peer) {
  TimePoint now = ctx_.clock().Now();
  auto key = std::pair{fd, peer};
  auto it = denials_audited_.find(key);
  if (it != denials_audited_.end() && now - it->second < std::chrono::minutes(1)) {
    return false;
  }
  if (it == denials_audited_.end() && denials_audited_.size() >= kMaxAuditedDenials) {
    std::erase_if(denials_audited_,
                  [&](const auto& e) { return now - e.second >= std::chrono::minutes(1); });
    if (denials_audited_.size() >= kMaxAuditedDenials) {
      return false;  // a flood of peers: the first thousand this minute are on record
    }
  }
  denials_audited_[key] = now;
  return true;
}

uint16_t UdpNat::Map(int fd, const policy::PublishedPort& port, const SocketAddress& peer) {
  if (auto it = by_peer_.find({fd, peer}); it != by_peer_.end()) {
    return it->second;
  }
  if (by_port_.size() >= kMaxMappings) {
    return 0;
  }
  constexpr uint32_t kRange = uint32_t{kLastPort} - kFirstPort + 1;
  for (uint32_t tried = 0; tried < kRange; ++tried) {
    uint16_t p = next_port_;
    next_port_ = p == kLastPort ? kFirstPort : static_cast<uint16_t>(p + 1);
    if (by_port_.count(p) != 0) {
      continue;
    }
    TimePoint now = ctx_.clock().Now();
    by_port_[p] = Mapping{fd, port, peer, ctx_.next_flow_id(), now, now, 0, 0};
    by_peer_[{fd, peer}] = p;
    return p;
  }
  return 0;
}

bool UdpNat::OnPeerDatagram(int fd, const policy::PublishedPort& port, const SocketAddress& peer,
                            std::span<const uint8_t> payload) {
  policy::Decision decision = EvaluateIngress(ctx_, port, peer.ip);
  if (decision.action == policy::Action::kDeny) {
    if (ShouldAuditDenial(fd, peer.ip)) {
      EmitIngressDecision(ctx_, ctx_.next_flow_id(), port, peer, decision);
    }
    return false;
  }
  bool known = by_peer_.count({fd, peer}) != 0;
  uint16_t mapped = Map(fd, port, peer);
  if (mapped == 0) {
    if (ShouldAuditDenial(fd, peer.ip)) {
      decision.action = policy::Action::kDeny;
      EmitIngressDecision(ctx_, ctx_.next_flow_id(), port, peer, decision, "max_udp_mappings");
    }
    return false;
  }
  Mapping& m = by_port_[mapped];
  if (!known) {
    EmitIngressDecision(ctx_, m.flow_id, port, peer, decision);
  }
  m.last_active = ctx_.clock().Now();
  m.bytes_down += payload.size();
  ctx_.guest->SendUdp(mapped, port.guest_port, payload);
  return true;
}

bool UdpNat::OnGuestDatagram(const stack::FlowTuple& tuple, std::span<const uint8_t> payload) {
  if (tuple.dest.ip != ctx_.gateway_v4 || tuple.guest.ip != ctx_.guest_v4) {
    return false;
  }
  auto it = by_port_.find(tuple.dest.port);
  if (it == by_port_.end() || it->second.port.guest_port != tuple.guest.port) {
    return false;
  }
  Mapping& m = it->second;
  m.last_active = ctx_.clock().Now();
  m.bytes_up += payload.size();
  sockaddr_storage ss{};
  socklen_t len = ToSockaddr(m.peer, &ss);
  // Non-blocking: a full socket buffer drops the datagram, as UDP may.
  (void)sendto(m.fd, payload.data(), payload.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
               reinterpret_cast<sockaddr*>(&ss), len);
  return true;
}

void UdpNat::Expire() {
  TimePoint now = ctx_.clock().Now();
  for (auto it = by_port_.begin(); it != by_port_.end();) {
    auto next = std::next(it);
    if (now - it->second.last_active >= kIdle) {
      Close(it, "idle_timeout");
    }
    it = next;
  }
}

void UdpNat::Close(std::map<uint16_t, Mapping>::iterator it, std::string_view reason) {
  const Mapping& m = it->second;
  AuditRecord rec =
      FlowCloseRecord({m.flow_id, "udp", m.peer, SocketAddress{ctx_.guest_v4, m.port.guest_port}},
                      reason, m.bytes_up, m.bytes_down, ToMillis(ctx_.clock().Now() - m.started));
  rec.json().Str("dir", "ingress");
  ctx_.audit->Emit(std::move(rec));
  by_peer_.erase({m.fd, m.peer});
  by_port_.erase(it);
}

}  // namespace msb::gateway
