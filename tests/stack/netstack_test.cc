// Frame-level tests of the guest-facing stack: SYN-time decisions, held SYNs and how they resolve,
// the accepted stream's flow control and half-close, UDP hand-off, and robustness against
// malformed, spoofed and truncated frames. A fake device plays the guest's NIC
// (netstack_fixture.h).
#include "tests/stack/netstack_fixture.h"

namespace msb::stack {
namespace {

TEST_F(NetstackTest, RejectedSynGetsRstAtOnce) {
  rec_.verdict = SynVerdict::kReject;
  Send(TcpFrame(Syn(40000, {kServer, 80})));
  ASSERT_EQ(rec_.syns.size(), 1u);
  EXPECT_EQ(rec_.syns[0].second.guest, (SocketAddress{kGuest, 40000}));
  EXPECT_EQ(rec_.syns[0].second.dest, (SocketAddress{kServer, 80}));
  auto out = TakeOut();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].tcp);
  EXPECT_TRUE(out[0].checksums_ok);
  EXPECT_EQ(out[0].tcp->flags & (kRst | kAck), kRst | kAck);
  EXPECT_EQ(out[0].tcp->ack, 1001u);
  EXPECT_EQ(out[0].tcp->src, (SocketAddress{kServer, 80}));
  EXPECT_EQ(out[0].tcp->dst, (SocketAddress{kGuest, 40000}));
}

TEST_F(NetstackTest, HeldSynRetransmissionIsAbsorbed) {
  Send(TcpFrame(Syn(40001, {kServer, 443})));
  Send(TcpFrame(Syn(40001, {kServer, 443})));
  EXPECT_EQ(rec_.syns.size(), 1u);
  EXPECT_EQ(ns_->stats().syn_retransmits_dropped, 1u);
  EXPECT_TRUE(TakeOut().empty());
}

TEST_F(NetstackTest, RefusedHeldSynGetsRst) {
  Send(TcpFrame(Syn(40002, {kServer, 81})));
  ASSERT_TRUE(ns_->ResolveSyn(rec_.syns[0].first, SynOutcome::kRefuse));
  auto out = TakeOut();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].tcp->flags & kRst);
  // The tuple is free again: a new SYN is a new decision.
  Send(TcpFrame(Syn(40002, {kServer, 81}, 5000)));
  EXPECT_EQ(rec_.syns.size(), 2u);
}

TEST_F(NetstackTest, UnreachableHeldSynGetsIcmpHostUnreachable) {
  Send(TcpFrame(Syn(40003, {kServer, 80})));
  ASSERT_TRUE(ns_->ResolveSyn(rec_.syns[0].first, SynOutcome::kUnreachable));
  auto out = TakeOut();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ip_protocol, 1);
  EXPECT_EQ(out[0].icmp_type, 3);
  EXPECT_EQ(out[0].icmp_code, 1);
  EXPECT_EQ(out[0].ip_dst, kGuest);
  ASSERT_GE(out[0].icmp_quote.size(), 28u);  // the SYN's IP header and first 8 TCP bytes
  EXPECT_EQ(out[0].icmp_quote[9], 6);
  EXPECT_EQ(out[0].icmp_quote[20], 40003 >> 8);
}

TEST_F(NetstackTest, UnknownSynIdsAreIgnored) {
  EXPECT_FALSE(ns_->ResolveSyn(12345, SynOutcome::kAccept));
  EXPECT_TRUE(ns_->ResolveSyn(12345, SynOutcome::kRefuse));
  EXPECT_TRUE(TakeOut().empty());
}

TEST_F(NetstackTest, AcceptedStreamCarriesDataBothWays) {
  uint32_t snext = 0;
  GuestTcp* c = Handshake(40004, {kServer, 80}, &snext);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->tuple().dest, (SocketAddress{kServer, 80}));
  TcpSegment data;
  data.src = {kGuest, 40004};
  data.dst = {kServer, 80};
  data.seq = 1001;
  data.ack = snext;
  data.flags = kAck | msb::testing::kPsh;
  data.payload = {'h', 'e', 'l', 'l', 'o'};
  Send(TcpFrame(data));
  EXPECT_GE(rec_.readable, 1);
  ASSERT_EQ(c->ReadableBytes(), 5u);
  auto view = c->Peek();
  EXPECT_EQ(std::string(view.begin(), view.end()), "hello");
  c->Consume(5);
  EXPECT_EQ(c->ReadableBytes(), 0u);
  TakeOut();
  const std::string reply = "world!";
  ASSERT_EQ(c->Write({reinterpret_cast<const uint8_t*>(reply.data()), reply.size()}), 6u);
  c->Flush();
  auto out = TakeOut();
  ASSERT_FALSE(out.empty());
  const TcpSegment& seg = *out.back().tcp;
  EXPECT_EQ(std::string(seg.payload.begin(), seg.payload.end()), "world!");
  EXPECT_EQ(seg.seq, snext);
  EXPECT_EQ(seg.ack, 1006u);
  EXPECT_EQ(seg.src, (SocketAddress{kServer, 80}));
}

TEST_F(NetstackTest, UnconsumedDataClosesTheWindow) {
  uint32_t snext = 0;
  GuestTcp* c = Handshake(40005, {kServer, 80}, &snext);
  ASSERT_NE(c, nullptr);
  TakeOut();
  uint32_t seq = 1001;
  uint16_t last_window = 0;
  // 40 KiB in 1 KiB segments that nobody consumes: the advertised window must shrink.
  for (int i = 0; i < 40; ++i) {
    TcpSegment d;
    d.src = {kGuest, 40005};
    d.dst = {kServer, 80};
    d.seq = seq;
    d.ack = snext;
    d.flags = kAck;
    d.payload.assign(1024, static_cast<uint8_t>(i));
    seq += 1024;
    Send(TcpFrame(d));
    for (const Parsed& p : TakeOut()) {
      if (p.tcp) {
        last_window = p.tcp->window;
      }
    }
  }
  EXPECT_EQ(c->ReadableBytes(), 40u * 1024);
  ASSERT_NE(last_window, 0);
  uint32_t before = last_window;
  c->Consume(c->ReadableBytes());  // reopening 40 KiB crosses the update threshold: an ACK goes
  auto out = TakeOut();
  ASSERT_FALSE(out.empty());
  EXPECT_GT(out.back().tcp->window, before);
}

