// NetstackTest: the fixture of the frame-level stack tests (netstack_test.cc, netstack6_test.cc).
// A fake device plays the guest's NIC, a recorder the gateway; Send delivers a guest frame and
// answers lwIP's ARP requests, TakeOut returns what the stack sent (IPv4; TakeOut6 for IPv6, after
// answering neighbour solicitations for the guest).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <vector>

#include "stack/netstack.h"
#include "stack/offload.h"
#include "tests/stack/fake_device.h"
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
const IpAddress kGuest6 = *IpAddress::Parse("fd42:6d73:62::2");
const IpAddress kGateway6 = *IpAddress::Parse("fd42:6d73:62::1");
const IpAddress kServer6 = *IpAddress::Parse("2001:db8:100::10");

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
  IcmpVerdict OnIcmpEcho(const IcmpEcho& echo) override {
    echoes.push_back(echo.flow);
    echo_sequences.push_back(echo.sequence);
    echo_data.emplace_back(echo.data.begin(), echo.data.end());
    return icmp_verdict;
  }
  void OnGuestReadable() override { ++readable; }
  void OnGuestWritable() override { ++writable; }
  void OnGuestGone(bool reset) override { gone.push_back(reset); }

  SynVerdict verdict = SynVerdict::kHold;
  UdpVerdict udp_verdict = UdpVerdict::kHandled;
  IcmpVerdict icmp_verdict = IcmpVerdict::kDrop;
  std::vector<FlowTuple> echoes;
  std::vector<uint16_t> echo_sequences;
  std::vector<std::vector<uint8_t>> echo_data;
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
    dev_.offload = offload_device_;
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
      for (size_t i = dev_.out.size(); i-- > 0;) {
        if (ParseFrame(dev_.out[i]).ethertype == 0x0806) {
          dev_.out.erase(dev_.out.begin() + static_cast<ptrdiff_t>(i));
          if (i < dev_.out_offload.size()) {
            dev_.out_offload.erase(dev_.out_offload.begin() + static_cast<ptrdiff_t>(i));
          }
        }
      }
      ASSERT_TRUE(ns_->OnDeviceReadable());
    }
  }
  std::vector<Parsed> TakeOut(std::vector<FrameOffload>* offloads = nullptr) {
    AnswerArp();
    std::vector<Parsed> out;
    for (size_t i = 0; i < dev_.out.size(); ++i) {
      Parsed p = ParseFrame(dev_.out[i]);
      if (p.ethertype == 0x0800) {
        out.push_back(p);
        if (offloads != nullptr) {
          offloads->push_back(i < dev_.out_offload.size() ? dev_.out_offload[i] : FrameOffload{});
        }
      }
    }
    dev_.out.clear();
    dev_.out_offload.clear();
    return out;
  }
  // TakeOut6: the IPv6 frames the stack sent, after answering its neighbour solicitations for
  // the guest's address (as the guest's kernel would).
  std::vector<Parsed> TakeOut6() {
    for (size_t round = 0; round < 2; ++round) {
      bool answered = false;
      for (size_t i = dev_.out.size(); i-- > 0;) {
        Parsed p = ParseFrame(dev_.out[i]);
        if (p.ethertype == 0x86dd && p.ip_protocol == 58 && p.icmp_type == 135) {
          std::array<uint8_t, 16> target{};
          if (p.icmp_quote.size() >= 16) {
            std::copy_n(p.icmp_quote.begin(), 16, target.begin());
          }
          dev_.in.push_back(NeighborAdvertisement(IpAddress::V6(target), p.ip_src));
          dev_.out.erase(dev_.out.begin() + static_cast<ptrdiff_t>(i));
          answered = true;
        }
      }
      if (!answered) {
        break;
      }
      EXPECT_TRUE(ns_->OnDeviceReadable());
    }
    std::vector<Parsed> out;
    for (const auto& f : dev_.out) {
      Parsed p = ParseFrame(f);
      if (p.ethertype == 0x86dd) {
        out.push_back(p);
      }
    }
    dev_.out.clear();
    dev_.out_offload.clear();
    return out;
  }
  // NeighborAdvertisement: the guest's answer (solicited, override) for its address `target`.
  std::vector<uint8_t> NeighborAdvertisement(const IpAddress& target, const IpAddress& to) {
    std::vector<uint8_t> na = {136, 0, 0, 0, 0x60, 0, 0, 0};
    na.insert(na.end(), target.bytes().begin(), target.bytes().end());
    na.insert(na.end(), {2, 1});  // target link-layer address
    na.insert(na.end(), kGuestMac.begin(), kGuestMac.end());
    na = msb::testing::Icmp6Message(target, to, na);
    return msb::testing::EthernetFrame(kGatewayMac, kGuestMac, 0x86dd,
                                       msb::testing::Ipv6Packet(target, to, 58, na, 255));
  }
  TcpSegment Syn(uint16_t sport, const SocketAddress& dst, uint32_t seq = 1000) {
    TcpSegment s;
    s.src = {dst.ip.is_v6() ? kGuest6 : kGuest, sport};
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
  bool offload_device_ = false;
  FakeDevice dev_;
  Recorder rec_;
  std::unique_ptr<Netstack> ns_;
};

}  // namespace
}  // namespace msb::stack
