// Evaluator: first-match-wins evaluation of a compiled Policy for one flow. Immutable after
// construction and free of I/O, so one instance can be shared by every flow (a future reload swaps
// a std::shared_ptr<const Evaluator>; flows keep the snapshot they started with).
#pragma once

#include <optional>
#include <string_view>

#include "base/ip_address.h"
#include "policy/classify.h"
#include "policy/types.h"

namespace msb::policy {

// NameEvidence answers "did this guest resolve a name matching this domain rule to this IP through
// us?". The DNS pin set implements it; without one, domain and suffix rules match nothing.
class NameEvidence {
 public:
  virtual ~NameEvidence() = default;
  // PinnedNameMatches is true when some live pin ties `ip` to a name that `dest` (kDomain: equal,
  // kDomainSuffix: equal or a label-aware subdomain) matches.
  virtual bool PinnedNameMatches(const IpAddress& ip, const Destination& dest) const = 0;
};

// FlowQuery describes one connection attempt or datagram as policy sees it.
struct FlowQuery {
  Direction direction = Direction::kEgress;  // kEgress or kIngress (never kAny)
  Protocol protocol = Protocol::kTcp;
  IpAddress ip;                  // egress: the destination; ingress: the remote peer
  std::optional<uint16_t> port;  // egress: destination port; ingress: guest port; nullopt for ICMP
  // sni is the TLS server name when known (TLS interception issue). Deny domain rules match on the
  // SNI alone; allow domain rules need the SNI to match AND a pin tying `ip` to a matching name.
  std::optional<std::string_view> sni;
  // sni_pending: the SNI is not known yet but will be (a SYN to an intercepted port). Deny name
  // rules are then left to the decision at the ClientHello: they match the SNI there, and a
  // deny by pin now would also refuse an allowed name that shares the address (a CDN).
  bool sni_pending = false;
};

struct Decision {
  Action action = Action::kDeny;
  std::optional<size_t> rule_index;  // index into Policy::rules, nullopt = the direction default
  friend bool operator==(const Decision&, const Decision&) = default;
};

class Evaluator {
 public:
  Evaluator(Policy policy, HostAddresses host) : policy_(std::move(policy)), host_(host) {}

  // Evaluate walks rules whose direction is the query's or kAny, in order; the first rule whose
  // protocol set admits the protocol, whose port set admits the port (rules with ports never match
  // a port-less ICMP query) and whose destination matches decides. Otherwise the direction default.
  Decision Evaluate(const FlowQuery& query, const NameEvidence* names) const;

  // RuleMatches exposes the per-rule test (used by `policy explain` and the DNS query policy).
  bool RuleMatches(const Rule& rule, const FlowQuery& query, const NameEvidence* names) const;

  const Policy& policy() const { return policy_; }
  const HostAddresses& host() const { return host_; }

 private:
  Policy policy_;
  HostAddresses host_;
};

}  // namespace msb::policy
