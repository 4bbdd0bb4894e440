// icmp4_link.cc: ICMPv4 on the guest link. Echo requests from the guest are validated here and
// handed to the delegate (policy, relay); the echoes the stack answers itself (to the gateway's
// own address) and the replies a relay brings back are built here, as are the port-unreachable
// errors a UDP relay reports. lwIP's own ICMP input is never reached: every ICMP packet from the
// guest ends in HandleIcmp4.
#include <algorithm>
#include <cstring>
#include <vector>

#include "stack/lwip_glue.h"

namespace msb::stack {
namespace {

constexpr size_t kIcmpHeader = 8;
constexpr uint8_t kEchoReply = 0;
constexpr uint8_t kDestUnreachable = 3;
constexpr uint8_t kPortUnreachable = 3;
constexpr uint8_t kEchoRequest = 8;

}  // namespace

void SendIcmpMessage(Netstack* ns, const IpAddress& from, const IpAddress& to, uint8_t hop_limit,
                     uint8_t type, uint8_t code, uint32_t rest, std::span<const uint8_t> body) {
  bool v6 = from.is_v6();
  size_t len = kIcmpHeader + body.size();
  if (len > 0xffff - (v6 ? 40 : 20)) {
    return;
  }
  pbuf* p = pbuf_alloc(PBUF_IP, static_cast<u16_t>(len), PBUF_RAM);
  if (p == nullptr) {
    return;
  }
  std::vector<uint8_t> msg(len);
  msg[0] = type;
  msg[1] = code;
  msg[4] = static_cast<uint8_t>(rest >> 24);
  msg[5] = static_cast<uint8_t>(rest >> 16);
  msg[6] = static_cast<uint8_t>(rest >> 8);
  msg[7] = static_cast<uint8_t>(rest);
  if (!body.empty()) {
    std::memcpy(msg.data() + kIcmpHeader, body.data(), body.size());
  }
  pbuf_take(p, msg.data(), static_cast<u16_t>(len));
  ip_addr_t src = ToLwip(from);
  ip_addr_t dst = ToLwip(to);
  // ICMPv4 sums the message; ICMPv6 the pseudo-header too. Both routines return network order.
  u16_t sum = v6 ? ip6_chksum_pseudo(p, IP6_NEXTH_ICMP6, static_cast<u16_t>(len), ip_2_ip6(&src),
                                     ip_2_ip6(&dst))
                 : inet_chksum(msg.data(), static_cast<u16_t>(len));
  pbuf_take_at(p, &sum, 2, 2);
  netif* nif = &ns->lwip()->nif;
  u16_t netif_mtu = nif->mtu;
  nif->mtu = ns->config().mtu;  // as SendUdp: cut to the guest's link MTU
  if (v6) {
    ip6_output_if_src(p, ip_2_ip6(&src), ip_2_ip6(&dst), hop_limit, 0, IP6_NEXTH_ICMP6, nif);
  } else {
    ip4_output_if_src(p, ip_2_ip4(&src), ip_2_ip4(&dst), hop_limit, 0, IP_PROTO_ICMP, nif);
  }
  nif->mtu = netif_mtu;
  pbuf_free(p);
}

void DeliverEcho(Netstack* ns, const IpPacket& pkt, std::span<const uint8_t> msg,
                 const IpAddress& own) {
  IcmpEcho echo;
  echo.flow = {
      Transport::kIcmp, {pkt.src, static_cast<uint16_t>((msg[4] << 8) | msg[5])}, {pkt.dst, 0}};
  echo.sequence = static_cast<uint16_t>((msg[6] << 8) | msg[7]);
  echo.data = msg.subspan(kIcmpHeader);
  switch (ns->delegate()->OnIcmpEcho(echo)) {
    case IcmpVerdict::kAnswer:
      if (pkt.dst == own) {
        ++ns->mutable_stats().icmp_echo_answered;
        ns->SendIcmpEchoReply(pkt.dst, pkt.src, echo.flow.guest.port, echo.sequence, echo.data);
        return;
      }
      break;
    case IcmpVerdict::kRelayed:
      ++ns->mutable_stats().icmp_echo_relayed;
      return;
    case IcmpVerdict::kDrop:
      break;
  }
  ++ns->mutable_stats().icmp_dropped;
}

int HandleIcmp4(Netstack* ns, pbuf* p, const IpPacket& pkt) {
  // `p` is a whole datagram (fragments were reassembled): an echo request with a valid checksum,
  // or nothing the guest may send.
  size_t len = pkt.total_len - pkt.header_len;
  static uint8_t msg[65535];
  if (len < kIcmpHeader ||
      pbuf_copy_partial(p, msg, static_cast<u16_t>(len), pkt.header_len) != len) {
    ++ns->mutable_stats().icmp_dropped;
    pbuf_free(p);
    return 1;
  }
  pbuf_free(p);
  if (msg[0] != kEchoRequest || msg[1] != 0 || inet_chksum(msg, static_cast<u16_t>(len)) != 0) {
    ++ns->mutable_stats().icmp_dropped;
    return 1;
  }
  DeliverEcho(ns, pkt, {msg, len}, ns->config().gateway_v4);
  return 1;
}

void Netstack::SendIcmpEchoReply(const IpAddress& from, const IpAddress& to, uint16_t identifier,
                                 uint16_t sequence, std::span<const uint8_t> data) {
  if (from.is_v6()) {
    SendIcmp6EchoReply(this, from, to, identifier, sequence, data);
    return;
  }
  SendIcmpMessage(this, from, to, ICMP_TTL, kEchoReply, 0, (uint32_t{identifier} << 16) | sequence,
                  data);
}

void Netstack::SendUdpPortUnreachable(const FlowTuple& udp, size_t payload_len) {
  if (udp.guest.ip.is_v6()) {
    SendUdp6PortUnreachable(this, udp, payload_len);
    return;
  }
  // RFC 792: the error quotes the offending datagram's IP header and first 8 bytes, which is all
  // the guest's kernel needs to find the socket: rebuild them from the flow.
  uint8_t quote[28] = {};
  uint16_t udp_len = static_cast<uint16_t>(std::min<size_t>(payload_len + 8, 65535 - 20));
  uint16_t total = static_cast<uint16_t>(udp_len + 20);
  quote[0] = 0x45;
  quote[2] = static_cast<uint8_t>(total >> 8);
  quote[3] = static_cast<uint8_t>(total);
  quote[8] = 64;
  quote[9] = IP_PROTO_UDP;
  uint32_t s = udp.guest.ip.v4();
  uint32_t d = udp.dest.ip.v4();
  for (int i = 0; i < 4; ++i) {
    quote[12 + i] = static_cast<uint8_t>(s >> (24 - 8 * i));
    quote[16 + i] = static_cast<uint8_t>(d >> (24 - 8 * i));
  }
  u16_t sum = inet_chksum(quote, 20);
  std::memcpy(quote + 10, &sum, 2);
  quote[20] = static_cast<uint8_t>(udp.guest.port >> 8);
  quote[21] = static_cast<uint8_t>(udp.guest.port);
  quote[22] = static_cast<uint8_t>(udp.dest.port >> 8);
  quote[23] = static_cast<uint8_t>(udp.dest.port);
  quote[24] = static_cast<uint8_t>(udp_len >> 8);
  quote[25] = static_cast<uint8_t>(udp_len);
  SendIcmpMessage(this, udp.dest.ip, udp.guest.ip, ICMP_TTL, kDestUnreachable, kPortUnreachable, 0,
                  quote);
}

}  // namespace msb::stack
