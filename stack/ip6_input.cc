// ip6_input.cc: the IPv6 input hook. lwIP calls it for every IPv6 packet before any processing of
// its own. The header is validated here (version, payload length against the frame), then:
//   * neighbour solicitations and advertisements (hop limit 255, as RFC 4861 requires) take
//     lwIP's normal path, which answers for the gateway's addresses and learns the guest's;
//   * router solicitations are answered with a router advertisement (icmp6_link.cc);
//   * everything else must come from the guest's /64 (never the gateway's own address) to a
//     unicast address: TCP to the acceptor and UDP to the delegate whatever the destination,
//     ICMPv6 echo to icmp6_link.cc. Fragments are reassembled first (ip6_reassembly.h, bounded);
//     any other extension header, multicast, and packets from elsewhere are dropped and counted.
// lwIP's own IPv6 input therefore sees only well-formed neighbour discovery.
#include <cstring>

#include "stack/ip6_reassembly.h"
#include "stack/lwip_glue.h"
#include "stack/msb_lwip_hooks.h"
#include "stack/offload.h"

namespace msb::stack {
namespace {

constexpr size_t kIp6Header = 40;
constexpr size_t kFragmentHeader = 8;
constexpr uint8_t kNextFragment = 44;
constexpr uint8_t kRouterSolicitation = 133;
constexpr uint8_t kNeighborSolicitation = 135;
constexpr uint8_t kNeighborAdvertisement = 136;

IpAddress Ip6At(const uint8_t* at) {
  std::array<uint8_t, 16> b;
  std::memcpy(b.data(), at, 16);
  return IpAddress::V6(b);
}

// ParseIp6 validates the fixed header at p->payload, trims link padding and fills `out`.
bool ParseIp6(pbuf* p, IpPacket* out, uint8_t* hop_limit) {
  if (p->len < kIp6Header) {
    return false;
  }
  const auto* h = static_cast<const uint8_t*>(p->payload);
  size_t plen = static_cast<size_t>((h[4] << 8) | h[5]);
  if ((h[0] >> 4) != 6 || plen > 0xffff - kIp6Header || kIp6Header + plen > p->tot_len) {
    return false;
  }
  if (p->tot_len > kIp6Header + plen) {
    pbuf_realloc(p, static_cast<u16_t>(kIp6Header + plen));
  }
  out->v6 = true;
  out->header_len = kIp6Header;
  out->total_len = static_cast<uint16_t>(kIp6Header + plen);
  out->protocol = h[6];
  out->src = Ip6At(h + 8);
  out->dst = Ip6At(h + 24);
  *hop_limit = h[7];
  return true;
}

bool IsLinkLocal(const IpAddress& a) {
  return a.bytes()[0] == 0xfe && (a.bytes()[1] & 0xc0) == 0x80;
}
bool IsMulticast(const IpAddress& a) {
  return a.bytes()[0] == 0xff;
}
bool IsUnspecified(const IpAddress& a) {
  return a == IpAddress::V6({});
}

bool InGuestPrefix(const IpAddress& a, const NetstackConfig& cfg) {
  return std::memcmp(a.bytes().data(), cfg.gateway_v6.bytes().data(), 8) == 0;
}

// SetCurrentPacket fills lwIP's per-packet globals for the packet at `header` (what tcp_input
// reads), or clears them.
void SetCurrentPacket(netif* inp, pbuf* header_pbuf, const IpPacket* pkt) {
  if (pkt == nullptr) {
    ip_data.current_netif = nullptr;
    ip_data.current_input_netif = nullptr;
    ip_data.current_ip6_header = nullptr;
    ip_data.current_ip_header_tot_len = 0;
    ip_addr_set_zero_ip6(&ip_data.current_iphdr_src);
    ip_addr_set_zero_ip6(&ip_data.current_iphdr_dest);
    return;
  }
  ip_data.current_netif = inp;
  ip_data.current_input_netif = inp;
  ip_data.current_ip6_header = static_cast<ip6_hdr*>(header_pbuf->payload);
  ip_data.current_ip_header_tot_len = kIp6Header;
  ip_data.current_iphdr_src = ToLwip(pkt->src);
  ip_data.current_iphdr_dest = ToLwip(pkt->dst);
}

// Reassemble feeds one fragment to the link's reassembler; returns the whole datagram as a new
// packet (the first fragment's IPv6 header, fragment header gone) once complete, else nullptr.
// Consumes `p`.
pbuf* Reassemble(Netstack* ns, pbuf* p, const IpPacket& pkt) {
  size_t plen = pkt.total_len - kIp6Header;
  static uint8_t buf[65535];
  if (plen < kFragmentHeader ||
      pbuf_copy_partial(p, buf, static_cast<u16_t>(pkt.total_len), 0) != pkt.total_len) {
    ++ns->mutable_stats().bad_packets;
    pbuf_free(p);
    return nullptr;
  }
  pbuf_free(p);
  const uint8_t* frag = buf + kIp6Header;
  if (frag[0] == kNextFragment) {
    ++ns->mutable_stats().bad_packets;  // nested fragment headers
    return nullptr;
  }
  Ip6Fragment f;
  f.src = pkt.src;
  f.dst = pkt.dst;
  f.identification =
      (uint32_t{frag[4]} << 24) | (uint32_t{frag[5]} << 16) | (uint32_t{frag[6]} << 8) | frag[7];
  f.offset = static_cast<uint16_t>(((frag[2] << 8) | frag[3]) & 0xfff8);
  f.more = (frag[3] & 1) != 0;
  f.next_header = frag[0];
  f.data = {frag + kFragmentHeader, plen - kFragmentHeader};
  std::optional<Ip6Datagram> whole = ns->lwip()->ip6_reassembly->Add(f);
  if (!whole) {
    return nullptr;
  }
  if (whole->payload.size() > 0xffff - kIp6Header) {
    ++ns->mutable_stats().bad_packets;
    return nullptr;
  }
  size_t len = kIp6Header + whole->payload.size();
  pbuf* out = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(len), PBUF_RAM);
  if (out == nullptr) {
    return nullptr;
  }
  buf[4] = static_cast<uint8_t>(whole->payload.size() >> 8);
  buf[5] = static_cast<uint8_t>(whole->payload.size());
  buf[6] = whole->next_header;
  pbuf_take(out, buf, kIp6Header);
  pbuf_take_at(out, whole->payload.data(), static_cast<u16_t>(whole->payload.size()), kIp6Header);
  return out;
}

int HandleIp6(pbuf* p, netif* inp) {
  Netstack* ns = Netstack::Instance();
  if (ns == nullptr) {
    pbuf_free(p);
    return 1;
  }
  const NetstackConfig& cfg = ns->config();
  IpPacket pkt;
  uint8_t hop_limit = 0;
  if (!cfg.ipv6 || !ParseIp6(p, &pkt, &hop_limit)) {
    ++ns->mutable_stats().bad_packets;
    pbuf_free(p);
    return 1;
  }
  if (pkt.protocol == IP6_NEXTH_ICMP6 && pkt.total_len >= kIp6Header + 4) {
    uint8_t type = static_cast<const uint8_t*>(p->payload)[kIp6Header];
    bool from_link = IsLinkLocal(pkt.src) || IsUnspecified(pkt.src) ||
                     (InGuestPrefix(pkt.src, cfg) && pkt.src != cfg.gateway_v6);
    if (type == kNeighborSolicitation || type == kNeighborAdvertisement) {
      if (hop_limit != 255 || !from_link) {
        ++ns->mutable_stats().bad_packets;
        pbuf_free(p);
        return 1;
      }
      return 0;  // lwIP's nd6_input
    }
    if (type == kRouterSolicitation) {
      if (hop_limit == 255 && (IsLinkLocal(pkt.src) || IsUnspecified(pkt.src))) {
        ++ns->mutable_stats().router_solicitations;
        // To the soliciting address when it has one, else to all nodes (RFC 4861 6.2.6).
        ns->SendRouterAdvertisement(IsUnspecified(pkt.src) ? *IpAddress::Parse("ff02::1")
                                                           : pkt.src);
      } else {
        ++ns->mutable_stats().bad_packets;
      }
      pbuf_free(p);
      return 1;
    }
  }
  if (IsMulticast(pkt.dst) || IsLinkLocal(pkt.dst)) {
    ++ns->mutable_stats().frames_ignored;  // no multicast service, no link-local one beyond ND
    pbuf_free(p);
    return 1;
  }
  if (!InGuestPrefix(pkt.src, cfg) || pkt.src == cfg.gateway_v6) {
    ++ns->mutable_stats().spoofed;  // only the guest's /64 may originate traffic
    pbuf_free(p);
    return 1;
  }
  bool fragment = pkt.protocol == kNextFragment;
  if (fragment) {
    p = Reassemble(ns, p, pkt);
    uint8_t ignored = 0;
    if (p == nullptr) {
      return 1;
    }
    if (!ParseIp6(p, &pkt, &ignored)) {
      ++ns->mutable_stats().bad_packets;
      pbuf_free(p);
      return 1;
    }
  }
  if (pkt.protocol != IP6_NEXTH_TCP && pkt.protocol != IP6_NEXTH_UDP &&
      pkt.protocol != IP6_NEXTH_ICMP6) {
    pbuf_free(p);  // other extension headers and protocols: nothing else leaves the guest
    return 1;
  }
  if (pkt.protocol == IP6_NEXTH_ICMP6) {
    HandleIcmp6(ns, p, pkt);
    return 1;
  }
  if (!AcceptRxOffload(ns, p, fragment, &pkt)) {
    ++ns->mutable_stats().bad_packets;
    pbuf_free(p);
    return 1;
  }
  if (pkt.protocol == IP6_NEXTH_UDP) {
    HandleUdpDatagram(ns, p, pkt);
  } else {
    ns->lwip()->acceptor->OnSegment(p, inp, pkt);
  }
  return 1;
}

}  // namespace

void DeliverToTcpInput6(pbuf* p, netif* inp, const IpPacket& pkt) {
  SetCurrentPacket(inp, p, &pkt);
  pbuf_remove_header(p, kIp6Header);
  u16_t csum_flags = inp->chksum_flags;
  if (pkt.l4_csum_trusted) {
    NETIF_SET_CHECKSUM_CTRL(inp, csum_flags & ~NETIF_CHECKSUM_CHECK_TCP);
  }
  tcp_input(p, inp);
  NETIF_SET_CHECKSUM_CTRL(inp, csum_flags);
  SetCurrentPacket(nullptr, nullptr, nullptr);
}

}  // namespace msb::stack

extern "C" int msb_lwip_ip6_input_hook(struct pbuf* p, struct netif* inp) {
  return msb::stack::HandleIp6(p, inp);
}
