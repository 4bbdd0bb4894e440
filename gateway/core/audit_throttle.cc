// AuditThrottle: see audit_throttle.h.
#include "gateway/core/audit_throttle.h"

#include <iterator>

namespace msb::gateway {

bool AuditThrottle::ShouldAudit(const stack::FlowTuple& key, TimePoint now) {
  auto it = last_.find(key);
  if (it != last_.end()) {
    if (now - it->second < period_) {
      return false;
    }
    it->second = now;
    return true;
  }
  if (last_.size() >= max_keys_) {
    std::erase_if(last_, [&](const auto& e) { return now - e.second >= period_; });
    if (last_.size() >= max_keys_) {
      return false;
    }
  }
  last_.emplace(key, now);
  return true;
}

}  // namespace msb::gateway