TEST_F(NetstackTest, GuestFinIsEofAfterData) {
  uint32_t snext = 0;
  GuestTcp* c = Handshake(40006, {kServer, 80}, &snext);
  ASSERT_NE(c, nullptr);
  TcpSegment fin;
  fin.src = {kGuest, 40006};
  fin.dst = {kServer, 80};
  fin.seq = 1001;
  fin.ack = snext;
  fin.flags = kAck | kFin;
  fin.payload = {'x'};
  Send(TcpFrame(fin));
  EXPECT_FALSE(c->ReadEof());  // one byte still unread
  c->Consume(1);
  EXPECT_TRUE(c->ReadEof());
  c->ShutdownWrite();
  c->Flush();
  bool saw_fin = false;
  for (const Parsed& p : TakeOut()) {
    saw_fin |= p.tcp && (p.tcp->flags & kFin);
  }
  EXPECT_TRUE(saw_fin);
}

TEST_F(NetstackTest, GuestRstReportsGone) {
  uint32_t snext = 0;
  GuestTcp* c = Handshake(40007, {kServer, 80}, &snext);
  ASSERT_NE(c, nullptr);
  TcpSegment rst;
  rst.src = {kGuest, 40007};
  rst.dst = {kServer, 80};
  rst.seq = 1001;
  rst.flags = kRst;
  Send(TcpFrame(rst));
  ASSERT_EQ(rec_.gone.size(), 1u);
  EXPECT_TRUE(rec_.gone[0]);
  EXPECT_FALSE(c->alive());
}

TEST_F(NetstackTest, ClosedConnectionsLeaveNoPcbs) {
  // Guest closes first, then we do: LAST_ACK, then gone at the guest's ACK.
  uint32_t snext = 0;
  GuestTcp* c = Handshake(40020, {kServer, 80}, &snext);
  ASSERT_NE(c, nullptr);
  TcpSegment seg;
  seg.src = {kGuest, 40020};
  seg.dst = {kServer, 80};
  seg.seq = 1001;
  seg.ack = snext;
  seg.flags = kAck | kFin;
  Send(TcpFrame(seg));
  EXPECT_TRUE(c->ReadEof());
  c->ShutdownWrite();
  c->Flush();
  TakeOut();
  seg.seq = 1002;
  seg.ack = snext + 1;
  seg.flags = kAck;
  Send(TcpFrame(seg));
  EXPECT_EQ(ns_->TcpPcbCount(), 0u);
  ASSERT_EQ(rec_.gone.size(), 1u);
  EXPECT_FALSE(rec_.gone[0]);  // an orderly end
  rec_.accepted.clear();

  // We close first: the guest's FIN+ACK puts the pcb in TIME_WAIT, which lwIP ends after 2 MSL.
  rec_.syns.clear();
  c = Handshake(40021, {kServer, 80}, &snext);
  ASSERT_NE(c, nullptr);
  c->ShutdownWrite();
  c->Flush();
  TakeOut();
  seg.src = {kGuest, 40021};
  seg.seq = 1001;
  seg.ack = snext + 1;
  seg.flags = kAck | kFin;
  Send(TcpFrame(seg));
  TakeOut();              // lwIP's ACK of that FIN
  rec_.accepted.clear();  // the session lets go; lwIP keeps the TIME_WAIT pcb
  EXPECT_EQ(ns_->TcpPcbCount(), 1u);
  for (int i = 0; i < 4 * 130; ++i) {  // 2 MSL = 120 s, in lwIP's 250 ms timer steps
    clock_.Advance(std::chrono::milliseconds(250));
    ns_->RunTimers();
  }
  EXPECT_EQ(ns_->TcpPcbCount(), 0u);

  // Dropped with unread data: RST at once, nothing left.
  rec_.syns.clear();
  c = Handshake(40022, {kServer, 80}, &snext);
  ASSERT_NE(c, nullptr);
  seg.src = {kGuest, 40022};
  seg.seq = 1001;
  seg.ack = snext;
  seg.flags = kAck;
  seg.payload = {'u', 'n', 'r', 'e', 'a', 'd'};
  Send(TcpFrame(seg));
  TakeOut();
  rec_.accepted.clear();
  bool rst = false;
  for (const Parsed& p : TakeOut()) {
    rst |= p.tcp && (p.tcp->flags & kRst);
  }
  EXPECT_TRUE(rst);
  EXPECT_EQ(ns_->TcpPcbCount(), 0u);
}

