// IpAddress, IpPrefix and SocketAddress: small value types shared by every module. Parsing is
// strict (no leading zeros, no zone ids, no surrounding whitespace) because these strings come from
// users and from untrusted config.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace msb {

enum class IpFamily : uint8_t { kV4, kV6 };

class IpAddress {
 public:
  IpAddress() = default;  // 0.0.0.0
  static IpAddress V4(uint32_t host_order);
  static IpAddress V6(const std::array<uint8_t, 16>& bytes);
  // Parse accepts dotted-quad IPv4 or RFC 4291 IPv6 text (no brackets, no zone).
  static std::optional<IpAddress> Parse(std::string_view text);

  IpFamily family() const { return family_; }
  bool is_v4() const { return family_ == IpFamily::kV4; }
  bool is_v6() const { return family_ == IpFamily::kV6; }
  // v4() is the IPv4 address in host byte order; only meaningful when is_v4().
  uint32_t v4() const;
  // bytes() is the network-order address: 4 significant bytes for IPv4, 16 for IPv6.
  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  size_t byte_length() const { return is_v4() ? 4 : 16; }

  // EmbeddedV4 returns the IPv4 address carried inside an IPv6 address of the IPv4-mapped
  // (::ffff:0:0/96), NAT64 well-known (64:ff9b::/96) or 6to4 (2002::/16) forms; nullopt otherwise.
  std::optional<IpAddress> EmbeddedV4() const;
  // Normalized returns the embedded IPv4 address when there is one, else the address itself.
  IpAddress Normalized() const { return EmbeddedV4().value_or(*this); }

  bool IsUnspecified() const;
  std::string ToString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

 private:
  IpFamily family_ = IpFamily::kV4;
  std::array<uint8_t, 16> bytes_{};
};

// IpPrefix is an address block in CIDR form. The stored address has its host bits cleared.
class IpPrefix {
 public:
  IpPrefix() = default;
  // Make clears host bits; returns nullopt when `length` exceeds the family's width.
  static std::optional<IpPrefix> Make(const IpAddress& address, unsigned length);
  // Parse accepts "ADDR/LEN" or a bare address (a /32 or /128). Host bits set in ADDR are an error
  // (10.0.0.1/8 is rejected: it is almost always a typo for a host or a different block).
  static std::optional<IpPrefix> Parse(std::string_view text);

  const IpAddress& address() const { return address_; }
  unsigned length() const { return length_; }
  IpFamily family() const { return address_.family(); }
  bool Contains(const IpAddress& ip) const;
  bool Contains(const IpPrefix& other) const;
  std::string ToString() const;

  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;

 private:
  IpAddress address_;
  unsigned length_ = 0;
};

struct SocketAddress {
  IpAddress ip;
  uint16_t port = 0;
  // ToString gives "1.2.3.4:80" or "[2001:db8::1]:80".
  std::string ToString() const;
  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
  friend auto operator<=>(const SocketAddress&, const SocketAddress&) = default;
};

struct IpAddressHash {
  size_t operator()(const IpAddress& ip) const;
};

}  // namespace msb
