// FrameDevice's default gather write: for devices whose syscalls take one buffer.
#include "stack/frame_device.h"

#include <vector>

namespace msb::stack {

IoStatus FrameDevice::WriteFrameParts(std::span<const std::span<const uint8_t>> parts,
                                      const FrameOffload& /*offload*/) {
  if (parts.size() == 1) {
    return WriteFrame(parts[0]);
  }
  std::vector<uint8_t> joined;
  for (std::span<const uint8_t> part : parts) {
    joined.insert(joined.end(), part.begin(), part.end());
  }
  return WriteFrame(joined);
}

}  // namespace msb::stack