// With many connections open, a new SYN is matched against them through the pcb index, not lwIP's
// lists: these check that every connection is still found (data, a SYN inside a connection,
// TIME_WAIT reuse) and that the lists stay whole after each SYN that skipped them.
TEST_F(NetstackTest, ManyConnectionsStayFoundWhileNewSynsSkipTheirLists) {
  constexpr uint16_t kBase = 41000;
  constexpr int kFlows = 300;
  std::vector<uint32_t> snext(kFlows);
  std::vector<GuestTcp*> conns;
  for (int i = 0; i < kFlows; ++i) {
    uint16_t sport = static_cast<uint16_t>(kBase + i);
    Send(TcpFrame(Syn(sport, {kServer, 80})));
    ASSERT_EQ(rec_.syns.size(), static_cast<size_t>(i + 1));
    ASSERT_TRUE(ns_->ResolveSyn(rec_.syns.back().first, SynOutcome::kAccept));
    auto out = TakeOut();
    ASSERT_EQ(out.size(), 1u);
    ASSERT_TRUE(out[0].tcp);
    snext[i] = out[0].tcp->seq + 1;
    TcpSegment ack;
    ack.src = {kGuest, sport};
    ack.dst = {kServer, 80};
    ack.seq = 1001;
    ack.ack = snext[i];
    ack.flags = kAck;
    Send(TcpFrame(ack));
    ASSERT_EQ(rec_.accepted.size(), static_cast<size_t>(i + 1));
    conns.push_back(rec_.accepted.back().get());
  }
  EXPECT_EQ(ns_->TcpPcbCount(), static_cast<size_t>(kFlows));
  EXPECT_TRUE(ns_->PcbIndexConsistent());

  // Data on every connection, oldest first (each one as deep in lwIP's list as it can be): each
  // is found, and moved to the front without the index losing step with lwIP.
  for (int i = 0; i < kFlows; ++i) {
    TcpSegment d;
    d.src = {kGuest, static_cast<uint16_t>(kBase + i)};
    d.dst = {kServer, 80};
    d.seq = 1001;
    d.ack = snext[i];
    d.flags = kAck | msb::testing::kPsh;
    d.payload = {'x'};
    Send(TcpFrame(d));
    ASSERT_EQ(conns[i]->ReadableBytes(), 1u) << i;
    conns[i]->Consume(1);
  }
  TakeOut();
  EXPECT_TRUE(ns_->PcbIndexConsistent());
  EXPECT_EQ(ns_->stats().pcb_list_resyncs, 0u);

  // The first connection opened still gets its data.
  TcpSegment data;
  data.src = {kGuest, kBase};
  data.dst = {kServer, 80};
  data.seq = 1002;
  data.ack = snext[0];
  data.flags = kAck | msb::testing::kPsh;
  data.payload = {'o', 'l', 'd'};
  Send(TcpFrame(data));
  EXPECT_EQ(conns[0]->ReadableBytes(), 3u);
  TakeOut();

  // A SYN inside an established connection is lwIP's (a challenge ACK), not a new connection.
  Send(TcpFrame(Syn(kBase + 7, {kServer, 80}, 5000)));
  EXPECT_TRUE(ns_->PcbIndexConsistent());
  EXPECT_EQ(rec_.syns.size(), static_cast<size_t>(kFlows));
  auto out = TakeOut();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp->flags & (kSyn | kRst), 0);
  EXPECT_EQ(ns_->TcpPcbCount(), static_cast<size_t>(kFlows));

  // A refused SYN among them gets its RST and leaves the count alone.
  rec_.verdict = SynVerdict::kReject;
  Send(TcpFrame(Syn(40999, {kServer, 81})));
  out = TakeOut();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].tcp->flags & kRst);
  EXPECT_EQ(ns_->TcpPcbCount(), static_cast<size_t>(kFlows));
  rec_.verdict = SynVerdict::kHold;

  // Connection 3 ends with the gateway closing first: TIME_WAIT. A new SYN on its tuple is a new
  // connection (the TIME_WAIT pcb gives way), found and accepted like any other.
  conns[3]->ShutdownWrite();
  conns[3]->Flush();
  TakeOut();
  TcpSegment fin;
  fin.src = {kGuest, kBase + 3};
  fin.dst = {kServer, 80};
  fin.seq = 1002;
  fin.ack = snext[3] + 1;
  fin.flags = kAck | kFin;
  Send(TcpFrame(fin));
  TakeOut();
  rec_.accepted.erase(rec_.accepted.begin() + 3);
  conns.erase(conns.begin() + 3);
  EXPECT_EQ(ns_->TcpPcbCount(), static_cast<size_t>(kFlows));  // one of them in TIME_WAIT
  EXPECT_TRUE(ns_->PcbIndexConsistent());
  Send(TcpFrame(Syn(kBase + 3, {kServer, 80}, 90000)));
  ASSERT_EQ(rec_.syns.size(), static_cast<size_t>(kFlows + 2));    // + the refused one
  EXPECT_EQ(ns_->TcpPcbCount(), static_cast<size_t>(kFlows - 1));  // TIME_WAIT pcb aborted
  ASSERT_TRUE(ns_->ResolveSyn(rec_.syns.back().first, SynOutcome::kAccept));
  out = TakeOut();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].tcp->flags & (kSyn | kAck), kSyn | kAck);
  EXPECT_EQ(out[0].tcp->ack, 90001u);
  EXPECT_EQ(ns_->TcpPcbCount(), static_cast<size_t>(kFlows));
  EXPECT_TRUE(ns_->PcbIndexConsistent());

  // The last connection opened and the first still work after all of that.
  for (size_t i : {size_t{0}, conns.size() - 1}) {
    const std::string reply = "hi";
    ASSERT_EQ(conns[i]->Write({reinterpret_cast<const uint8_t*>(reply.data()), 2}), 2u);
    conns[i]->Flush();
    out = TakeOut();
    ASSERT_FALSE(out.empty());
    EXPECT_EQ(std::string(out.back().tcp->payload.begin(), out.back().tcp->payload.end()), "hi");
  }
  // Connections closed from the middle of lwIP's list (aborted: lwIP unlinks them itself).
  for (size_t i = 50; i < 60; ++i) {
    conns[i]->Abort();
  }
  TakeOut();
  EXPECT_TRUE(ns_->PcbIndexConsistent());
  EXPECT_EQ(ns_->TcpPcbCount(), static_cast<size_t>(kFlows - 10));
  // Every connection dropped: nothing is left, whatever list each pcb was on.
  // (FIN_WAIT_1 pcbs retransmit their FIN until lwIP gives up; one simulated hour bounds it.)
  rec_.accepted.clear();
  TakeOut();
  for (int i = 0; i < 4 * 3600 && ns_->TcpPcbCount() != 0; ++i) {
    clock_.Advance(std::chrono::milliseconds(250));
    ns_->RunTimers();
    dev_.out.clear();
    dev_.out_offload.clear();
  }
  EXPECT_EQ(ns_->TcpPcbCount(), 0u);
  EXPECT_TRUE(ns_->PcbIndexConsistent());
}

