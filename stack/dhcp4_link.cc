// dhcp4_link.cc: the gateway's DHCPv4 server on the guest link. The IPv4 input hook hands over
// datagrams for server port 67 (ip4_input.cc); this validates the UDP layer, lets the sans-I/O
// Dhcp4Server decide, and writes its reply as a whole Ethernet frame. The frame is built here
// rather than sent through lwIP's UDP output because a reply may have to go to the client's
// hardware address without ARP (the client has no address yet to answer ARP for).
#include <array>
#include <cstring>

#include "stack/lwip_glue.h"

namespace msb::stack {
namespace {

constexpr MacAddress kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr size_t kHeaders = SIZEOF_ETH_HDR + IP_HLEN + UDP_HLEN;

void Put16(uint8_t* at, uint16_t v) {
  at[0] = static_cast<uint8_t>(v >> 8);
  at[1] = static_cast<uint8_t>(v);
}

void Put32(uint8_t* at, uint32_t v) {
  Put16(at, static_cast<uint16_t>(v >> 16));
  Put16(at + 2, static_cast<uint16_t>(v));
}

// ReplyFrame is Ethernet + IPv4 + UDP (67 -> 68) around `payload`, from the gateway, in one
// contiguous pbuf (lwIP's checksum routines take one); nullptr when out of memory.
pbuf* ReplyFrame(const NetstackConfig& cfg, const Dhcp4Reply& reply) {
  const Dhcp4Destination& to = reply.destination;
  const MacAddress& dst_mac = to.kind == Dhcp4DestinationKind::kBroadcast ? kBroadcastMac : to.mac;
  pbuf* p = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(kHeaders + reply.payload.size()), PBUF_RAM);
  if (p == nullptr) {
    return nullptr;
  }
  auto* eth = static_cast<uint8_t*>(p->payload);
  std::memset(eth, 0, kHeaders);
  std::memcpy(eth, dst_mac.data(), 6);
  std::memcpy(eth + 6, cfg.gateway_mac.data(), 6);
  Put16(eth + 12, ETHTYPE_IP);
  uint8_t* ip = eth + SIZEOF_ETH_HDR;
  uint16_t ip_len = static_cast<uint16_t>(IP_HLEN + UDP_HLEN + reply.payload.size());
  ip[0] = 0x45;
  Put16(ip + 2, ip_len);
  ip[8] = 64;  // TTL, as lwIP's own (TCP_TTL/UDP_TTL)
  ip[9] = IP_PROTO_UDP;
  Put32(ip + 12, cfg.gateway_v4.v4());
  Put32(ip + 16, to.ip.v4());
  u16_t ip_sum = inet_chksum(ip, IP_HLEN);  // in network order, as lwIP stores it
  std::memcpy(ip + 10, &ip_sum, 2);
  uint8_t* udp = ip + IP_HLEN;
  uint16_t udp_len = static_cast<uint16_t>(UDP_HLEN + reply.payload.size());
  Put16(udp, kDhcp4ServerPort);
  Put16(udp + 2, to.port);
  Put16(udp + 4, udp_len);
  std::memcpy(udp + UDP_HLEN, reply.payload.data(), reply.payload.size());
  ip_addr_t src = ToLwip(cfg.gateway_v4);
  ip_addr_t dst = ToLwip(to.ip);
  pbuf_remove_header(p, SIZEOF_ETH_HDR + IP_HLEN);
  u16_t udp_sum = ip_chksum_pseudo(p, IP_PROTO_UDP, udp_len, &src, &dst);
  pbuf_add_header_force(p, SIZEOF_ETH_HDR + IP_HLEN);
  if (udp_sum == 0) {
    udp_sum = 0xffff;  // 0 would mean "no checksum"
  }
  std::memcpy(udp + 6, &udp_sum, 2);
  return p;
}

}  // namespace

void HandleDhcp4(Netstack* ns, pbuf* p, const IpPacket& pkt) {
  Netstack::LwipState* lwip = ns->lwip();
  UdpHeader udp;
  const auto* h = static_cast<const ip_hdr*>(p->payload);
  bool fragment = (IPH_OFFSET(h) & PP_HTONS(IP_OFFMASK | IP_MF)) != 0;
  // DHCP messages fit one unfragmented datagram (RFC 2131 asks clients to accept 576 bytes).
  if (fragment || !ParseUdp(p, pkt, &udp) || udp.payload_len > kDhcp4MaxMessageSize) {
    ++ns->mutable_stats().bad_packets;
    pbuf_free(p);
    return;
  }
  std::array<uint8_t, kDhcp4MaxMessageSize> buf;
  pbuf_copy_partial(p, buf.data(), udp.payload_len, static_cast<u16_t>(pkt.header_len + UDP_HLEN));
  pbuf_free(p);
  bool broadcast = pkt.dst != ns->config().gateway_v4;
  std::optional<Dhcp4Reply> reply =
      lwip->dhcp4->Handle({{buf.data(), udp.payload_len}, pkt.src, broadcast});
  if (!reply) {
    return;
  }
  pbuf* frame = ReplyFrame(ns->config(), *reply);
  if (frame == nullptr) {
    return;  // the client retransmits
  }
  std::span<const uint8_t> part(static_cast<const uint8_t*>(frame->payload), frame->len);
  ns->TransmitFrame({&part, 1}, FrameOffload{});
  pbuf_free(frame);
}

}  // namespace msb::stack
