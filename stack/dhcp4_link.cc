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

// Ones' complement sum of 16-bit big-endian words (the tail byte padded with zero).
uint32_t SumWords(const uint8_t* data, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) {
    sum += static_cast<uint32_t>((data[i] << 8) | data[i + 1]);
  }
  if (len % 2 != 0) {
    sum += static_cast<uint32_t>(data[len - 1] << 8);
  }
  return sum;
}

uint16_t Fold(uint32_t sum) {
  while ((sum >> 16) != 0) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

// ReplyFrame is Ethernet + IPv4 + UDP (67 -> 68) around `payload`, from the gateway.
std::vector<uint8_t> ReplyFrame(const NetstackConfig& cfg, const Dhcp4Reply& reply) {
  const Dhcp4Destination& to = reply.destination;
  const MacAddress& dst_mac = to.kind == Dhcp4DestinationKind::kBroadcast ? kBroadcastMac : to.mac;
  std::vector<uint8_t> f(kHeaders + reply.payload.size());
  uint8_t* eth = f.data();
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
  Put16(ip + 10, Fold(SumWords(ip, IP_HLEN, 0)));
  uint8_t* udp = ip + IP_HLEN;
  uint16_t udp_len = static_cast<uint16_t>(UDP_HLEN + reply.payload.size());
  Put16(udp, kDhcp4ServerPort);
  Put16(udp + 2, to.port);
  Put16(udp + 4, udp_len);
  std::memcpy(udp + UDP_HLEN, reply.payload.data(), reply.payload.size());
  uint32_t pseudo = SumWords(ip + 12, 8, 0) + IP_PROTO_UDP + udp_len;
  uint16_t csum = Fold(SumWords(udp, udp_len, pseudo));
  Put16(udp + 6, csum == 0 ? 0xffff : csum);  // 0 would mean "no checksum"
  return f;
}

}  // namespace

void HandleDhcp4(Netstack* ns, pbuf* p, const Ip4Packet& pkt) {
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
  std::vector<uint8_t> frame = ReplyFrame(ns->config(), *reply);
  std::span<const uint8_t> part(frame);
  ns->TransmitFrame({&part, 1}, FrameOffload{});
}

}  // namespace msb::stack
