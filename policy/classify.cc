// Destination-group classification. One table of address blocks, in classification order, serves
// both Classify (one address) and ClassifyPrefix (a whole CIDR, for shadow analysis), so the two
// can never disagree about where a range belongs.
#include "policy/classify.h"

#include <algorithm>
#include <array>
#include <span>

namespace msb::policy {
namespace {

struct Block {
  IpPrefix prefix;
  std::optional<Group> group;  // nullopt: addresses in no group
};

IpPrefix MustParse(std::string_view text) {
  // The tables below are constants; a typo would show up in every classification test.
  return IpPrefix::Parse(text).value_or(IpPrefix());
}

// V4Blocks is in classification order: the first block containing an address decides. 0.0.0.0/8
// comes first (no group: "this network", never a real destination); metadata comes before
// link-local because it is carved out of it.
std::span<const Block> V4Blocks() {
  static const std::array<Block, 9> kBlocks = {{
      {MustParse("0.0.0.0/8"), std::nullopt},
      {MustParse("169.254.169.254/32"), Group::kMetadata},
      {MustParse("127.0.0.0/8"), Group::kLoopback},
      {MustParse("10.0.0.0/8"), Group::kPrivate},
      {MustParse("172.16.0.0/12"), Group::kPrivate},
      {MustParse("192.168.0.0/16"), Group::kPrivate},
      {MustParse("100.64.0.0/10"), Group::kPrivate},
      {MustParse("169.254.0.0/16"), Group::kLinkLocal},
      {MustParse("224.0.0.0/4"), Group::kMulticast},
  }};
  return kBlocks;
}

// V6Blocks covers IPv6 addresses that embed no IPv4 address. There is no IPv6 metadata block.
std::span<const Block> V6Blocks() {
  static const std::array<Block, 5> kBlocks = {{
      {MustParse("::/128"), std::nullopt},
      {MustParse("::1/128"), Group::kLoopback},
      {MustParse("fc00::/7"), Group::kPrivate},
      {MustParse("fe80::/10"), Group::kLinkLocal},
      {MustParse("ff00::/8"), Group::kMulticast},
  }};
  return kBlocks;
}

// An embedding range carries an IPv4 address at byte `offset` (the same forms as
// IpAddress::EmbeddedV4).
struct EmbeddingRange {
  IpPrefix prefix;
  unsigned offset;
};

std::span<const EmbeddingRange> EmbeddingRanges() {
  static const std::array<EmbeddingRange, 3> kRanges = {{
      {MustParse("::ffff:0:0/96"), 12},
      {MustParse("64:ff9b::/96"), 12},
      {MustParse("2002::/16"), 2},
  }};
  return kRanges;
}

std::optional<Group> ClassifyInBlocks(const IpAddress& ip, std::span<const Block> blocks) {
  for (const Block& b : blocks) {
    if (b.prefix.Contains(ip)) {
      return b.group;
    }
  }
  return Group::kPublic;
}

bool Intersects(const IpPrefix& a, const IpPrefix& b) {
  return a.Contains(b) || b.Contains(a);
}

// PrefixInBlocks applies the first-match walk to a whole prefix: the first block that intersects
// it decides when it contains the prefix; when it only partly covers it, the prefix is mixed.
PrefixGroup PrefixInBlocks(const IpPrefix& prefix, std::span<const Block> blocks) {
  for (const Block& b : blocks) {
    if (Intersects(b.prefix, prefix)) {
      if (b.prefix.Contains(prefix)) {
        return {true, b.group};
      }
      return {false, std::nullopt};
    }
  }
  return {true, Group::kPublic};
}

}  // namespace

std::optional<Group> Classify(const IpAddress& ip, const HostAddresses& host) {
  IpAddress n = ip.Normalized();
  // No group is checked first: an unspecified or 0.0.0.0/8 address is never the gateway, even if
  // misconfigured as one, so even `allow@host` cannot reach it.
  std::span<const Block> blocks = n.is_v4() ? V4Blocks() : V6Blocks();
  if (blocks.front().prefix.Contains(n)) {
    return std::nullopt;
  }
  if ((host.v4 && n == host.v4->Normalized()) || (host.v6 && n == host.v6->Normalized())) {
    return Group::kHost;
  }
  return ClassifyInBlocks(n, blocks);
}

std::optional<IpPrefix> EmbeddedV4Prefix(const IpPrefix& v6_prefix) {
  if (v6_prefix.family() != IpFamily::kV6) {
    return std::nullopt;
  }
  for (const EmbeddingRange& r : EmbeddingRanges()) {
    if (!r.prefix.Contains(v6_prefix)) {
      continue;
    }
    const auto& b = v6_prefix.address().bytes();
    uint32_t v4 = (uint32_t{b[r.offset]} << 24) | (uint32_t{b[r.offset + 1]} << 16) |
                  (uint32_t{b[r.offset + 2]} << 8) | b[r.offset + 3];
    unsigned first_bit = r.offset * 8;
    unsigned length = std::min(v6_prefix.length() - first_bit, 32U);
    return IpPrefix::Make(IpAddress::V4(v4), length);
  }
  return std::nullopt;
}

PrefixGroup ClassifyPrefix(const IpPrefix& prefix) {
  if (prefix.family() == IpFamily::kV4) {
    return PrefixInBlocks(prefix, V4Blocks());
  }
  for (const EmbeddingRange& r : EmbeddingRanges()) {
    if (r.prefix.Contains(prefix)) {
      return ClassifyPrefix(*EmbeddedV4Prefix(prefix));
    }
    if (prefix.Contains(r.prefix)) {
      return {false, std::nullopt};  // spans every embedded IPv4 class at once
    }
  }
  return PrefixInBlocks(prefix, V6Blocks());
}

}  // namespace msb::policy
