// Tests for IpAddress / IpPrefix / SocketAddress parsing, formatting and containment.
#include "base/ip_address.h"

#include <gtest/gtest.h>

namespace msb {
namespace {

TEST(IpAddressTest, ParsesAndFormatsBothFamilies) {
  auto v4 = IpAddress::Parse("198.51.100.10");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->v4(), 0xc633640au);
  EXPECT_EQ(v4->ToString(), "198.51.100.10");
  auto v6 = IpAddress::Parse("2001:DB8::1");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->is_v6());
  EXPECT_EQ(v6->ToString(), "2001:db8::1");
}

TEST(IpAddressTest, RejectsSloppyText) {
  for (const char* bad : {"", " 1.2.3.4", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.1.1.1", "1.2.3.4 ",
                          "[::1]", "fe80::1%eth0", "::g", "1.2.3.4/32", "example.com"}) {
    EXPECT_FALSE(IpAddress::Parse(bad)) << bad;
  }
}

TEST(IpAddressTest, EmbeddedV4Forms) {
  EXPECT_EQ(IpAddress::Parse("::ffff:10.0.0.1")->EmbeddedV4(), IpAddress::Parse("10.0.0.1"));
  EXPECT_EQ(IpAddress::Parse("64:ff9b::7f00:1")->EmbeddedV4(), IpAddress::Parse("127.0.0.1"));
  EXPECT_EQ(IpAddress::Parse("2002:a9fe:a9fe::1")->EmbeddedV4(),
            IpAddress::Parse("169.254.169.254"));
  EXPECT_FALSE(IpAddress::Parse("2001:db8::1")->EmbeddedV4());
  EXPECT_FALSE(IpAddress::Parse("10.0.0.1")->EmbeddedV4());
  EXPECT_EQ(IpAddress::Parse("::ffff:1.2.3.4")->Normalized().ToString(), "1.2.3.4");
}

TEST(IpAddressTest, Unspecified) {
  EXPECT_TRUE(IpAddress::Parse("0.0.0.0")->IsUnspecified());
  EXPECT_TRUE(IpAddress::Parse("::")->IsUnspecified());
  EXPECT_FALSE(IpAddress::Parse("0.0.0.1")->IsUnspecified());
}

TEST(IpPrefixTest, ParsesAndContains) {
  auto p = IpPrefix::Parse("10.0.0.0/8");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->Contains(*IpAddress::Parse("10.255.255.255")));
  EXPECT_FALSE(p->Contains(*IpAddress::Parse("11.0.0.0")));
  EXPECT_FALSE(p->Contains(*IpAddress::Parse("::ffff:10.0.0.1")));  // family matters
  EXPECT_TRUE(p->Contains(*IpPrefix::Parse("10.1.0.0/16")));
  EXPECT_FALSE(IpPrefix::Parse("10.1.0.0/16")->Contains(*p));
  EXPECT_EQ(IpPrefix::Parse("198.51.100.10")->length(), 32u);
  EXPECT_EQ(IpPrefix::Parse("2001:db8::/32")->ToString(), "2001:db8::/32");
  EXPECT_TRUE(IpPrefix::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("203.0.113.9")));
}

TEST(IpPrefixTest, RejectsHostBitsAndBadLengths) {
  for (const char* bad : {"10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/08", "10.0.0.0/-1",
                          "2001:db8::/129", "2001:db8::1/32", "x/8"}) {
    EXPECT_FALSE(IpPrefix::Parse(bad)) << bad;
  }
}

TEST(SocketAddressTest, Formats) {
  EXPECT_EQ((SocketAddress{*IpAddress::Parse("1.2.3.4"), 80}).ToString(), "1.2.3.4:80");
  EXPECT_EQ((SocketAddress{*IpAddress::Parse("2001:db8::1"), 443}).ToString(), "[2001:db8::1]:443");
}

}  // namespace
}  // namespace msb
