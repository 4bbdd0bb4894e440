// LeafCache: hits hand out the same shared leaf, LRU eviction order, capacity default, renewal
// before expiry with the injected clock, one mint for N concurrent callers, failed mints neither
// cached nor poisoning, and (CA, name) keying.
#include "certs/leaf_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "tests/certs/test_pki.h"

namespace msb::certs {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1780000000;
constexpr int64_t kHour = 3600;

ServerName Name(std::string_view text) {
  return ParseServerName(text).value();
}

std::shared_ptr<const InterceptCa> NewCa(int64_t now) {
  auto gen = GenerateCaPem(now);
  return InterceptCa::FromPem(gen.value().cert_pem, gen.value().key_pem, "ca",
                              [now] { return now; })
      .value();
}

class LeafCacheTest : public ::testing::Test {
 protected:
  LeafCacheTest() : ca_(NewCa(kNow)) { minter_ = MakeMinter(ca_, Clock()); }

  WallClock Clock() {
    return [this] { return now_.load(); };
  }
  static std::shared_ptr<const LeafMinter> MakeMinter(std::shared_ptr<const InterceptCa> ca,
                                                      WallClock clock) {
    auto m = LeafMinter::Create(std::move(ca), {}, std::move(clock));
    EXPECT_TRUE(m.ok());
    return m.value();
  }
  std::shared_ptr<const Leaf> Get(LeafCache& cache, std::string_view name) {
    auto r = cache.Get(*minter_, Name(name));
    EXPECT_TRUE(r.ok()) << r.error();
    return r.ok() ? r.value() : nullptr;
  }

