// Tests for AuditThrottle: once per period per flow, bounded, and expired keys make room.
#include "gateway/core/audit_throttle.h"

#include <gtest/gtest.h>

namespace msb::gateway {
namespace {

stack::FlowTuple Flow(uint16_t port) {
  return {
      stack::Transport::kUdp, {IpAddress::V4(0xac100002), port}, {IpAddress::V4(0xc6336401), 9}};
}

TEST(AuditThrottleTest, OncePerPeriodPerFlowWithinABoundedTable) {
  AuditThrottle t(std::chrono::seconds(60), 2);
  TimePoint now{std::chrono::seconds(100)};
  EXPECT_TRUE(t.ShouldAudit(Flow(1), now));
  EXPECT_FALSE(t.ShouldAudit(Flow(1), now + std::chrono::seconds(59)));
  EXPECT_TRUE(t.ShouldAudit(Flow(1), now + std::chrono::seconds(60)));
  EXPECT_TRUE(t.ShouldAudit(Flow(2), now + std::chrono::seconds(60)));
  // Full of recent keys: a third flow is not audited (and not remembered)...
  EXPECT_FALSE(t.ShouldAudit(Flow(3), now + std::chrono::seconds(61)));
  EXPECT_EQ(t.size(), 2u);
  // ...until the others have expired.
  EXPECT_TRUE(t.ShouldAudit(Flow(3), now + std::chrono::seconds(121)));
  EXPECT_EQ(t.size(), 1u);
}

}  // namespace
}  // namespace msb::gateway
