// Active opens toward the guest (Netstack::ConnectToGuest, published ports), at frame level: the
// SYN leaves from the gateway's address and an ephemeral port, the guest's SYN-ACK completes a
// GuestTcp that carries data both ways, a guest RST refuses at once, silence times out, a cancel
// leaves nothing behind, ports in use are skipped, and the pcb index stays consistent throughout.
// A fake device plays the guest's NIC. Its own executable: lwIP's timers are process-wide and
// follow this file's clock.
#include <gtest/gtest.h>

#include <deque>
#include <optional>

#include "stack/netstack.h"
#include "tests/stack/fake_device.h"
#include "tests/stack/frames.h"

namespace msb::stack {
namespace {

using msb::testing::ArpReply;
using msb::testing::kAck;
using msb::testing::kGatewayMac;
using msb::testing::kGuestMac;
using msb::testing::kPsh;
using msb::testing::kRst;
using msb::testing::kSyn;
using msb::testing::Parsed;
using msb::testing::ParseFrame;
using msb::testing::TcpFrame;
using msb::testing::TcpSegment;

const IpAddress kGuest = IpAddress::V4(0xac100002);
const IpAddress kGateway = IpAddress::V4(0xac100001);

class NullDelegate final : public Netstack::Delegate, public GuestTcpHandler {
 public:
  SynVerdict OnTcpSyn(uint64_t, const FlowTuple& tuple) override {
    syns.push_back(tuple);
    return SynVerdict::kHold;
  }
  void OnTcpAccepted(std::unique_ptr<GuestTcp> conn) override {
    accepted.push_back(std::move(conn));
  }
  void OnTcpAcceptFailed(uint64_t) override {}
  UdpVerdict OnUdp(const FlowTuple&, std::span<const uint8_t>) override {
    return UdpVerdict::kDrop;
  }
  IcmpVerdict OnIcmpEcho(const IcmpEcho&) override { return IcmpVerdict::kDrop; }
  void OnGuestReadable() override { ++readable; }
  void OnGuestWritable() override {}
  void OnGuestGone(bool reset) override { gone.push_back(reset); }

  std::vector<FlowTuple> syns;
  std::vector<std::unique_ptr<GuestTcp>> accepted;
  int readable = 0;
  std::vector<bool> gone;
};

class GuestConnectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ns = Netstack::Create(NetstackConfig{}, &dev_, clock_, &delegate_);
    ASSERT_TRUE(ns.ok()) << ns.error();
    ns_ = std::move(ns).value();
  }
  void TearDown() override {
    results_.clear();
    delegate_.accepted.clear();
    ns_.reset();
  }

  // Send delivers a guest frame.
  void Send(const std::vector<uint8_t>& frame) {
    dev_.in.push_back(frame);
    ASSERT_TRUE(ns_->OnDeviceReadable());
  }
  // TakeOut answers lwIP's ARP requests for the guest (queued frames then leave) and returns the
  // IPv4 frames the stack sent.
  std::vector<Parsed> TakeOut() {
    std::vector<Parsed> out;
    for (int round = 0; round < 3; ++round) {
      bool arp = false;
      std::vector<std::vector<uint8_t>> frames;
      frames.swap(dev_.out);
      for (const auto& f : frames) {
        Parsed p = ParseFrame(f);
        if (p.arp_request && p.arp_target == kGuest) {
          arp = true;
        } else if (p.ethertype == 0x0800) {
          out.push_back(p);
        }
      }
      if (!arp) {
        break;
      }
      Send(ArpReply(kGuest, kGuestMac, kGateway, kGatewayMac));
    }
    return out;
  }
  // Connect starts an attempt to `port` and returns the SYN it sent.
  std::optional<TcpSegment> Connect(uint16_t port, Duration timeout = std::chrono::seconds(5)) {
    auto id = ns_->ConnectToGuest(
        port, timeout, [this](GuestConnectResult&& r) { results_.push_back(std::move(r)); });
    EXPECT_TRUE(id.ok()) << (id.ok() ? "" : id.error());
    last_id_ = id.ok() ? id.value() : 0;
    auto out = TakeOut();
    if (out.size() != 1 || !out[0].tcp) {
      ADD_FAILURE() << "expected one SYN, got " << out.size() << " frames";
      return std::nullopt;
    }
    return out[0].tcp;
  }
  // Reply builds the guest's answer to the segment `to` (ports swapped).
  static TcpSegment Reply(const TcpSegment& to, uint32_t seq, uint32_t ack, uint8_t flags) {
    TcpSegment s;
    s.src = to.dst;
    s.dst = to.src;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.window = 64240;
    if (flags & kSyn) {
      s.options = {2, 4, 0x05, 0xb4};  // MSS 1460
    }
    return s;
  }
  void AdvanceTimers(Duration total) {
    for (Duration t{}; t < total; t += std::chrono::milliseconds(250)) {
      clock_.Advance(std::chrono::milliseconds(250));
      ns_->RunTimers();
    }
  }

