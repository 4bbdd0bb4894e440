// Frame-level tests of the guest-facing stack: SYN-time decisions, held SYNs and how they resolve,
// the accepted stream's flow control and half-close, UDP hand-off, and robustness against
// malformed, spoofed and truncated frames. A fake device plays the guest's NIC.
#include "stack/netstack.h"

#include <gtest/gtest.h>

#include <deque>

#include "tests/stack/frames.h"

namespace msb::stack {
namespace {

using msb::testing::ArpReply;
using msb::testing::kAck;
using msb::testing::kFin;
using msb::testing::kGatewayMac;
using msb::testing::kGuestMac;
using msb::testing::kRst;
using msb::testing::kSyn;
using msb::testing::Parsed;
using msb::testing::ParseFrame;
using msb::testing::TcpFrame;
using msb::testing::TcpSegment;
using msb::testing::UdpFrame;

const IpAddress kGuest = IpAddress::V4(0xac100002);
const IpAddress kGateway = IpAddress::V4(0xac100001);
const IpAddress kServer = *IpAddress::Parse("198.51.100.10");

class FakeDevice final : public FrameDevice {
 public:
  int fd() const override { return -1; }
  ReadResult ReadFrame(std::span<uint8_t> buf) override {
    if (in.empty()) {
      return {IoStatus::kWouldBlock, 0};
    }
    std::vector<uint8_t> f = std::move(in.front());
    in.pop_front();
    size_t n = std::min(f.size(), buf.size());
    std::copy_n(f.begin(), n, buf.begin());
    return {IoStatus::kOk, f.size()};
  }
  IoStatus WriteFrame(std::span<const uint8_t> frame) override {
    if (blocked) {
      return IoStatus::kWouldBlock;
    }
    out.emplace_back(frame.begin(), frame.end());
    return IoStatus::kOk;
  }
  std::deque<std::vector<uint8_t>> in;
  std::vector<std::vector<uint8_t>> out;
  bool blocked = false;
};

class Recorder final : public Netstack::Delegate, public GuestTcpHandler {
 public:
  SynVerdict OnTcpSyn(uint64_t syn_id, const FlowTuple& tuple) override {
    syns.emplace_back(syn_id, tuple);
    return verdict;
  }
  void OnTcpAccepted(std::unique_ptr<GuestTcp> conn) override {
    conn->SetHandler(this);
    accepted.push_back(std::move(conn));
  }
  void OnTcpAcceptFailed(uint64_t syn_id) override { failed.push_back(syn_id); }
  UdpVerdict OnUdp(const FlowTuple& tuple, std::span<const uint8_t> payload) override {
    udp.emplace_back(tuple, std::vector<uint8_t>(payload.begin(), payload.end()));
    return udp_verdict;
  }
  void OnGuestReadable() override { ++readable; }
  void OnGuestWritable() override { ++writable; }
  void OnGuestGone(bool reset) override { gone.push_back(reset); }

  SynVerdict verdict = SynVerdict::kHold;
  UdpVerdict udp_verdict = UdpVerdict::kHandled;
  std::vector<std::pair<uint64_t, FlowTuple>> syns;
  std::vector<std::unique_ptr<GuestTcp>> accepted;
  std::vector<uint64_t> failed;
  std::vector<std::pair<FlowTuple, std::vector<uint8_t>>> udp;
  int readable = 0;
  int writable = 0;
  std::vector<bool> gone;
};

class NetstackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ns = Netstack::Create(NetstackConfig{}, &dev_, clock_, &rec_);
    ASSERT_TRUE(ns.ok()) << ns.error();
    ns_ = std::move(ns).value();
  }
  void TearDown() override {
    rec_.accepted.clear();
    ns_.reset();
  }

  // Send delivers a frame and answers the ARP requests lwIP makes for the guest.
  void Send(const std::vector<uint8_t>& frame) {
    dev_.in.push_back(frame);
    ASSERT_TRUE(ns_->OnDeviceReadable());
    AnswerArp();
  }
  // AnswerArp plays the guest's side of ARP so lwIP can deliver what it queued.
  void AnswerArp() {
    for (size_t round = 0; round < 2; ++round) {
      bool answered = false;
      for (const auto& f : dev_.out) {
        Parsed p = ParseFrame(f);
        if (p.arp_request && p.arp_target == kGuest) {
          dev_.in.push_back(ArpReply(kGuest, kGuestMac, kGateway, kGatewayMac));
          answered = true;
        }
      }
      if (!answered) {
        break;
      }
      std::erase_if(dev_.out, [](const auto& f) { return ParseFrame(f).ethertype == 0x0806; });
      ASSERT_TRUE(ns_->OnDeviceReadable());
    }
  }
  std::vector<Parsed> TakeOut() {
    AnswerArp();
    std::vector<Parsed> out;
    for (const auto& f : dev_.out) {
      Parsed p = ParseFrame(f);
      if (p.ethertype == 0x0800) {
        out.push_back(p);
      }
    }
    dev_.out.clear();
    return out;
  }
  TcpSegment Syn(uint16_t sport, const SocketAddress& dst, uint32_t seq = 1000) {
    TcpSegment s;
    s.src = {kGuest, sport};
    s.dst = dst;
    s.seq = seq;
    s.flags = kSyn;
    s.window = 64240;
    s.options = {2, 4, 0x05, 0xb4};  // MSS 1460
    return s;
  }
  // Handshake completes a connection to `dst`; returns the server's ISN + 1 via `server_next`.
  GuestTcp* Handshake(uint16_t sport, const SocketAddress& dst, uint32_t* server_next) {
    Send(TcpFrame(Syn(sport, dst)));
    EXPECT_EQ(rec_.syns.size(), 1u);
    EXPECT_TRUE(TakeOut().empty());  // held: no answer yet
    EXPECT_TRUE(ns_->ResolveSyn(rec_.syns.back().first, SynOutcome::kAccept));
    auto out = TakeOut();
    EXPECT_EQ(out.size(), 1u);
    if (out.size() != 1 || !out[0].tcp) {
      return nullptr;
    }
    const TcpSegment& synack = *out[0].tcp;
    EXPECT_EQ(synack.flags & (kSyn | kAck), kSyn | kAck);
    EXPECT_EQ(synack.src, dst);  // replies impersonate the original destination
    EXPECT_EQ(synack.ack, 1001u);
    *server_next = synack.seq + 1;
    TcpSegment ack;
    ack.src = {kGuest, sport};
    ack.dst = dst;
    ack.seq = 1001;
    ack.ack = *server_next;
    ack.flags = kAck;
    Send(TcpFrame(ack));
    EXPECT_EQ(rec_.accepted.size(), 1u);
    return rec_.accepted.empty() ? nullptr : rec_.accepted.back().get();
  }

  // lwIP's timer list is process-wide: every test shares one clock so time never runs backwards
  // from one test to the next.
  static FakeClock& SharedClock() {
    static FakeClock clock;
    return clock;
  }

  FakeClock& clock_ = SharedClock();
  FakeDevice dev_;
  Recorder rec_;
  std::unique_ptr<Netstack> ns_;
};

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

}  // namespace
}  // namespace msb::stack
