// vnet_header: see vnet_header.h. Field layout from the virtio specification, section 5.1.6.
#include "stack/vnet_header.h"

#include <algorithm>

namespace msb::stack {
namespace {

constexpr uint8_t kFlagNeedsCsum = 1;
constexpr uint8_t kFlagDataValid = 2;
constexpr uint8_t kGsoNone = 0;
constexpr uint8_t kGsoTcp4 = 1;
constexpr uint8_t kGsoTcp6 = 4;
constexpr uint8_t kGsoUdpL4 = 5;
constexpr uint8_t kGsoEcn = 0x80;

uint16_t Le16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>(b[at] | (b[at + 1] << 8));
}

void PutLe16(std::span<uint8_t> b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v);
  b[at + 1] = static_cast<uint8_t>(v >> 8);
}

}  // namespace

bool ParseVnetHeader(std::span<const uint8_t> hdr, FrameOffload* out) {
  if (hdr.size() < kVnetHeaderSize) {
    return false;
  }
  uint8_t flags = hdr[0];
  if ((flags & ~(kFlagNeedsCsum | kFlagDataValid)) != 0) {
    return false;
  }
  FrameOffload o;
  o.needs_csum = (flags & kFlagNeedsCsum) != 0;
  o.data_valid = (flags & kFlagDataValid) != 0;
  switch (hdr[1] & ~kGsoEcn) {
    case kGsoNone:
      break;
    case kGsoTcp4:
      o.gso = FrameOffload::Gso::kTcp4;
      break;
    case kGsoTcp6:
      o.gso = FrameOffload::Gso::kTcp6;
      break;
    case kGsoUdpL4:
      o.gso = FrameOffload::Gso::kUdp;
      break;
    default:
      return false;
  }
  o.hdr_len = Le16(hdr, 2);
  o.gso_size = Le16(hdr, 4);
  o.csum_start = Le16(hdr, 6);
  o.csum_offset = Le16(hdr, 8);
  if (o.gso != FrameOffload::Gso::kNone && (o.gso_size == 0 || !o.needs_csum)) {
    return false;  // a segment to split must say how, and its checksums are always partial
  }
  *out = o;
  return true;
}

void SerializeVnetHeader(const FrameOffload& in, std::span<uint8_t> out) {
  std::fill(out.begin(), out.end(), uint8_t{0});
  if (out.size() < kVnetHeaderSize) {
    return;
  }
  out[0] = static_cast<uint8_t>((in.needs_csum ? kFlagNeedsCsum : 0) |
                                (in.data_valid ? kFlagDataValid : 0));
  switch (in.gso) {
    case FrameOffload::Gso::kNone:
      out[1] = kGsoNone;
      break;
    case FrameOffload::Gso::kTcp4:
      out[1] = kGsoTcp4;
      break;
    case FrameOffload::Gso::kTcp6:
      out[1] = kGsoTcp6;
      break;
    case FrameOffload::Gso::kUdp:
      out[1] = kGsoUdpL4;
      break;
  }
  PutLe16(out, 2, in.hdr_len);
  PutLe16(out, 4, in.gso_size);
  PutLe16(out, 6, in.csum_start);
  PutLe16(out, 8, in.csum_offset);
}

}  // namespace msb::stack
