// FrameDevice: where guest Ethernet frames come from and go to. A TAP today; the VM front-end issue
// adds QEMU stream sockets and unixgram sockets behind the same interface. Devices are
// non-blocking; the event loop polls fd() and the Netstack drains and fills them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace msb::stack {

enum class IoStatus : uint8_t {
  kOk,          // one frame moved
  kWouldBlock,  // nothing to read / no room to write now
  kClosed,      // the peer went away (end of file)
  kError,       // unrecoverable device error
};

struct ReadResult {
  IoStatus status = IoStatus::kWouldBlock;
  size_t size = 0;  // frame length when kOk (a frame longer than the buffer is truncated: dropped)
};

class FrameDevice {
 public:
  virtual ~FrameDevice() = default;
  // fd is the pollable descriptor (readable = frames waiting; writable = room to send).
  virtual int fd() const = 0;
  // ReadFrame reads one frame into `buf`.
  virtual ReadResult ReadFrame(std::span<uint8_t> buf) = 0;
  // WriteFrame writes one whole frame or nothing.
  virtual IoStatus WriteFrame(std::span<const uint8_t> frame) = 0;
};

}  // namespace msb::stack
