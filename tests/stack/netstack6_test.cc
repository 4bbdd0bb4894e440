// Frame-level tests of IPv6 on the guest link: neighbour discovery answered by lwIP, router
// solicitations answered with the prefix, MTU and DNS server, TCP and UDP to any destination,
// echoes answered and fragments reassembled, errors quoted, and what the input hook refuses
// (foreign or spoofed sources, multicast, bad hop limits, nested fragments).
#include "tests/stack/netstack_fixture.h"

namespace msb::stack {
namespace {

using msb::testing::EthernetFrame;
using msb::testing::Icmp6Message;
using msb::testing::Ipv6Fragments;
using msb::testing::Ipv6Packet;

const IpAddress kGuestLinkLocal = *IpAddress::Parse("fe80::6d:73ff:fe00:2");

class Netstack6Test : public NetstackTest {
 protected:
  void Send6(const IpAddress& src, const IpAddress& dst, uint8_t next,
             const std::vector<uint8_t>& payload, uint8_t hop_limit = 64) {
    Send(EthernetFrame(kGatewayMac, kGuestMac, 0x86dd,
                       Ipv6Packet(src, dst, next, payload, hop_limit)));
  }
  std::vector<uint8_t> Echo(const IpAddress& src, const IpAddress& dst, uint16_t id, uint16_t seq,
                            size_t data_len) {
    std::vector<uint8_t> m = {128,
                              0,
                              0,
                              0,
                              static_cast<uint8_t>(id >> 8),
                              static_cast<uint8_t>(id),
                              static_cast<uint8_t>(seq >> 8),
                              static_cast<uint8_t>(seq)};
    for (size_t i = 0; i < data_len; ++i) {
      m.push_back(static_cast<uint8_t>(i * 13));
    }
    return Icmp6Message(src, dst, m);
  }
};

TEST_F(Netstack6Test, NeighbourSolicitationForTheGatewayIsAnswered) {
  std::vector<uint8_t> ns = {135, 0, 0, 0, 0, 0, 0, 0};
  ns.insert(ns.end(), kGateway6.bytes().begin(), kGateway6.bytes().end());
  ns.insert(ns.end(), {1, 1});
  ns.insert(ns.end(), kGuestMac.begin(), kGuestMac.end());
  IpAddress solicited = *IpAddress::Parse("ff02::1:ff00:1");
  Send6(kGuest6, solicited, 58, Icmp6Message(kGuest6, solicited, ns), 255);
  auto out = TakeOut6();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].icmp_type, 136);  // neighbour advertisement
  EXPECT_TRUE(out[0].checksums_ok);
  EXPECT_EQ(out[0].ip_dst, kGuest6);
  // The same with a hop limit other than 255 (it crossed a router): ignored.
  Send6(kGuest6, solicited, 58, Icmp6Message(kGuest6, solicited, ns), 64);
  EXPECT_TRUE(TakeOut6().empty());
}

