// IcmpRelay: the guest's pings to hosts other than the gateway, through unprivileged ICMP echo
// sockets (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), and IPPROTO_ICMPV6 for IPv6), which Linux
// allows only to the groups in net.ipv4.ping_group_range (one setting for both families).
// Whether the host allows them is probed once per family, at creation: when it does not,
// available() is false and unavailable_reason() says why, for a start-up warning.
//
// A ping (guest address, identifier, destination) gets one socket connected to the destination;
// the kernel gives each socket its own identifier, so replies are matched to the guest's ping by
// socket and handed back with the guest's identifier and the reply's sequence and data. Idle
// pings are forgotten after idle_timeout; at max_flows the least recently used is.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/clock.h"
#include "gateway/core/event_loop.h"
#include "gateway/datagram/guest_datagrams.h"
#include "stack/netstack.h"

namespace msb::gateway {

struct IcmpRelayOptions {
  Duration idle_timeout = std::chrono::seconds(10);
  size_t max_flows = 64;
};

struct IcmpRelayStats {
  uint64_t requests = 0;
  uint64_t replies = 0;
  uint64_t dropped = 0;  // the host would not take a request, or no socket could be opened
};

class IcmpRelay {
 public:
  IcmpRelay(EventLoop* loop, GuestDatagrams* guest, const IcmpRelayOptions& options);
  ~IcmpRelay();
  IcmpRelay(const IcmpRelay&) = delete;
  IcmpRelay& operator=(const IcmpRelay&) = delete;

  bool available(IpFamily family) const { return probe(family).available; }
  const std::string& unavailable_reason(IpFamily family) const { return probe(family).reason; }
  // Send relays one echo request; false when it could not be sent (the guest's ping then sees
  // no answer, as for a lost packet).
  bool Send(const stack::IcmpEcho& echo);

  size_t size() const { return flows_.size(); }
  const IcmpRelayStats& stats() const { return stats_; }

 private:
  struct Flow;
  struct Probe {
    bool available = false;
    std::string reason;
  };
  static Probe ProbeFamily(IpFamily family);
  const Probe& probe(IpFamily family) const { return family == IpFamily::kV4 ? v4_ : v6_; }
  void OnReadable(Flow* f);
  void End(std::map<stack::FlowTuple, std::unique_ptr<Flow>>::iterator it);
  void ArmSweep();

  EventLoop* loop_;
  GuestDatagrams* guest_;
  IcmpRelayOptions options_;
  IcmpRelayStats stats_;
  Probe v4_;
  Probe v6_;
  std::map<stack::FlowTuple, std::unique_ptr<Flow>> flows_;
  TimerId sweep_timer_ = 0;
};

}  // namespace msb::gateway