  std::atomic<int64_t> now_{kNow};
  std::shared_ptr<const InterceptCa> ca_;
  std::shared_ptr<const LeafMinter> minter_;
};

TEST_F(LeafCacheTest, HitReturnsTheSameLeaf) {
  LeafCache cache({}, Clock());
  auto a = Get(cache, "a.example");
  auto a2 = Get(cache, "A.Example.");  // canonicalised by ParseServerName: the same key
  EXPECT_EQ(a.get(), a2.get());
  auto b = Get(cache, "b.example");
  EXPECT_NE(a.get(), b.get());
  LeafCache::Stats s = cache.stats();
  EXPECT_EQ(s.hits, 1U);
  EXPECT_EQ(s.misses, 2U);
  EXPECT_EQ(s.mints, 2U);
  EXPECT_EQ(s.size, 2U);
  EXPECT_EQ(s.evictions, 0U);
  EXPECT_EQ(s.coalesced_waits, 0U);
}

TEST_F(LeafCacheTest, EvictsLeastRecentlyUsed) {
  LeafCache cache({3, 3600}, Clock());
  auto a = Get(cache, "a.x");
  auto b = Get(cache, "b.x");
  auto c = Get(cache, "c.x");
  EXPECT_EQ(Get(cache, "a.x").get(), a.get());  // a is now the most recent: b is the LRU
  Get(cache, "d.x");                            // evicts b
  EXPECT_EQ(cache.stats().evictions, 1U);
  EXPECT_EQ(cache.stats().size, 3U);
  EXPECT_EQ(Get(cache, "a.x").get(), a.get());
  EXPECT_EQ(Get(cache, "c.x").get(), c.get());
  uint64_t mints = cache.stats().mints;
  EXPECT_NE(Get(cache, "b.x").get(), b.get());  // re-minted; evicts d (LRU after a, c touches)
  EXPECT_EQ(cache.stats().mints, mints + 1);
  EXPECT_EQ(cache.stats().evictions, 2U);
  EXPECT_EQ(Get(cache, "a.x").get(), a.get());
  EXPECT_EQ(Get(cache, "c.x").get(), c.get());
}

TEST_F(LeafCacheTest, CapacityZeroMeansDefault) {
  EXPECT_EQ(LeafCache({0, 3600}).capacity(), 1000U);
  EXPECT_EQ(LeafCache(LeafCacheOptions{}).capacity(), 1000U);
  EXPECT_EQ(LeafCache({7, 3600}).capacity(), 7U);
}

TEST_F(LeafCacheTest, RenewsBeforeExpiry) {
  LeafCache cache({}, Clock());
  auto first = Get(cache, "long-running.example");
  EXPECT_EQ(first->not_after(), kNow + 24 * kHour);
  now_ = kNow + 22 * kHour;  // 2 h left: more than the 1 h margin
  EXPECT_EQ(Get(cache, "long-running.example").get(), first.get());
  now_ = kNow + 23 * kHour + 1;  // under 1 h left: renew
  auto second = Get(cache, "long-running.example");
  EXPECT_NE(second.get(), first.get());
  EXPECT_EQ(second->not_after(), now_ + 24 * kHour);
  now_ = kNow + 30 * kHour;  // `second` (minted at 23 h) still has 17 h: a hit
  EXPECT_EQ(Get(cache, "long-running.example").get(), second.get());
  EXPECT_EQ(cache.stats().renewals, 1U);
  now_ = kNow + 48 * kHour;  // `second` expired at 47 h
  auto fourth = Get(cache, "long-running.example");
  EXPECT_NE(fourth.get(), second.get());
  EXPECT_EQ(fourth->not_after(), kNow + 72 * kHour);
  EXPECT_EQ(cache.stats().renewals, 2U);
  EXPECT_EQ(cache.stats().size, 1U);
  // A clock stepped back before the leaf's notBefore also re-mints.
  now_ = kNow - 3 * 24 * kHour;
  auto fifth = Get(cache, "long-running.example");
  EXPECT_NE(fifth.get(), fourth.get());
  EXPECT_LE(fifth->not_before(), now_.load());
}

TEST_F(LeafCacheTest, ThirtyHoursLaterGetReturnsAFreshLeaf) {
  LeafCache cache({}, Clock());
  auto first = Get(cache, "days.example");
  now_ = kNow + 30 * kHour;
  auto fresh = Get(cache, "days.example");
  EXPECT_NE(fresh.get(), first.get());
  EXPECT_GT(fresh->not_after(), first->not_after());
  EXPECT_EQ(fresh->not_after(), kNow + 54 * kHour);
  EXPECT_LE(fresh->not_before(), now_.load());
  EXPECT_EQ(cache.stats().renewals, 1U);
  EXPECT_EQ(cache.stats().size, 1U);
}

TEST_F(LeafCacheTest, MarginIsCappedAtHalfTheLifetime) {
  auto short_minter = LeafMinter::Create(ca_, LeafOptions{1800, 0}, Clock()).value();
  LeafCache cache({100, 3600}, Clock());  // margin 1 h > lifetime 30 min
  auto a = cache.Get(*short_minter, Name("s.example")).value();
  EXPECT_EQ(cache.Get(*short_minter, Name("s.example")).value().get(), a.get());
  now_ = kNow + 901;  // past half of the lifetime
  EXPECT_NE(cache.Get(*short_minter, Name("s.example")).value().get(), a.get());
}

TEST_F(LeafCacheTest, KeyedByCaAndName) {
  LeafCache cache({}, Clock());
  auto other_minter = MakeMinter(NewCa(kNow), Clock());
  auto mine = cache.Get(*minter_, Name("same.example")).value();
  auto theirs = cache.Get(*other_minter, Name("same.example")).value();
  EXPECT_NE(mine.get(), theirs.get());
  EXPECT_NE(mine->ca_fingerprint(), theirs->ca_fingerprint());
  EXPECT_EQ(cache.Get(*minter_, Name("same.example")).value().get(), mine.get());
  EXPECT_EQ(cache.Get(*other_minter, Name("same.example")).value().get(), theirs.get());
  EXPECT_EQ(cache.stats().size, 2U);
}

// A minter whose clock blocks inside Mint until `waiters` other callers are waiting in the cache:
// this is what makes the coalescing test deterministic rather than a hopeful race.
struct GatedClock {
  std::atomic<int64_t>* now;
  LeafCache* cache;
  uint64_t waiters;
  int64_t operator()() const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (cache->stats().coalesced_waits < waiters &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return now->load();
  }
};

TEST_F(LeafCacheTest, ConcurrentGetsCoalesceIntoOneMint) {
  constexpr int kThreads = 8;
  LeafCache cache({}, Clock());
  auto gated = MakeMinter(ca_, GatedClock{&now_, &cache, kThreads - 1});
  std::vector<std::shared_ptr<const Leaf>> got(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = cache.Get(*gated, Name("popular.example"));
      if (r.ok()) {
        got[i] = r.value();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const auto& leaf : got) {
    ASSERT_TRUE(leaf);
    EXPECT_EQ(leaf.get(), got[0].get());
  }
  LeafCache::Stats s = cache.stats();
  EXPECT_EQ(s.mints, 1U);
  EXPECT_EQ(s.misses, 1U);
  EXPECT_EQ(s.coalesced_waits, static_cast<uint64_t>(kThreads - 1));
  EXPECT_EQ(s.hits, 0U);
}

TEST_F(LeafCacheTest, FailedMintIsSharedButNotCached) {
  constexpr int kThreads = 4;
  LeafCache cache({}, Clock());
  // The CA expires at kNow + 3652 days; a clock beyond it makes every mint fail.
  std::atomic<int64_t> broken{kNow + 4000 * 24 * kHour};
  auto failing = MakeMinter(ca_, GatedClock{&broken, &cache, kThreads - 1});
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      auto r = cache.Get(*failing, Name("doomed.example"));
      if (!r.ok() && r.error().find("the intercept CA expired") != std::string::npos) {
        failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), kThreads);
  EXPECT_EQ(cache.stats().mint_failures, 1U);
  EXPECT_EQ(cache.stats().size, 0U);
  // The same minter with a sane clock now succeeds: nothing was poisoned.
  broken = kNow;
  auto later = cache.Get(*failing, Name("doomed.example"));
  ASSERT_TRUE(later.ok()) << later.error();
  EXPECT_EQ(cache.stats().mints, 1U);
  EXPECT_EQ(cache.stats().size, 1U);
}

TEST_F(LeafCacheTest, ManyThreadsManyNames) {
  LeafCache cache({16, 3600}, Clock());
  constexpr int kThreads = 4;
  constexpr int kGets = 200;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kGets; ++i) {
        std::string name = "n" + std::to_string((i * 7 + t) % 24) + ".example";
        auto r = cache.Get(*minter_, Name(name));
        if (!r.ok() || r.value()->name().text != name) {
          errors.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(errors.load(), 0);
  LeafCache::Stats s = cache.stats();
  EXPECT_EQ(s.hits + s.misses + s.coalesced_waits, static_cast<uint64_t>(kThreads * kGets));
  EXPECT_LE(s.size, 16U);
  EXPECT_EQ(s.mints, s.misses);
  EXPECT_EQ(s.evictions, s.mints - s.size);
}

// Prints the hit and miss cost (not pass/fail: the VM is shared).
TEST_F(LeafCacheTest, HitAndMissCost) {
  LeafCache cache({}, Clock());
  constexpr int kNames = 200;
  std::vector<ServerName> names;
  for (int i = 0; i < kNames; ++i) {
    names.push_back(Name("cost" + std::to_string(i) + ".example.com"));
  }
  testing::CostMeter miss_meter;
  for (const auto& n : names) {
    ASSERT_TRUE(cache.Get(*minter_, n).ok());
  }
  testing::Cost miss = miss_meter.Per(kNames);
  constexpr int kRounds = 100;
  testing::CostMeter hit_meter;
  for (int r = 0; r < kRounds; ++r) {
    for (const auto& n : names) {
      if (!cache.Get(*minter_, n).ok()) {
        FAIL();
      }
    }
  }
  testing::Cost hit = hit_meter.Per(kNames * kRounds);
  EXPECT_EQ(cache.stats().hits, static_cast<uint64_t>(kNames * kRounds));
  std::printf(
      "[ measure  ] cache miss (mint): %.1f us wall, %.1f us CPU; hit: %.3f us wall, "
      "%.3f us CPU\n",
      miss.wall_us, miss.cpu_us, hit.wall_us, hit.cpu_us);
}

}  // namespace
}  // namespace msb::certs
