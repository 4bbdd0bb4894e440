// EventLoop: the one thread that owns lwIP and every flow. epoll for descriptors, an ordered timer
// set for deadlines, and a deferred-task queue drained at the end of each iteration (so an object
// is never destroyed inside its own callback).
//
// Registrations are handles {slot, generation}: an event for a descriptor that was unwatched
// earlier in the same epoll batch is recognised as stale and skipped, never dispatched to freed
// memory.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace msb::gateway {

class IoHandler {
 public:
  virtual ~IoHandler() = default;
  // OnIo receives the epoll event bits (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP).
  virtual void OnIo(uint32_t events) = 0;
};

using TimerId = uint64_t;

class EventLoop {
 public:
  static Result<std::unique_ptr<EventLoop>> Create(const Clock& clock);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watch adds `fd` with interest `events`; `handler` must outlive the registration.
  Status Watch(int fd, uint32_t events, IoHandler* handler);
  // SetInterest changes the interest set (no syscall when unchanged).
  void SetInterest(int fd, uint32_t events);
  // Unwatch removes `fd`; pending events for it in the current batch are dropped.
  void Unwatch(int fd);

  // AddTimer runs `fn` once after `delay`. CancelTimer on a fired or unknown id is a no-op.
  TimerId AddTimer(Duration delay, std::function<void()> fn);
  void CancelTimer(TimerId id);

  // Defer runs `fn` after the current iteration's events and timers.
  void Defer(std::function<void()> fn);

  // SetPollHook installs a function called before every wait; it returns the longest the loop may
  // sleep (the Netstack uses it to run lwIP timers and refresh device interest).
  void SetPollHook(std::function<Duration()> hook) { poll_hook_ = std::move(hook); }

  // RunOnce waits for events (at most `max_wait`) and dispatches them, then due timers, then
  // deferred tasks.
  void RunOnce(Duration max_wait);
  // Run loops until Stop().
  void Run();
  void Stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }
  const Clock& clock() const { return clock_; }

 private:
  struct Registration {
    int fd = -1;
    uint32_t generation = 0;
    uint32_t events = 0;
    IoHandler* handler = nullptr;
  };
  EventLoop(int epfd, const Clock& clock) : epfd_(epfd), clock_(clock) {}
  void RunTimers();
  void RunDeferred();

  int epfd_;
  const Clock& clock_;
  bool stopping_ = false;
  std::vector<Registration> slots_;
  std::vector<uint32_t> free_slots_;
  std::unordered_map<int, uint32_t> slot_of_fd_;
  std::map<std::pair<TimePoint, TimerId>, std::function<void()>> timers_;
  std::unordered_map<TimerId, TimePoint> timer_deadline_;
  TimerId next_timer_ = 1;
  std::vector<std::function<void()>> deferred_;
  std::function<Duration()> poll_hook_;
};

}  // namespace msb::gateway
