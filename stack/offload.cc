// offload: see offload.h. Offsets follow RFC 791/793/768; the partial-checksum convention is the
// virtio-net one (virtio 1.x, 5.1.6.2): csum_start/csum_offset locate the field, which holds the
// pseudo-header sum.
#include "stack/offload.h"

#include <algorithm>

namespace msb::stack {
namespace {

constexpr size_t kEthHeader = 14;
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr size_t kTcpCsumOffset = 16;
constexpr size_t kUdpCsumOffset = 6;
constexpr size_t kTcpHeader = 20;
constexpr size_t kUdpHeader = 8;

uint16_t Fold(uint32_t sum) {
  while ((sum >> 16) != 0) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

}  // namespace

uint16_t PseudoHeaderSum4(std::span<const uint8_t, 4> src, std::span<const uint8_t, 4> dst,
                          uint8_t protocol, uint16_t l4_len) {
  uint32_t sum = 0;
  sum += (src[0] << 8) | src[1];
  sum += (src[2] << 8) | src[3];
  sum += (dst[0] << 8) | dst[1];
  sum += (dst[2] << 8) | dst[3];
  sum += protocol;
  sum += l4_len;
  return Fold(sum);
}

RxChecksum ClassifyRxChecksum(const FrameOffload& offload, std::span<const uint8_t> ip,
                              size_t ip_header_len, uint8_t protocol) {
  if (offload.gso != FrameOffload::Gso::kNone) {
    bool fits = (offload.gso == FrameOffload::Gso::kTcp4 && protocol == kTcp) ||
                (offload.gso == FrameOffload::Gso::kUdp && protocol == kUdp);
    if (!fits || !offload.needs_csum) {
      return RxChecksum::kBad;
    }
  }
  if (!offload.needs_csum) {
    return offload.data_valid ? RxChecksum::kTrusted : RxChecksum::kVerify;
  }
  size_t field = protocol == kTcp ? kTcpCsumOffset : protocol == kUdp ? kUdpCsumOffset : 0;
  size_t min_l4 = protocol == kTcp ? kTcpHeader : kUdpHeader;
  if (field == 0 || ip_header_len < 20 || ip.size() < ip_header_len + min_l4 ||
      offload.csum_start != kEthHeader + ip_header_len || offload.csum_offset != field) {
    return RxChecksum::kBad;
  }
  size_t at = ip_header_len + field;
  uint16_t stored = static_cast<uint16_t>((ip[at] << 8) | ip[at + 1]);
  uint16_t expected = PseudoHeaderSum4(ip.subspan<12, 4>(), ip.subspan<16, 4>(), protocol,
                                       static_cast<uint16_t>(ip.size() - ip_header_len));
  return stored == expected ? RxChecksum::kTrusted : RxChecksum::kBad;
}

std::optional<FrameOffload> PrepareTxOffload(std::span<uint8_t> head, size_t frame_len,
                                             uint16_t link_mtu) {
  size_t visible = std::min(head.size(), frame_len);
  if (visible < kEthHeader + 20) {
    return frame_len < kEthHeader + 20 ? std::optional(FrameOffload{}) : std::nullopt;
  }
  if (head[12] != 0x08 || head[13] != 0x00) {
    return FrameOffload{};
  }
  std::span<uint8_t> ip = head.subspan(kEthHeader, visible - kEthHeader);
  size_t ihl = static_cast<size_t>(ip[0] & 0x0fu) * 4;
  if ((ip[0] >> 4) != 4 || ihl < 20 || ip[9] != kTcp) {
    return FrameOffload{};
  }
  if (ip.size() < ihl + kTcpHeader) {
    return frame_len < kEthHeader + ihl + kTcpHeader ? std::optional(FrameOffload{}) : std::nullopt;
  }
  size_t thl = static_cast<size_t>(ip[ihl + 12] >> 4) * 4;
  size_t total = static_cast<size_t>((ip[2] << 8) | ip[3]);
  if (thl < kTcpHeader || total < ihl + thl || kEthHeader + total > frame_len) {
    return FrameOffload{};
  }
  uint16_t sum = PseudoHeaderSum4(std::span<const uint8_t, 4>(ip.subspan<12, 4>()),
                                  std::span<const uint8_t, 4>(ip.subspan<16, 4>()), kTcp,
                                  static_cast<uint16_t>(total - ihl));
  ip[ihl + kTcpCsumOffset] = static_cast<uint8_t>(sum >> 8);
  ip[ihl + kTcpCsumOffset + 1] = static_cast<uint8_t>(sum);
  FrameOffload out;
  out.needs_csum = true;
  out.csum_start = static_cast<uint16_t>(kEthHeader + ihl);
  out.csum_offset = kTcpCsumOffset;
  if (total > link_mtu && link_mtu > ihl + thl) {
    out.gso = FrameOffload::Gso::kTcp4;
    out.gso_size = static_cast<uint16_t>(link_mtu - ihl - thl);
    out.hdr_len = static_cast<uint16_t>(kEthHeader + ihl + thl);
  }
  return out;
}

}  // namespace msb::stack
