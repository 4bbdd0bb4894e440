// Tests for the event loop: descriptor dispatch, interest changes, stale events after Unwatch,
// timer order and cancellation, deferred tasks.
#include "gateway/core/event_loop.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <vector>

namespace msb::gateway {
namespace {

class CountingHandler : public IoHandler {
 public:
  void OnIo(uint32_t events) override {
    ++calls;
    last = events;
    if (on_io) {
      on_io();
    }
  }
  int calls = 0;
  uint32_t last = 0;
  std::function<void()> on_io;
};

TEST(EventLoopTest, DispatchesReadableAndRespectsInterest) {
  FakeClock clock;
  auto loop = EventLoop::Create(clock).value();
  int efd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
  CountingHandler h;
  ASSERT_TRUE(loop->Watch(efd, EPOLLIN, &h).ok());
  EXPECT_FALSE(loop->Watch(efd, EPOLLIN, &h).ok());  // double registration is refused
  loop->RunOnce(Duration::zero());
  EXPECT_EQ(h.calls, 1);
  EXPECT_TRUE(h.last & EPOLLIN);
  loop->SetInterest(efd, 0);
  loop->RunOnce(Duration::zero());
  EXPECT_EQ(h.calls, 1);
  loop->Unwatch(efd);
  close(efd);
}

TEST(EventLoopTest, EventsForUnwatchedDescriptorsInTheSameBatchAreDropped) {
  FakeClock clock;
  auto loop = EventLoop::Create(clock).value();
  int a = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
  int b = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
  CountingHandler ha;
  CountingHandler hb;
  // Whichever runs first unwatches the other: the other must not be called.
  ha.on_io = [&] { loop->Unwatch(b); };
  hb.on_io = [&] { loop->Unwatch(a); };
  ASSERT_TRUE(loop->Watch(a, EPOLLIN, &ha).ok());
  ASSERT_TRUE(loop->Watch(b, EPOLLIN, &hb).ok());
  loop->RunOnce(Duration::zero());
  EXPECT_EQ(ha.calls + hb.calls, 1);
  close(a);
  close(b);
}

TEST(EventLoopTest, TimersFireInDeadlineOrderAndCancel) {
  FakeClock clock;
  auto loop = EventLoop::Create(clock).value();
  std::vector<int> fired;
  loop->AddTimer(std::chrono::seconds(2), [&] { fired.push_back(2); });
  loop->AddTimer(std::chrono::seconds(1), [&] { fired.push_back(1); });
  TimerId cancelled = loop->AddTimer(std::chrono::seconds(1), [&] { fired.push_back(99); });
  loop->CancelTimer(cancelled);
  loop->CancelTimer(cancelled);  // twice is harmless
  loop->RunOnce(Duration::zero());
  EXPECT_TRUE(fired.empty());
  clock.Advance(std::chrono::seconds(3));
  loop->RunOnce(Duration::zero());
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
}

TEST(EventLoopTest, DeferredTasksRunAfterEventsIncludingNestedOnes) {
  FakeClock clock;
  auto loop = EventLoop::Create(clock).value();
  std::vector<int> order;
  loop->Defer([&] {
    order.push_back(1);
    loop->Defer([&] { order.push_back(2); });
  });
  loop->RunOnce(std::chrono::seconds(10));  // must not sleep: work is pending
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(EventLoopTest, PollHookBoundsTheWait) {
  SystemClock clock;
  auto loop = EventLoop::Create(clock).value();
  int calls = 0;
  loop->SetPollHook([&] {
    ++calls;
    return std::chrono::milliseconds(1);
  });
  auto start = std::chrono::steady_clock::now();
  loop->RunOnce(std::chrono::seconds(5));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace msb::gateway