TEST_F(NetstackTest, HandshakeNeverCompletedIsReportedFailed) {
  Send(TcpFrame(Syn(40008, {kServer, 80})));
  ASSERT_TRUE(ns_->ResolveSyn(rec_.syns[0].first, SynOutcome::kAccept));
  TakeOut();
  // No ACK ever comes: lwIP retransmits the SYN-ACK and finally gives up.
  for (int i = 0; i < 400 && rec_.failed.empty(); ++i) {
    clock_.Advance(std::chrono::milliseconds(500));
    ns_->RunTimers();
  }
  ASSERT_EQ(rec_.failed.size(), 1u);
  EXPECT_EQ(rec_.failed[0], rec_.syns[0].first);
  EXPECT_TRUE(rec_.accepted.empty());
}

TEST_F(NetstackTest, StraySegmentsGetRst) {
  TcpSegment ack;
  ack.src = {kGuest, 40009};
  ack.dst = {kServer, 80};
  ack.seq = 77;
  ack.ack = 99;
  ack.flags = kAck;
  Send(TcpFrame(ack));
  EXPECT_TRUE(rec_.syns.empty());
  auto out = TakeOut();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].tcp->flags & kRst);
  EXPECT_EQ(out[0].tcp->seq, 99u);
}

TEST_F(NetstackTest, UdpIsHandedOnAndRefusalsAreIcmp) {
  std::vector<uint8_t> payload = {1, 2, 3};
  Send(UdpFrame({kGuest, 5353}, {kServer, 53}, payload));
  ASSERT_EQ(rec_.udp.size(), 1u);
  EXPECT_EQ(rec_.udp[0].first.dest, (SocketAddress{kServer, 53}));
  EXPECT_EQ(rec_.udp[0].second, payload);
  EXPECT_TRUE(TakeOut().empty());
  rec_.udp_verdict = UdpVerdict::kPortUnreachable;
  Send(UdpFrame({kGuest, 5353}, {kServer, 9999}, payload));
  auto out = TakeOut();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].icmp_type, 3);
  EXPECT_EQ(out[0].icmp_code, 3);
}

// A minimal DHCPDISCOVER: BOOTREQUEST, Ethernet/6, xid, chaddr, magic cookie, option 53 = 1.
std::vector<uint8_t> Discover(const std::array<uint8_t, 6>& chaddr) {
  std::vector<uint8_t> m(240, 0);
  m[0] = 1;
  m[1] = 1;
  m[2] = 6;
  m[4] = 0xde, m[5] = 0xad, m[6] = 0xbe, m[7] = 0xef;
  std::copy(chaddr.begin(), chaddr.end(), m.begin() + 28);
  m[236] = 99, m[237] = 130, m[238] = 83, m[239] = 99;
  m.insert(m.end(), {53, 1, 1, 255});
  return m;
}

TEST_F(NetstackTest, DhcpDiscoverFromAnUnconfiguredGuestIsOffered) {
  const std::array<uint8_t, 6> vm_mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  std::vector<uint8_t> frame =
      UdpFrame({IpAddress::V4(0), 68}, {IpAddress::V4(0xffffffff), 67}, Discover(vm_mac));
  std::fill_n(frame.begin(), 6, 0xff);  // Ethernet broadcast, as a client without an address sends
  dev_.out.clear();                     // lwIP's gratuitous ARP from start-up
  Send(frame);
  ASSERT_EQ(dev_.out.size(), 1u);
  const std::vector<uint8_t> raw = dev_.out[0];
  // To the client's hardware address without ARP (it has no address to answer ARP for yet).
  EXPECT_TRUE(std::equal(vm_mac.begin(), vm_mac.end(), raw.begin()));
  Parsed p = ParseFrame(raw);
  EXPECT_TRUE(p.checksums_ok);
  EXPECT_EQ(p.ip_src, kGateway);
  EXPECT_EQ(p.ip_dst, kGuest);
  EXPECT_EQ(p.udp_src.port, 67);
  EXPECT_EQ(p.udp_dst.port, 68);
  ASSERT_GE(p.udp_payload.size(), 300u);
  EXPECT_EQ(p.udp_payload[0], 2);  // BOOTREPLY
  EXPECT_EQ(std::vector<uint8_t>(p.udp_payload.begin() + 4, p.udp_payload.begin() + 8),
            (std::vector<uint8_t>{0xde, 0xad, 0xbe, 0xef}));  // xid
  EXPECT_EQ(std::vector<uint8_t>(p.udp_payload.begin() + 16, p.udp_payload.begin() + 20),
            (std::vector<uint8_t>{172, 16, 0, 2}));  // yiaddr
  EXPECT_EQ(std::vector<uint8_t>(p.udp_payload.begin() + 240, p.udp_payload.begin() + 243),
            (std::vector<uint8_t>{53, 1, 2}));  // DHCPOFFER
  ASSERT_NE(ns_->dhcp4_stats(), nullptr);
  EXPECT_EQ(ns_->dhcp4_stats()->offers, 1u);
  EXPECT_EQ(ns_->stats().spoofed, 0u);
  dev_.out.clear();

  // Garbage to the server port is counted and not answered; other traffic from 0.0.0.0 is still
  // not the guest's to send.
  const uint8_t junk[] = {1, 2, 3};
  Send(UdpFrame({IpAddress::V4(0), 68}, {kGateway, 67}, junk));
  EXPECT_EQ(ns_->dhcp4_stats()->malformed, 1u);
  Send(UdpFrame({IpAddress::V4(0), 68}, {kServer, 53}, junk));
  EXPECT_EQ(ns_->stats().spoofed, 1u);
  EXPECT_TRUE(dev_.out.empty());
  EXPECT_TRUE(rec_.udp.empty());
}

