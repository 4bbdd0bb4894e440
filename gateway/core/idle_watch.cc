// IdleWatch: see idle_watch.h.
#include "gateway/core/idle_watch.h"

namespace msb::gateway {

void IdleWatch::Start(const Relay* relay, Duration limit, std::function<void()> on_idle) {
  Stop();
  if (limit <= Duration::zero()) {
    return;
  }
  relay_ = relay;
  limit_ = limit;
  on_idle_ = std::move(on_idle);
  Arm(limit);
}

void IdleWatch::Stop() {
  if (timer_ != 0) {
    loop_->CancelTimer(timer_);
    timer_ = 0;
  }
  relay_ = nullptr;
}

void IdleWatch::Arm(Duration delay) {
  timer_ = loop_->AddTimer(delay, [this] {
    timer_ = 0;
    Duration idle = loop_->clock().Now() - relay_->last_activity();
    if (idle < limit_) {
      Arm(limit_ - idle);
      return;
    }
    relay_ = nullptr;
    std::function<void()> fire = std::move(on_idle_);
    fire();  // owners release flows from deferred tasks, so this watch outlives the call
  });
}

}  // namespace msb::gateway
