// Destination validity (see destination_validity.h): one table of never-a-destination blocks.
#include "policy/destination_validity.h"

#include <array>

namespace msb::policy {
namespace {

struct Block {
  std::string_view prefix;
  InvalidDestination why;
};

// Checked in order; the limited broadcast comes before 240/4, which contains it.
constexpr std::array<Block, 7> kBlocks = {{
    {"0.0.0.0/8", InvalidDestination::kThisNetwork},
    {"127.0.0.0/8", InvalidDestination::kLoopback},
    {"255.255.255.255/32", InvalidDestination::kLimitedBroadcast},
    {"240.0.0.0/4", InvalidDestination::kReserved},
    {"::/128", InvalidDestination::kUnspecified},
    {"::1/128", InvalidDestination::kLoopback},
    {"224.0.0.0/4", InvalidDestination::kMulticastStream},
}};

const IpPrefix& ParsedPrefix(size_t i) {
  static const std::array<IpPrefix, kBlocks.size()> kParsed = [] {
    std::array<IpPrefix, kBlocks.size()> out{};
    for (size_t j = 0; j < kBlocks.size(); ++j) {
      out[j] = IpPrefix::Parse(kBlocks[j].prefix).value_or(IpPrefix());
    }
    return out;
  }();
  return kParsed[i];
}

bool IsMulticast(const IpAddress& ip) {
  return ip.is_v4() ? (ip.v4() >> 28) == 0xe : ip.bytes()[0] == 0xff;
}

}  // namespace

std::optional<InvalidDestination> CheckDestination(const IpAddress& ip, Protocol protocol) {
  IpAddress n = ip.Normalized();
  for (size_t i = 0; i < kBlocks.size(); ++i) {
    if (kBlocks[i].why == InvalidDestination::kMulticastStream) {
      continue;  // protocol-dependent: below
    }
    if (ParsedPrefix(i).Contains(n)) {
      return kBlocks[i].why;
    }
  }
  if (protocol == Protocol::kTcp && IsMulticast(n)) {
    return InvalidDestination::kMulticastStream;
  }
  return std::nullopt;
}

std::string_view InvalidDestinationName(InvalidDestination why) {
  switch (why) {
    case InvalidDestination::kThisNetwork:
      return "this_network";
    case InvalidDestination::kUnspecified:
      return "unspecified";
    case InvalidDestination::kLoopback:
      return "loopback";
    case InvalidDestination::kLimitedBroadcast:
      return "limited_broadcast";
    case InvalidDestination::kReserved:
      return "reserved";
    case InvalidDestination::kMulticastStream:
      return "multicast_stream";
  }
  return "?";
}

std::string_view InvalidDestinationText(InvalidDestination why) {
  switch (why) {
    case InvalidDestination::kThisNetwork:
      return "0.0.0.0/8 means \"this host on this network\" (RFC 6890: not a destination; Linux "
             "would deliver it to the host's own loopback)";
    case InvalidDestination::kUnspecified:
      return ":: is the unspecified address (RFC 6890: not a destination)";
    case InvalidDestination::kLoopback:
      return "loopback addresses never leave a host (RFC 6890: not forwardable); the guest's "
             "loopback is its own, and the host is reached as host.microsandbox.internal (the "
             "host group)";
    case InvalidDestination::kLimitedBroadcast:
      return "255.255.255.255 is the limited broadcast (RFC 6890: not forwardable)";
    case InvalidDestination::kReserved:
      return "240.0.0.0/4 is reserved (RFC 6890: not a destination)";
    case InvalidDestination::kMulticastStream:
      return "multicast addresses take no TCP connections";
  }
  return "?";
}

}  // namespace msb::policy