std::vector<uint8_t> EchoMessage(uint16_t id, uint16_t seq, std::span<const uint8_t> data) {
  std::vector<uint8_t> icmp(8 + data.size());
  icmp[0] = 8;
  icmp[4] = static_cast<uint8_t>(id >> 8);
  icmp[5] = static_cast<uint8_t>(id);
  icmp[6] = static_cast<uint8_t>(seq >> 8);
  icmp[7] = static_cast<uint8_t>(seq);
  std::copy(data.begin(), data.end(), icmp.begin() + 8);
  uint16_t sum = msb::testing::InternetChecksum(icmp);
  icmp[2] = static_cast<uint8_t>(sum >> 8);
  icmp[3] = static_cast<uint8_t>(sum);
  return icmp;
}

std::vector<uint8_t> EchoRequest(const IpAddress& dst, uint16_t id, uint16_t seq = 1) {
  const uint8_t ping[] = {'p', 'i', 'n', 'g'};
  return msb::testing::EthernetFrame(
      kGatewayMac, kGuestMac, 0x0800,
      msb::testing::Ipv4Packet(kGuest, dst, 1, EchoMessage(id, seq, ping)));
}

// IcmpIdSeq reads an ICMP message's identifier and sequence from a frame the stack sent.
std::pair<uint16_t, uint16_t> IcmpIdSeq(const std::vector<uint8_t>& frame) {
  const uint8_t* m = frame.data() + 14 + 20;
  return {static_cast<uint16_t>((m[4] << 8) | m[5]), static_cast<uint16_t>((m[6] << 8) | m[7])};
}

TEST_F(NetstackTest, EchoToTheGatewayIsAnsweredOnlyWhenAllowed) {
  Send(EchoRequest(kGateway, 0x1234, 7));  // the delegate says no
  ASSERT_EQ(rec_.echoes.size(), 1u);
  EXPECT_EQ(rec_.echoes[0].transport, Transport::kIcmp);
  EXPECT_EQ(rec_.echoes[0].guest, (SocketAddress{kGuest, 0x1234}));
  EXPECT_EQ(rec_.echoes[0].dest, (SocketAddress{kGateway, 0}));
  EXPECT_EQ(rec_.echo_sequences[0], 7);
  EXPECT_EQ(rec_.echo_data[0], (std::vector<uint8_t>{'p', 'i', 'n', 'g'}));
  EXPECT_TRUE(TakeOut().empty());
  rec_.icmp_verdict = IcmpVerdict::kAnswer;
  Send(EchoRequest(kGateway, 0x1234, 8));
  ASSERT_EQ(dev_.out.size(), 1u);
  EXPECT_EQ(IcmpIdSeq(dev_.out[0]), (std::pair<uint16_t, uint16_t>{0x1234, 8}));
  auto out = TakeOut();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ip_protocol, 1);
  EXPECT_EQ(out[0].icmp_type, 0);  // echo reply
  EXPECT_TRUE(out[0].checksums_ok);
  EXPECT_EQ(out[0].ip_src, kGateway);
  EXPECT_EQ(out[0].ip_dst, kGuest);
  EXPECT_EQ(out[0].icmp_quote, (std::vector<uint8_t>{'p', 'i', 'n', 'g'}));
  // kAnswer for another host is not an answer: only a relay (kRelayed) can answer those.
  Send(EchoRequest(kServer, 7));
  EXPECT_EQ(rec_.echoes.size(), 3u);
  EXPECT_TRUE(TakeOut().empty());
  // Not an echo request, or a corrupt one: never reaches the delegate.
  std::vector<uint8_t> reply = EchoRequest(kGateway, 9);
  reply[14 + 20] = 0;  // an echo reply from the guest
  Send(reply);
  std::vector<uint8_t> corrupt = EchoRequest(kGateway, 9);
  corrupt.back() ^= 1;  // the ICMP checksum no longer holds
  Send(corrupt);
  EXPECT_EQ(rec_.echoes.size(), 3u);
  EXPECT_TRUE(TakeOut().empty());
  EXPECT_EQ(ns_->stats().icmp_echo_answered, 1u);
  EXPECT_EQ(ns_->stats().icmp_dropped, 4u);
}

TEST_F(NetstackTest, FragmentedEchoIsReassembledAndItsAnswerFragmented) {
  rec_.icmp_verdict = IcmpVerdict::kAnswer;
  std::vector<uint8_t> data(3000);
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<uint8_t>(i * 7);
  }
  std::vector<uint8_t> msg = EchoMessage(0x4242, 3, data);
  std::span<const uint8_t> all(msg);
  // 1480 + 1480 + the rest, offsets in 8-byte units, MF on all but the last.
  for (size_t at = 0; at < msg.size(); at += 1480) {
    size_t n = std::min<size_t>(1480, msg.size() - at);
    uint16_t frag = static_cast<uint16_t>((at / 8) | (at + n < msg.size() ? 0x2000 : 0));
    Send(msb::testing::EthernetFrame(
        kGatewayMac, kGuestMac, 0x0800,
        msb::testing::Ipv4Packet(kGuest, kGateway, 1, all.subspan(at, n), 77, frag)));
  }
  ASSERT_EQ(rec_.echoes.size(), 1u);
  EXPECT_EQ(rec_.echo_data[0], data);
  // The reply (3008 bytes of ICMP) comes back in fragments at the link MTU.
  EXPECT_EQ(dev_.out.size(), 3u);
  for (const auto& f : dev_.out) {
    EXPECT_LE(f.size(), 14u + 1500u);
  }
  EXPECT_EQ(IcmpIdSeq(dev_.out[0]), (std::pair<uint16_t, uint16_t>{0x4242, 3}));
}

