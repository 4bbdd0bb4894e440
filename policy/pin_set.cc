// The DNS-to-IP pin set (pin_set.h): forward map (name, family) -> addresses with an expiry, an LRU
// list bounding it, and a reverse index address -> keys that every mutation keeps exactly in step,
// so a lookup by destination IP never scans the whole set and memory never outgrows max_names.
#include "policy/pin_set.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <utility>

#include "policy/domain_name.h"

namespace msb::policy {
namespace {

constexpr Duration kMinTtl = std::chrono::seconds(1);

// ExpiryFor is now + max(ttl, 1 s), saturating instead of overflowing for absurd TTLs.
TimePoint ExpiryFor(TimePoint now, Duration ttl) {
  Duration lifetime = std::max(ttl, kMinTtl);
  if (lifetime >= TimePoint::max() - now) {
    return TimePoint::max();
  }
  return now + lifetime;
}

// An entry is live strictly before its expiry: a 1 s pin made at t is gone at exactly t + 1 s.
bool Live(TimePoint expires, TimePoint now) {
  return now < expires;
}

bool NameMatches(std::string_view pinned, const Destination& dest) {
  switch (dest.kind) {
    case Destination::Kind::kDomain:
      return pinned == dest.name;
    case Destination::Kind::kDomainSuffix:
      return NameHasSuffix(pinned, dest.name);
    case Destination::Kind::kAny:
    case Destination::Kind::kGroup:
    case Destination::Kind::kCidr:
      return false;
  }
  return false;
}

}  // namespace

PinSet::PinSet(const Clock& clock, size_t max_names) : clock_(clock), max_names_(max_names) {}

void PinSet::Update(std::string_view name, IpFamily family, std::span<const IpAddress> addresses,
                    Duration ttl) {
  // The family test uses the address as answered (an AAAA record is IPv6 even when it embeds an
  // IPv4 address); storage uses the normalized form, which is how connections are looked up.
  std::vector<IpAddress> kept;
  for (const IpAddress& raw : addresses) {
    if (raw.family() != family) {
      continue;
    }
    IpAddress ip = raw.Normalized();
    if (std::find(kept.begin(), kept.end(), ip) != kept.end()) {
      continue;
    }
    kept.push_back(ip);
    if (kept.size() == kMaxAddressesPerName) {
      break;
    }
  }
  Key key{std::string(name), family};
  // Replacing is removing and inserting afresh: the old addresses leave the reverse index, and the
  // entry becomes the most recently updated one.
  if (auto it = entries_.find(key); it != entries_.end()) {
    Remove(it);
  }
  if (kept.empty()) {
    return;  // an empty answer (or none of this family) clears the pins
  }
  for (const IpAddress& ip : kept) {
    by_address_[ip].push_back(key);
  }
  lru_.push_back(key);
  Entry entry{std::move(kept), ExpiryFor(clock_.Now(), ttl), std::prev(lru_.end())};
  entries_.emplace(std::move(key), std::move(entry));
  while (entries_.size() > max_names_) {
    Remove(entries_.find(lru_.front()));
  }
}

void PinSet::Clear(std::string_view name, IpFamily family) {
  if (auto it = entries_.find(Key{std::string(name), family}); it != entries_.end()) {
    Remove(it);
  }
}

void PinSet::Remove(std::map<Key, Entry>::iterator it) {
  const Key& key = it->first;
  for (const IpAddress& ip : it->second.addresses) {
    auto rev = by_address_.find(ip);
    if (rev == by_address_.end()) {
      continue;  // unreachable while the index is consistent
    }
    std::vector<Key>& keys = rev->second;
    keys.erase(
        std::remove_if(keys.begin(), keys.end(),
                       [&](const Key& k) { return k.name == key.name && k.family == key.family; }),
        keys.end());
    if (keys.empty()) {
      by_address_.erase(rev);
    }
  }
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

std::vector<std::string> PinSet::NamesFor(const IpAddress& ip) const {
  std::vector<std::string> names;
  auto rev = by_address_.find(ip.Normalized());
  if (rev == by_address_.end()) {
    return names;
  }
  TimePoint now = clock_.Now();
  for (const Key& key : rev->second) {
    auto it = entries_.find(key);
    if (it != entries_.end() && Live(it->second.expires, now)) {
      names.push_back(key.name);
    }
  }
  // One name can pin an address through both families (an AAAA answer embedding IPv4).
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::vector<IpAddress> PinSet::AddressesFor(std::string_view name, IpFamily family) const {
  auto it = entries_.find(Key{std::string(name), family});
  if (it == entries_.end() || !Live(it->second.expires, clock_.Now())) {
    return {};
  }
  return it->second.addresses;
}

bool PinSet::PinnedNameMatches(const IpAddress& ip, const Destination& dest) const {
  if (!dest.is_name()) {
    return false;
  }
  auto rev = by_address_.find(ip.Normalized());
  if (rev == by_address_.end()) {
    return false;
  }
  TimePoint now = clock_.Now();
  for (const Key& key : rev->second) {
    auto it = entries_.find(key);
    if (it != entries_.end() && Live(it->second.expires, now) && NameMatches(key.name, dest)) {
      return true;
    }
  }
  return false;
}

void PinSet::Sweep() {
  TimePoint now = clock_.Now();
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (!Live(it->second.expires, now)) {
      Remove(it);
    }
    it = next;
  }
}

}  // namespace msb::policy
