// offload: the checksum and segmentation rules for frames behind a virtio-net header, on bytes
// (no lwIP): which received L4 checksums can be trusted, and how a frame for the guest is tagged
// so that its kernel completes the checksum and splits large TCP segments (GSO).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "stack/frame_device.h"

namespace msb::stack {

enum class RxChecksum : uint8_t {
  kVerify,   // no offload claim: verify the L4 checksum as usual
  kTrusted,  // the sending kernel vouches for it (DATA_VALID), or it is a well-formed partial one
  kBad,      // a partial checksum or GSO claim that does not fit the packet: drop it
};

// ClassifyRxChecksum judges the offload header of one received IPv4 or IPv6 packet (`ip` starts at
// the IP header; `ip_header_len` and `protocol` are already validated). A partial checksum is
// trusted only when it is where the header says TCP's or UDP's is (csum_start at the L4 header,
// csum_offset 16 or 6) and holds exactly the pseudo-header sum a sending kernel leaves there; a GSO
// claim must name the packet's own protocol. Anything else is kBad: such frames are rejected, not
// delivered.
RxChecksum ClassifyRxChecksum(const FrameOffload& offload, std::span<const uint8_t> ip,
                              size_t ip_header_len, uint8_t protocol);

// PrepareTxOffload tags one Ethernet frame for the guest. `head` holds at least the frame's
// Ethernet, IP and TCP headers (it may hold more); `frame_len` is the whole frame. For TCP it
// writes the pseudo-header sum into the checksum field and returns needs_csum, plus GSO with
// gso_size = what one segment carries at `link_mtu` when the payload is larger. Other frames
// (complete checksums) get an empty offload. nullopt: `head` is too short to hold the headers
// (the caller joins the frame and asks again).
std::optional<FrameOffload> PrepareTxOffload(std::span<uint8_t> head, size_t frame_len,
                                             uint16_t link_mtu);

// PseudoHeaderSum4 is the folded (not complemented) one's-complement sum of the IPv4 pseudo-header
// for an L4 segment of `l4_len` bytes, in network byte order as it sits in the header field.
uint16_t PseudoHeaderSum4(std::span<const uint8_t, 4> src, std::span<const uint8_t, 4> dst,
                          uint8_t protocol, uint16_t l4_len);
// PseudoHeaderSum6 is the same for the IPv6 pseudo-header (RFC 8200 8.1).
uint16_t PseudoHeaderSum6(std::span<const uint8_t, 16> src, std::span<const uint8_t, 16> dst,
                          uint8_t protocol, uint32_t l4_len);
// PrepareTxOffload6 is PrepareTxOffload's IPv6 half (TCP directly after the fixed header).
std::optional<FrameOffload> PrepareTxOffload6(std::span<uint8_t> head, size_t frame_len,
                                              uint16_t link_mtu);

}  // namespace msb::stack
