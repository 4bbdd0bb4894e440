// Classification tests: the first and last address of every group range and the neighbours just
// outside it, for IPv4, IPv6 and each IPv4-embedding IPv6 form, plus the host group.
#include "policy/classify.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace msb::policy {
namespace {

using testing::Ip;
using testing::Prefix;

struct Case {
  const char* address;
  std::optional<Group> group;  // nullopt: no group
};

std::string Name(std::optional<Group> g) {
  return g ? std::string(GroupName(*g)) : "none";
}

void ExpectAll(const std::vector<Case>& cases, const HostAddresses& host = {}) {
  for (const Case& c : cases) {
    EXPECT_EQ(Name(Classify(Ip(c.address), host)), Name(c.group)) << c.address;
  }
}

constexpr auto kPub = Group::kPublic;
constexpr auto kPriv = Group::kPrivate;
constexpr auto kLoop = Group::kLoopback;
constexpr auto kLink = Group::kLinkLocal;
constexpr auto kMeta = Group::kMetadata;
constexpr auto kMulti = Group::kMulticast;
constexpr std::nullopt_t kNone = std::nullopt;

TEST(ClassifyTest, V4ThisNetworkIsInNoGroup) {
  ExpectAll({{"0.0.0.0", kNone}, {"0.0.0.1", kNone}, {"0.255.255.255", kNone}, {"1.0.0.0", kPub}});
}

TEST(ClassifyTest, V4PrivateBoundaries) {
  ExpectAll({{"9.255.255.255", kPub},
             {"10.0.0.0", kPriv},
             {"10.255.255.255", kPriv},
             {"11.0.0.0", kPub},
             {"172.15.255.255", kPub},
             {"172.16.0.0", kPriv},
             {"172.31.255.255", kPriv},
             {"172.32.0.0", kPub},
             {"192.167.255.255", kPub},
             {"192.168.0.0", kPriv},
             {"192.168.255.255", kPriv},
             {"192.169.0.0", kPub},
             {"100.63.255.255", kPub},
             {"100.64.0.0", kPriv},
             {"100.127.255.255", kPriv},
             {"100.128.0.0", kPub}});
}

TEST(ClassifyTest, V4LoopbackBoundaries) {
  ExpectAll({{"126.255.255.255", kPub},
             {"127.0.0.0", kLoop},
             {"127.0.0.1", kLoop},
             {"127.255.255.255", kLoop},
             {"128.0.0.0", kPub}});
}

TEST(ClassifyTest, V4LinkLocalAndMetadataBoundaries) {
  ExpectAll({{"169.253.255.255", kPub},
             {"169.254.0.0", kLink},
             {"169.254.169.253", kLink},
             {"169.254.169.254", kMeta},
             {"169.254.169.255", kLink},
             {"169.254.255.255", kLink},
             {"169.255.0.0", kPub}});
}

TEST(ClassifyTest, V4MulticastAndAboveBoundaries) {
  ExpectAll({{"223.255.255.255", kPub},
             {"224.0.0.0", kMulti},
             {"239.255.255.255", kMulti},
             {"240.0.0.0", kPub},
             {"255.255.255.255", kPub}});
}

TEST(ClassifyTest, V4DocumentationRangesArePublic) {
  ExpectAll(
      {{"192.0.2.1", kPub}, {"198.51.100.10", kPub}, {"203.0.113.255", kPub}, {"8.8.8.8", kPub}});
}

TEST(ClassifyTest, V6SpecialAddresses) {
  ExpectAll({{"::", kNone},
             {"::1", kLoop},
             {"::2", kPub},
             {"2001:db8::1", kPub},
             {"2606:4700::1111", kPub},
             {"fd00:ec2::254", kPriv}});
}

TEST(ClassifyTest, V6RangeBoundaries) {
  ExpectAll({{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kPub},
             {"fc00::", kPriv},
             {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kPriv},
             {"fe00::", kPub},
             {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kPub},
             {"fe80::", kLink},
             {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kLink},
             {"fec0::", kPub},
             {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kPub},
             {"ff00::", kMulti},
             {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", kMulti}});
}

TEST(ClassifyTest, MappedV6UsesTheEmbeddedV4) {
  ExpectAll({{"::ffff:0.0.0.0", kNone},
             {"::ffff:0.255.255.255", kNone},
             {"::ffff:10.0.0.1", kPriv},
             {"::ffff:11.0.0.0", kPub},
             {"::ffff:127.0.0.1", kLoop},
             {"::ffff:169.254.169.254", kMeta},
             {"::ffff:169.254.169.253", kLink},
             {"::ffff:224.0.0.1", kMulti},
             {"::ffff:240.0.0.0", kPub}});
}

TEST(ClassifyTest, Nat64V6UsesTheEmbeddedV4) {
  ExpectAll({{"64:ff9b::", kNone},
             {"64:ff9b::7f00:1", kLoop},
             {"64:ff9b::a00:1", kPriv},
             {"64:ff9b::a9fe:a9fe", kMeta},
             {"64:ff9b::a9fe:101", kLink},
             {"64:ff9b::e000:1", kMulti},
             {"64:ff9b::808:808", kPub},
             // 64:ff9b:1::/48 is the local-use NAT64 prefix, not the well-known one.
             {"64:ff9b:1::a00:1", kPub}});
}

TEST(ClassifyTest, SixToFourUsesTheEmbeddedV4) {
  ExpectAll({{"2002::", kNone},
             {"2002:a9fe:a9fe::", kMeta},
             {"2002:a9fe:101::1", kLink},
             {"2002:a00:1::", kPriv},
             {"2002:c0a8:101::1", kPriv},
             {"2002:7f00:1::", kLoop},
             {"2002:e000:1::", kMulti},
             {"2002:808:808::", kPub},
             {"2003::a00:1", kPub},
             {"::fffe:a00:1", kPub}});
}

TEST(ClassifyTest, HostAddressesComeFirst) {
  HostAddresses host{Ip("172.16.0.1"), Ip("fd42:6d73:62::1")};
  ExpectAll({{"172.16.0.1", Group::kHost},
             {"::ffff:172.16.0.1", Group::kHost},
             {"64:ff9b::ac10:1", Group::kHost},
             {"172.16.0.2", kPriv},
             {"fd42:6d73:62::1", Group::kHost},
             {"fd42:6d73:62::2", kPriv}},
            host);
  // Without host addresses configured the gateway address is just private.
  ExpectAll({{"172.16.0.1", kPriv}, {"fd42:6d73:62::1", kPriv}});
}

TEST(ClassifyTest, NoGroupWinsOverAMisconfiguredHost) {
  HostAddresses host{Ip("0.0.0.0"), Ip("::")};
  ExpectAll({{"0.0.0.0", kNone}, {"::", kNone}}, host);
}

TEST(ClassifyPrefixTest, UniformAndMixedBlocks) {
  struct PrefixCase {
    const char* prefix;
    bool uniform;
    std::optional<Group> group;
  };
  const PrefixCase cases[] = {
      {"10.1.0.0/16", true, kPriv},
      {"10.0.0.0/8", true, kPriv},
      {"10.0.0.0/7", false, kNone},
      {"8.0.0.0/8", true, kPub},
      {"0.0.0.0/8", true, kNone},
      {"0.0.0.0/0", false, kNone},
      {"169.254.0.0/16", false, kNone},
      {"169.254.169.0/24", false, kNone},
      {"169.254.0.0/17", true, kLink},
      {"169.254.169.254/32", true, kMeta},
      {"224.0.0.0/4", true, kMulti},
      {"::ffff:10.0.0.0/104", true, kPriv},
      {"::ffff:0.0.0.0/96", false, kNone},
      {"2002:a00::/24", true, kPriv},
      {"2002:a9fe:a9fe::/48", true, kMeta},
      {"64:ff9b::7f00:0/104", true, kLoop},
      {"::/0", false, kNone},
      {"::/96", false, kNone},
      {"fc00::/8", true, kPriv},
      {"fc00::/6", false, kNone},
      {"2001:db8::/32", true, kPub},
      {"::1/128", true, kLoop},
  };
  for (const PrefixCase& c : cases) {
    PrefixGroup pg = ClassifyPrefix(Prefix(c.prefix));
    EXPECT_EQ(pg.uniform, c.uniform) << c.prefix;
    if (c.uniform) {
      EXPECT_EQ(Name(pg.group), Name(c.group)) << c.prefix;
    }
  }
}

TEST(ClassifyPrefixTest, EmbeddedV4Prefix) {
  EXPECT_EQ(EmbeddedV4Prefix(Prefix("::ffff:10.0.0.0/104")), Prefix("10.0.0.0/8"));
  EXPECT_EQ(EmbeddedV4Prefix(Prefix("64:ff9b::c000:200/120")), Prefix("192.0.2.0/24"));
  EXPECT_EQ(EmbeddedV4Prefix(Prefix("2002:a00::/24")), Prefix("10.0.0.0/8"));
  EXPECT_EQ(EmbeddedV4Prefix(Prefix("2002:a00:1:1::/64")), Prefix("10.0.0.1/32"));
  EXPECT_EQ(EmbeddedV4Prefix(Prefix("2002::/15")), std::nullopt);
  EXPECT_EQ(EmbeddedV4Prefix(Prefix("2001:db8::/32")), std::nullopt);
  EXPECT_EQ(EmbeddedV4Prefix(Prefix("10.0.0.0/8")), std::nullopt);
}

}  // namespace
}  // namespace msb::policy
