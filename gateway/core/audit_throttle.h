// AuditThrottle: whether a repeated event about the same flow is audited again. A ping sends an
// echo a second and a UDP client retries a denied datagram as fast as it likes; auditing each one
// would let a guest flood the audit log, so a key (a flow tuple) is audited once per period, in a
// table of bounded size (when it is full of recent keys, new keys are still decided, just not
// audited until room frees up).
#pragma once

#include <cstddef>
#include <map>

#include "base/clock.h"
#include "stack/flow.h"

namespace msb::gateway {

class AuditThrottle {
 public:
  AuditThrottle(Duration period, size_t max_keys) : period_(period), max_keys_(max_keys) {}
  // ShouldAudit: true when `key` was not audited in the last period (and records it as audited).
  bool ShouldAudit(const stack::FlowTuple& key, TimePoint now);
  size_t size() const { return last_.size(); }

 private:
  Duration period_;
  size_t max_keys_;
  std::map<stack::FlowTuple, TimePoint> last_;
};

}  // namespace msb::gateway
