// Ip6Reassembler: IPv6 fragment reassembly for the guest link (RFC 8200 4.5), on bytes: no lwIP
// (whose ip6_reass, with IPV6_FRAG_COPYHEADER as 64-bit hosts need, returns datagrams 8 bytes
// short). A fragment is given as the packet's source, destination, fragment header fields and the
// bytes after the fragment header; when the last missing piece arrives, the whole upper-layer
// message comes back. Bounded: at most kMaxDatagrams in progress (the oldest is dropped for a new
// one), kMaxFragments per datagram, 65535 bytes per datagram, kTimeout to complete; overlapping
// or inconsistent pieces drop the whole datagram (RFC 5722).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <tuple>
#include <vector>

#include "base/clock.h"
#include "base/ip_address.h"

namespace msb::stack {

struct Ip6Fragment {
  IpAddress src;
  IpAddress dst;
  uint32_t identification = 0;
  uint16_t offset = 0;  // in bytes (a multiple of 8)
  bool more = false;
  uint8_t next_header = 0;  // of the fragmentable part (taken from the first piece)
  std::span<const uint8_t> data;
};

struct Ip6Datagram {
  uint8_t next_header = 0;
  std::vector<uint8_t> payload;  // the upper-layer message, whole
};

struct Ip6ReassemblyStats {
  uint64_t completed = 0;
  uint64_t dropped = 0;  // overlap, inconsistency, too many pieces, too large, timed out, evicted
};

class Ip6Reassembler {
 public:
  static constexpr size_t kMaxDatagrams = 64;
  static constexpr size_t kMaxFragments = 128;
  static constexpr size_t kMaxPayload = 65535;
  static constexpr Duration kTimeout = std::chrono::seconds(10);

  explicit Ip6Reassembler(const Clock& clock) : clock_(clock) {}

  // Add takes one fragment; returns the datagram it completes, if any.
  std::optional<Ip6Datagram> Add(const Ip6Fragment& f);
  size_t in_progress() const { return sets_.size(); }
  const Ip6ReassemblyStats& stats() const { return stats_; }

 private:
  using Key = std::tuple<IpAddress, IpAddress, uint32_t>;
  struct Set {
    TimePoint started;
    std::map<uint32_t, std::vector<uint8_t>> pieces;  // by offset
    std::optional<uint32_t> total;                    // known once the last piece came
    uint8_t next_header = 0;
    bool have_first = false;
    size_t bytes = 0;
  };
  void Expire(TimePoint now);

  const Clock& clock_;
  std::map<Key, Set> sets_;
  Ip6ReassemblyStats stats_;
};

}  // namespace msb::stack