TEST_F(NetstackTest, RelayedEchoIsAnsweredLaterFromTheDestination) {
  rec_.icmp_verdict = IcmpVerdict::kRelayed;
  Send(ArpReply(kGuest, kGuestMac, kGateway, kGatewayMac));
  Send(EchoRequest(kServer, 0x0101, 5));
  EXPECT_TRUE(TakeOut().empty());
  EXPECT_EQ(ns_->stats().icmp_echo_relayed, 1u);
  const uint8_t data[] = {'p', 'o', 'n', 'g'};
  ns_->SendIcmpEchoReply(kServer, kGuest, 0x0101, 5, data);
  ASSERT_EQ(dev_.out.size(), 1u);
  EXPECT_EQ(IcmpIdSeq(dev_.out[0]), (std::pair<uint16_t, uint16_t>{0x0101, 5}));
  auto out = TakeOut();
  EXPECT_EQ(out[0].icmp_type, 0);
  EXPECT_TRUE(out[0].checksums_ok);
  EXPECT_EQ(out[0].ip_src, kServer);
  EXPECT_EQ(out[0].icmp_quote, (std::vector<uint8_t>{'p', 'o', 'n', 'g'}));
}

TEST_F(NetstackTest, PortUnreachableQuotesTheGuestsDatagram) {
  Send(ArpReply(kGuest, kGuestMac, kGateway, kGatewayMac));
  ns_->SendUdpPortUnreachable({Transport::kUdp, {kGuest, 40000}, {kServer, 9999}}, 100);
  auto out = TakeOut();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].icmp_type, 3);
  EXPECT_EQ(out[0].icmp_code, 3);
  EXPECT_TRUE(out[0].checksums_ok);
  EXPECT_EQ(out[0].ip_src, kServer);
  EXPECT_EQ(out[0].ip_dst, kGuest);
  const std::vector<uint8_t>& q = out[0].icmp_quote;
  ASSERT_EQ(q.size(), 28u);
  EXPECT_EQ(q[9], 17);                                           // UDP
  EXPECT_EQ(msb::testing::InternetChecksum({q.data(), 20}), 0);  // a valid IP header
  EXPECT_EQ((q[2] << 8) | q[3], 20 + 8 + 100);
  EXPECT_EQ((q[20] << 8) | q[21], 40000);
  EXPECT_EQ((q[22] << 8) | q[23], 9999);
  EXPECT_EQ(std::vector<uint8_t>(q.begin() + 12, q.begin() + 16),
            (std::vector<uint8_t>{172, 16, 0, 2}));
}

TEST_F(NetstackTest, SendUdpImpersonatesTheDestination) {
  std::vector<uint8_t> payload(3000, 0xab);  // larger than the MTU: IP-fragmented
  ns_->SendUdp({kServer, 53}, {kGuest, 5353}, payload);
  // The first datagram to the guest waits for ARP; answer it.
  Send(ArpReply(kGuest, kGuestMac, kGateway, kGatewayMac));
  auto out = TakeOut();
  ASSERT_GE(out.size(), 1u);
  EXPECT_EQ(out[0].ip_src, kServer);
  EXPECT_EQ(out[0].ip_dst, kGuest);
}

