// Tests for nameserver specifications and resolv.conf parsing.
#include "gateway/dns/nameservers.h"

#include <gtest/gtest.h>

namespace msb::gateway {
namespace {

std::string One(std::string_view spec) {
  auto r = ParseNameserver(spec);
  if (!r.ok()) {
    return "error: " + r.error();
  }
  return r.value().empty() ? "none" : r.value()[0].ToString();
}

TEST(NameserverTest, AddressForms) {
  EXPECT_EQ(One("198.51.100.53"), "198.51.100.53:53");
  EXPECT_EQ(One("198.51.100.53:5353"), "198.51.100.53:5353");
  EXPECT_EQ(One("[2001:db8::53]:5353"), "[2001:db8::53]:5353");
  EXPECT_EQ(One("[2001:db8::53]"), "[2001:db8::53]:53");
  EXPECT_EQ(One("2001:db8::53"), "[2001:db8::53]:53");
}

TEST(NameserverTest, HostNamesResolveOnce) {
  // "localhost" resolves from /etc/hosts without any network.
  auto r = ParseNameserver("localhost:5300");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_FALSE(r.value().empty());
  for (const SocketAddress& a : r.value()) {
    EXPECT_EQ(a.port, 5300);
  }
}

TEST(NameserverTest, ErrorsQuoteTheSpecification) {
  const std::string expected = "\": expected IP, IP:PORT, [IPv6]:PORT, HOST or HOST:PORT";
  for (const char* bad :
       {"", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:", "[1.2.3.4]:53", "[2001:db8::1",
        "[2001:db8::1]x", "2001:db8::1:53x", "a b", "bad_host!:53", "-x.example"}) {
    auto r = ParseNameserver(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error(), "invalid nameserver \"" + std::string(bad) + expected) << bad;
  }
}

TEST(NameserverTest, ResolvConf) {
  auto servers = ParseResolvConf(
      "# comment\nsearch example.test\nnameserver 198.51.100.53\n"
      "nameserver   2001:db8::53\nnameserver fe80::1%eth0\nnameserver junk\noptions ndots:2\n");
  ASSERT_EQ(servers.size(), 2u);
  EXPECT_EQ(servers[0].ToString(), "198.51.100.53:53");
  EXPECT_EQ(servers[1].ToString(), "[2001:db8::53]:53");
}

}  // namespace
}  // namespace msb::gateway
