// Frame builders and parser for the stack tests (see frames.h).
#include "tests/stack/frames.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace msb::testing {
namespace {

void Put16(std::vector<uint8_t>* v, uint16_t x) {
  v->push_back(static_cast<uint8_t>(x >> 8));
  v->push_back(static_cast<uint8_t>(x));
}
void Put32(std::vector<uint8_t>* v, uint32_t x) {
  Put16(v, static_cast<uint16_t>(x >> 16));
  Put16(v, static_cast<uint16_t>(x));
}
uint16_t Get16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}
uint32_t Get32(std::span<const uint8_t> b, size_t at) {
  return (uint32_t{Get16(b, at)} << 16) | Get16(b, at + 2);
}

uint32_t PseudoHeaderSum(const IpAddress& src, const IpAddress& dst, uint8_t proto, size_t len) {
  uint32_t sum = 0;
  int n = src.is_v6() ? 16 : 4;
  for (int i = 0; i < n; i += 2) {
    sum += static_cast<uint32_t>((src.bytes()[i] << 8) | src.bytes()[i + 1]);
    sum += static_cast<uint32_t>((dst.bytes()[i] << 8) | dst.bytes()[i + 1]);
  }
  return sum + proto + static_cast<uint32_t>(len >> 16) + static_cast<uint32_t>(len & 0xffff);
}

// IpPacketFor builds the IP packet of either family, by the source's.
std::vector<uint8_t> IpPacketFor(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                                 std::span<const uint8_t> payload) {
  return src.is_v6() ? Ipv6Packet(src, dst, protocol, payload)
                     : Ipv4Packet(src, dst, protocol, payload);
}

uint16_t EthertypeFor(const IpAddress& src) {
  return src.is_v6() ? 0x86dd : 0x0800;
}

}  // namespace

