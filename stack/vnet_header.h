// vnet_header: the virtio-net header a TAP with IFF_VNET_HDR puts before every frame (10 bytes, 12
// with num_buffers; little-endian, as on every host we build for). Sans-I/O: bytes <->
// FrameOffload.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "stack/frame_device.h"

namespace msb::stack {

inline constexpr size_t kVnetHeaderSize = 10;
inline constexpr size_t kVnetHeaderMrgSize = 12;  // with num_buffers (QEMU's mrg_rxbuf layout)

// ParseVnetHeader reads `hdr` (kVnetHeaderSize or more bytes; extra bytes are ignored). It fails
// on unknown flag bits and GSO types we never enable (UFO), so a header from a confused or hostile
// peer drops its frame instead of being half-understood.
bool ParseVnetHeader(std::span<const uint8_t> hdr, FrameOffload* out);

// SerializeVnetHeader writes `in` into `out` (all of it: bytes past the first 10 are zeroed).
void SerializeVnetHeader(const FrameOffload& in, std::span<uint8_t> out);

}  // namespace msb::stack
