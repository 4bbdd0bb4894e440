// LeafCache: an LRU of minted leaves keyed by (CA fingerprint, canonical server name), shared by
// every connection. Thread-safe. Concurrent Gets for one name coalesce into ONE mint: the first
// caller mints outside the lock, the others wait for its result. A failed mint is handed to the
// callers that waited for it and is not cached: the next Get mints again.
//
// Leaves carry their own key and chain, so minters that share a CA (same fingerprint) share
// entries.
//
// Renewal: an entry is re-minted when it would expire within the renew margin (default 1 h;
// effectively min(margin, half the leaf's lifetime)), or when the clock has gone back before its
// notBefore, so a cached leaf never expires under a sandbox that runs for days.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"
#include "certs/leaf_minter.h"
#include "certs/server_name.h"
#include "certs/wall_clock.h"

namespace msb::certs {

struct LeafCacheOptions {
  size_t capacity = 1000;  // 0 means the default
  int64_t renew_margin_seconds = 3600;
};

class LeafCache {
 public:
  // `clock` decides expiry; give it the minters' clock.
  explicit LeafCache(LeafCacheOptions options = {}, WallClock clock = SystemWallClock());
  LeafCache(const LeafCache&) = delete;
  LeafCache& operator=(const LeafCache&) = delete;

  // Get returns the leaf for `name` under `minter`'s CA: a cached one (a hit: no allocation, no
  // certificate copy, just a shared_ptr), or a fresh one from minter.Mint (inserted at the front,
  // evicting the least recently used entry beyond capacity). Errors are Mint's.
  Result<std::shared_ptr<const Leaf>> Get(const LeafMinter& minter, const ServerName& name);

  // Every Get is counted as exactly one of: hit, miss (it minted; `renewals` of those replaced an
  // entry near expiry), or coalesced_wait (it waited for another caller's mint).
  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t renewals = 0;
    uint64_t coalesced_waits = 0;
    uint64_t mints = 0;  // successful mints
    uint64_t mint_failures = 0;
    uint64_t evictions = 0;
    size_t size = 0;
  };
  Stats stats() const;
  size_t capacity() const { return capacity_; }

 private:
  struct Key {
    std::string ca;
    std::string name;
  };
  struct KeyView {
    std::string_view ca;
    std::string_view name;
  };
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const KeyView& k) const;
    size_t operator()(const Key& k) const { return (*this)(KeyView{k.ca, k.name}); }
  };
  struct KeyEq {
    using is_transparent = void;
    static KeyView View(const Key& k) { return KeyView{k.ca, k.name}; }
    static KeyView View(const KeyView& k) { return k; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(a).ca == View(b).ca && View(a).name == View(b).name;
    }
  };
  struct Entry {
    Key key;
    std::shared_ptr<const Leaf> leaf;
  };
  struct Pending {
    std::condition_variable done_cv;
    bool done = false;
    std::shared_ptr<const Leaf> leaf;  // null when the mint failed
    std::string error;
  };

  bool NeedsRenewal(const Leaf& leaf, int64_t now) const;
  void InsertLocked(Key key, std::shared_ptr<const Leaf> leaf);

  const size_t capacity_;
  const int64_t renew_margin_;
  const WallClock clock_;

  mutable std::mutex mu_;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<Key, std::list<Entry>::iterator, KeyHash, KeyEq> index_;
  std::unordered_map<Key, std::shared_ptr<Pending>, KeyHash, KeyEq> inflight_;
  Stats stats_;
};

}  // namespace msb::certs