uint16_t InternetChecksum(std::span<const uint8_t> data, uint32_t initial) {
  uint32_t sum = initial;
  for (size_t i = 0; i + 1 < data.size(); i += 2) {
    sum += static_cast<uint32_t>((data[i] << 8) | data[i + 1]);
  }
  if (data.size() % 2 != 0) {
    sum += static_cast<uint32_t>(data.back() << 8);
  }
  while ((sum >> 16) != 0) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

std::vector<uint8_t> EthernetFrame(const Mac& dst, const Mac& src, uint16_t ethertype,
                                   std::span<const uint8_t> payload) {
  std::vector<uint8_t> f(dst.begin(), dst.end());
  f.insert(f.end(), src.begin(), src.end());
  Put16(&f, ethertype);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

std::vector<uint8_t> Ipv4Packet(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                                std::span<const uint8_t> payload, uint16_t id,
                                uint16_t frag_field) {
  std::vector<uint8_t> p;
  p.push_back(0x45);
  p.push_back(0);
  Put16(&p, static_cast<uint16_t>(20 + payload.size()));
  Put16(&p, id);
  Put16(&p, frag_field);
  p.push_back(64);
  p.push_back(protocol);
  Put16(&p, 0);
  p.insert(p.end(), src.bytes().begin(), src.bytes().begin() + 4);
  p.insert(p.end(), dst.bytes().begin(), dst.bytes().begin() + 4);
  uint16_t c = InternetChecksum({p.data(), 20});
  p[10] = static_cast<uint8_t>(c >> 8);
  p[11] = static_cast<uint8_t>(c);
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

std::vector<uint8_t> Ipv6Packet(const IpAddress& src, const IpAddress& dst, uint8_t next,
                                std::span<const uint8_t> payload, uint8_t hop_limit) {
  std::vector<uint8_t> p = {0x60, 0, 0, 0};
  Put16(&p, static_cast<uint16_t>(payload.size()));
  p.push_back(next);
  p.push_back(hop_limit);
  p.insert(p.end(), src.bytes().begin(), src.bytes().end());
  p.insert(p.end(), dst.bytes().begin(), dst.bytes().end());
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

std::vector<uint8_t> Icmp6Message(const IpAddress& src, const IpAddress& dst,
                                  std::vector<uint8_t> msg) {
  msg[2] = msg[3] = 0;
  uint16_t c = InternetChecksum(msg, PseudoHeaderSum(src, dst, 58, msg.size()));
  msg[2] = static_cast<uint8_t>(c >> 8);
  msg[3] = static_cast<uint8_t>(c);
  return msg;
}

std::vector<std::vector<uint8_t>> Ipv6Fragments(const IpAddress& src, const IpAddress& dst,
                                                uint8_t next, std::span<const uint8_t> payload,
                                                size_t piece, uint32_t id) {
  std::vector<std::vector<uint8_t>> out;
  for (size_t at = 0; at < payload.size(); at += piece) {
    size_t n = std::min(piece, payload.size() - at);
    bool more = at + n < payload.size();
    std::vector<uint8_t> f = {next, 0};
    Put16(&f, static_cast<uint16_t>(at | (more ? 1 : 0)));
    Put16(&f, static_cast<uint16_t>(id >> 16));
    Put16(&f, static_cast<uint16_t>(id));
    f.insert(f.end(), payload.begin() + static_cast<std::ptrdiff_t>(at),
             payload.begin() + static_cast<std::ptrdiff_t>(at + n));
    out.push_back(EthernetFrame(kGatewayMac, kGuestMac, 0x86dd, Ipv6Packet(src, dst, 44, f)));
  }
  return out;
}

std::vector<uint8_t> TcpFrame(const TcpSegment& seg) {
  std::vector<uint8_t> opts = seg.options;
  while (opts.size() % 4 != 0) {
    opts.push_back(0);
  }
  std::vector<uint8_t> t;
  Put16(&t, seg.src.port);
  Put16(&t, seg.dst.port);
  Put32(&t, seg.seq);
  Put32(&t, seg.ack);
  t.push_back(static_cast<uint8_t>(((20 + opts.size()) / 4) << 4));
  t.push_back(seg.flags);
  Put16(&t, seg.window);
  Put16(&t, 0);
  Put16(&t, 0);
  t.insert(t.end(), opts.begin(), opts.end());
  t.insert(t.end(), seg.payload.begin(), seg.payload.end());
  uint16_t c = InternetChecksum(t, PseudoHeaderSum(seg.src.ip, seg.dst.ip, 6, t.size()));
  t[16] = static_cast<uint8_t>(c >> 8);
  t[17] = static_cast<uint8_t>(c);
  return EthernetFrame(kGatewayMac, kGuestMac, EthertypeFor(seg.src.ip),
                       IpPacketFor(seg.src.ip, seg.dst.ip, 6, t));
}

std::vector<uint8_t> UdpFrame(const SocketAddress& src, const SocketAddress& dst,
                              std::span<const uint8_t> payload) {
  std::vector<uint8_t> u;
  Put16(&u, src.port);
  Put16(&u, dst.port);
  Put16(&u, static_cast<uint16_t>(8 + payload.size()));
  Put16(&u, 0);
  u.insert(u.end(), payload.begin(), payload.end());
  uint16_t c = InternetChecksum(u, PseudoHeaderSum(src.ip, dst.ip, 17, u.size()));
  if (c == 0) {
    c = 0xffff;
  }
  u[6] = static_cast<uint8_t>(c >> 8);
  u[7] = static_cast<uint8_t>(c);
  return EthernetFrame(kGatewayMac, kGuestMac, EthertypeFor(src.ip),
                       IpPacketFor(src.ip, dst.ip, 17, u));
}

std::vector<uint8_t> ArpReply(const IpAddress& sender_ip, const Mac& sender_mac,
                              const IpAddress& target_ip, const Mac& target_mac) {
  std::vector<uint8_t> a = {0, 1, 8, 0, 6, 4, 0, 2};
  a.insert(a.end(), sender_mac.begin(), sender_mac.end());
  a.insert(a.end(), sender_ip.bytes().begin(), sender_ip.bytes().begin() + 4);
  a.insert(a.end(), target_mac.begin(), target_mac.end());
  a.insert(a.end(), target_ip.bytes().begin(), target_ip.bytes().begin() + 4);
  return EthernetFrame(target_mac, sender_mac, 0x0806, a);
}

Parsed ParseFrame(std::span<const uint8_t> f) {
  Parsed out;
  if (f.size() < 14) {
    return out;
  }
  out.ethertype = Get16(f, 12);
  auto p = f.subspan(14);
  if (out.ethertype == 0x0806 && p.size() >= 28) {
    out.arp_request = Get16(p, 6) == 1;
    out.arp_target = IpAddress::V4(Get32(p, 24));
    return out;
  }
  bool v6 = out.ethertype == 0x86dd && p.size() >= 40;
  if ((out.ethertype != 0x0800 || p.size() < 20) && !v6) {
    return out;
  }
  size_t ihl = v6 ? 40 : (p[0] & 0x0f) * 4u;
  size_t total = v6 ? 40u + Get16(p, 4) : Get16(p, 2);
  if (v6) {
    std::array<uint8_t, 16> a;
    std::copy_n(p.begin() + 8, 16, a.begin());
    out.ip_src = IpAddress::V6(a);
    std::copy_n(p.begin() + 24, 16, a.begin());
    out.ip_dst = IpAddress::V6(a);
    out.ip_protocol = p[6];
    out.hop_limit = p[7];
  } else {
    out.checksums_ok = InternetChecksum(p.subspan(0, ihl)) == 0;
    out.ip_protocol = p[9];
    out.ip_src = IpAddress::V4(Get32(p, 12));
    out.ip_dst = IpAddress::V4(Get32(p, 16));
  }
  if (total > p.size()) {
    out.checksums_ok = false;
    return out;
  }
  auto l4 = p.subspan(ihl, total - ihl);
  if (out.ip_protocol == 6 && l4.size() >= 20) {
    out.checksums_ok &=
        InternetChecksum(l4, PseudoHeaderSum(out.ip_src, out.ip_dst, 6, l4.size())) == 0;
    TcpSegment s;
    s.src = {out.ip_src, Get16(l4, 0)};
    s.dst = {out.ip_dst, Get16(l4, 2)};
    s.seq = Get32(l4, 4);
    s.ack = Get32(l4, 8);
    size_t off = (l4[12] >> 4) * 4u;
    s.flags = l4[13];
    s.window = Get16(l4, 14);
    s.options.assign(l4.begin() + 20, l4.begin() + static_cast<std::ptrdiff_t>(off));
    s.payload.assign(l4.begin() + static_cast<std::ptrdiff_t>(off), l4.end());
    out.tcp = s;
  } else if (out.ip_protocol == 58 && l4.size() >= 8) {
    out.checksums_ok &=
        InternetChecksum(l4, PseudoHeaderSum(out.ip_src, out.ip_dst, 58, l4.size())) == 0;
    out.icmp_type = l4[0];
    out.icmp_code = l4[1];
    out.icmp_quote.assign(l4.begin() + 8, l4.end());
  } else if (out.ip_protocol == 1 && l4.size() >= 8) {
    out.icmp_type = l4[0];
    out.icmp_code = l4[1];
    out.icmp_quote.assign(l4.begin() + 8, l4.end());
  } else if (out.ip_protocol == 17 && l4.size() >= 8) {
    out.udp_src = {out.ip_src, Get16(l4, 0)};
    out.udp_dst = {out.ip_dst, Get16(l4, 2)};
    out.udp_payload.assign(l4.begin() + 8, l4.end());
  }
  return out;
}

}  // namespace msb::testing
