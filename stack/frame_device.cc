// FrameDevice's default gather write (for devices whose syscalls take one buffer) and the helper
// that joins a frame's pieces.
#include "stack/frame_device.h"

namespace msb::stack {

size_t FramePartsSize(std::span<const std::span<const uint8_t>> parts) {
  size_t size = 0;
  for (std::span<const uint8_t> part : parts) {
    size += part.size();
  }
  return size;
}

std::vector<uint8_t> JoinFrameParts(std::span<const std::span<const uint8_t>> parts) {
  std::vector<uint8_t> joined;
  for (std::span<const uint8_t> part : parts) {
    joined.insert(joined.end(), part.begin(), part.end());
  }
  return joined;
}

IoStatus FrameDevice::WriteFrameParts(std::span<const std::span<const uint8_t>> parts,
                                      const FrameOffload& /*offload*/) {
  if (parts.size() == 1) {
    return WriteFrame(parts[0]);
  }
  return WriteFrame(JoinFrameParts(parts));
}

}  // namespace msb::stack
