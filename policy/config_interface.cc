// The `interface` section of the JSON network configuration (config.h): the guest's MAC, the
// link MTU and the IPv4 and IPv6 addresses, in microsandbox's wire format.
#include <algorithm>
#include <string>

#include "base/strings.h"
#include "policy/config.h"

namespace msb::policy::config_internal {
namespace {

Result<std::array<uint8_t, 6>> ParseMacArray(const JsonValue& value, std::string_view path) {
  if (!value.is_array() || value.items().size() != 6) {
    return TypeError(path, "an array of 6 integers (0..255)", value);
  }
  std::array<uint8_t, 6> mac{};
  for (size_t i = 0; i < 6; ++i) {
    auto octet = IntegerField(value.items()[i], IndexPath(path, i), 0, 255);
    if (!octet.ok()) {
      return octet.status();
    }
    mac[i] = static_cast<uint8_t>(octet.value());
  }
  if ((mac[0] & 1) != 0) {
    return PathError(path,
                     "a multicast MAC address cannot be the guest's (the first octet is odd)");
  }
  if (mac == std::array<uint8_t, 6>{}) {
    return PathError(path, "the all-zero MAC address cannot be the guest's");
  }
  return mac;
}

// GuestOfSlot: the guest address of a /30 that starts at `base` (its second address).
IpAddress GuestOfSlot(uint32_t base) {
  return IpAddress::V4(base + 2);
}

}  // namespace

Result<InterfaceSettings> ParseInterfaceObject(const JsonValue& value, std::string_view path) {
  if (!value.is_object()) {
    return TypeError(path, "an object", value);
  }
  InterfaceSettings out;
  std::optional<IpAddress> address;
  std::optional<IpPrefix> pool;
  std::string address_path;
  std::optional<IpAddress> address6;
  std::optional<IpPrefix> pool6;
  std::string address6_path;
  for (const auto& [key, member] : value.members()) {
    std::string member_path = MemberPath(path, key);
    if (member.is_null()) {
      continue;  // the wire format's "not set"
    }
    if (key == "mac") {
      auto mac = ParseMacArray(member, member_path);
      if (!mac.ok()) {
        return mac.status();
      }
      out.mac = mac.value();
    } else if (key == "mtu") {
      auto mtu = IntegerField(member, member_path, kMinLinkMtu, kMaxLinkMtu);
      if (!mtu.ok()) {
        return mtu.status();
      }
      out.mtu = static_cast<uint16_t>(mtu.value());
    } else if (key == "ipv4_address") {
      if (!member.is_string()) {
        return TypeError(member_path, "a string (an IPv4 address)", member);
      }
      auto ip = IpAddress::Parse(member.as_string());
      if (!ip || !ip->is_v4()) {
        return PathError(member_path,
                         QuoteForMessage(member.as_string()) + " is not an IPv4 address");
      }
      address = *ip;
      address_path = member_path;
    } else if (key == "ipv4_pool") {
      if (!member.is_string()) {
        return TypeError(member_path, "a string (an IPv4 CIDR block)", member);
      }
      auto cidr = CidrField(member.as_string(), member_path);
      if (!cidr.ok()) {
        return cidr.status();
      }
      if (!cidr.value().address().is_v4()) {
        return PathError(member_path, QuoteForMessage(member.as_string()) +
                                          " is not an IPv4 block (ipv6_pool takes IPv6)");
      }
      if (cidr.value().length() > 30) {
        return PathError(member_path,
                         "the pool must hold at least one /30 (a prefix of /30 or "
                         "shorter), found /" +
                             std::to_string(cidr.value().length()));
      }
      pool = cidr.value();
    } else if (key == "ipv6_address") {
      if (!member.is_string()) {
        return TypeError(member_path, "a string (an IPv6 address)", member);
      }
      auto ip = IpAddress::Parse(member.as_string());
      if (!ip || !ip->is_v6()) {
        return PathError(member_path,
                         QuoteForMessage(member.as_string()) + " is not an IPv6 address");
      }
      address6 = *ip;
      address6_path = member_path;
    } else if (key == "ipv6_pool") {
      if (!member.is_string()) {
        return TypeError(member_path, "a string (an IPv6 CIDR block)", member);
      }
      auto cidr = CidrField(member.as_string(), member_path);
      if (!cidr.ok()) {
        return cidr.status();
      }
      if (!cidr.value().address().is_v6() || cidr.value().length() > 64) {
        return PathError(member_path, "the pool must be an IPv6 block of /64 or shorter, found " +
                                          QuoteForMessage(member.as_string()));
      }
      pool6 = cidr.value();
    } else {
      return UnknownField(member_path, key,
                          {"mac", "mtu", "ipv4_address", "ipv4_pool", "ipv6_address", "ipv6_pool"});
    }
  }
  if (address) {
    // The guest is the second address of its /30 and the gateway the first, so both are host
    // addresses of one /30.
    if ((address->v4() & 3) != 2) {
      IpAddress suggestion = GuestOfSlot(address->v4() & ~uint32_t{3});
      return PathError(address_path,
                       address->ToString() +
                           " cannot be the guest's address: it must be the second address of a "
                           "/30 (the gateway takes the first), e.g. " +
                           suggestion.ToString());
    }
    if (pool && !pool->Contains(*address)) {
      return PathError(address_path,
                       address->ToString() + " is not inside ipv4_pool " + pool->ToString());
    }
    out.guest_v4 = *address;
  } else if (pool) {
    out.guest_v4 = GuestOfSlot(pool->address().v4());  // slot 0
  }
  if (out.guest_v4) {
    out.gateway_v4 = IpAddress::V4(out.guest_v4->v4() - 1);
  }
  // IPv6: the guest's /64 holds the gateway at ::1 (microsandbox's slot layout: guest ::2).
  if (address6) {
    if (pool6 && !pool6->Contains(*address6)) {
      return PathError(address6_path,
                       address6->ToString() + " is not inside ipv6_pool " + pool6->ToString());
    }
    std::array<uint8_t, 16> gw = address6->bytes();
    std::fill(gw.begin() + 8, gw.end(), uint8_t{0});
    gw[15] = 1;
    if (IpAddress::V6(gw) == *address6) {
      return PathError(address6_path, address6->ToString() +
                                          " cannot be the guest's address: the gateway takes ::1 "
                                          "of the /64");
    }
    out.guest_v6 = *address6;
    out.gateway_v6 = IpAddress::V6(gw);
  } else if (pool6) {
    std::array<uint8_t, 16> b = pool6->address().bytes();  // slot 0: the pool's first /64
    b[15] = 2;
    out.guest_v6 = IpAddress::V6(b);
    b[15] = 1;
    out.gateway_v6 = IpAddress::V6(b);
  }
  return out;
}

}  // namespace msb::policy::config_internal
