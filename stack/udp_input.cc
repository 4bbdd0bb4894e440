// udp_input.cc: guest UDP datagrams of either family, after the input hooks (ip4_input.cc,
// ip6_input.cc) validated the IP header and reassembled fragments: the UDP header is checked
// (lengths, ports, checksum, which IPv6 requires) and each datagram handed to the delegate; a
// refusal is answered with ICMP (v4) or ICMPv6 (v6) port unreachable.
#include <algorithm>

#include "stack/lwip_glue.h"
#include "stack/offload.h"

namespace msb::stack {
namespace {

constexpr uint16_t kMaxUdpPayload = 65535 - 8;

}  // namespace

bool ParseUdp(pbuf* p, const IpPacket& pkt, UdpHeader* out) {
  uint8_t hdr[UDP_HLEN];
  uint16_t ip_payload = static_cast<uint16_t>(pkt.total_len - pkt.header_len);
  if (ip_payload < UDP_HLEN || pbuf_copy_partial(p, hdr, UDP_HLEN, pkt.header_len) != UDP_HLEN) {
    return false;
  }
  uint16_t sport = static_cast<uint16_t>((hdr[0] << 8) | hdr[1]);
  uint16_t dport = static_cast<uint16_t>((hdr[2] << 8) | hdr[3]);
  uint16_t ulen = static_cast<uint16_t>((hdr[4] << 8) | hdr[5]);
  uint16_t csum = static_cast<uint16_t>((hdr[6] << 8) | hdr[7]);
  if (ulen < UDP_HLEN || ulen > ip_payload || sport == 0 || dport == 0) {
    return false;
  }
  if (csum == 0 && pkt.v6) {
    return false;  // optional in IPv4 only (RFC 8200 8.1)
  }
  if (csum != 0 && !pkt.l4_csum_trusted) {
    ip_addr_t src = ToLwip(pkt.src);
    ip_addr_t dst = ToLwip(pkt.dst);
    pbuf_remove_header(p, pkt.header_len);
    u16_t sum = ip_chksum_pseudo(p, IP_PROTO_UDP, ulen, &src, &dst);
    pbuf_add_header_force(p, pkt.header_len);
    if (sum != 0) {
      return false;
    }
  }
  *out = UdpHeader{sport, dport, static_cast<uint16_t>(ulen - UDP_HLEN)};
  return true;
}

void HandleUdpDatagram(Netstack* ns, pbuf* p, const IpPacket& pkt) {
  UdpHeader udp;
  if (!ParseUdp(p, pkt, &udp)) {
    ++ns->mutable_stats().bad_packets;
    pbuf_free(p);
    return;
  }
  uint16_t sport = udp.src_port;
  uint16_t dport = udp.dst_port;
  static uint8_t payload[kMaxUdpPayload];
  uint16_t plen = udp.payload_len;
  pbuf_copy_partial(p, payload, plen, static_cast<u16_t>(pkt.header_len + UDP_HLEN));
  FlowTuple tuple{Transport::kUdp, {pkt.src, sport}, {pkt.dst, dport}};
  // A UDP GSO (USO) segment carries several datagrams of gso_size bytes (the last may be
  // shorter); each is its own datagram to the gateway.
  const FrameOffload& off = ns->rx_offload();
  size_t step = off.gso == FrameOffload::Gso::kUdp && off.gso_size != 0 ? off.gso_size : plen;
  UdpVerdict v = UdpVerdict::kHandled;
  size_t at = 0;
  do {  // an empty datagram is one datagram too
    size_t n = std::min<size_t>(step, plen - at);
    UdpVerdict one = ns->delegate()->OnUdp(tuple, {payload + at, n});
    if (one != UdpVerdict::kHandled) {
      v = one;
    }
    at += n;
  } while (at < plen);
  if (v == UdpVerdict::kPortUnreachable) {
    if (pkt.v6) {
      SendIcmp6Error(ns, p, pkt, kIcmp6DestUnreachable, kIcmp6PortUnreachable);
    } else {
      icmp_dest_unreach(p, ICMP_DUR_PORT);  // quotes the IP header + 8 bytes, as RFC 792 asks
    }
  }
  pbuf_free(p);
}

}  // namespace msb::stack
