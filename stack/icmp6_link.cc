// icmp6_link.cc: ICMPv6 on the guest link, beside lwIP's neighbour discovery (which answers
// solicitations for the gateway's addresses itself). Echo requests from the guest are validated
// here and handed to the delegate, as ICMPv4 ones are (icmp4_link.cc); the replies, the errors the
// gateway reports (port and address unreachable) and the router advertisements that let a guest
// configure itself by SLAAC (RFC 4861 4.2, RFC 8106 for RDNSS) are built here.
#include <algorithm>
#include <cstring>
#include <vector>

#include "stack/lwip_glue.h"

namespace msb::stack {
namespace {

constexpr size_t kIp6Header = 40;
constexpr size_t kIcmpHeader = 8;
constexpr size_t kMinMtu = 1280;
constexpr uint8_t kEchoRequest = 128;
constexpr uint8_t kEchoReply = 129;
constexpr uint8_t kRouterAdvertisement = 134;
constexpr uint8_t kHopLimit = 64;

void Put32(std::vector<uint8_t>& v, uint32_t x) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    v.push_back(static_cast<uint8_t>(x >> shift));
  }
}

}  // namespace

void HandleIcmp6(Netstack* ns, pbuf* p, const IpPacket& pkt) {
  size_t len = pkt.total_len - pkt.header_len;
  static uint8_t msg[65535];
  bool copied = len >= kIcmpHeader &&
                pbuf_copy_partial(p, msg, static_cast<u16_t>(len), pkt.header_len) == len;
  bool sum_ok = false;
  if (copied) {
    ip_addr_t src = ToLwip(pkt.src);
    ip_addr_t dst = ToLwip(pkt.dst);
    pbuf_remove_header(p, pkt.header_len);
    sum_ok = ip6_chksum_pseudo(p, IP6_NEXTH_ICMP6, static_cast<u16_t>(len), ip_2_ip6(&src),
                               ip_2_ip6(&dst)) == 0;
  }
  pbuf_free(p);
  if (!sum_ok || msg[0] != kEchoRequest || msg[1] != 0) {
    ++ns->mutable_stats().icmp_dropped;  // corrupt, or not an echo request (errors, MLD, ...)
    return;
  }
  DeliverEcho(ns, pkt, {msg, len}, ns->config().gateway_v6);
}

void SendIcmp6EchoReply(Netstack* ns, const IpAddress& from, const IpAddress& to,
                        uint16_t identifier, uint16_t sequence, std::span<const uint8_t> data) {
  SendIcmpMessage(ns, from, to, kHopLimit, kEchoReply, 0, (uint32_t{identifier} << 16) | sequence,
                  data);
}

void SendIcmp6Error(Netstack* ns, pbuf* p, const IpPacket& pkt, uint8_t type, uint8_t code) {
  // RFC 4443 2.4: as much of the offending packet as fits in the minimum MTU.
  size_t quote = std::min<size_t>(p->tot_len, kMinMtu - kIp6Header - kIcmpHeader);
  std::vector<uint8_t> body(quote);
  pbuf_copy_partial(p, body.data(), static_cast<u16_t>(quote), 0);
  SendIcmpMessage(ns, pkt.dst, pkt.src, kHopLimit, type, code, 0, body);
}

void SendUdp6PortUnreachable(Netstack* ns, const FlowTuple& udp, size_t payload_len) {
  // The quoted datagram, rebuilt from the flow: its IPv6 header and UDP header.
  std::vector<uint8_t> q(kIp6Header + 8);
  uint16_t udp_len = static_cast<uint16_t>(std::min<size_t>(payload_len + 8, 0xffff));
  q[0] = 0x60;
  q[4] = static_cast<uint8_t>(udp_len >> 8);
  q[5] = static_cast<uint8_t>(udp_len);
  q[6] = IP6_NEXTH_UDP;
  q[7] = kHopLimit;
  std::memcpy(q.data() + 8, udp.guest.ip.bytes().data(), 16);
  std::memcpy(q.data() + 24, udp.dest.ip.bytes().data(), 16);
  q[40] = static_cast<uint8_t>(udp.guest.port >> 8);
  q[41] = static_cast<uint8_t>(udp.guest.port);
  q[42] = static_cast<uint8_t>(udp.dest.port >> 8);
  q[43] = static_cast<uint8_t>(udp.dest.port);
  q[44] = static_cast<uint8_t>(udp_len >> 8);
  q[45] = static_cast<uint8_t>(udp_len);
  SendIcmpMessage(ns, udp.dest.ip, udp.guest.ip, kHopLimit, kIcmp6DestUnreachable,
                  kIcmp6PortUnreachable, 0, q);
}

void Netstack::SendRouterAdvertisement(const IpAddress& to) {
  const NetstackConfig& cfg = config_;
  constexpr uint32_t kInfinite = 0xffffffff;
  constexpr uint16_t kRouterLifetime = 9000;  // the longest RFC 4861 allows; re-sent every 5 min
  std::vector<uint8_t> body;
  Put32(body, 0);  // reachable time, retransmission timer: unspecified
  Put32(body, 0);
  // Source link-layer address (type 1): the gateway's MAC, so the guest need not ask.
  body.insert(body.end(), {1, 1});
  body.insert(body.end(), cfg.gateway_mac.begin(), cfg.gateway_mac.end());
  // MTU (type 5).
  body.insert(body.end(), {5, 1, 0, 0});
  Put32(body, cfg.mtu);
  // Prefix information (type 3): the gateway's /64, on-link, for autonomous configuration.
  body.insert(body.end(), {3, 4, 64, 0xc0});
  Put32(body, kInfinite);  // valid lifetime
  Put32(body, kInfinite);  // preferred lifetime
  Put32(body, 0);
  body.insert(body.end(), cfg.gateway_v6.bytes().begin(), cfg.gateway_v6.bytes().begin() + 8);
  body.insert(body.end(), 8, 0);
  // Recursive DNS server (type 25, RFC 8106): the gateway, the guest's only resolver.
  body.insert(body.end(), {25, 3, 0, 0});
  Put32(body, kInfinite);
  body.insert(body.end(), cfg.gateway_v6.bytes().begin(), cfg.gateway_v6.bytes().end());
  // Header: hop limit 64 for the guest's own packets, no managed/other flags, router lifetime.
  uint32_t rest = (uint32_t{64} << 24) | kRouterLifetime;
  const ip6_addr_t* ll = netif_ip6_addr(&lwip_->nif, 0);
  std::array<uint8_t, 16> ll_bytes;
  std::memcpy(ll_bytes.data(), ll->addr, 16);
  ++stats_.router_advertisements;
  SendIcmpMessage(this, IpAddress::V6(ll_bytes), to, 255, kRouterAdvertisement, 0, rest, body);
}

}  // namespace msb::stack
