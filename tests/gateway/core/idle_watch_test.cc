// Tests for IdleWatch: it fires once the relay has been quiet for the limit, counted from the last
// activity (not from the start), never with a zero limit, and never after Stop.
#include "gateway/core/idle_watch.h"

#include <gtest/gtest.h>

namespace msb::gateway {
namespace {

struct QuietRelay final : Relay {
  void Start() override {}
  uint64_t bytes_up() const override { return 0; }
  uint64_t bytes_down() const override { return 0; }
  TimePoint last_activity() const override { return last; }
  TimePoint last;
};

class IdleWatchTest : public ::testing::Test {
 protected:
  void Run(Duration d) {
    clock_.Advance(d);
    loop_->RunOnce(Duration::zero());
  }
  FakeClock clock_;
  std::unique_ptr<EventLoop> loop_ = EventLoop::Create(clock_).value();
  QuietRelay relay_;
  int fired_ = 0;
};

TEST_F(IdleWatchTest, FiresAfterTheLimitSinceTheLastActivity) {
  relay_.last = clock_.Now();
  IdleWatch w(loop_.get());
  w.Start(&relay_, std::chrono::seconds(60), [&] { ++fired_; });
  Run(std::chrono::seconds(40));
  relay_.last = clock_.Now();  // activity at 40 s: the deadline moves to 100 s
  Run(std::chrono::seconds(20));
  EXPECT_EQ(fired_, 0);
  Run(std::chrono::seconds(39));
  EXPECT_EQ(fired_, 0);
  Run(std::chrono::seconds(1));
  EXPECT_EQ(fired_, 1);
  Run(std::chrono::seconds(120));
  EXPECT_EQ(fired_, 1);  // once
}

TEST_F(IdleWatchTest, ZeroLimitAndStopNeverFire) {
  relay_.last = clock_.Now();
  IdleWatch off(loop_.get());
  off.Start(&relay_, Duration::zero(), [&] { ++fired_; });
  IdleWatch stopped(loop_.get());
  stopped.Start(&relay_, std::chrono::seconds(1), [&] { ++fired_; });
  stopped.Stop();
  Run(std::chrono::seconds(10));
  EXPECT_EQ(fired_, 0);
}

}  // namespace
}  // namespace msb::gateway
