// DHCPv4 wire format (RFC 2131 section 2, RFC 2132 options): a sans-I/O codec for the one message
// shape the guest's DHCP client and our server exchange. Parse reads untrusted bytes through
// msb::ByteReader with a hard size cap; Serialize writes what the server sends. Only Ethernet
// (htype 1, hlen 6) is spoken: the guest link is an Ethernet device and nothing else can reach it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/ip_address.h"
#include "base/status.h"

namespace msb::stack {

// MacAddress: the same alias as stack/netstack.h declares (redeclared so that this header, which
// knows nothing of lwIP or devices, stays light).
using MacAddress = std::array<uint8_t, 6>;

inline constexpr uint16_t kDhcp4ServerPort = 67;
inline constexpr uint16_t kDhcp4ClientPort = 68;
// The fixed BOOTP header (op .. file) that precedes the magic cookie.
inline constexpr size_t kBootpHeaderSize = 236;
// The smallest message on the wire (RFC 2131 section 2, after RFC 951): replies are padded to it
// because some BOOTP-era relays and clients drop shorter ones.
inline constexpr size_t kBootpMinMessageSize = 300;
// The largest message a client must accept without having sent option 57 (RFC 2131 section 2: an
// options field of at least 312 octets): 236 + 312. Every reply the server builds fits in it.
inline constexpr size_t kDhcp4MaxReplySize = 548;
// The largest message Parse accepts. A client message never needs more than an Ethernet MTU, and
// the cap bounds the work one datagram can cause.
inline constexpr size_t kDhcp4MaxMessageSize = 1500;
inline constexpr uint16_t kDhcp4BroadcastFlag = 0x8000;

enum class Dhcp4Op : uint8_t { kBootRequest = 1, kBootReply = 2 };

// Option 53 values (RFC 2132 section 9.6). Values outside this list still fit the enum (a scoped
// enum with a fixed underlying type holds any uint8_t) and are handled as "other".
enum class Dhcp4MessageType : uint8_t {
  kDiscover = 1,
  kOffer = 2,
  kRequest = 3,
  kDecline = 4,
  kAck = 5,
  kNak = 6,
  kRelease = 7,
  kInform = 8,
};

// Option codes the codec or the server use (RFC 2132, RFC 6842).
enum Dhcp4OptionCode : uint8_t {
  kDhcp4OptPad = 0,
  kDhcp4OptSubnetMask = 1,
  kDhcp4OptRouter = 3,
  kDhcp4OptDnsServers = 6,
  kDhcp4OptDomainName = 15,
  kDhcp4OptInterfaceMtu = 26,
  kDhcp4OptRequestedIp = 50,
  kDhcp4OptLeaseTime = 51,
  kDhcp4OptOverload = 52,
  kDhcp4OptMessageType = 53,
  kDhcp4OptServerId = 54,
  kDhcp4OptParameterList = 55,
  kDhcp4OptMessage = 56,
  kDhcp4OptMaxMessageSize = 57,
  kDhcp4OptRenewalTime = 58,
  kDhcp4OptRebindingTime = 59,
  kDhcp4OptClientId = 61,
  kDhcp4OptEnd = 255,
};

// Dhcp4Option is one option from the options field (never PAD or END), value as on the wire.
struct Dhcp4Option {
  uint8_t code = 0;
  std::vector<uint8_t> value;
  friend bool operator==(const Dhcp4Option&, const Dhcp4Option&) = default;
};

// Dhcp4Message is a decoded BOOTP/DHCP message. sname and file are not kept: the server never
// fills them, and option overload (52) into them is not honoured (RFC 2131 allows a server to
// ignore it; the options the server needs always fit in the options field).
struct Dhcp4Message {
  Dhcp4Op op = Dhcp4Op::kBootRequest;
  uint8_t hops = 0;
  uint32_t xid = 0;
  uint16_t secs = 0;
  uint16_t flags = 0;
  IpAddress ciaddr;  // all IPv4; 0.0.0.0 when unset
  IpAddress yiaddr;
  IpAddress siaddr;
  IpAddress giaddr;
  std::array<uint8_t, 16> chaddr{};  // the first 6 octets are the client's MAC
  std::vector<Dhcp4Option> options;  // in wire order

  bool broadcast_flag() const { return (flags & kDhcp4BroadcastFlag) != 0; }
  MacAddress client_mac() const;
  // FindOption returns the first option with `code`, or nullptr. Borrowed from this message.
  const Dhcp4Option* FindOption(uint8_t code) const;
  // Typed views of options 53, 50, 54 and 61; nullopt when absent or of the wrong length (Parse
  // already rejects wrong lengths, so on a parsed message nullopt means absent).
  std::optional<Dhcp4MessageType> message_type() const;
  std::optional<IpAddress> requested_ip() const;
  std::optional<IpAddress> server_id() const;
  const std::vector<uint8_t>* client_id() const;

  // Builders for the server's replies (no checks beyond what the types enforce).
  void AddOption(uint8_t code, std::span<const uint8_t> value);
  void AddU8Option(uint8_t code, uint8_t value);
  void AddU16Option(uint8_t code, uint16_t value);
  void AddU32Option(uint8_t code, uint32_t value);
  void AddAddressOption(uint8_t code, const IpAddress& v4);
};

// ParseDhcp4Message decodes one UDP payload. It fails (a short reason, never echoing the input)
// when the payload is shorter than header + cookie or longer than kDhcp4MaxMessageSize, op is
// neither request nor reply, htype/hlen are not Ethernet's 1/6, the magic cookie is not
// 99.130.83.99, an option's length runs past the end, or an option the server interprets (50,
// 53, 54, 61) has the wrong length or appears twice (RFC 3396 concatenation is never needed for
// them, and two differing copies are ambiguous). The walk stops at END; a field that ends without
// END is accepted (the options simply ran to the end). The result owns copies of the bytes.
Result<Dhcp4Message> ParseDhcp4Message(std::span<const uint8_t> payload);

// SerializeDhcp4Message writes `message`: the fixed header (htype 1, hlen 6, sname and file zero),
// the cookie, the options in order (a value longer than 255 octets is split into consecutive
// instances of its code, as RFC 3396 defines), END, and zero padding up to kBootpMinMessageSize.
std::vector<uint8_t> SerializeDhcp4Message(const Dhcp4Message& message);

}  // namespace msb::stack
