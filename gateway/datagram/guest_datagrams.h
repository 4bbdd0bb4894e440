// GuestDatagrams: what the datagram relays send toward the guest. The Gateway implements it with
// its Netstack; tests implement it with a recorder. The relays never see the stack itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/ip_address.h"
#include "stack/flow.h"

namespace msb::gateway {

class GuestDatagrams {
 public:
  virtual ~GuestDatagrams() = default;
  // SendUdp: a datagram to the guest's `to` that appears to come from `from`.
  virtual void SendUdp(const SocketAddress& from, const SocketAddress& to,
                       std::span<const uint8_t> payload) = 0;
  // SendUdpPortUnreachable: the destination of the guest's flow `udp` reported no listener.
  virtual void SendUdpPortUnreachable(const stack::FlowTuple& udp, size_t payload_len) = 0;
  // SendEchoReply: an ICMP echo reply to the guest's `to`, from `from`.
  virtual void SendEchoReply(const IpAddress& from, const IpAddress& to, uint16_t identifier,
                             uint16_t sequence, std::span<const uint8_t> data) = 0;
};

}  // namespace msb::gateway
