// Tests for ByteReader: reads advance only on success and never pass the end.
#include "base/byte_reader.h"

#include <gtest/gtest.h>

#include <array>

namespace msb {
namespace {

TEST(ByteReaderTest, ReadsBigEndianIntegers) {
  const std::array<uint8_t, 9> data = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
  ByteReader r(data);
  uint8_t u8 = 0;
  uint16_t u16 = 0;
  uint32_t u24 = 0;
  uint32_t u32 = 0;
  ASSERT_TRUE(r.ReadU8(&u8));
  ASSERT_TRUE(r.ReadU16(&u16));
  ASSERT_TRUE(r.ReadU24(&u24));
  EXPECT_EQ(u8, 0x01);
  EXPECT_EQ(u16, 0x0203);
  EXPECT_EQ(u24, 0x040506u);
  EXPECT_FALSE(r.ReadU32(&u32));  // only 3 bytes left
  EXPECT_EQ(r.remaining(), 3u);   // failed read did not advance
  EXPECT_TRUE(r.Skip(3));
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(r.ReadU8(&u8));
}

TEST(ByteReaderTest, LengthPrefixedChildIsBoundedAndAtomic) {
  const std::array<uint8_t, 5> data = {0x00, 0x03, 'a', 'b', 'c'};
  ByteReader r(data);
  ByteReader child(std::span<const uint8_t>{});
  ASSERT_TRUE(r.ReadU16LengthPrefixed(&child));
  EXPECT_EQ(child.remaining(), 3u);
  EXPECT_TRUE(r.empty());

  const std::array<uint8_t, 3> short_data = {0x05, 'a', 'b'};  // claims 5, has 2
  ByteReader s(short_data);
  EXPECT_FALSE(s.ReadU8LengthPrefixed(&child));
  EXPECT_EQ(s.position(), 0u);
}

TEST(ByteReaderTest, SeekStaysInBounds) {
  const std::array<uint8_t, 4> data = {1, 2, 3, 4};
  ByteReader r(data);
  EXPECT_TRUE(r.Seek(4));
  EXPECT_TRUE(r.empty());
  EXPECT_FALSE(r.Seek(5));
  EXPECT_TRUE(r.Seek(1));
  std::span<const uint8_t> out;
  ASSERT_TRUE(r.ReadBytes(3, &out));
  EXPECT_EQ(out[0], 2);
  EXPECT_FALSE(r.ReadBytes(1, &out));
}

}  // namespace
}  // namespace msb
