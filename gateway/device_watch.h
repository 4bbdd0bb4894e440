// DeviceWatch: keeps the event loop watching a frame device's descriptors. A TAP's never change,
// but a listening stream device (`serve --unix-stream`) swaps its descriptor when a VM connects
// and again when it goes away (a reboot), and watches its listening socket beside the connection
// (so that a second peer is refused at once): the owner calls Refresh() after each read, and
// DeviceWatch re-registers whatever changed (FrameDevice::fd_generation() says when).
#pragma once

#include <cstdint>

#include "base/status.h"
#include "gateway/core/event_loop.h"
#include "stack/frame_device.h"

namespace msb::gateway {

class DeviceWatch {
 public:
  DeviceWatch(EventLoop* loop, stack::FrameDevice* device, IoHandler* handler)
      : loop_(loop), device_(device), handler_(handler) {}
  ~DeviceWatch() { Stop(); }
  DeviceWatch(const DeviceWatch&) = delete;
  DeviceWatch& operator=(const DeviceWatch&) = delete;

  Status Start();
  // Refresh re-registers the device's descriptors if they changed since the last look, and sets
  // the primary's interest: readable, and writable when `want_write`.
  Status Refresh(bool want_write);
  // Stop unregisters everything (idempotent).
  void Stop();
  bool watching() const { return primary_ >= 0; }

 private:
  EventLoop* loop_;
  stack::FrameDevice* device_;
  IoHandler* handler_;
  int primary_ = -1;
  int secondary_ = -1;
  uint64_t generation_ = 0;
  bool want_write_ = false;
};

}  // namespace msb::gateway
