// SessionContext: the narrow view of the gateway a guest session works through, instead of the
// whole Gateway: the loop, the audit log, the SYN resolver, the upstream connector, options,
// policy and the pin set, and the owner that releases it. Every member is borrowed and outlives
// the sessions (the Gateway, or a test fixture, owns them). A test builds one from fakes, which is
// what makes sessions testable with in-memory streams.
#pragma once

#include <chrono>
#include <cstdint>

#include "base/clock.h"
#include "gateway/core/audit_log.h"
#include "gateway/core/event_loop.h"
#include "gateway/core/upstream_connector.h"
#include "policy/evaluator.h"
#include "policy/pin_set.h"
#include "stack/netstack.h"

namespace msb::gateway {

class DnsForwarder;
class SecretsRuntime;
namespace tls {
class InterceptContext;
}

struct SessionOptions {
  Duration connect_timeout = std::chrono::seconds(10);
  Duration idle_timeout = std::chrono::hours(1);  // zero disables
};

// Counters sessions update (the gateway reports them).
struct SessionStats {
  uint64_t upstream_connect_failures = 0;
};

// SynResolver finishes a SYN the stack holds (stack::Netstack implements it for real guests).
class SynResolver {
 public:
  virtual ~SynResolver() = default;
  // ResolveSyn: see Netstack::ResolveSyn (false: an accepted handshake could not be started).
  virtual bool ResolveSyn(uint64_t syn_id, stack::SynOutcome outcome) = 0;
};

// SessionOwner owns sessions and is told when one has ended.
class SessionOwner {
 public:
  virtual ~SessionOwner() = default;
  // ReleaseSession destroys the session for `flow_id` later (never inside its own callback).
  virtual void ReleaseSession(uint64_t flow_id) = 0;
  // NextFlowId allocates an audit flow id (DNS queries inside a TCP session get their own).
  virtual uint64_t NextFlowId() = 0;
};

struct SessionContext {
  EventLoop* loop = nullptr;
  AuditLog* audit = nullptr;
  SynResolver* syns = nullptr;
  UpstreamConnector* connector = nullptr;
  SessionOwner* owner = nullptr;
  const SessionOptions* options = nullptr;
  const policy::Evaluator* policy = nullptr;
  policy::PinSet* pins = nullptr;
  SessionStats* stats = nullptr;
  DnsForwarder* dns = nullptr;  // DNS over TCP and over TLS
  tls::InterceptContext* intercept = nullptr;  // null when TLS interception is off
  SecretsRuntime* secrets = nullptr;           // null when no secret is configured

  const Clock& clock() const { return loop->clock(); }
};

}  // namespace msb::gateway
