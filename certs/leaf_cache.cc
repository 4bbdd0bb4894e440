// LeafCache (see leaf_cache.h). One mutex guards the LRU, the index and the in-flight table; mints
// run outside it, so different names mint in parallel and a hit never waits for a mint.
#include "certs/leaf_cache.h"

#include <algorithm>
#include <functional>

namespace msb::certs {

size_t LeafCache::KeyHash::operator()(const KeyView& k) const {
  size_t h = std::hash<std::string_view>()(k.name);
  return h ^ (std::hash<std::string_view>()(k.ca) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
}

LeafCache::LeafCache(LeafCacheOptions options, WallClock clock)
    : capacity_(options.capacity == 0 ? LeafCacheOptions().capacity : options.capacity),
      renew_margin_(std::max<int64_t>(options.renew_margin_seconds, 0)),
      clock_(clock ? std::move(clock) : SystemWallClock()) {}

bool LeafCache::NeedsRenewal(const Leaf& leaf, int64_t now) const {
  int64_t margin = std::min(renew_margin_, (leaf.not_after() - leaf.minted_at()) / 2);
  return now < leaf.not_before() || leaf.not_after() - now <= margin;
}

void LeafCache::InsertLocked(Key key, std::shared_ptr<const Leaf> leaf) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    it->second->leaf = std::move(leaf);
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{key, std::move(leaf)});
  index_.emplace(std::move(key), lru_.begin());
  while (lru_.size() > capacity_) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
    ++stats_.evictions;
  }
}

Result<std::shared_ptr<const Leaf>> LeafCache::Get(const LeafMinter& minter,
                                                   const ServerName& name) {
  KeyView view{minter.ca().fingerprint_sha256(), name.text};
  std::unique_lock<std::mutex> lock(mu_);
  int64_t now = clock_();
  auto it = index_.find(view);
  if (it != index_.end() && !NeedsRenewal(*it->second->leaf, now)) {
    ++stats_.hits;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->leaf;
  }
  if (auto pit = inflight_.find(view); pit != inflight_.end()) {
    std::shared_ptr<Pending> pending = pit->second;
    ++stats_.coalesced_waits;
    pending->done_cv.wait(lock, [&] { return pending->done; });
    if (!pending->leaf) {
      return Status::Error(pending->error);
    }
    return pending->leaf;
  }
  ++stats_.misses;
  if (it != index_.end()) {
    ++stats_.renewals;
  }
  auto pending = std::make_shared<Pending>();
  Key key{std::string(view.ca), std::string(view.name)};
  inflight_.emplace(key, pending);
  lock.unlock();
  auto minted = minter.Mint(name);
  lock.lock();
  inflight_.erase(key);
  pending->done = true;
  if (minted.ok()) {
    ++stats_.mints;
    pending->leaf = minted.value();
    InsertLocked(std::move(key), minted.value());
  } else {
    ++stats_.mint_failures;
    pending->error = minted.error();
  }
  pending->done_cv.notify_all();
  return minted;
}

LeafCache::Stats LeafCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.size = lru_.size();
  return s;
}

}  // namespace msb::certs
