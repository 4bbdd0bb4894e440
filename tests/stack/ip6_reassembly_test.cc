// Tests for the IPv6 reassembler: any order, the completed message intact, and every way a
// datagram is dropped (overlap, contradiction, odd middle piece, too large, too many pieces,
// timeout, too many datagrams at once).
#include "stack/ip6_reassembly.h"

#include <gtest/gtest.h>

#include <vector>

namespace msb::stack {
namespace {

const IpAddress kSrc = *IpAddress::Parse("fd42:6d73:62::2");
const IpAddress kDst = *IpAddress::Parse("2001:db8:100::10");

class Ip6ReassemblyTest : public ::testing::Test {
 protected:
  std::optional<Ip6Datagram> Add(uint32_t id, uint16_t offset, bool more, size_t len,
                                 uint8_t next = 17) {
    data_.emplace_back(len);
    for (size_t i = 0; i < len; ++i) {
      data_.back()[i] = static_cast<uint8_t>(offset + i);
    }
    Ip6Fragment f{kSrc, kDst, id, offset, more, next, data_.back()};
    return r_.Add(f);
  }
  FakeClock clock_;
  Ip6Reassembler r_{clock_};
  std::vector<std::vector<uint8_t>> data_;
};

TEST_F(Ip6ReassemblyTest, PiecesInAnyOrderMakeTheWholeMessage) {
  EXPECT_FALSE(Add(1, 2896, false, 1112));
  EXPECT_FALSE(Add(1, 0, true, 1448));
  auto whole = Add(1, 1448, true, 1448);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->next_header, 17);
  ASSERT_EQ(whole->payload.size(), 4008u);
  for (size_t i = 0; i < whole->payload.size(); ++i) {
    ASSERT_EQ(whole->payload[i], static_cast<uint8_t>(i)) << i;
  }
  EXPECT_EQ(r_.in_progress(), 0u);
  EXPECT_EQ(r_.stats().completed, 1u);
}

TEST_F(Ip6ReassemblyTest, SuspectPiecesDropTheDatagram) {
  EXPECT_FALSE(Add(2, 0, true, 1448));
  EXPECT_FALSE(Add(2, 1440, false, 100));  // overlaps the first
  EXPECT_EQ(r_.in_progress(), 0u);
  EXPECT_FALSE(Add(3, 0, true, 100));  // a middle piece must be a multiple of 8
  EXPECT_FALSE(Add(4, 800, false, 8));
  EXPECT_FALSE(Add(4, 1600, false, 8));    // two different ends
  EXPECT_FALSE(Add(5, 65528, false, 16));  // beyond 64 KiB
  EXPECT_EQ(r_.in_progress(), 0u);
  EXPECT_EQ(r_.stats().dropped, 4u);
  EXPECT_EQ(r_.stats().completed, 0u);
}

TEST_F(Ip6ReassemblyTest, BoundsOnPiecesTimeAndDatagrams) {
  for (uint16_t i = 0; i < Ip6Reassembler::kMaxFragments; ++i) {
    EXPECT_FALSE(Add(6, static_cast<uint16_t>(i * 8), true, 8));
  }
  EXPECT_FALSE(Add(6, Ip6Reassembler::kMaxFragments * 8, false, 8));  // one too many
  EXPECT_EQ(r_.in_progress(), 0u);
  EXPECT_FALSE(Add(7, 0, true, 8));
  clock_.Advance(Ip6Reassembler::kTimeout);
  EXPECT_FALSE(Add(7, 8, false, 8));  // the first piece has expired: this one starts anew
  EXPECT_EQ(r_.in_progress(), 1u);
  for (uint32_t id = 100; id < 100 + Ip6Reassembler::kMaxDatagrams + 5; ++id) {
    EXPECT_FALSE(Add(id, 0, true, 8));
  }
  EXPECT_EQ(r_.in_progress(), Ip6Reassembler::kMaxDatagrams);
}

}  // namespace
}  // namespace msb::stack