TEST_F(Netstack6Test, RouterSolicitationIsAnsweredWithPrefixMtuAndDns) {
  std::vector<uint8_t> rs = {133, 0, 0, 0, 0, 0, 0, 0};
  IpAddress routers = *IpAddress::Parse("ff02::2");
  Send6(kGuestLinkLocal, routers, 58, Icmp6Message(kGuestLinkLocal, routers, rs), 255);
  auto out = TakeOut6();
  ASSERT_EQ(out.size(), 1u);
  const Parsed& ra = out[0];
  EXPECT_EQ(ra.icmp_type, 134);
  EXPECT_TRUE(ra.checksums_ok);
  EXPECT_EQ(ra.hop_limit, 255);
  EXPECT_EQ(ra.ip_dst, kGuestLinkLocal);
  EXPECT_EQ(ra.ip_src.bytes()[0], 0xfe);  // from the gateway's link-local address
  // After reachable time and retransmission timer (8 bytes): SLLA, MTU, prefix, RDNSS.
  const std::vector<uint8_t>& o = ra.icmp_quote;
  ASSERT_EQ(o.size(), 8u + 8 + 8 + 32 + 24);
  EXPECT_EQ(std::vector<uint8_t>(o.begin() + 8, o.begin() + 10), (std::vector<uint8_t>{1, 1}));
  EXPECT_EQ(std::vector<uint8_t>(o.begin() + 16, o.begin() + 24),
            (std::vector<uint8_t>{5, 1, 0, 0, 0, 0, 0x05, 0xdc}));  // MTU 1500
  EXPECT_EQ(o[24], 3);                                              // prefix information
  EXPECT_EQ(o[26], 64);                                             // /64
  EXPECT_EQ(o[27], 0xc0);                                           // on-link, autonomous
  EXPECT_EQ(std::vector<uint8_t>(o.begin() + 40, o.begin() + 48),
            std::vector<uint8_t>(kGateway6.bytes().begin(), kGateway6.bytes().begin() + 8));
  EXPECT_EQ(o[56], 25);  // RDNSS: the gateway
  EXPECT_EQ(std::vector<uint8_t>(o.begin() + 64, o.end()),
            std::vector<uint8_t>(kGateway6.bytes().begin(), kGateway6.bytes().end()));
  EXPECT_EQ(ns_->stats().router_solicitations, 1u);
}

TEST_F(Netstack6Test, TcpToAnyDestinationIsDecidedAtSynTime) {
  rec_.verdict = SynVerdict::kReject;
  Send(TcpFrame(Syn(40000, {kServer6, 443})));
  ASSERT_EQ(rec_.syns.size(), 1u);
  EXPECT_EQ(rec_.syns[0].second.guest, (SocketAddress{kGuest6, 40000}));
  EXPECT_EQ(rec_.syns[0].second.dest, (SocketAddress{kServer6, 443}));
  auto out = TakeOut6();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].tcp);
  EXPECT_TRUE(out[0].checksums_ok);
  EXPECT_EQ(out[0].tcp->flags & kRst, kRst);
  EXPECT_EQ(out[0].tcp->src, (SocketAddress{kServer6, 443}));
  // Held and accepted: the SYN-ACK comes from the original destination.
  rec_.verdict = SynVerdict::kHold;
  Send(TcpFrame(Syn(40001, {kServer6, 443})));
  ASSERT_TRUE(ns_->ResolveSyn(rec_.syns.back().first, SynOutcome::kAccept));
  out = TakeOut6();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].tcp);
  EXPECT_EQ(out[0].tcp->flags & (kSyn | kAck), kSyn | kAck);
  EXPECT_EQ(out[0].tcp->src, (SocketAddress{kServer6, 443}));
  EXPECT_TRUE(out[0].checksums_ok);
  // Unreachable: ICMPv6 address unreachable quoting the SYN.
  Send(TcpFrame(Syn(40002, {kServer6, 444})));
  ASSERT_TRUE(ns_->ResolveSyn(rec_.syns.back().first, SynOutcome::kUnreachable));
  out = TakeOut6();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].icmp_type, 1);
  EXPECT_EQ(out[0].icmp_code, 3);
  EXPECT_TRUE(out[0].checksums_ok);
}

TEST_F(Netstack6Test, UdpIsHandedOnAndRefusalsArePortUnreachable) {
  const uint8_t data[] = {1, 2, 3};
  Send(UdpFrame({kGuest6, 5000}, {kServer6, 7}, data));
  ASSERT_EQ(rec_.udp.size(), 1u);
  EXPECT_EQ(rec_.udp[0].first.dest, (SocketAddress{kServer6, 7}));
  rec_.udp_verdict = UdpVerdict::kPortUnreachable;
  Send(UdpFrame({kGuest6, 5000}, {kServer6, 8}, data));
  auto out = TakeOut6();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].icmp_type, 1);
  EXPECT_EQ(out[0].icmp_code, 4);
  EXPECT_EQ(out[0].ip_src, kServer6);
  // Relayed answers go out as the destination; the relay's port unreachable too.
  ns_->SendUdp({kServer6, 7}, {kGuest6, 5000}, data);
  out = TakeOut6();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].udp_src, (SocketAddress{kServer6, 7}));
  EXPECT_TRUE(out[0].checksums_ok);
  ns_->SendUdpPortUnreachable({Transport::kUdp, {kGuest6, 5000}, {kServer6, 9}}, 3);
  out = TakeOut6();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].icmp_code, 4);
  ASSERT_EQ(out[0].icmp_quote.size(), 48u);
  EXPECT_TRUE(out[0].checksums_ok);
}

