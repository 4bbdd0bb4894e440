// IpAddress parsing, formatting and prefix arithmetic. inet_pton/inet_ntop do the text work; they
// are strict about form (glibc rejects leading zeros and extra parts in IPv4).
#include "base/ip_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace msb {

IpAddress IpAddress::V4(uint32_t host_order) {
  IpAddress a;
  a.family_ = IpFamily::kV4;
  a.bytes_[0] = static_cast<uint8_t>(host_order >> 24);
  a.bytes_[1] = static_cast<uint8_t>(host_order >> 16);
  a.bytes_[2] = static_cast<uint8_t>(host_order >> 8);
  a.bytes_[3] = static_cast<uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::V6(const std::array<uint8_t, 16>& bytes) {
  IpAddress a;
  a.family_ = IpFamily::kV6;
  a.bytes_ = bytes;
  return a;
}

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty() || text.size() > 45) {
    return std::nullopt;
  }
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (text.find(':') == std::string_view::npos) {
    uint8_t b[4];
    if (inet_pton(AF_INET, buf, b) != 1) {
      return std::nullopt;
    }
    return V4((uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3]);
  }
  std::array<uint8_t, 16> b{};
  if (inet_pton(AF_INET6, buf, b.data()) != 1) {
    return std::nullopt;
  }
  return V6(b);
}

uint32_t IpAddress::v4() const {
  return (uint32_t{bytes_[0]} << 24) | (uint32_t{bytes_[1]} << 16) | (uint32_t{bytes_[2]} << 8) |
         bytes_[3];
}

std::optional<IpAddress> IpAddress::EmbeddedV4() const {
  if (is_v4()) {
    return std::nullopt;
  }
  const auto& b = bytes_;
  auto from = [&](size_t at) {
    return V4((uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
              b[at + 3]);
  };
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b.data(), kMapped, 12) == 0 || std::memcmp(b.data(), kNat64, 12) == 0) {
    return from(12);
  }
  if (b[0] == 0x20 && b[1] == 0x02) {  // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD
    return from(2);
  }
  return std::nullopt;
}

bool IpAddress::IsUnspecified() const {
  for (size_t i = 0; i < byte_length(); ++i) {
    if (bytes_[i] != 0) {
      return false;
    }
  }
  return true;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof(buf)) == nullptr) {
    return "?";
  }
  return buf;
}

std::optional<IpPrefix> IpPrefix::Make(const IpAddress& address, unsigned length) {
  unsigned width = address.is_v4() ? 32 : 128;
  if (length > width) {
    return std::nullopt;
  }
  std::array<uint8_t, 16> b = address.bytes();
  for (unsigned bit = length; bit < width; ++bit) {
    b[bit / 8] = static_cast<uint8_t>(b[bit / 8] & ~(0x80u >> (bit % 8)));
  }
  IpPrefix p;
  p.address_ = address.is_v4() ? IpAddress::V4((uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) |
                                               (uint32_t{b[2]} << 8) | b[3])
                               : IpAddress::V6(b);
  p.length_ = length;
  return p;
}

std::optional<IpPrefix> IpPrefix::Parse(std::string_view text) {
  size_t slash = text.find('/');
  auto ip = IpAddress::Parse(text.substr(0, slash));
  if (!ip) {
    return std::nullopt;
  }
  unsigned width = ip->is_v4() ? 32 : 128;
  unsigned length = width;
  if (slash != std::string_view::npos) {
    std::string_view len_text = text.substr(slash + 1);
    if (len_text.empty() || len_text.size() > 3 || (len_text.size() > 1 && len_text[0] == '0')) {
      return std::nullopt;
    }
    auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), length);
    if (ec != std::errc() || ptr != len_text.data() + len_text.size()) {
      return std::nullopt;
    }
  }
  auto prefix = Make(*ip, length);
  if (!prefix || prefix->address() != *ip) {
    return std::nullopt;
  }
  return prefix;
}

bool IpPrefix::Contains(const IpAddress& ip) const {
  if (ip.family() != address_.family()) {
    return false;
  }
  auto masked = Make(ip, length_);
  return masked && masked->address_ == address_;
}

bool IpPrefix::Contains(const IpPrefix& other) const {
  return other.family() == family() && other.length_ >= length_ && Contains(other.address_);
}

std::string IpPrefix::ToString() const {
  return address_.ToString() + "/" + std::to_string(length_);
}

std::string SocketAddress::ToString() const {
  if (ip.is_v6()) {
    return "[" + ip.ToString() + "]:" + std::to_string(port);
  }
  return ip.ToString() + ":" + std::to_string(port);
}

size_t IpAddressHash::operator()(const IpAddress& ip) const {
  uint64_t h = 1469598103934665603ull ^ static_cast<uint64_t>(ip.family());
  for (uint8_t byte : ip.bytes()) {
    h = (h ^ byte) * 1099511628211ull;
  }
  return static_cast<size_t>(h);
}

}  // namespace msb
