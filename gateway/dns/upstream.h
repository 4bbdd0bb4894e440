// DnsUpstream: forwards raw DNS queries to upstream resolvers through c-ares, driven by the
// gateway's event loop (c-ares' sockets are watched by the loop, its timeouts are loop timers;
// nothing blocks).
//
// One c-ares channel per (server, transport), so that failover order, per-server timeouts and
// "which server answered" are ours: servers are tried in order; a timeout or a transport error
// moves to the next; any answer (SERVFAIL and REFUSED included) is returned as it is; when every
// server has failed, or the overall deadline passes, the result says so and the caller answers
// SERVFAIL.
#pragma once

#include <ares.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/ip_address.h"
#include "base/status.h"
#include "gateway/core/event_loop.h"

namespace msb::gateway {

enum class DnsUpstreamTransport : uint8_t { kUdp, kTcp };

struct DnsUpstreamResult {
  bool ok = false;
  std::vector<uint8_t> response;  // the upstream's answer (its id is c-ares', not the guest's)
  SocketAddress server;           // who answered (ok) or who was tried last
  std::string error;              // why not (timeout, connection refused, ...)
};

using DnsUpstreamCallback = std::function<void(DnsUpstreamResult&&)>;

class DnsUpstream {
 public:
  // Create makes channels for `servers` in order. Each server gets `attempt_timeout` before the
  // next one is tried; `deadline` bounds the whole query.
  static Result<std::unique_ptr<DnsUpstream>> Create(EventLoop* loop,
                                                     std::vector<SocketAddress> servers,
                                                     Duration attempt_timeout, Duration deadline);
  ~DnsUpstream();
  DnsUpstream(const DnsUpstream&) = delete;
  DnsUpstream& operator=(const DnsUpstream&) = delete;

  // Send forwards `query` (a complete DNS message). `done` runs exactly once, later (never inside
  // Send), unless the DnsUpstream is destroyed first: then it never runs.
  void Send(std::span<const uint8_t> query, DnsUpstreamTransport transport,
            DnsUpstreamCallback done);

  const std::vector<SocketAddress>& servers() const { return servers_; }
  size_t in_flight() const { return in_flight_; }

  class Channel;  // one c-ares channel (internal)

 private:
  struct Query;
  DnsUpstream(EventLoop* loop, std::vector<SocketAddress> servers, Duration attempt_timeout,
              Duration deadline);
  void Attempt(std::shared_ptr<Query> q);
  void Finish(std::shared_ptr<Query> q, DnsUpstreamResult&& r);

  EventLoop* loop_;
  std::vector<SocketAddress> servers_;
  Duration attempt_timeout_;
  Duration deadline_;
  std::vector<std::unique_ptr<Channel>> udp_;
  std::vector<std::unique_ptr<Channel>> tcp_;
  size_t in_flight_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace msb::gateway