TEST_F(Netstack6Test, EchoesAreAnsweredAndFragmentsReassembled) {
  rec_.icmp_verdict = IcmpVerdict::kAnswer;
  Send6(kGuest6, kGateway6, 58, Echo(kGuest6, kGateway6, 7, 1, 56));
  ASSERT_EQ(rec_.echoes.size(), 1u);
  EXPECT_EQ(rec_.echoes[0].dest.ip, kGateway6);
  auto out = TakeOut6();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].icmp_type, 129);
  EXPECT_TRUE(out[0].checksums_ok);
  // 3000 bytes in fragments of 1448: reassembled, answered (in fragments again).
  std::vector<uint8_t> big = Echo(kGuest6, kGateway6, 8, 2, 3000);
  for (const auto& f : Ipv6Fragments(kGuest6, kGateway6, 58, big, 1448, 99)) {
    Send(f);
  }
  ASSERT_EQ(rec_.echoes.size(), 2u);
  EXPECT_EQ(rec_.echo_data[1].size(), 3000u);
  out = TakeOut6();
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(ns_->stats().icmp_echo_answered, 2u);
}

TEST_F(Netstack6Test, FragmentedUdpIsReassembled) {
  std::vector<uint8_t> payload(4000);
  for (size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<uint8_t>(i);
  }
  std::vector<uint8_t> frame = UdpFrame({kGuest6, 5001}, {kServer6, 7}, payload);
  std::vector<uint8_t> udp(frame.begin() + 14 + 40, frame.end());
  for (const auto& f : Ipv6Fragments(kGuest6, kServer6, 17, udp, 1448, 5)) {
    Send(f);
  }
  EXPECT_EQ(ns_->stats().bad_packets, 0u);
  EXPECT_EQ(ns_->stats().icmp_dropped, 0u);
  EXPECT_EQ(ns_->stats().spoofed, 0u);
  ASSERT_EQ(rec_.udp.size(), 1u);
  EXPECT_EQ(rec_.udp[0].second, payload);
}

TEST_F(Netstack6Test, ForeignSourcesMulticastAndJunkAreDropped) {
  const uint8_t data[] = {1};
  Send(UdpFrame({*IpAddress::Parse("fd42:6d73:63::2"), 5000}, {kServer6, 7}, data));
  Send(UdpFrame({kGateway6, 5000}, {kServer6, 7}, data));  // the gateway's own address
  Send(UdpFrame({kGuestLinkLocal, 5000}, {kServer6, 7}, data));
  EXPECT_EQ(ns_->stats().spoofed, 3u);
  Send(UdpFrame({kGuest6, 5353}, {*IpAddress::Parse("ff02::fb"), 5353}, data));  // mDNS
  EXPECT_TRUE(rec_.udp.empty());
  // Truncated and lying headers.
  std::vector<uint8_t> f = UdpFrame({kGuest6, 5000}, {kServer6, 7}, data);
  f[14 + 4] = 0x10;  // payload length beyond the frame
  Send(f);
  for (size_t n = 14; n < 14 + 40; n += 7) {
    Send(std::vector<uint8_t>(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n)));
  }
  EXPECT_TRUE(rec_.udp.empty());
  EXPECT_TRUE(TakeOut6().empty());
  // The stack still works.
  Send(UdpFrame({kGuest6, 5000}, {kServer6, 7}, data));
  EXPECT_EQ(rec_.udp.size(), 1u);
}

}  // namespace
}  // namespace msb::stack
