// DnsForwarder: the gateway as the guest's only resolver (docs/dns.md).
//
// For each guest query, whatever address it was sent to: parse (one question, else FORMERR) ->
// query policy on the name (denied: a synthesized NXDOMAIN, nothing goes upstream) ->
// host.microsandbox.internal answered locally -> AAAA answered empty while the guest has no IPv6
// -> upstream: the configured resolvers when the guest asked the gateway, else the resolver it
// addressed (`dig @1.1.1.1`) if policy lets the guest reach it (else REFUSED) -> rebinding
// protection on the answer (an address outside the public group without an explicit allow rule
// turns the answer into NXDOMAIN) -> the A/AAAA addresses for the name (following CNAMEs) replace
// its pins -> for UDP, an answer larger than the guest's buffer becomes TC=1 so it retries over
// TCP. Every query is audited as one "dns.query" record.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "base/clock.h"
#include "base/ip_address.h"
#include "gateway/core/audit_log.h"
#include "gateway/dns/upstream.h"
#include "gateway/core/event_loop.h"
#include "policy/dns_policy.h"
#include "policy/evaluator.h"
#include "policy/pin_set.h"

namespace msb::gateway {

struct DnsOptions {
  std::vector<SocketAddress> nameservers;  // empty: the host's /etc/resolv.conf
  Duration query_timeout = std::chrono::milliseconds(5000);
  bool rebind_protection = true;
  size_t max_in_flight = 1024;
};

struct DnsRequest {
  uint64_t flow_id = 0;      // the query's own id in the audit log
  uint64_t tcp_flow_id = 0;  // the carrying TCP connection, 0 for UDP
  policy::DnsTransport transport = policy::DnsTransport::kUdp;
  // over_tls: DNS over TLS terminated by the gateway (audited as proto "dot"; judged as `transport`
  // says, and answered by the gateway's resolvers whatever address it was sent to).
  bool over_tls = false;
  SocketAddress guest;  // the guest's endpoint
  SocketAddress dest;   // the address the guest sent the query to
  std::vector<uint8_t> message;
};

// DnsReply receives the response to send back; an empty message means "send nothing".
using DnsReply = std::function<void(std::vector<uint8_t>&&)>;

class DnsForwarder {
 public:
  // Create sets up the configured upstream (resolving nameserver names now).
  static Result<std::unique_ptr<DnsForwarder>> Create(
      EventLoop* loop, std::shared_ptr<const policy::Evaluator> policy, policy::PinSet* pins,
      AuditLog* audit, const DnsOptions& options);
  ~DnsForwarder();

  // Handle answers one query; `reply` runs once (possibly before Handle returns), or never if the
  // forwarder is destroyed first.
  void Handle(DnsRequest&& request, DnsReply reply);

  const std::vector<SocketAddress>& nameservers() const { return upstream_->servers(); }

 private:
  struct Pending;
  DnsForwarder(EventLoop* loop, std::shared_ptr<const policy::Evaluator> policy,
               policy::PinSet* pins, AuditLog* audit, const DnsOptions& options)
      : loop_(loop), policy_(std::move(policy)), pins_(pins), audit_(audit), options_(options) {}
  DnsUpstream* UpstreamFor(const SocketAddress& target);
  void OnUpstream(std::shared_ptr<Pending> p, DnsUpstreamResult&& result);
  void Complete(std::shared_ptr<Pending> p, std::vector<uint8_t>&& response);

  EventLoop* loop_;
  std::shared_ptr<const policy::Evaluator> policy_;
  policy::PinSet* pins_;
  AuditLog* audit_;
  DnsOptions options_;
  std::unique_ptr<DnsUpstream> upstream_;
  // Resolvers the guest addressed directly (@target), most recently created last; bounded.
  std::map<SocketAddress, std::unique_ptr<DnsUpstream>> direct_;
  std::vector<SocketAddress> direct_order_;
  size_t in_flight_ = 0;
};

}  // namespace msb::gateway
