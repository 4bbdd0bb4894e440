// PinSet: the DNS-to-IP pin set. For each name the guest resolved through the gateway, and each
// address family, the addresses the gateway answered, until the answer's TTL runs out. Domain and
// suffix rules trust a destination IP only through this set (it implements NameEvidence), and so
// will TLS SNI checks and secret injection. Pure: time comes from the injected clock.
//
// Semantics: a new answer for (name, family) replaces the previous set; an error or empty answer
// clears it; TTLs are floored at 1 s. Families are kept apart (an AAAA answer never touches the A
// pins). Addresses are stored normalized (IPv4-mapped IPv6 becomes IPv4). The set is bounded:
// beyond `max_names` (name, family) entries the least recently updated is evicted, and at most
// kMaxAddressesPerName addresses are kept per entry. A reverse index maps each address to the
// entries that pin it.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/ip_address.h"
#include "policy/evaluator.h"

namespace msb::policy {

class PinSet final : public NameEvidence {
 public:
  static constexpr size_t kDefaultMaxNames = 65536;
  static constexpr size_t kMaxAddressesPerName = 64;

  explicit PinSet(const Clock& clock, size_t max_names = kDefaultMaxNames);

  // Update replaces the pins of (`name`, `family`) with `addresses` (those of another family are
  // ignored) for max(`ttl`, 1 s). Empty `addresses` clears the entry. `name` must be canonical
  // (lowercase, no trailing dot).
  void Update(std::string_view name, IpFamily family, std::span<const IpAddress> addresses,
              Duration ttl);
  void Clear(std::string_view name, IpFamily family);

  // NamesFor returns the live names pinned to `ip` (sorted, unique).
  std::vector<std::string> NamesFor(const IpAddress& ip) const;
  // AddressesFor returns the live addresses pinned to (`name`, `family`).
  std::vector<IpAddress> AddressesFor(std::string_view name, IpFamily family) const;

  bool PinnedNameMatches(const IpAddress& ip, const Destination& dest) const override;

  // Sweep drops expired entries (lookups ignore them anyway; this bounds memory).
  void Sweep();
  size_t size() const { return entries_.size(); }

 private:
  struct Key {
    std::string name;
    IpFamily family;
    friend bool operator<(const Key& a, const Key& b) {
      return a.name != b.name ? a.name < b.name : a.family < b.family;
    }
  };
  struct Entry {
    std::vector<IpAddress> addresses;
    TimePoint expires;
    std::list<Key>::iterator lru;  // position in lru_ (front = least recently updated)
  };
  void Remove(std::map<Key, Entry>::iterator it);

  const Clock& clock_;
  size_t max_names_;
  std::map<Key, Entry> entries_;
  std::list<Key> lru_;
  std::unordered_map<IpAddress, std::vector<Key>, IpAddressHash> by_address_;
};

}  // namespace msb::policy
