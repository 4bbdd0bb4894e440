// Destination validity: every never-a-destination block at its edges and just outside, both
// families, embedded IPv4 forms, and the protocol dependence of multicast.
#include "policy/destination_validity.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace msb::policy {
namespace {

using testing::Ip;

std::string Why(const char* ip, Protocol p = Protocol::kTcp) {
  auto why = CheckDestination(Ip(ip), p);
  return why ? std::string(InvalidDestinationName(*why)) : "valid";
}

TEST(DestinationValidityTest, Ipv4Blocks) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"0.0.0.0", "this_network"},       {"0.255.255.255", "this_network"},
      {"1.0.0.0", "valid"},              {"126.255.255.255", "valid"},
      {"127.0.0.0", "loopback"},         {"127.0.0.1", "loopback"},
      {"127.255.255.255", "loopback"},   {"128.0.0.0", "valid"},
      {"239.255.255.255", "multicast_stream"}, {"240.0.0.0", "reserved"},
      {"255.255.255.254", "reserved"},   {"255.255.255.255", "limited_broadcast"},
      {"223.255.255.255", "valid"},      {"224.0.0.0", "multicast_stream"},
      {"198.51.100.10", "valid"},        {"10.0.0.1", "valid"},
      {"169.254.169.254", "valid"},      {"172.16.0.1", "valid"},
  };
  for (const auto& [ip, want] : cases) {
    EXPECT_EQ(Why(ip), want) << ip;
  }
}

TEST(DestinationValidityTest, Ipv6BlocksAndEmbeddedIpv4) {
  EXPECT_EQ(Why("::"), "unspecified");
  EXPECT_EQ(Why("::1"), "loopback");
  EXPECT_EQ(Why("::2"), "valid");
  EXPECT_EQ(Why("ff02::1"), "multicast_stream");
  EXPECT_EQ(Why("2001:db8::1"), "valid");
  EXPECT_EQ(Why("fe80::1"), "valid");  // link-local: a policy question, not a validity one
  // An AF_INET6 dial of ::ffff:127.0.0.1 reaches the host's IPv4 loopback.
  EXPECT_EQ(Why("::ffff:127.0.0.1"), "loopback");
  EXPECT_EQ(Why("::ffff:0.0.0.0"), "this_network");
  EXPECT_EQ(Why("::ffff:255.255.255.255"), "limited_broadcast");
  EXPECT_EQ(Why("64:ff9b::7f00:1"), "loopback");
  EXPECT_EQ(Why("2002:7f00:1::"), "loopback");
  EXPECT_EQ(Why("::ffff:198.51.100.10"), "valid");
}

TEST(DestinationValidityTest, MulticastIsOnlyInvalidForTcp) {
  for (Protocol p : {Protocol::kUdp, Protocol::kIcmpv4, Protocol::kIcmpv6}) {
    EXPECT_EQ(Why("224.0.0.251", p), "valid");
    EXPECT_EQ(Why("ff02::fb", p), "valid");
  }
  // Everything else is invalid whatever the protocol.
  for (Protocol p : {Protocol::kUdp, Protocol::kIcmpv4}) {
    EXPECT_EQ(Why("0.0.0.0", p), "this_network");
    EXPECT_EQ(Why("127.0.0.53", p), "loopback");
    EXPECT_EQ(Why("255.255.255.255", p), "limited_broadcast");
  }
}

TEST(DestinationValidityTest, EveryReasonHasNameAndText) {
  for (int i = 0; i < kNumInvalidDestinations; ++i) {
    auto why = static_cast<InvalidDestination>(i);
    EXPECT_NE(InvalidDestinationName(why), "?");
    EXPECT_NE(InvalidDestinationText(why), "?");
  }
}

}  // namespace
}  // namespace msb::policy
