// Tests for interpreting upstream answers: CNAME chains, unrelated records, TTLs, families.
#include "gateway/dns/answer.h"

#include <gtest/gtest.h>

namespace msb::gateway::dns {
namespace {

ResourceRecord A(std::string name, std::string ip, uint32_t ttl) {
  ResourceRecord rr;
  rr.name = std::move(name);
  auto addr = IpAddress::Parse(ip);
  rr.type = addr->is_v4() ? 1 : 28;
  rr.rclass = 1;
  rr.ttl = ttl;
  rr.address = addr;
  return rr;
}

ResourceRecord Cname(std::string name, std::string target, uint32_t ttl) {
  ResourceRecord rr;
  rr.name = std::move(name);
  rr.type = 5;
  rr.rclass = 1;
  rr.ttl = ttl;
  rr.target = std::move(target);
  return rr;
}

std::vector<std::string> Strings(const std::vector<IpAddress>& v) {
  std::vector<std::string> out;
  for (const auto& ip : v) {
    out.push_back(ip.ToString());
  }
  return out;
}

TEST(DnsAnswerTest, FollowsCnameChainInAnyOrderWithMinimumTtl) {
  Response r;
  r.answers = {A("c.cdn.test", "198.51.100.7", 300), Cname("b.example.test", "c.cdn.test", 60),
               Cname("a.example.test", "b.example.test", 600),
               A("unrelated.test", "203.0.113.9", 5)};
  AnswerAddresses a = AddressesForName(r, "a.example.test", 1);
  EXPECT_EQ(Strings(a.addresses), std::vector<std::string>{"198.51.100.7"});
  EXPECT_EQ(a.ttl, 60u);
  EXPECT_EQ(Strings(AllAddresses(r)), (std::vector<std::string>{"198.51.100.7", "203.0.113.9"}));
  EXPECT_EQ(ChainNames(r, "a.example.test"),
            (std::vector<std::string>{"b.example.test", "c.cdn.test"}));
  EXPECT_TRUE(ChainNames(r, "c.cdn.test").empty());
}

TEST(DnsAnswerTest, IgnoresOtherFamiliesUnrelatedOwnersAndLoops) {
  Response r;
  r.answers = {A("a.test", "2001:db8::1", 30),  A("a.test", "198.51.100.1", 30),
               A("a.test", "198.51.100.1", 10), A("b.test", "198.51.100.2", 30),
               Cname("x.test", "y.test", 30),   Cname("y.test", "x.test", 30)};
  AnswerAddresses v4 = AddressesForName(r, "a.test", 1);
  EXPECT_EQ(Strings(v4.addresses), std::vector<std::string>{"198.51.100.1"});  // unique
  EXPECT_EQ(v4.ttl, 10u);
  EXPECT_EQ(Strings(AddressesForName(r, "a.test", 28).addresses),
            std::vector<std::string>{"2001:db8::1"});
  EXPECT_TRUE(AddressesForName(r, "x.test", 1).addresses.empty());   // loop, no address
  EXPECT_TRUE(AddressesForName(r, "a.test", 16).addresses.empty());  // TXT: nothing to pin
}

TEST(DnsAnswerTest, ChainLengthIsBounded) {
  Response r;
  for (int i = 0; i < 40; ++i) {
    r.answers.push_back(
        Cname("n" + std::to_string(i) + ".test", "n" + std::to_string(i + 1) + ".test", 30));
  }
  r.answers.push_back(A("n40.test", "198.51.100.40", 30));
  r.answers.push_back(A("n10.test", "198.51.100.10", 30));
  AnswerAddresses a = AddressesForName(r, "n0.test", 1);
  EXPECT_EQ(Strings(a.addresses), std::vector<std::string>{"198.51.100.10"});
}

}  // namespace
}  // namespace msb::gateway::dns
