// RecordingGuest: a GuestDatagrams that records what the relays send toward the guest.
#pragma once

#include <vector>

#include "gateway/datagram/guest_datagrams.h"

namespace msb::gateway {

struct RecordingGuest final : GuestDatagrams {
  struct Udp {
    SocketAddress from;
    SocketAddress to;
    std::vector<uint8_t> payload;
  };
  struct Echo {
    IpAddress from;
    IpAddress to;
    uint16_t identifier;
    uint16_t sequence;
    std::vector<uint8_t> data;
  };
  void SendUdp(const SocketAddress& from, const SocketAddress& to,
               std::span<const uint8_t> payload) override {
    udp.push_back({from, to, {payload.begin(), payload.end()}});
  }
  void SendUdpPortUnreachable(const stack::FlowTuple& flow, size_t payload_len) override {
    unreachable.emplace_back(flow, payload_len);
  }
  void SendEchoReply(const IpAddress& from, const IpAddress& to, uint16_t identifier,
                     uint16_t sequence, std::span<const uint8_t> data) override {
    echoes.push_back({from, to, identifier, sequence, {data.begin(), data.end()}});
  }
  std::vector<Udp> udp;
  std::vector<std::pair<stack::FlowTuple, size_t>> unreachable;
  std::vector<Echo> echoes;
};

}  // namespace msb::gateway