  static FakeClock& SharedClock() {
    static FakeClock clock;
    return clock;
  }
  FakeClock& clock_ = SharedClock();
  FakeDevice dev_;
  NullDelegate delegate_;
  std::unique_ptr<Netstack> ns_;
  std::vector<GuestConnectResult> results_;
  uint64_t last_id_ = 0;
};

TEST_F(GuestConnectTest, HandshakeYieldsAStreamBothWays) {
  auto syn = Connect(8080);
  ASSERT_TRUE(syn);
  EXPECT_EQ(syn->flags & (kSyn | kAck), kSyn);
  EXPECT_EQ(syn->src.ip, kGateway);
  EXPECT_GE(syn->src.port, kGuestConnectFirstPort);
  EXPECT_EQ(syn->dst, (SocketAddress{kGuest, 8080}));
  EXPECT_TRUE(results_.empty());  // nothing before the guest answers
  EXPECT_TRUE(ns_->PcbIndexConsistent());
  EXPECT_EQ(ns_->TcpPcbCount(), 1u);

  Send(TcpFrame(Reply(*syn, 7000, syn->seq + 1, kSyn | kAck)));
  ASSERT_EQ(results_.size(), 1u);
  ASSERT_NE(results_[0].conn, nullptr);
  EXPECT_EQ(results_[0].failure, GuestConnectFailure::kNone);
  GuestTcp* c = results_[0].conn.get();
  c->SetHandler(&delegate_);
  EXPECT_EQ(c->tuple().guest, (SocketAddress{kGuest, 8080}));
  EXPECT_EQ(c->tuple().dest, syn->src);
  EXPECT_TRUE(delegate_.syns.empty());  // never mistaken for a guest-opened connection
  auto out = TakeOut();
  ASSERT_EQ(out.size(), 1u);  // our ACK of the SYN-ACK
  EXPECT_EQ(out[0].tcp->flags & (kSyn | kAck), kAck);
  EXPECT_EQ(out[0].tcp->ack, 7001u);

  // Guest -> gateway, through the pcb index.
  TcpSegment data = Reply(*syn, 7001, syn->seq + 1, kAck | kPsh);
  data.payload = {'p', 'i', 'n', 'g'};
  Send(TcpFrame(data));
  ASSERT_EQ(c->ReadableBytes(), 4u);
  EXPECT_GE(delegate_.readable, 1);
  c->Consume(4);
  // Gateway -> guest.
  const std::string reply = "pong";
  ASSERT_EQ(c->Write({reinterpret_cast<const uint8_t*>(reply.data()), reply.size()}), 4u);
  c->Flush();
  bool saw = false;
  for (const Parsed& p : TakeOut()) {
    if (p.tcp && !p.tcp->payload.empty()) {
      EXPECT_EQ(std::string(p.tcp->payload.begin(), p.tcp->payload.end()), "pong");
      EXPECT_EQ(p.tcp->src, syn->src);
      saw = true;
    }
  }
  EXPECT_TRUE(saw);
  EXPECT_TRUE(ns_->PcbIndexConsistent());

  // The guest resets: the stream is gone, and so is the pcb.
  Send(TcpFrame(Reply(*syn, 7005, 0, kRst)));
  ASSERT_EQ(delegate_.gone.size(), 1u);
  EXPECT_TRUE(delegate_.gone[0]);
  EXPECT_FALSE(c->alive());
  EXPECT_EQ(ns_->TcpPcbCount(), 0u);
  EXPECT_TRUE(ns_->PcbIndexConsistent());
}