TEST_F(NetstackTest, MalformedAndSpoofedFramesAreDroppedAndCounted) {
  // Spoofed source address.
  TcpSegment spoof = Syn(40010, {kServer, 80});
  spoof.src.ip = *IpAddress::Parse("172.16.0.3");
  Send(TcpFrame(spoof));
  EXPECT_EQ(ns_->stats().spoofed, 1u);
  // Corrupt IP header checksum.
  auto bad = TcpFrame(Syn(40011, {kServer, 80}));
  bad[14 + 10] ^= 0xff;
  Send(bad);
  // IP total length larger than the frame.
  auto longer = TcpFrame(Syn(40012, {kServer, 80}));
  longer[14 + 2] = 0xff;
  Send(longer);
  // Runts and truncations at every length of a SYN frame.
  auto full = TcpFrame(Syn(40013, {kServer, 80}));
  for (size_t n = 0; n < full.size(); ++n) {
    dev_.in.emplace_back(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
  }
  ASSERT_TRUE(ns_->OnDeviceReadable());
  EXPECT_TRUE(rec_.syns.empty());
  EXPECT_GE(ns_->stats().bad_packets, 2u);
  // The stack still works afterwards.
  Send(TcpFrame(Syn(40014, {kServer, 80})));
  EXPECT_EQ(rec_.syns.size(), 1u);
}

TEST_F(NetstackTest, FullDeviceQueuesThenFlushes) {
  rec_.verdict = SynVerdict::kReject;
  Send(TcpFrame(Syn(40015, {kServer, 80})));  // resolves the guest's MAC on the way
  EXPECT_EQ(TakeOut().size(), 1u);
  dev_.blocked = true;
  Send(TcpFrame(Syn(40016, {kServer, 80})));
  EXPECT_TRUE(ns_->WantsDeviceWritable());
  EXPECT_TRUE(dev_.out.empty());
  dev_.blocked = false;
  ns_->OnDeviceWritable();
  EXPECT_FALSE(ns_->WantsDeviceWritable());
  EXPECT_EQ(TakeOut().size(), 1u);
}

TEST_F(NetstackTest, DeviceOutputIsFlushedBeforeQueuedFrames) {
  rec_.verdict = SynVerdict::kReject;
  Send(TcpFrame(Syn(40017, {kServer, 80})));  // resolves the guest's MAC on the way
  EXPECT_EQ(TakeOut().size(), 1u);
  EXPECT_FALSE(ns_->WantsDeviceWritable());
  dev_.pending_output = true;  // bytes of earlier frames still inside the device
  EXPECT_TRUE(ns_->WantsDeviceWritable());
  dev_.blocked = true;
  Send(TcpFrame(Syn(40018, {kServer, 80})));  // its RST is queued here
  dev_.blocked = false;
  dev_.flush_result = IoStatus::kWouldBlock;
  ns_->OnDeviceWritable();
  EXPECT_EQ(dev_.flush_calls, 1);
  EXPECT_TRUE(dev_.out.empty());  // the queued RST may not overtake the device's bytes
  EXPECT_TRUE(ns_->WantsDeviceWritable());
  dev_.flush_result = IoStatus::kOk;
  ns_->OnDeviceWritable();
  EXPECT_EQ(dev_.flush_calls, 2);
  EXPECT_FALSE(ns_->WantsDeviceWritable());
  EXPECT_EQ(TakeOut().size(), 1u);
}

TEST_F(NetstackTest, FramesTheDeviceHoldsAreReadBeyondTheWakeupBudget) {
  const std::vector<uint8_t> payload = {1, 2, 3};
  const std::vector<uint8_t> datagram = UdpFrame({kGuest, 5000}, {kServer, 53}, payload);
  // A TAP's frames wait in the kernel, whose fd wakes the loop again: the budget applies.
  for (int i = 0; i < 5000; ++i) {
    dev_.in.push_back(datagram);
  }
  ASSERT_TRUE(ns_->OnDeviceReadable());
  EXPECT_EQ(rec_.udp.size(), 4096u);
  EXPECT_EQ(dev_.in.size(), 5000u - 4096u);
  // Frames a socket device already read would never wake it again: all of them are taken.
  dev_.hold_input = true;
  for (int i = 0; i < 5000; ++i) {
    dev_.in.push_back(datagram);
  }
  ASSERT_TRUE(ns_->OnDeviceReadable());
  EXPECT_TRUE(dev_.in.empty());
  EXPECT_EQ(rec_.udp.size(), 10000u);
}

TEST(NetstackCreateTest, OnlyOneAtATimeAndConfigValidated) {
  FakeDevice dev;
  Recorder rec;
  FakeClock clock;
  NetstackConfig bad_mtu;
  bad_mtu.mtu = 100;
  EXPECT_FALSE(Netstack::Create(bad_mtu, &dev, clock, &rec).ok());
  auto first = Netstack::Create(NetstackConfig{}, &dev, clock, &rec);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(Netstack::Create(NetstackConfig{}, &dev, clock, &rec).ok());
}

// With an offloading device (virtio-net header): partial checksums are checked for where they
// are and what they hold, large segments are accepted from the guest and built for it (GSO).
class NetstackOffloadTest : public NetstackTest {
 protected:
  NetstackOffloadTest() { offload_device_ = true; }

  // Partial turns a frame's valid TCP checksum into the pseudo-header sum a sending kernel leaves,
  // and says so in the frame's offload header.
  static FrameOffload Partial(std::vector<uint8_t>* frame, uint16_t csum_offset = 16) {
    std::span<const uint8_t> ip(frame->data() + 14, frame->size() - 14);
    uint16_t sum = PseudoHeaderSum4(ip.subspan<12, 4>(), ip.subspan<16, 4>(), ip[9],
                                    static_cast<uint16_t>(ip.size() - 20));
    (*frame)[14 + 20 + 16] = static_cast<uint8_t>(sum >> 8);
    (*frame)[14 + 20 + 17] = static_cast<uint8_t>(sum);
    FrameOffload o;
    o.needs_csum = true;
    o.csum_start = 34;
    o.csum_offset = csum_offset;
    return o;
  }
  void SendWith(const std::vector<uint8_t>& frame, const FrameOffload& o) {
    dev_.in_offload.resize(dev_.in.size());
    dev_.in_offload.push_back(o);
    Send(frame);
  }
};

TEST_F(NetstackOffloadTest, WellFormedPartialChecksumIsTrusted) {
  auto frame = TcpFrame(Syn(40100, {kServer, 80}));
  FrameOffload o = Partial(&frame);
  SendWith(frame, o);
  ASSERT_EQ(rec_.syns.size(), 1u);  // the field holds no valid checksum, yet it is accepted
  EXPECT_EQ(ns_->stats().bad_packets, 0u);
}

TEST_F(NetstackOffloadTest, BadPartialChecksumsAreRejectedNotDelivered) {
  auto frame = TcpFrame(Syn(40101, {kServer, 80}));
  auto good = frame;
  FrameOffload o = Partial(&good);
  // The claim says partial, but the field holds something else (here the complete checksum).
  SendWith(frame, o);
  // The claim points at the wrong place.
  auto moved = good;
  FrameOffload wrong_offset = Partial(&moved, 6);
  SendWith(moved, wrong_offset);
  FrameOffload wrong_start = o;
  wrong_start.csum_start = 30;
  SendWith(good, wrong_start);
  // A GSO claim for another protocol.
  FrameOffload udp_gso = o;
  udp_gso.gso = FrameOffload::Gso::kUdp;
  udp_gso.gso_size = 1000;
  SendWith(good, udp_gso);
  EXPECT_TRUE(rec_.syns.empty());
  EXPECT_TRUE(TakeOut().empty());  // nothing answered, not even an RST
  EXPECT_EQ(ns_->stats().bad_packets, 4u);
}

TEST_F(NetstackOffloadTest, LargeSegmentsBothWays) {
  uint32_t server_next = 0;
  GuestTcp* c = Handshake(40102, {kServer, 80}, &server_next);
  ASSERT_NE(c, nullptr);
  // From the guest: one 30000-byte TSO segment (gso_size 1460) with a partial checksum.
  TcpSegment seg;
  seg.src = {kGuest, 40102};
  seg.dst = {kServer, 80};
  seg.seq = 1001;
  seg.ack = server_next;
  seg.flags = kAck;
  seg.payload.assign(30000, 0x5a);
  auto frame = TcpFrame(seg);
  FrameOffload o = Partial(&frame);
  o.gso = FrameOffload::Gso::kTcp4;
  o.gso_size = 1460;
  o.hdr_len = 54;
  SendWith(frame, o);
  EXPECT_EQ(c->ReadableBytes(), 30000u);
  EXPECT_EQ(ns_->stats().gso_frames_in, 1u);
  c->Consume(c->ReadableBytes());
  TakeOut();
  // To the guest: 60000 bytes leave as one GSO segment cut at the link MTU by the guest's kernel
  // (the guest advertised MSS 1460 = MTU 1500), its checksum left partial for that kernel.
  std::vector<uint8_t> data(60000, 0xa5);
  ASSERT_EQ(c->Write(data), data.size());
  c->Flush();
  std::vector<FrameOffload> offloads;
  auto out = TakeOut(&offloads);
  size_t bytes = 0;
  size_t gso = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_TRUE(out[i].tcp);
    bytes += out[i].tcp->payload.size();
    EXPECT_TRUE(offloads[i].needs_csum);
    EXPECT_EQ(offloads[i].csum_start, 34);
    EXPECT_EQ(offloads[i].csum_offset, 16);
    if (offloads[i].gso == FrameOffload::Gso::kTcp4) {
      ++gso;
      EXPECT_EQ(offloads[i].gso_size, 1460);
      EXPECT_EQ(offloads[i].hdr_len, 54);
    }
  }
  EXPECT_EQ(bytes, data.size());
  EXPECT_GE(gso, 1u);
  EXPECT_LE(out.size(), 4u);  // 64 KiB segments, not 1460-byte ones
  EXPECT_EQ(ns_->stats().gso_frames_out, gso);
}

