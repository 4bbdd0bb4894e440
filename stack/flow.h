// FlowTuple: how the stack names a guest flow to the gateway. `guest` is the guest's own endpoint,
// `dest` the original destination it addressed (which the gateway's replies impersonate).
#pragma once

#include <cstdint>
#include <string>

#include "base/ip_address.h"

namespace msb::stack {

// kIcmp: an ICMP echo; its "ports" are the echo identifier (guest) and 0 (dest).
enum class Transport : uint8_t { kTcp, kUdp, kIcmp };

struct FlowTuple {
  Transport transport = Transport::kTcp;
  SocketAddress guest;
  SocketAddress dest;
  friend bool operator==(const FlowTuple&, const FlowTuple&) = default;
  friend auto operator<=>(const FlowTuple&, const FlowTuple&) = default;
};

}  // namespace msb::stack
