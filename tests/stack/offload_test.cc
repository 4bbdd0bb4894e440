// The virtio-net header codec and the offload rules on bytes: header round trips and refusals,
// which partial checksums are trusted, and how frames for the guest are tagged.
#include "stack/offload.h"

#include <gtest/gtest.h>

#include "stack/vnet_header.h"
#include "tests/stack/frames.h"

namespace msb::stack {
namespace {

const IpAddress kGuest = IpAddress::V4(0xac100002);
const IpAddress kServer = *IpAddress::Parse("198.51.100.10");

std::vector<uint8_t> DataFrame(size_t payload) {
  msb::testing::TcpSegment s;
  s.src = {kServer, 443};
  s.dst = {kGuest, 40000};
  s.flags = msb::testing::kAck;
  s.payload.assign(payload, 7);
  return msb::testing::TcpFrame(s);
}

TEST(VnetHeaderTest, RoundTrip) {
  FrameOffload o;
  o.needs_csum = true;
  o.gso = FrameOffload::Gso::kTcp4;
  o.hdr_len = 54;
  o.gso_size = 1448;
  o.csum_start = 34;
  o.csum_offset = 16;
  uint8_t buf[kVnetHeaderMrgSize];
  SerializeVnetHeader(o, buf);
  EXPECT_EQ(buf[0], 1);  // NEEDS_CSUM
  EXPECT_EQ(buf[1], 1);  // GSO_TCPV4
  EXPECT_EQ(buf[4], 1448 & 0xff);
  EXPECT_EQ(buf[5], 1448 >> 8);  // little-endian
  EXPECT_EQ(buf[10], 0);         // num_buffers zeroed
  FrameOffload back;
  ASSERT_TRUE(ParseVnetHeader(buf, &back));
  EXPECT_TRUE(back.needs_csum);
  EXPECT_EQ(back.gso, FrameOffload::Gso::kTcp4);
  EXPECT_EQ(back.hdr_len, 54);
  EXPECT_EQ(back.gso_size, 1448);
  EXPECT_EQ(back.csum_start, 34);
  EXPECT_EQ(back.csum_offset, 16);
  for (auto g : {FrameOffload::Gso::kTcp6, FrameOffload::Gso::kUdp}) {
    o.gso = g;
    SerializeVnetHeader(o, buf);
    ASSERT_TRUE(ParseVnetHeader(buf, &back));
    EXPECT_EQ(back.gso, g);
  }
}

TEST(VnetHeaderTest, RefusesWhatItCannotHonour) {
  uint8_t h[kVnetHeaderSize] = {};
  FrameOffload o;
  EXPECT_TRUE(ParseVnetHeader(h, &o));
  EXPECT_TRUE(o.empty());
  EXPECT_FALSE(ParseVnetHeader(std::span<const uint8_t>(h, 9), &o));  // short
  h[0] = 4;                                                           // RSC_INFO: never enabled
  EXPECT_FALSE(ParseVnetHeader(h, &o));
  h[0] = 1;
  h[1] = 3;  // UFO: never enabled
  EXPECT_FALSE(ParseVnetHeader(h, &o));
  h[1] = 1;  // TSO4 without a segment size
  EXPECT_FALSE(ParseVnetHeader(h, &o));
  h[4] = 0xb4;
  h[5] = 0x05;
  h[0] = 0;  // TSO4 whose checksum is not partial
  EXPECT_FALSE(ParseVnetHeader(h, &o));
  h[0] = 1;
  h[1] = 0x81;  // TSO4 with the ECN bit: fine
  EXPECT_TRUE(ParseVnetHeader(h, &o));
  EXPECT_EQ(o.gso, FrameOffload::Gso::kTcp4);
}

TEST(OffloadTest, TxTagsTcpAndLeavesTheRest) {
  auto small = DataFrame(100);
  auto o = PrepareTxOffload(small, small.size(), 1500);
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->needs_csum);
  EXPECT_EQ(o->gso, FrameOffload::Gso::kNone);  // fits one link-MTU frame
  // The field now holds the pseudo-header sum: what ClassifyRxChecksum trusts.
  std::span<const uint8_t> ip(small.data() + 14, small.size() - 14);
  FrameOffload rx = *o;
  EXPECT_EQ(ClassifyRxChecksum(rx, ip, 20, 6), RxChecksum::kTrusted);

  auto big = DataFrame(60000);
  o = PrepareTxOffload(big, big.size(), 1500);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->gso, FrameOffload::Gso::kTcp4);
  EXPECT_EQ(o->gso_size, 1460);
  EXPECT_EQ(o->hdr_len, 54);
  o = PrepareTxOffload(big, big.size(), 65520);
  EXPECT_EQ(o->gso, FrameOffload::Gso::kNone);  // a jumbo link takes it whole

  auto udp = msb::testing::UdpFrame({kServer, 53}, {kGuest, 5353}, std::vector<uint8_t>(10, 1));
  o = PrepareTxOffload(udp, udp.size(), 1500);
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->empty());  // complete checksums: nothing to claim

  // Headers split across pieces: the caller must join and ask again.
  EXPECT_FALSE(PrepareTxOffload(std::span(big).first(40), big.size(), 1500));
  EXPECT_FALSE(PrepareTxOffload(std::span(big).first(20), big.size(), 1500));
}

TEST(OffloadTest, RxClaimsMustFitThePacket) {
  auto f = DataFrame(100);
  std::span<const uint8_t> ip(f.data() + 14, f.size() - 14);
  FrameOffload none;
  EXPECT_EQ(ClassifyRxChecksum(none, ip, 20, 6), RxChecksum::kVerify);
  FrameOffload valid;
  valid.data_valid = true;
  EXPECT_EQ(ClassifyRxChecksum(valid, ip, 20, 6), RxChecksum::kTrusted);
  FrameOffload partial;
  partial.needs_csum = true;
  partial.csum_start = 34;
  partial.csum_offset = 16;
  // The frame's field holds its complete checksum, not the pseudo-header sum.
  EXPECT_EQ(ClassifyRxChecksum(partial, ip, 20, 6), RxChecksum::kBad);
  EXPECT_EQ(ClassifyRxChecksum(partial, ip, 20, 1), RxChecksum::kBad);  // ICMP has no such field
  EXPECT_EQ(ClassifyRxChecksum(partial, ip.first(30), 20, 6), RxChecksum::kBad);  // too short
  FrameOffload gso = partial;
  gso.gso = FrameOffload::Gso::kTcp6;
  gso.gso_size = 1000;
  EXPECT_EQ(ClassifyRxChecksum(gso, ip, 20, 6), RxChecksum::kBad);  // v6 GSO on a v4 packet
}

TEST(OffloadTest, PseudoHeaderSum) {
  const uint8_t src[4] = {172, 16, 0, 2};
  const uint8_t dst[4] = {198, 51, 100, 10};
  // 0xac10 + 0x0002 + 0xc633 + 0x640a + 6 + 20 = 0x1d669 -> 0xd669 + 1 = 0xd66a
  EXPECT_EQ(PseudoHeaderSum4(src, dst, 6, 20), 0xd66a);
}

}  // namespace
}  // namespace msb::stack
