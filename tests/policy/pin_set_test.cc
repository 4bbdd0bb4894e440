// PinSet tests: TTL expiry and its floor, replacement and clearing, families, normalization,
// per-name and total bounds with LRU eviction, exact vs suffix matching, Sweep, and a randomized
// comparison against a simple model that also checks the reverse index never disagrees.
#include "policy/pin_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "policy/domain_name.h"
#include "test_util.h"

namespace msb::policy {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using testing::Ip;
using ::testing::IsEmpty;

std::vector<IpAddress> Ips(std::initializer_list<std::string_view> texts) {
  std::vector<IpAddress> out;
  for (std::string_view t : texts) {
    out.push_back(Ip(t));
  }
  return out;
}

bool Matches(const PinSet& pins, std::string_view ip, const Destination& dest) {
  return pins.PinnedNameMatches(Ip(ip), dest);
}

TEST(PinSetTest, UpdateAndLookup) {
  FakeClock clock;
  PinSet pins(clock);
  pins.Update("api.example.com", IpFamily::kV4, Ips({"198.51.100.10", "198.51.100.11"}),
              seconds(30));
  EXPECT_EQ(pins.size(), 1u);
  EXPECT_EQ(pins.AddressesFor("api.example.com", IpFamily::kV4),
            Ips({"198.51.100.10", "198.51.100.11"}));
  EXPECT_THAT(pins.AddressesFor("api.example.com", IpFamily::kV6), IsEmpty());
  EXPECT_THAT(pins.NamesFor(Ip("198.51.100.11")), ElementsAre("api.example.com"));
  EXPECT_THAT(pins.NamesFor(Ip("198.51.100.12")), IsEmpty());
  EXPECT_TRUE(Matches(pins, "198.51.100.10", Destination::OfDomain("api.example.com")));
  EXPECT_FALSE(Matches(pins, "198.51.100.12", Destination::OfDomain("api.example.com")));
}

TEST(PinSetTest, ExpiresAtExactlyTheTtl) {
  FakeClock clock;
  PinSet pins(clock);
  pins.Update("a.example", IpFamily::kV4, Ips({"203.0.113.1"}), seconds(10));
  clock.Advance(seconds(10) - nanoseconds(1));
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.1")), ElementsAre("a.example"));
  EXPECT_TRUE(Matches(pins, "203.0.113.1", Destination::OfDomain("a.example")));
  EXPECT_THAT(pins.AddressesFor("a.example", IpFamily::kV4), ElementsAre(Ip("203.0.113.1")));
  clock.Advance(nanoseconds(1));
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.1")), IsEmpty());
  EXPECT_FALSE(Matches(pins, "203.0.113.1", Destination::OfDomain("a.example")));
  EXPECT_THAT(pins.AddressesFor("a.example", IpFamily::kV4), IsEmpty());
  // Expired entries are invisible but still held until swept or replaced.
  EXPECT_EQ(pins.size(), 1u);
}

TEST(PinSetTest, TtlIsFlooredAtOneSecond) {
  for (Duration ttl : {Duration::zero(), Duration(milliseconds(300)), Duration(seconds(-5))}) {
    FakeClock clock;
    PinSet pins(clock);
    pins.Update("a.example", IpFamily::kV4, Ips({"203.0.113.1"}), ttl);
    clock.Advance(milliseconds(999));
    EXPECT_THAT(pins.NamesFor(Ip("203.0.113.1")), ElementsAre("a.example")) << ToMillis(ttl);
    clock.Advance(milliseconds(1));
    EXPECT_THAT(pins.NamesFor(Ip("203.0.113.1")), IsEmpty()) << ToMillis(ttl);
  }
}

TEST(PinSetTest, HugeTtlDoesNotOverflow) {
  FakeClock clock;
  PinSet pins(clock);
  pins.Update("a.example", IpFamily::kV4, Ips({"203.0.113.1"}), Duration::max());
  clock.Advance(std::chrono::hours(24 * 365 * 100));
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.1")), ElementsAre("a.example"));
}

TEST(PinSetTest, SeveralNamesForOneAddress) {
  // A CNAME chain pins every name in it to the final addresses.
  FakeClock clock;
  PinSet pins(clock);
  pins.Update("www.example.com", IpFamily::kV4, Ips({"198.51.100.7"}), seconds(60));
  pins.Update("cdn.example.net", IpFamily::kV4, Ips({"198.51.100.7"}), seconds(5));
  pins.Update("alias.example.org", IpFamily::kV4, Ips({"198.51.100.7"}), seconds(60));
  EXPECT_THAT(pins.NamesFor(Ip("198.51.100.7")),
              ElementsAre("alias.example.org", "cdn.example.net", "www.example.com"));
  clock.Advance(seconds(5));
  EXPECT_THAT(pins.NamesFor(Ip("198.51.100.7")),
              ElementsAre("alias.example.org", "www.example.com"));
}

TEST(PinSetTest, ReplacementDropsOldAddresses) {
  FakeClock clock;
  PinSet pins(clock);
  pins.Update("a.example", IpFamily::kV4, Ips({"203.0.113.1", "203.0.113.2"}), seconds(60));
  pins.Update("a.example", IpFamily::kV4, Ips({"203.0.113.2", "203.0.113.3"}), seconds(60));
  EXPECT_EQ(pins.size(), 1u);
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.1")), IsEmpty());
  EXPECT_FALSE(Matches(pins, "203.0.113.1", Destination::OfDomain("a.example")));
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.2")), ElementsAre("a.example"));
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.3")), ElementsAre("a.example"));
  EXPECT_EQ(pins.AddressesFor("a.example", IpFamily::kV4), Ips({"203.0.113.2", "203.0.113.3"}));
}

TEST(PinSetTest, ReplacementRenewsTheTtl) {
  FakeClock clock;
  PinSet pins(clock);
  pins.Update("a.example", IpFamily::kV4, Ips({"203.0.113.1"}), seconds(60));
  clock.Advance(seconds(50));
  pins.Update("a.example", IpFamily::kV4, Ips({"203.0.113.1"}), seconds(5));
  clock.Advance(seconds(5));  // the new, shorter TTL applies
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.1")), IsEmpty());
}

TEST(PinSetTest, EmptyAnswerAndClearRemoveTheEntry) {
  FakeClock clock;
  PinSet pins(clock);
  pins.Update("a.example", IpFamily::kV4, Ips({"203.0.113.1"}), seconds(60));
  pins.Update("b.example", IpFamily::kV4, Ips({"203.0.113.1"}), seconds(60));
  pins.Update("a.example", IpFamily::kV4, {}, seconds(60));
  EXPECT_EQ(pins.size(), 1u);
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.1")), ElementsAre("b.example"));
  pins.Clear("b.example", IpFamily::kV4);
  EXPECT_EQ(pins.size(), 0u);
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.1")), IsEmpty());
  pins.Clear("never.example", IpFamily::kV4);  // clearing nothing is fine
  EXPECT_EQ(pins.size(), 0u);
}

TEST(PinSetTest, FamiliesAreKeptApart) {
  FakeClock clock;
  PinSet pins(clock);
  pins.Update("a.example", IpFamily::kV4, Ips({"203.0.113.1"}), seconds(60));
  pins.Update("a.example", IpFamily::kV6, Ips({"2001:db8::1"}), seconds(60));
  EXPECT_EQ(pins.size(), 2u);
  // A new AAAA answer replaces only the AAAA pins, and clearing AAAA leaves A alone.
  pins.Update("a.example", IpFamily::kV6, Ips({"2001:db8::2"}), seconds(60));
  EXPECT_EQ(pins.AddressesFor("a.example", IpFamily::kV4), Ips({"203.0.113.1"}));
  EXPECT_EQ(pins.AddressesFor("a.example", IpFamily::kV6), Ips({"2001:db8::2"}));
  pins.Clear("a.example", IpFamily::kV6);
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.1")), ElementsAre("a.example"));
  EXPECT_THAT(pins.NamesFor(Ip("2001:db8::2")), IsEmpty());
  // Addresses of the other family in an answer are ignored; none left means a clear.
  pins.Update("a.example", IpFamily::kV4, Ips({"2001:db8::3", "203.0.113.9"}), seconds(60));
  EXPECT_EQ(pins.AddressesFor("a.example", IpFamily::kV4), Ips({"203.0.113.9"}));
  EXPECT_THAT(pins.NamesFor(Ip("2001:db8::3")), IsEmpty());
  pins.Update("a.example", IpFamily::kV4, Ips({"2001:db8::3"}), seconds(60));
  EXPECT_EQ(pins.size(), 0u);
}

TEST(PinSetTest, MappedAddressesAreNormalized) {
  FakeClock clock;
  PinSet pins(clock);
  // An AAAA answer carrying an IPv4-mapped address pins the IPv4 address.
  pins.Update("m.example", IpFamily::kV6, Ips({"::ffff:198.51.100.5", "64:ff9b::c633:6406"}),
              seconds(60));
  EXPECT_EQ(pins.AddressesFor("m.example", IpFamily::kV6), Ips({"198.51.100.5", "198.51.100.6"}));
  EXPECT_THAT(pins.NamesFor(Ip("198.51.100.5")), ElementsAre("m.example"));
  EXPECT_THAT(pins.NamesFor(Ip("::ffff:198.51.100.5")), ElementsAre("m.example"));
  EXPECT_TRUE(Matches(pins, "::ffff:198.51.100.6", Destination::OfDomain("m.example")));
  // The same name through both families is reported once.
  pins.Update("m.example", IpFamily::kV4, Ips({"198.51.100.5"}), seconds(60));
  EXPECT_THAT(pins.NamesFor(Ip("198.51.100.5")), ElementsAre("m.example"));
  pins.Clear("m.example", IpFamily::kV6);
  EXPECT_THAT(pins.NamesFor(Ip("::ffff:198.51.100.5")), ElementsAre("m.example"));
  EXPECT_THAT(pins.NamesFor(Ip("198.51.100.6")), IsEmpty());
}

TEST(PinSetTest, DuplicatesCollapseAndAddressesPerNameAreCapped) {
  FakeClock clock;
  PinSet pins(clock);
  pins.Update("d.example", IpFamily::kV4,
              Ips({"203.0.113.1", "203.0.113.1", "::ffff:203.0.113.1", "203.0.113.2"}),
              seconds(60));
  EXPECT_EQ(pins.AddressesFor("d.example", IpFamily::kV4), Ips({"203.0.113.1", "203.0.113.2"}));

  std::vector<IpAddress> many;
  for (uint32_t i = 0; i < PinSet::kMaxAddressesPerName + 10; ++i) {
    many.push_back(IpAddress::V4(0xCB007100u + i));  // 203.0.113.0 onwards
  }
  pins.Update("many.example", IpFamily::kV4, many, seconds(60));
  std::vector<IpAddress> kept = pins.AddressesFor("many.example", IpFamily::kV4);
  ASSERT_EQ(kept.size(), PinSet::kMaxAddressesPerName);
  EXPECT_TRUE(std::equal(kept.begin(), kept.end(), many.begin()));  // the first ones
  EXPECT_THAT(pins.NamesFor(many[PinSet::kMaxAddressesPerName - 1]), ElementsAre("many.example"));
  EXPECT_THAT(pins.NamesFor(many[PinSet::kMaxAddressesPerName]), IsEmpty());
}

TEST(PinSetTest, EvictsTheLeastRecentlyUpdated) {
  FakeClock clock;
  PinSet pins(clock, 3);
  pins.Update("a.example", IpFamily::kV4, Ips({"203.0.113.1"}), seconds(60));
  pins.Update("b.example", IpFamily::kV4, Ips({"203.0.113.2", "203.0.113.9"}), seconds(60));
  pins.Update("c.example", IpFamily::kV4, Ips({"203.0.113.3", "203.0.113.9"}), seconds(60));
  // Re-updating a makes b the oldest; reading b does not refresh it.
  pins.Update("a.example", IpFamily::kV4, Ips({"203.0.113.1"}), seconds(60));
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.2")), ElementsAre("b.example"));
  pins.Update("d.example", IpFamily::kV4, Ips({"203.0.113.4"}), seconds(60));
  EXPECT_EQ(pins.size(), 3u);
  EXPECT_THAT(pins.AddressesFor("b.example", IpFamily::kV4), IsEmpty());
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.2")), IsEmpty());
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.9")), ElementsAre("c.example"));
  EXPECT_FALSE(Matches(pins, "203.0.113.9", Destination::OfDomain("b.example")));
  pins.Update("e.example", IpFamily::kV6, Ips({"2001:db8::5"}), seconds(60));
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.9")), IsEmpty());  // c went next
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.3")), IsEmpty());
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.1")), ElementsAre("a.example"));
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.4")), ElementsAre("d.example"));
  EXPECT_THAT(pins.NamesFor(Ip("2001:db8::5")), ElementsAre("e.example"));
  // Clearing frees a slot, so the next insert evicts nothing.
  pins.Clear("a.example", IpFamily::kV4);
  pins.Update("f.example", IpFamily::kV4, Ips({"203.0.113.6"}), seconds(60));
  EXPECT_EQ(pins.size(), 3u);
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.4")), ElementsAre("d.example"));
}

TEST(PinSetTest, ExactAndSuffixMatching) {
  FakeClock clock;
  PinSet pins(clock);
  pins.Update("api.example.com", IpFamily::kV4, Ips({"198.51.100.1"}), seconds(60));
  pins.Update("example.com", IpFamily::kV4, Ips({"198.51.100.2"}), seconds(60));
  pins.Update("evilexample.com", IpFamily::kV4, Ips({"198.51.100.3"}), seconds(60));
  const Destination exact = Destination::OfDomain("example.com");
  const Destination suffix = Destination::OfSuffix("example.com");
  EXPECT_FALSE(Matches(pins, "198.51.100.1", exact));
  EXPECT_TRUE(Matches(pins, "198.51.100.1", suffix));
  EXPECT_TRUE(Matches(pins, "198.51.100.2", exact));
  EXPECT_TRUE(Matches(pins, "198.51.100.2", suffix));
  EXPECT_FALSE(Matches(pins, "198.51.100.3", exact));
  EXPECT_FALSE(Matches(pins, "198.51.100.3", suffix));
  EXPECT_FALSE(Matches(pins, "198.51.100.1", Destination::OfDomain("api.example.co")));
  EXPECT_FALSE(Matches(pins, "198.51.100.1", Destination::OfSuffix("pi.example.com")));
  // Non-name destinations never match through pins.
  EXPECT_FALSE(Matches(pins, "198.51.100.1", Destination::Any()));
  EXPECT_FALSE(Matches(pins, "198.51.100.1", Destination::OfGroup(Group::kPublic)));
  EXPECT_FALSE(
      Matches(pins, "198.51.100.1", Destination::OfCidr(testing::Prefix("198.51.100.0/24"))));
}

TEST(PinSetTest, SweepDropsOnlyExpiredEntries) {
  FakeClock clock;
  PinSet pins(clock);
  pins.Update("short.example", IpFamily::kV4, Ips({"203.0.113.1", "203.0.113.9"}), seconds(5));
  pins.Update("long.example", IpFamily::kV4, Ips({"203.0.113.2", "203.0.113.9"}), seconds(50));
  pins.Update("short.example", IpFamily::kV6, Ips({"2001:db8::1"}), seconds(5));
  clock.Advance(seconds(5));
  pins.Sweep();
  EXPECT_EQ(pins.size(), 1u);
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.9")), ElementsAre("long.example"));
  // Re-adding the swept name works and the reverse index has no stale keys.
  pins.Update("short.example", IpFamily::kV4, Ips({"203.0.113.2"}), seconds(5));
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.2")), ElementsAre("long.example", "short.example"));
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.1")), IsEmpty());
  clock.Advance(seconds(100));
  pins.Sweep();
  EXPECT_EQ(pins.size(), 0u);
}

TEST(PinSetTest, ZeroCapacityHoldsNothing) {
  FakeClock clock;
  PinSet pins(clock, 0);
  pins.Update("a.example", IpFamily::kV4, Ips({"203.0.113.1"}), seconds(60));
  EXPECT_EQ(pins.size(), 0u);
  EXPECT_THAT(pins.NamesFor(Ip("203.0.113.1")), IsEmpty());
}

// Model is the obvious implementation: a list of entries, most recently updated last.
struct ModelEntry {
  std::string name;
  IpFamily family;
  std::vector<IpAddress> addresses;
  TimePoint expires;
};

class Model {
 public:
  explicit Model(size_t max_names) : max_names_(max_names) {}

