// ip4_input.cc: the IPv4 input hook. lwIP calls it for every IPv4 packet before its own "is this
// for one of my addresses" check. Unicast TCP and UDP from the guest, to ANY destination, are
// validated here (lengths, header checksum, source address, reassembly) and handed to the TCP
// acceptor or the gateway's UDP handler; ICMP goes to icmp4_link.cc, DHCP to the gateway to its
// DHCP server (dhcp4_link.cc); ARP and multicast take lwIP's normal path. Anything malformed is
// dropped and counted, never passed on.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "stack/dhcp4_message.h"
#include "stack/lwip_glue.h"
#include "stack/msb_lwip_hooks.h"
#include "stack/offload.h"

namespace msb::stack {
namespace {

// ParseIp4 validates the header at p->payload and fills `out`. It trims link-layer padding.
bool ParseIp4(pbuf* p, IpPacket* out) {
  if (p->len < IP_HLEN) {
    return false;
  }
  const auto* h = static_cast<const ip_hdr*>(p->payload);
  uint16_t hlen = static_cast<uint16_t>(IPH_HL_BYTES(h));
  uint16_t total = lwip_ntohs(IPH_LEN(h));
  if (hlen < IP_HLEN || hlen > p->len || total < hlen || total > p->tot_len) {
    return false;
  }
  if (inet_chksum(const_cast<ip_hdr*>(h), hlen) != 0) {
    return false;
  }
  if (p->tot_len > total) {
    pbuf_realloc(p, total);
  }
  out->header_len = hlen;
  out->total_len = total;
  out->protocol = IPH_PROTO(h);
  out->src = IpAddress::V4(lwip_ntohl(h->src.addr));
  out->dst = IpAddress::V4(lwip_ntohl(h->dest.addr));
  return true;
}

bool IsBroadcastOrMulticast(const IpAddress& dst, const NetstackConfig& cfg) {
  uint32_t d = dst.v4();
  if ((d & 0xf0000000u) == 0xe0000000u || d == 0xffffffffu) {
    return true;
  }
  uint32_t host_mask = cfg.v4_prefix_len >= 32 ? 0 : (~uint32_t{0} >> cfg.v4_prefix_len);
  return host_mask != 0 && (d & ~host_mask) == (cfg.gateway_v4.v4() & ~host_mask) &&
         (d & host_mask) == host_mask;
}

// IsForDhcp4Server: a datagram to the DHCP server port from the guest (0.0.0.0 before it has an
// address), sent broadcast or to the gateway. Peeks at the UDP ports only; HandleDhcp4 validates.
bool IsForDhcp4Server(pbuf* p, const IpPacket& pkt, const NetstackConfig& cfg) {
  if (!cfg.dhcp4 || (pkt.src != cfg.guest_v4 && pkt.src != IpAddress::V4(0))) {
    return false;
  }
  if (pkt.dst != cfg.gateway_v4 && !IsBroadcastOrMulticast(pkt.dst, cfg)) {
    return false;
  }
  uint8_t ports[4];
  if (pbuf_copy_partial(p, ports, 4, pkt.header_len) != 4) {
    return false;
  }
  return ((ports[2] << 8) | ports[3]) == kDhcp4ServerPort;
}

int HandleIp4(pbuf* p, netif* inp) {
  Netstack* ns = Netstack::Instance();
  if (ns == nullptr) {
    return 0;
  }
  const NetstackConfig& cfg = ns->config();
  IpPacket pkt;
  if (!ParseIp4(p, &pkt)) {
    ++ns->mutable_stats().bad_packets;
    pbuf_free(p);
    return 1;
  }
  if (pkt.protocol == IP_PROTO_UDP && IsForDhcp4Server(p, pkt, cfg)) {
    HandleDhcp4(ns, p, pkt);  // before the source check: a client without an address sends it
    return 1;
  }
  if (IsBroadcastOrMulticast(pkt.dst, cfg)) {
    return 0;  // lwIP's normal path (it ignores what it does not serve)
  }
  if (pkt.src != cfg.guest_v4) {
    ++ns->mutable_stats().spoofed;  // only the guest's own address may originate traffic
    pbuf_free(p);
    return 1;
  }
  if (pkt.protocol != IP_PROTO_TCP && pkt.protocol != IP_PROTO_UDP &&
      pkt.protocol != IP_PROTO_ICMP) {
    pbuf_free(p);  // nothing else leaves the guest
    return 1;
  }
  const auto* h = static_cast<const ip_hdr*>(p->payload);
  bool fragment = (IPH_OFFSET(h) & PP_HTONS(IP_OFFMASK | IP_MF)) != 0;
  if (!AcceptRxOffload(ns, p, fragment, &pkt)) {
    ++ns->mutable_stats().bad_packets;
    pbuf_free(p);
    return 1;
  }
  if (fragment) {
    p = ip4_reass(p);  // takes ownership; returns the whole datagram once complete
    if (p == nullptr) {
      return 1;
    }
    if (!ParseIp4(p, &pkt)) {
      ++ns->mutable_stats().bad_packets;
      pbuf_free(p);
      return 1;
    }
  }
  if (pkt.protocol == IP_PROTO_UDP) {
    HandleUdpDatagram(ns, p, pkt);
  } else if (pkt.protocol == IP_PROTO_ICMP) {
    HandleIcmp4(ns, p, pkt);
  } else {
    ns->lwip()->acceptor->OnSegment(p, inp, pkt);
  }
  return 1;
}

}  // namespace

bool AcceptRxOffload(Netstack* ns, pbuf* p, bool fragment, IpPacket* pkt) {
  const FrameOffload& off = ns->rx_offload();
  if (off.empty()) {
    return true;
  }
  // Offload claims hold for whole, unfragmented packets in one buffer only.
  RxChecksum c = fragment || p->next != nullptr
                     ? RxChecksum::kBad
                     : ClassifyRxChecksum(off, {static_cast<const uint8_t*>(p->payload), p->len},
                                          pkt->header_len, pkt->protocol);
  pkt->l4_csum_trusted = c == RxChecksum::kTrusted;
  return c != RxChecksum::kBad;
}

void DeliverToTcpInput(pbuf* p, netif* inp, const IpPacket& pkt) {
  if (pkt.v6) {
    DeliverToTcpInput6(p, inp, pkt);
    return;
  }
  ip_data.current_netif = inp;
  ip_data.current_input_netif = inp;
  ip_data.current_ip4_header = static_cast<const ip_hdr*>(p->payload);
  ip_data.current_ip_header_tot_len = pkt.header_len;
  ip_data.current_iphdr_src = ToLwip(pkt.src);
  ip_data.current_iphdr_dest = ToLwip(pkt.dst);
  pbuf_remove_header(p, pkt.header_len);
  // A checksum the offload header vouches for is not one lwIP could verify (a partial one holds
  // only the pseudo-header sum): skip lwIP's check for this one segment.
  u16_t csum_flags = inp->chksum_flags;
  if (pkt.l4_csum_trusted) {
    NETIF_SET_CHECKSUM_CTRL(inp, csum_flags & ~NETIF_CHECKSUM_CHECK_TCP);
  }
  tcp_input(p, inp);
  NETIF_SET_CHECKSUM_CTRL(inp, csum_flags);
  ip_data.current_netif = nullptr;
  ip_data.current_input_netif = nullptr;
  ip_data.current_ip4_header = nullptr;
  ip_data.current_ip_header_tot_len = 0;
  ip_addr_set_any(0, &ip_data.current_iphdr_src);
  ip_addr_set_any(0, &ip_data.current_iphdr_dest);
}

}  // namespace msb::stack

extern "C" int msb_lwip_ip4_input_hook(struct pbuf* p, struct netif* inp) {
  return msb::stack::HandleIp4(p, inp);
}
