// TapDevice: a Linux TAP (IFF_TAP | IFF_NO_PI) opened by name or adopted from an inherited fd.
// With a virtio-net header (IFF_VNET_HDR) and offloads on, the kernel side of the TAP gets
// checksum, TSO4/TSO6 and (where the kernel has it) USO offloads: the guest hands over up to
// 64 KiB TCP segments with partial checksums, and the gateway can hand it segments to split.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "stack/frame_device.h"

namespace msb::stack {

class TapDevice final : public FrameDevice {
 public:
  // Open attaches to (or creates) TAP `name` in the caller's network namespace, with a
  // virtio-net header and offloads when `offload` is set.
  static Result<std::unique_ptr<TapDevice>> Open(const std::string& name, bool offload);
  // Adopt takes ownership of an already attached TAP fd (e.g. passed over a socket). Offloads are
  // used when the TAP was attached with IFF_VNET_HDR (TUNGETIFF tells) and `offload` is set; a
  // TAP with the header but `offload` unset moves plain frames behind an all-zero header.
  static Result<std::unique_ptr<TapDevice>> Adopt(int fd, bool offload);
  ~TapDevice() override;
  TapDevice(const TapDevice&) = delete;
  TapDevice& operator=(const TapDevice&) = delete;

  int fd() const override { return fd_; }
  ReadResult ReadFrame(std::span<uint8_t> buf) override;
  IoStatus WriteFrame(std::span<const uint8_t> frame) override;
  bool offloads() const override { return offloads_; }
  IoStatus WriteFrameParts(std::span<const std::span<const uint8_t>> parts,
                           const FrameOffload& offload) override;
  // vnet_header_len: bytes of virtio-net header per frame (0: none).
  size_t vnet_header_len() const { return vnet_header_len_; }
  // uso: the kernel accepted UDP segmentation offload (USO4/USO6, Linux 6.2+).
  bool uso() const { return uso_; }

 private:
  explicit TapDevice(int fd) : fd_(fd) {}
  Status Configure(bool offload);
  int fd_;
  size_t vnet_header_len_ = 0;
  bool offloads_ = false;
  bool uso_ = false;
};

}  // namespace msb::stack