TEST_F(GuestConnectTest, GuestRstRefusesAtOnce) {
  auto syn = Connect(81);
  ASSERT_TRUE(syn);
  // What a Linux guest answers for a closed port: RST+ACK acknowledging the SYN.
  Send(TcpFrame(Reply(*syn, 0, syn->seq + 1, kRst | kAck)));
  ASSERT_EQ(results_.size(), 1u);  // no timer had to run
  EXPECT_EQ(results_[0].conn, nullptr);
  EXPECT_EQ(results_[0].failure, GuestConnectFailure::kRefused);
  EXPECT_EQ(ns_->TcpPcbCount(), 0u);
  EXPECT_TRUE(ns_->PcbIndexConsistent());
  AdvanceTimers(std::chrono::seconds(6));
  EXPECT_EQ(results_.size(), 1u);  // exactly once: the timeout was disarmed
}

TEST_F(GuestConnectTest, SilenceTimesOutAfterTheDeadline) {
  auto syn = Connect(9000, std::chrono::seconds(2));
  ASSERT_TRUE(syn);
  AdvanceTimers(std::chrono::milliseconds(1500));
  EXPECT_TRUE(results_.empty());
  AdvanceTimers(std::chrono::seconds(1));
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].failure, GuestConnectFailure::kTimeout);
  EXPECT_EQ(ns_->TcpPcbCount(), 0u);
  EXPECT_TRUE(ns_->PcbIndexConsistent());
  // A late SYN-ACK finds no connection: lwIP answers it with RST, nothing is reported.
  Send(TcpFrame(Reply(*syn, 100, syn->seq + 1, kSyn | kAck)));
  EXPECT_EQ(results_.size(), 1u);
  bool rst = false;
  for (const Parsed& p : TakeOut()) {
    rst |= p.tcp && (p.tcp->flags & kRst);
  }
  EXPECT_TRUE(rst);
}

TEST_F(GuestConnectTest, CancelLeavesNothingAndNoCallback) {
  auto syn = Connect(9001);
  ASSERT_TRUE(syn);
  ns_->CancelGuestConnect(last_id_);
  ns_->CancelGuestConnect(last_id_);  // twice, and unknown ids: no-ops
  ns_->CancelGuestConnect(987654);
  EXPECT_EQ(ns_->TcpPcbCount(), 0u);
  EXPECT_TRUE(ns_->PcbIndexConsistent());
  Send(TcpFrame(Reply(*syn, 100, syn->seq + 1, kSyn | kAck)));
  AdvanceTimers(std::chrono::seconds(6));
  EXPECT_TRUE(results_.empty());
}

TEST_F(GuestConnectTest, PortsAreTakenInTurnSkippingThoseInUse) {
  auto first = Connect(7000);
  ASSERT_TRUE(first);
  uint16_t p0 = first->src.port;
  // The guest itself holds a connection to the gateway's address on the next port (the host
  // alias): that port is skipped.
  uint16_t busy = p0 == kGuestConnectLastPort ? kGuestConnectFirstPort : uint16_t(p0 + 1);
  TcpSegment gsyn;
  gsyn.src = {kGuest, 33333};
  gsyn.dst = {kGateway, busy};
  gsyn.seq = 500;
  gsyn.flags = kSyn;
  gsyn.options = {2, 4, 0x05, 0xb4};
  Send(TcpFrame(gsyn));
  ASSERT_EQ(delegate_.syns.size(), 1u);
  // (Held, not accepted: a held SYN has no pcb yet; accept it to make the port busy in lwIP.)
  ASSERT_TRUE(ns_->ResolveSyn(1, SynOutcome::kAccept));
  auto out = TakeOut();
  ASSERT_EQ(out.size(), 1u);
  TcpSegment ack;
  ack.src = gsyn.src;
  ack.dst = gsyn.dst;
  ack.seq = 501;
  ack.ack = out[0].tcp->seq + 1;
  ack.flags = kAck;
  Send(TcpFrame(ack));
  ASSERT_EQ(delegate_.accepted.size(), 1u);

  auto second = Connect(7000);
  ASSERT_TRUE(second);
  uint16_t expected = busy == kGuestConnectLastPort ? kGuestConnectFirstPort : uint16_t(busy + 1);
  EXPECT_EQ(second->src.port, expected);
  EXPECT_TRUE(ns_->PcbIndexConsistent());
  EXPECT_EQ(ns_->TcpPcbCount(), 3u);
}

}  // namespace
}  // namespace msb::stack