  void Update(const std::string& name, IpFamily family, const std::vector<IpAddress>& addresses,
              Duration ttl, TimePoint now) {
    Clear(name, family);
    std::vector<IpAddress> kept;
    for (const IpAddress& a : addresses) {
      IpAddress n = a.Normalized();
      if (a.family() == family && std::find(kept.begin(), kept.end(), n) == kept.end() &&
          kept.size() < PinSet::kMaxAddressesPerName) {
        kept.push_back(n);
      }
    }
    if (kept.empty()) {
      return;
    }
    entries_.push_back({name, family, kept, now + std::max(ttl, Duration(seconds(1)))});
    if (entries_.size() > max_names_) {
      entries_.erase(entries_.begin());
    }
  }
  void Clear(const std::string& name, IpFamily family) {
    std::erase_if(entries_,
                  [&](const ModelEntry& e) { return e.name == name && e.family == family; });
  }
  void Sweep(TimePoint now) {
    std::erase_if(entries_, [&](const ModelEntry& e) { return e.expires <= now; });
  }
  std::vector<std::string> NamesFor(const IpAddress& ip, TimePoint now) const {
    std::set<std::string> names;
    for (const ModelEntry& e : entries_) {
      if (e.expires > now &&
          std::find(e.addresses.begin(), e.addresses.end(), ip.Normalized()) != e.addresses.end()) {
        names.insert(e.name);
      }
    }
    return {names.begin(), names.end()};
  }
  std::vector<IpAddress> AddressesFor(const std::string& name, IpFamily family,
                                      TimePoint now) const {
    for (const ModelEntry& e : entries_) {
      if (e.name == name && e.family == family && e.expires > now) {
        return e.addresses;
      }
    }
    return {};
  }
  size_t size() const { return entries_.size(); }

