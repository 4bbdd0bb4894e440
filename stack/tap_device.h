// TapDevice: a Linux TAP (IFF_TAP | IFF_NO_PI) opened by name or adopted from an inherited fd.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "stack/frame_device.h"

namespace msb::stack {

class TapDevice final : public FrameDevice {
 public:
  // Open attaches to (or creates) TAP `name` in the caller's network namespace.
  static Result<std::unique_ptr<TapDevice>> Open(const std::string& name);
  // Adopt takes ownership of an already attached TAP fd (e.g. passed over a socket).
  static Result<std::unique_ptr<TapDevice>> Adopt(int fd);
  ~TapDevice() override;
  TapDevice(const TapDevice&) = delete;
  TapDevice& operator=(const TapDevice&) = delete;

  int fd() const override { return fd_; }
  ReadResult ReadFrame(std::span<uint8_t> buf) override;
  IoStatus WriteFrame(std::span<const uint8_t> frame) override;

 private:
  explicit TapDevice(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace msb::stack
