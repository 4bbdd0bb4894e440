// HostPattern: the one host-pattern grammar of msb-gateway, used by --tls-bypass,
// --tls-upstream-ca-cert-for, --tls-no-verify-upstream-for and secrets' allowed hosts.
//
//   exact.example.com   that name only
//   *.example.com       example.com itself AND every name below it, label-aware: never
//                       evilexample.com. A one-label suffix (*.internal) is allowed.
//   10.0.0.1, 2001:db8::1, [2001:db8::1]
//                       that IP literal only (an upstream addressed by IP has no host name)
//   *                   every host; only where the caller passes allow_any
//
// Matching is case-insensitive and ignores one trailing dot. Names are validated exactly as
// server names are (base/hostname.h), so a pattern can never name a host the SNI parser rejects.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace msb {

class HostPattern {
 public:
  enum class Kind : uint8_t { kExact, kWildcard, kAny };

  // Parse validates and canonicalises `text`. Errors quote at most 64 bytes of it and say what is
  // wrong ("'*' is only allowed as the whole first label", "is not a valid host name: ..."); the
  // caller prefixes the flag name.
  static Result<HostPattern> Parse(std::string_view text, bool allow_any = false);

  Kind kind() const { return kind_; }
  // name() is the exact name (or canonical IP text) for kExact, the suffix for kWildcard ("" for
  // kAny).
  const std::string& name() const { return name_; }

  // Matches reports whether `host` is covered by this pattern. Case and one trailing dot are
  // ignored; IP literals must be in canonical text (certs::ServerName::text, IpAddress::ToString)
  // and only match exact IP patterns and `*`.
  bool Matches(std::string_view host) const;

  // Specificity orders patterns that match the same host: a larger value is more specific.
  //   `*`                 -> 0
  //   `*.suffix`          -> 2 * length(suffix)
  //   exact `name`        -> 2 * length(name) + 1
  // Every pattern matching one host has a suffix that is a label-suffix of that host, so "longer"
  // is also "more labels"; an exact name beats the wildcard on the same suffix (`a.x` beats `*.a.x`
  // for the host a.x), and only equal patterns tie.
  size_t Specificity() const;

  // ToString gives the canonical pattern text, which Parse accepts back unchanged.
  std::string ToString() const;

  friend bool operator==(const HostPattern&, const HostPattern&) = default;

 private:
  HostPattern(Kind kind, std::string name) : kind_(kind), name_(std::move(name)) {}

  Kind kind_ = Kind::kAny;
  std::string name_;
};

// HostPatternMap: "the most specific matching pattern wins, declaration order is irrelevant".
// Inserting a pattern equal to one already present replaces its value (the last declaration
// wins; callers that must reject duplicates check Find/Contains first). Lookups scan every entry
// (these lists come from flags and config: a handful of entries, looked up once per connection).
// Not thread-safe for writes; concurrent const lookups are fine.
template <typename T>
class HostPatternMap {
 public:
  struct Entry {
    HostPattern pattern;
    T value;
  };

  void Insert(HostPattern pattern, T value) {
    for (Entry& e : entries_) {
      if (e.pattern == pattern) {
        e.value = std::move(value);
        return;
      }
    }
    entries_.push_back(Entry{std::move(pattern), std::move(value)});
  }

  // Find returns the most specific entry matching `host`, or nullptr. The pointer is valid until
  // the next Insert.
  const Entry* Find(std::string_view host) const {
    const Entry* best = nullptr;
    for (const Entry& e : entries_) {
      if (e.pattern.Matches(host) &&
          (best == nullptr || e.pattern.Specificity() > best->pattern.Specificity())) {
        best = &e;
      }
    }
    return best;
  }

  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Entry> entries_;
};

}  // namespace msb