 private:
  size_t max_names_;
  std::vector<ModelEntry> entries_;
};

TEST(PinSetTest, RandomOperationsAgreeWithAModel) {
  const std::vector<std::string> names = {"a.example",   "b.example", "c.example", "x.a.example",
                                          "y.b.example", "d.test",    "e.test",    "f.test"};
  // A small address pool (both families, some mapped forms) so names share addresses often.
  const std::vector<IpAddress> pool = Ips(
      {"203.0.113.1", "203.0.113.2", "203.0.113.3", "198.51.100.4", "::ffff:203.0.113.1",
       "::ffff:198.51.100.9", "2001:db8::1", "2001:db8::2", "2001:db8::3", "64:ff9b::cb00:7102"});
  std::mt19937 rng(12345);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  FakeClock clock;
  constexpr size_t kMaxNames = 6;
  PinSet pins(clock, kMaxNames);
  Model model(kMaxNames);
  for (int step = 0; step < 20000; ++step) {
    const std::string& name = names[pick(names.size())];
    IpFamily family = pick(2) == 0 ? IpFamily::kV4 : IpFamily::kV6;
    switch (pick(10)) {
      case 0:
      case 1:
      case 2:
      case 3: {
        std::vector<IpAddress> addresses;
        size_t count = pick(5);
        for (size_t i = 0; i < count; ++i) {
          addresses.push_back(pool[pick(pool.size())]);
        }
        Duration ttl = seconds(static_cast<int64_t>(pick(6)));
        pins.Update(name, family, addresses, ttl);
        model.Update(name, family, addresses, ttl, clock.Now());
        break;
      }
      case 4:
        pins.Clear(name, family);
        model.Clear(name, family);
        break;
      case 5:
        pins.Sweep();
        model.Sweep(clock.Now());
        break;
      case 6:
      case 7:
        clock.Advance(milliseconds(static_cast<int64_t>(pick(1500))));
        break;
      default:
        break;
    }
    ASSERT_EQ(pins.size(), model.size()) << "step " << step;
    ASSERT_LE(pins.size(), kMaxNames);
    for (const IpAddress& ip : pool) {
      std::vector<std::string> expected = model.NamesFor(ip, clock.Now());
      ASSERT_EQ(pins.NamesFor(ip), expected) << "step " << step << " ip " << ip.ToString();
      for (const std::string& n : names) {
        bool exact = std::find(expected.begin(), expected.end(), n) != expected.end();
        ASSERT_EQ(pins.PinnedNameMatches(ip, Destination::OfDomain(n)), exact)
            << "step " << step << " " << n;
      }
      bool under_a = std::any_of(expected.begin(), expected.end(), [](const std::string& n) {
        return NameHasSuffix(n, "a.example");
      });
      ASSERT_EQ(pins.PinnedNameMatches(ip, Destination::OfSuffix("a.example")), under_a);
    }
    const std::string& probe = names[pick(names.size())];
    for (IpFamily f : {IpFamily::kV4, IpFamily::kV6}) {
      ASSERT_EQ(pins.AddressesFor(probe, f), model.AddressesFor(probe, f, clock.Now()))
          << "step " << step << " " << probe;
    }
  }
}

}  // namespace
}  // namespace msb::policy
