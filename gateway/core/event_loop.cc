// EventLoop implementation: epoll (level-triggered), a std::map timer set, deferred tasks.
#include "gateway/core/event_loop.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace msb::gateway {
namespace {

uint64_t Pack(uint32_t slot, uint32_t generation) {
  return (uint64_t{generation} << 32) | slot;
}

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::Create(const Clock& clock) {
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) {
    return Status::Error(std::string("epoll_create1: ") + strerror(errno));
  }
  return std::unique_ptr<EventLoop>(new EventLoop(epfd, clock));
}

EventLoop::~EventLoop() {
  close(epfd_);
}

Status EventLoop::Watch(int fd, uint32_t events, IoHandler* handler) {
  if (slot_of_fd_.count(fd) != 0) {
    return Status::Error("fd " + std::to_string(fd) + " already watched");
  }
  uint32_t slot = 0;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Registration& r = slots_[slot];
  r.fd = fd;
  r.events = events;
  r.handler = handler;
  ++r.generation;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = Pack(slot, r.generation);
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    int err = errno;
    r.fd = -1;
    r.handler = nullptr;
    free_slots_.push_back(slot);
    return Status::Error(std::string("epoll_ctl add: ") + strerror(err));
  }
  slot_of_fd_[fd] = slot;
  return Status::Ok();
}

void EventLoop::SetInterest(int fd, uint32_t events) {
  auto it = slot_of_fd_.find(fd);
  if (it == slot_of_fd_.end()) {
    return;
  }
  Registration& r = slots_[it->second];
  if (r.events == events) {
    return;
  }
  r.events = events;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = Pack(it->second, r.generation);
  (void)epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::Unwatch(int fd) {
  auto it = slot_of_fd_.find(fd);
  if (it == slot_of_fd_.end()) {
    return;
  }
  Registration& r = slots_[it->second];
  (void)epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  r.fd = -1;
  r.handler = nullptr;
  ++r.generation;  // any event still in this batch now carries a stale generation
  free_slots_.push_back(it->second);
  slot_of_fd_.erase(it);
}

TimerId EventLoop::AddTimer(Duration delay, std::function<void()> fn) {
  TimerId id = next_timer_++;
  TimePoint deadline = clock_.Now() + delay;
  timers_.emplace(std::make_pair(deadline, id), std::move(fn));
  timer_deadline_[id] = deadline;
  return id;
}

void EventLoop::CancelTimer(TimerId id) {
  auto it = timer_deadline_.find(id);
  if (it == timer_deadline_.end()) {
    return;
  }
  timers_.erase({it->second, id});
  timer_deadline_.erase(it);
}

void EventLoop::Defer(std::function<void()> fn) {
  deferred_.push_back(std::move(fn));
}

void EventLoop::RunTimers() {
  TimePoint now = clock_.Now();
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    timer_deadline_.erase(node.key().second);
    node.mapped()();
  }
}

void EventLoop::RunDeferred() {
  while (!deferred_.empty()) {
    std::vector<std::function<void()>> batch;
    batch.swap(deferred_);
    for (auto& fn : batch) {
      fn();
    }
  }
}

void EventLoop::RunOnce(Duration max_wait) {
  if (poll_hook_) {
    max_wait = std::min(max_wait, poll_hook_());
  }
  if (!deferred_.empty()) {
    max_wait = Duration::zero();
  }
  if (!timers_.empty()) {
    Duration until = timers_.begin()->first.first - clock_.Now();
    max_wait = std::min(max_wait, std::max(until, Duration::zero()));
  }
  // Round up so a timer due in 0.4 ms does not turn into a busy loop of zero-timeout waits.
  int64_t wait_us = std::chrono::duration_cast<std::chrono::microseconds>(max_wait).count();
  int timeout_ms = static_cast<int>(std::min<int64_t>((wait_us + 999) / 1000, 60000));
  epoll_event events[256];
  int n = epoll_wait(epfd_, events, 256, timeout_ms);
  for (int i = 0; i < n; ++i) {
    auto slot = static_cast<uint32_t>(events[i].data.u64 & 0xffffffffu);
    auto generation = static_cast<uint32_t>(events[i].data.u64 >> 32);
    if (slot >= slots_.size() || slots_[slot].generation != generation ||
        slots_[slot].handler == nullptr) {
      continue;  // unwatched during this batch
    }
    slots_[slot].handler->OnIo(events[i].events);
  }
  RunTimers();
  RunDeferred();
}

void EventLoop::Run() {
  while (!stopping_) {
    RunOnce(std::chrono::seconds(60));
  }
}

}  // namespace msb::gateway
