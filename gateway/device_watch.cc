// DeviceWatch: re-registering a frame device's changing descriptors (device_watch.h).
#include "gateway/device_watch.h"

#include <sys/epoll.h>

namespace msb::gateway {

Status DeviceWatch::Start() {
  generation_ = device_->fd_generation();
  want_write_ = false;
  if (Status st = loop_->Watch(device_->fd(), EPOLLIN, handler_); !st.ok()) {
    return st;
  }
  primary_ = device_->fd();
  if (int s = device_->secondary_fd(); s >= 0) {
    if (Status st = loop_->Watch(s, EPOLLIN, handler_); !st.ok()) {
      Stop();
      return st;
    }
    secondary_ = s;
  }
  return Status::Ok();
}

Status DeviceWatch::Refresh(bool want_write) {
  if (primary_ < 0) {
    return Status::Ok();
  }
  if (device_->fd_generation() != generation_) {
    // The old descriptors may be closed already and their numbers reused by the new ones:
    // unregister first (Unwatch of a closed descriptor is harmless), then register afresh.
    Stop();
    if (Status st = Start(); !st.ok()) {
      return st;
    }
  }
  if (want_write != want_write_) {
    loop_->SetInterest(primary_, EPOLLIN | (want_write ? uint32_t{EPOLLOUT} : 0u));
    want_write_ = want_write;
  }
  return Status::Ok();
}

void DeviceWatch::Stop() {
  if (primary_ >= 0) {
    loop_->Unwatch(primary_);
    primary_ = -1;
  }
  if (secondary_ >= 0) {
    loop_->Unwatch(secondary_);
    secondary_ = -1;
  }
}

}  // namespace msb::gateway
