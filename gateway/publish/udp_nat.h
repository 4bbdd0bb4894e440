// UdpNat: the published UDP ports' address translation. Each host peer of a published UDP port
// is mapped to a port of the gateway's own address (49152-65535, taken in turn, wrapping); its
// datagrams reach the guest's GUEST_PORT from gateway:MAPPED_PORT, and the guest's replies from
// GUEST_PORT to gateway:MAPPED_PORT go back to that peer through the same host socket. Ingress
// policy judges every datagram: a denied one is dropped (audited once per peer per minute). A
// mapping lives until 60 s without a datagram either way; the table is bounded (beyond it new
// peers are dropped, audited as max_udp_mappings), and so is the table of audited denials.
// Each mapping is a flow in the audit: flow.decision at its first datagram, flow.close (bytes
// both ways) when it expires.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <utility>

#include "gateway/publish/publish_context.h"
#include "policy/publish_spec.h"
#include "stack/flow.h"

namespace msb::gateway {

class UdpNat {
 public:
  static constexpr size_t kMaxMappings = 1024;
  static constexpr size_t kMaxAuditedDenials = 1024;
  static constexpr uint16_t kFirstPort = 49152;
  static constexpr uint16_t kLastPort = 65535;
  static constexpr Duration kIdle = std::chrono::seconds(60);

  explicit UdpNat(const PublishContext& ctx) : ctx_(ctx) {}
  ~UdpNat();  // emits flow.close ("shutdown") for the mappings left

  // OnPeerDatagram: a datagram from `peer` on the published port `port`, received on host socket
  // `fd` (which replies go out of). False when it was dropped (policy, or the mapping limit).
  bool OnPeerDatagram(int fd, const policy::PublishedPort& port, const SocketAddress& peer,
                      std::span<const uint8_t> payload);
  // OnGuestDatagram: true when the guest's datagram (`tuple` as the stack names it) is a reply on
  // a mapping; it is then sent to the peer.
  bool OnGuestDatagram(const stack::FlowTuple& tuple, std::span<const uint8_t> payload);
  // Expire ends the mappings idle for kIdle.
  void Expire();
  size_t mappings() const { return by_port_.size(); }

 private:
  struct Mapping {
    int fd = -1;
    policy::PublishedPort port;
    SocketAddress peer;
    uint64_t flow_id = 0;
    TimePoint started;
    TimePoint last_active;
    uint64_t bytes_up = 0;    // guest -> peer
    uint64_t bytes_down = 0;  // peer -> guest
  };
  using PeerKey = std::pair<int, SocketAddress>;  // (host socket, peer)
  // Map finds or creates the peer's mapping; 0 when the table is full or no port is free.
  uint16_t Map(int fd, const policy::PublishedPort& port, const SocketAddress& peer);
  void Close(std::map<uint16_t, Mapping>::iterator it, std::string_view reason);
  // ShouldAuditDenial: true at most once a minute per (socket, peer address).
  bool ShouldAuditDenial(int fd, const IpAddress& peer);

  PublishContext ctx_;
  std::map<uint16_t, Mapping> by_port_;  // gateway port -> mapping
  std::map<PeerKey, uint16_t> by_peer_;
  std::map<std::pair<int, IpAddress>, TimePoint> denials_audited_;
  uint16_t next_port_ = kFirstPort;
};

}  // namespace msb::gateway
