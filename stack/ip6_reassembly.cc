// Ip6Reassembler: see ip6_reassembly.h.
#include "stack/ip6_reassembly.h"

#include <algorithm>

namespace msb::stack {

void Ip6Reassembler::Expire(TimePoint now) {
  for (auto it = sets_.begin(); it != sets_.end();) {
    if (now - it->second.started >= kTimeout) {
      ++stats_.dropped;
      it = sets_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<Ip6Datagram> Ip6Reassembler::Add(const Ip6Fragment& f) {
  TimePoint now = clock_.Now();
  Expire(now);
  uint32_t start = f.offset;
  uint32_t end = start + static_cast<uint32_t>(f.data.size());
  // Every piece but the last carries a multiple of 8 bytes; nothing may reach beyond 64 KiB.
  bool bad = end > kMaxPayload || (f.more && (f.data.size() % 8 != 0 || f.data.empty())) ||
             (f.offset % 8 != 0);
  Key key{f.src, f.dst, f.identification};
  auto it = sets_.find(key);
  if (bad) {
    if (it != sets_.end()) {
      sets_.erase(it);
    }
    ++stats_.dropped;
    return std::nullopt;
  }
  if (it == sets_.end()) {
    if (sets_.size() >= kMaxDatagrams) {
      auto oldest = std::min_element(sets_.begin(), sets_.end(), [](const auto& a, const auto& b) {
        return a.second.started < b.second.started;
      });
      sets_.erase(oldest);
      ++stats_.dropped;
    }
    it = sets_.emplace(key, Set{}).first;
    it->second.started = now;
  }
  Set& s = it->second;
  auto drop = [&] {
    sets_.erase(it);
    ++stats_.dropped;
    return std::nullopt;
  };
  if (s.pieces.size() >= kMaxFragments) {
    return drop();
  }
  // Overlaps (RFC 5722) and contradictions about the end make the whole datagram suspect.
  auto next = s.pieces.lower_bound(start);
  if (next != s.pieces.end() && next->first < end) {
    return drop();
  }
  if (next != s.pieces.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second.size() > start) {
      return drop();
    }
  }
  if (!f.more) {
    if (s.total && *s.total != end) {
      return drop();
    }
    s.total = end;
  }
  if (s.total && end > *s.total) {
    return drop();
  }
  if (!s.pieces.empty() && s.total &&
      s.pieces.rbegin()->first + s.pieces.rbegin()->second.size() > *s.total) {
    return drop();
  }
  if (start == 0) {
    s.have_first = true;
    s.next_header = f.next_header;
  }
  s.pieces.emplace(start, std::vector<uint8_t>(f.data.begin(), f.data.end()));
  s.bytes += f.data.size();
  if (!s.total || !s.have_first || s.bytes != *s.total) {
    return std::nullopt;  // pieces do not overlap, so equal sums mean every byte is there
  }
  Ip6Datagram out;
  out.next_header = s.next_header;
  out.payload.reserve(*s.total);
  for (const auto& [offset, bytes] : s.pieces) {
    out.payload.insert(out.payload.end(), bytes.begin(), bytes.end());
  }
  sets_.erase(it);
  ++stats_.completed;
  return out;
}

}  // namespace msb::stack
