// DHCPv4 codec (dhcp4_message.h). Every input byte comes from the guest, so every read goes
// through ByteReader, the options walk is bounded by the 1500-byte cap (each step consumes at
// least one byte), and each failure is a value with a short reason that never quotes the input.
#include "stack/dhcp4_message.h"

#include <algorithm>
#include <string>

#include "base/byte_reader.h"

namespace msb::stack {
namespace {

// RFC 2131 section 3: the first four octets of the options field, 99.130.83.99.
constexpr uint32_t kMagicCookie = 0x63825363;
constexpr uint8_t kHtypeEthernet = 1;
constexpr uint8_t kHlenEthernet = 6;
constexpr size_t kSnameSize = 64;
constexpr size_t kFileSize = 128;
constexpr size_t kMaxOptionLength = 255;

bool ReadAddress(ByteReader* r, IpAddress* out) {
  uint32_t v = 0;
  if (!r->ReadU32(&v)) {
    return false;
  }
  *out = IpAddress::V4(v);
  return true;
}

// RequiredLength is the exact length of the fixed-size options the server interprets, 0 for
// options it does not check this way.
size_t RequiredLength(uint8_t code) {
  switch (code) {
    case kDhcp4OptMessageType:
      return 1;
    case kDhcp4OptRequestedIp:
    case kDhcp4OptServerId:
      return 4;
    default:
      return 0;
  }
}

bool IsInterpreted(uint8_t code) {
  return code == kDhcp4OptMessageType || code == kDhcp4OptRequestedIp ||
         code == kDhcp4OptServerId || code == kDhcp4OptClientId;
}

std::string OptionError(uint8_t code, const char* what) {
  return "option " + std::to_string(code) + " " + what;
}

void PutU16(std::vector<uint8_t>* out, uint16_t v) {
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}

void PutU32(std::vector<uint8_t>* out, uint32_t v) {
  PutU16(out, static_cast<uint16_t>(v >> 16));
  PutU16(out, static_cast<uint16_t>(v));
}

void PutAddress(std::vector<uint8_t>* out, const IpAddress& ip) {
  PutU32(out, ip.is_v4() ? ip.v4() : 0);
}

std::optional<IpAddress> AddressValue(const Dhcp4Option* o) {
  if (o == nullptr || o->value.size() != 4) {
    return std::nullopt;
  }
  const std::vector<uint8_t>& v = o->value;
  return IpAddress::V4((uint32_t{v[0]} << 24) | (uint32_t{v[1]} << 16) | (uint32_t{v[2]} << 8) |
                       v[3]);
}

}  // namespace

MacAddress Dhcp4Message::client_mac() const {
  MacAddress mac;
  std::copy_n(chaddr.begin(), mac.size(), mac.begin());
  return mac;
}

const Dhcp4Option* Dhcp4Message::FindOption(uint8_t code) const {
  auto it = std::find_if(options.begin(), options.end(),
                         [code](const Dhcp4Option& o) { return o.code == code; });
  return it == options.end() ? nullptr : &*it;
}

std::optional<Dhcp4MessageType> Dhcp4Message::message_type() const {
  const Dhcp4Option* o = FindOption(kDhcp4OptMessageType);
  if (o == nullptr || o->value.size() != 1) {
    return std::nullopt;
  }
  return static_cast<Dhcp4MessageType>(o->value[0]);
}

std::optional<IpAddress> Dhcp4Message::requested_ip() const {
  return AddressValue(FindOption(kDhcp4OptRequestedIp));
}

std::optional<IpAddress> Dhcp4Message::server_id() const {
  return AddressValue(FindOption(kDhcp4OptServerId));
}

const std::vector<uint8_t>* Dhcp4Message::client_id() const {
  const Dhcp4Option* o = FindOption(kDhcp4OptClientId);
  return o == nullptr ? nullptr : &o->value;
}

void Dhcp4Message::AddOption(uint8_t code, std::span<const uint8_t> value) {
  options.push_back({code, std::vector<uint8_t>(value.begin(), value.end())});
}

void Dhcp4Message::AddU8Option(uint8_t code, uint8_t value) {
  options.push_back({code, {value}});
}

void Dhcp4Message::AddU16Option(uint8_t code, uint16_t value) {
  Dhcp4Option o{code, {}};
  PutU16(&o.value, value);
  options.push_back(std::move(o));
}

void Dhcp4Message::AddU32Option(uint8_t code, uint32_t value) {
  Dhcp4Option o{code, {}};
  PutU32(&o.value, value);
  options.push_back(std::move(o));
}

void Dhcp4Message::AddAddressOption(uint8_t code, const IpAddress& v4) {
  AddU32Option(code, v4.is_v4() ? v4.v4() : 0);
}

Result<Dhcp4Message> ParseDhcp4Message(std::span<const uint8_t> payload) {
  if (payload.size() > kDhcp4MaxMessageSize) {
    return Status::Error("message longer than 1500 bytes");
  }
  ByteReader r(payload);
  Dhcp4Message m;
  uint8_t op = 0;
  uint8_t htype = 0;
  uint8_t hlen = 0;
  std::span<const uint8_t> chaddr;
  uint32_t cookie = 0;
  if (!r.ReadU8(&op) || !r.ReadU8(&htype) || !r.ReadU8(&hlen) || !r.ReadU8(&m.hops) ||
      !r.ReadU32(&m.xid) || !r.ReadU16(&m.secs) || !r.ReadU16(&m.flags) ||
      !ReadAddress(&r, &m.ciaddr) || !ReadAddress(&r, &m.yiaddr) || !ReadAddress(&r, &m.siaddr) ||
      !ReadAddress(&r, &m.giaddr) || !r.ReadBytes(m.chaddr.size(), &chaddr) ||
      !r.Skip(kSnameSize + kFileSize) || !r.ReadU32(&cookie)) {
    return Status::Error("shorter than the BOOTP header and magic cookie");
  }
  if (op != static_cast<uint8_t>(Dhcp4Op::kBootRequest) &&
      op != static_cast<uint8_t>(Dhcp4Op::kBootReply)) {
    return Status::Error("op is neither BOOTREQUEST nor BOOTREPLY");
  }
  if (htype != kHtypeEthernet || hlen != kHlenEthernet) {
    return Status::Error("hardware type is not Ethernet (htype 1, hlen 6)");
  }
  if (cookie != kMagicCookie) {
    return Status::Error("no DHCP magic cookie");
  }
  m.op = static_cast<Dhcp4Op>(op);
  std::copy(chaddr.begin(), chaddr.end(), m.chaddr.begin());

  std::array<bool, 256> seen{};
  while (!r.empty()) {
    uint8_t code = 0;
    if (!r.ReadU8(&code)) {
      break;  // unreachable: the loop condition guarantees a byte
    }
    if (code == kDhcp4OptPad) {
      continue;
    }
    if (code == kDhcp4OptEnd) {
      break;  // what follows END is padding, whatever its value
    }
    ByteReader body(std::span<const uint8_t>{});
    if (!r.ReadU8LengthPrefixed(&body)) {
      return Status::Error(OptionError(code, "runs past the end of the message"));
    }
    if (IsInterpreted(code)) {
      if (seen[code]) {
        return Status::Error(OptionError(code, "appears twice"));
      }
      seen[code] = true;
      size_t want = RequiredLength(code);
      if (want != 0 && body.remaining() != want) {
        return Status::Error(OptionError(code, "has the wrong length"));
      }
      // RFC 2132 section 9.14: a client identifier is a type octet and at least one more.
      if (code == kDhcp4OptClientId && body.remaining() < 2) {
        return Status::Error(OptionError(code, "is shorter than 2 bytes"));
      }
    }
    std::span<const uint8_t> value = body.rest();
    m.options.push_back({code, std::vector<uint8_t>(value.begin(), value.end())});
  }
  return m;
}

std::vector<uint8_t> SerializeDhcp4Message(const Dhcp4Message& message) {
  std::vector<uint8_t> out;
  out.reserve(kDhcp4MaxReplySize);
  out.push_back(static_cast<uint8_t>(message.op));
  out.push_back(kHtypeEthernet);
  out.push_back(kHlenEthernet);
  out.push_back(message.hops);
  PutU32(&out, message.xid);
  PutU16(&out, message.secs);
  PutU16(&out, message.flags);
  PutAddress(&out, message.ciaddr);
  PutAddress(&out, message.yiaddr);
  PutAddress(&out, message.siaddr);
  PutAddress(&out, message.giaddr);
  out.insert(out.end(), message.chaddr.begin(), message.chaddr.end());
  out.resize(out.size() + kSnameSize + kFileSize, 0);
  PutU32(&out, kMagicCookie);
  for (const Dhcp4Option& o : message.options) {
    // An empty value is still one instance (length 0); a long one becomes several (RFC 3396).
    size_t done = 0;
    do {
      size_t n = std::min(kMaxOptionLength, o.value.size() - done);
      out.push_back(o.code);
      out.push_back(static_cast<uint8_t>(n));
      out.insert(out.end(), o.value.begin() + static_cast<ptrdiff_t>(done),
                 o.value.begin() + static_cast<ptrdiff_t>(done + n));
      done += n;
    } while (done < o.value.size());
  }
  out.push_back(kDhcp4OptEnd);
  if (out.size() < kBootpMinMessageSize) {
    out.resize(kBootpMinMessageSize, 0);
  }
  return out;
}

}  // namespace msb::stack
