// Test helpers: build guest Ethernet frames (ARP, IPv4 TCP/UDP with valid checksums) and parse the
// frames the stack sends back. Shared by the stack unit tests and the frame fuzzer's seed writer.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/ip_address.h"

namespace msb::testing {

using Mac = std::array<uint8_t, 6>;
inline constexpr Mac kGatewayMac = {0x02, 0x6d, 0x73, 0x00, 0x00, 0x01};
inline constexpr Mac kGuestMac = {0x02, 0x6d, 0x73, 0x00, 0x00, 0x02};

enum TcpFlags : uint8_t { kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10 };

struct TcpSegment {
  SocketAddress src;
  SocketAddress dst;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t window = 65535;
  std::vector<uint8_t> payload;
  std::vector<uint8_t> options;  // raw TCP options (padded to 4 bytes by the builder)
};

uint16_t InternetChecksum(std::span<const uint8_t> data, uint32_t initial = 0);

std::vector<uint8_t> EthernetFrame(const Mac& dst, const Mac& src, uint16_t ethertype,
                                   std::span<const uint8_t> payload);
std::vector<uint8_t> Ipv4Packet(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                                std::span<const uint8_t> payload, uint16_t id = 1,
                                uint16_t frag_field = 0x4000);
// Ipv6Packet: an IPv6 packet with no extension headers (hop limit 64 unless told).
std::vector<uint8_t> Ipv6Packet(const IpAddress& src, const IpAddress& dst, uint8_t next,
                                std::span<const uint8_t> payload, uint8_t hop_limit = 64);
// Icmp6Message fills in the checksum of an ICMPv6 message (type, code, 2 bytes, body) sent from
// `src` to `dst`.
std::vector<uint8_t> Icmp6Message(const IpAddress& src, const IpAddress& dst,
                                  std::vector<uint8_t> msg);
// Ipv6Fragments cuts `payload` (the upper-layer message of type `next`) into fragment frames of
// `piece` bytes (a multiple of 8 but for the last).
std::vector<std::vector<uint8_t>> Ipv6Fragments(const IpAddress& src, const IpAddress& dst,
                                                uint8_t next, std::span<const uint8_t> payload,
                                                size_t piece, uint32_t id);
// TcpFrame and UdpFrame build IPv4 or IPv6 by the source address's family.
std::vector<uint8_t> TcpFrame(const TcpSegment& seg);
std::vector<uint8_t> UdpFrame(const SocketAddress& src, const SocketAddress& dst,
                              std::span<const uint8_t> payload);
std::vector<uint8_t> ArpReply(const IpAddress& sender_ip, const Mac& sender_mac,
                              const IpAddress& target_ip, const Mac& target_mac);

// Parsed is what a frame from the stack contained.
struct Parsed {
  uint16_t ethertype = 0;
  bool arp_request = false;
  IpAddress arp_target;
  uint8_t ip_protocol = 0;
  IpAddress ip_src;
  IpAddress ip_dst;
  std::optional<TcpSegment> tcp;
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  std::vector<uint8_t> icmp_quote;  // the quoted IP header + 8 bytes
  SocketAddress udp_src;
  SocketAddress udp_dst;
  std::vector<uint8_t> udp_payload;
  bool checksums_ok = true;
  uint8_t hop_limit = 0;  // IPv6
};
Parsed ParseFrame(std::span<const uint8_t> frame);

}  // namespace msb::testing
