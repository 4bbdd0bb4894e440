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

// PrepareTxOffload6: PrepareTxOffload for an IPv6 frame (TCP right after the fixed header: the
// gateway's stack never sends extension headers with TCP).
std::optional<FrameOffload> PrepareTxOffload6(std::span<uint8_t> head, size_t frame_len,
                                              uint16_t link_mtu) {
  constexpr size_t kIp6 = 40;
  if (head.size() < kEthHeader + kIp6) {
    return frame_len < kEthHeader + kIp6 ? std::optional(FrameOffload{}) : std::nullopt;
  }
  std::span<uint8_t> ip = head.subspan(kEthHeader);
  if ((ip[0] >> 4) != 6 || ip[6] != kTcp) {
    return FrameOffload{};
  }
  if (ip.size() < kIp6 + kTcpHeader) {
    return frame_len < kEthHeader + kIp6 + kTcpHeader ? std::optional(FrameOffload{})
                                                      : std::nullopt;
  }
  size_t thl = static_cast<size_t>(ip[kIp6 + 12] >> 4) * 4;
  size_t plen = static_cast<size_t>((ip[4] << 8) | ip[5]);
  if (thl < kTcpHeader || plen < thl || kEthHeader + kIp6 + plen > frame_len) {
    return FrameOffload{};
  }
  uint16_t sum = PseudoHeaderSum6(std::span<const uint8_t, 16>(ip.subspan<8, 16>()),
                                  std::span<const uint8_t, 16>(ip.subspan<24, 16>()), kTcp,
                                  static_cast<uint32_t>(plen));
  ip[kIp6 + kTcpCsumOffset] = static_cast<uint8_t>(sum >> 8);
  ip[kIp6 + kTcpCsumOffset + 1] = static_cast<uint8_t>(sum);
  FrameOffload out;
  out.needs_csum = true;
  out.csum_start = static_cast<uint16_t>(kEthHeader + kIp6);
  out.csum_offset = kTcpCsumOffset;
  if (kIp6 + plen > link_mtu && link_mtu > kIp6 + thl) {
    out.gso = FrameOffload::Gso::kTcp6;
    out.gso_size = static_cast<uint16_t>(link_mtu - kIp6 - thl);
    out.hdr_len = static_cast<uint16_t>(kEthHeader + kIp6 + thl);
  }
  return out;
}

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

uint16_t PseudoHeaderSum6(std::span<const uint8_t, 16> src, std::span<const uint8_t, 16> dst,
                          uint8_t protocol, uint32_t l4_len) {
  uint32_t sum = 0;
  for (size_t i = 0; i < 16; i += 2) {
    sum += (src[i] << 8) | src[i + 1];
    sum += (dst[i] << 8) | dst[i + 1];
  }
  sum += l4_len >> 16;
  sum += l4_len & 0xffff;
  sum += protocol;
  return Fold(sum);
}

RxChecksum ClassifyRxChecksum(const FrameOffload& offload, std::span<const uint8_t> ip,
                              size_t ip_header_len, uint8_t protocol) {
  bool v6 = !ip.empty() && (ip[0] >> 4) == 6;
  if (offload.gso != FrameOffload::Gso::kNone) {
    FrameOffload::Gso tcp = v6 ? FrameOffload::Gso::kTcp6 : FrameOffload::Gso::kTcp4;
    bool fits = (offload.gso == tcp && protocol == kTcp) ||
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
  size_t min_ip = v6 ? 40 : 20;
  if (field == 0 || ip_header_len < min_ip || ip.size() < ip_header_len + min_l4 ||
      offload.csum_start != kEthHeader + ip_header_len || offload.csum_offset != field) {
    return RxChecksum::kBad;
  }
  size_t at = ip_header_len + field;
  uint16_t stored = static_cast<uint16_t>((ip[at] << 8) | ip[at + 1]);
  uint16_t expected = v6 ? PseudoHeaderSum6(ip.subspan<8, 16>(), ip.subspan<24, 16>(), protocol,
                                            static_cast<uint32_t>(ip.size() - ip_header_len))
                         : PseudoHeaderSum4(ip.subspan<12, 4>(), ip.subspan<16, 4>(), protocol,
                                            static_cast<uint16_t>(ip.size() - ip_header_len));
  return stored == expected ? RxChecksum::kTrusted : RxChecksum::kBad;
}

std::optional<FrameOffload> PrepareTxOffload(std::span<uint8_t> head, size_t frame_len,
                                             uint16_t link_mtu) {
  size_t visible = std::min(head.size(), frame_len);
  if (visible < kEthHeader + 20) {
    return frame_len < kEthHeader + 20 ? std::optional(FrameOffload{}) : std::nullopt;
  }
  if (head[12] == 0x86 && head[13] == 0xdd) {
    return PrepareTxOffload6(head.subspan(0, visible), frame_len, link_mtu);
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
