// NetstackLink: the GuestLink of production, the guest-facing stack itself (stack::Netstack): TCP
// connects from the gateway's address, datagrams from it, to the guest's IPv4 address.
#pragma once

#include "gateway/publish/publish_context.h"
#include "stack/netstack.h"

namespace msb::gateway {

class NetstackLink final : public GuestLink {
 public:
  explicit NetstackLink(stack::Netstack* netstack) : netstack_(netstack) {}

  Result<uint64_t> Connect(uint16_t guest_port, Duration timeout,
                           stack::GuestConnectDone done) override {
    return netstack_->ConnectToGuest(guest_port, timeout, std::move(done));
  }
  void CancelConnect(uint64_t id) override { netstack_->CancelGuestConnect(id); }
  void SendUdp(uint16_t gateway_port, uint16_t guest_port,
               std::span<const uint8_t> payload) override {
    const stack::NetstackConfig& c = netstack_->config();
    netstack_->SendUdp({c.gateway_v4, gateway_port}, {c.guest_v4, guest_port}, payload);
  }

 private:
  stack::Netstack* netstack_;
};

}  // namespace msb::gateway
