// IdleWatch: ends a relaying flow that has moved no byte either way for a while. It re-arms its
// one timer for the time left since the relay's last activity, so traffic itself costs no timer
// operations. Shared by the guest's TCP sessions and the published ports' flows.
#pragma once

#include <functional>

#include "base/clock.h"
#include "gateway/core/event_loop.h"
#include "gateway/core/relay.h"

namespace msb::gateway {

class IdleWatch {
 public:
  explicit IdleWatch(EventLoop* loop) : loop_(loop) {}
  ~IdleWatch() { Stop(); }
  IdleWatch(const IdleWatch&) = delete;
  IdleWatch& operator=(const IdleWatch&) = delete;

  // Start watches `relay` (borrowed until Stop) for `limit` without activity, then runs `on_idle`
  // once. A zero limit never fires.
  void Start(const Relay* relay, Duration limit, std::function<void()> on_idle);
  void Stop();

 private:
  void Arm(Duration delay);

  EventLoop* loop_;
  const Relay* relay_ = nullptr;
  Duration limit_{};
  std::function<void()> on_idle_;
  TimerId timer_ = 0;
};

}  // namespace msb::gateway