TEST_F(NetstackOffloadTest, UdpSegmentsAreSplitIntoTheirDatagrams) {
  // USO: one frame carries datagrams of gso_size bytes (the last shorter), with a partial
  // checksum over the whole; the gateway sees each datagram on its own.
  std::vector<uint8_t> payload(250);
  for (size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<uint8_t>(i);
  }
  auto frame = UdpFrame({kGuest, 5353}, {kServer, 53}, payload);
  std::span<const uint8_t> ip(frame.data() + 14, frame.size() - 14);
  uint16_t sum = PseudoHeaderSum4(ip.subspan<12, 4>(), ip.subspan<16, 4>(), 17,
                                  static_cast<uint16_t>(ip.size() - 20));
  frame[14 + 20 + 6] = static_cast<uint8_t>(sum >> 8);
  frame[14 + 20 + 7] = static_cast<uint8_t>(sum);
  FrameOffload o;
  o.needs_csum = true;
  o.csum_start = 34;
  o.csum_offset = 6;
  o.gso = FrameOffload::Gso::kUdp;
  o.gso_size = 100;
  o.hdr_len = 42;
  SendWith(frame, o);
  ASSERT_EQ(rec_.udp.size(), 3u);
  EXPECT_EQ(rec_.udp[0].second, std::vector<uint8_t>(payload.begin(), payload.begin() + 100));
  EXPECT_EQ(rec_.udp[1].second, std::vector<uint8_t>(payload.begin() + 100, payload.begin() + 200));
  EXPECT_EQ(rec_.udp[2].second, std::vector<uint8_t>(payload.begin() + 200, payload.end()));
  EXPECT_EQ(ns_->stats().bad_packets, 0u);
}

TEST_F(NetstackOffloadTest, DatagramsForTheGuestAreCutAtTheLinkMtu) {
  // With offloads lwIP's netif MTU is 65520 (its TCP segment ceiling); UDP must still be cut at
  // the guest's link MTU (1500 here).
  std::vector<uint8_t> payload(3000, 0xab);
  ns_->SendUdp({kServer, 53}, {kGuest, 5353}, payload);
  Send(ArpReply(kGuest, kGuestMac, kGateway, kGatewayMac));
  AnswerArp();
  ASSERT_GE(dev_.out.size(), 3u);
  for (const auto& f : dev_.out) {
    EXPECT_LE(f.size(), 1514u);
  }
}

TEST_F(NetstackTest, WithoutOffloadsSegmentsFollowTheMss) {
  uint32_t server_next = 0;
  GuestTcp* c = Handshake(40103, {kServer, 80}, &server_next);
  ASSERT_NE(c, nullptr);
  std::vector<uint8_t> data(10000, 1);
  ASSERT_EQ(c->Write(data), data.size());
  c->Flush();
  for (const Parsed& p : TakeOut()) {
    ASSERT_TRUE(p.tcp);
    EXPECT_LE(p.tcp->payload.size(), 1460u);
    EXPECT_TRUE(p.checksums_ok);
  }
}

}  // namespace
}  // namespace msb::stack
