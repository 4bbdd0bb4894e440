// Dhcp4Server (dhcp4_server.h): classify each client message, build the reply RFC 2131 Tables 3
// and 4 ask for (as updated by RFC 6842 for the client identifier), and pick its destination by
// section 4.1. Replies are built as Dhcp4Message values and serialized by dhcp4_message.cc, so
// the fuzz harness can parse every reply back with the same codec.
#include "stack/dhcp4_server.h"

#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "base/hostname.h"

namespace msb::stack {
namespace {

constexpr uint32_t kLimitedBroadcast = 0xffffffff;
constexpr uint32_t kInfiniteLease = 0xffffffff;  // RFC 2132 section 9.2
constexpr uint32_t kMinLeaseSeconds = 60;        // below this, renewals are mostly churn
constexpr uint16_t kMinMtu = 68;                 // RFC 2132 section 5.1
constexpr MacAddress kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
// The DHCP message (56) of every NAK: why the client must start over (RFC 2131 says SHOULD).
constexpr std::string_view kNakMessage = "wrong address for this link";
// BOOTP header + magic cookie: where options start.
constexpr size_t kOptionsOffset = kBootpHeaderSize + 4;

uint32_t Mask(unsigned prefix_len) {
  return prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - prefix_len);
}

// UsableUnicast: an IPv4 address a host can hold (not 0/8, loopback, multicast, class E or the
// limited broadcast).
bool UsableUnicast(const IpAddress& ip) {
  if (!ip.is_v4()) {
    return false;
  }
  uint32_t v = ip.v4();
  uint32_t first = v >> 24;
  return first != 0 && first != 127 && first < 224;
}

std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// WireSize is the serialized size of `message` without padding (END included).
size_t WireSize(const Dhcp4Message& message) {
  size_t n = kOptionsOffset + 1;
  for (const Dhcp4Option& o : message.options) {
    n += 2 + o.value.size();  // every value the server adds is at most 255 bytes
  }
  return n;
}

Dhcp4Destination Broadcast() {
  return {Dhcp4DestinationKind::kBroadcast, IpAddress::V4(kLimitedBroadcast), kBroadcastMac,
          kDhcp4ClientPort};
}

// OfferOrAckDestination applies RFC 2131 section 4.1 with giaddr zero (it is never used, see the
// header): ciaddr first, then the broadcast flag, else the new address at the client's MAC.
Dhcp4Destination OfferOrAckDestination(const Dhcp4Message& request, const IpAddress& yiaddr) {
  if (!request.ciaddr.IsUnspecified()) {
    return {Dhcp4DestinationKind::kClientAddress, request.ciaddr, request.client_mac(),
            kDhcp4ClientPort};
  }
  if (request.broadcast_flag()) {
    return Broadcast();
  }
  return {Dhcp4DestinationKind::kHardwareAddress, yiaddr, request.client_mac(), kDhcp4ClientPort};
}

}  // namespace

Result<Dhcp4Server> Dhcp4Server::Create(const Dhcp4ServerConfig& config) {
  if (!UsableUnicast(config.server_id) || !UsableUnicast(config.client_address)) {
    return Status::Error("dhcp4: server and client addresses must be unicast IPv4 addresses");
  }
  if (config.server_id == config.client_address) {
    return Status::Error("dhcp4: server and client addresses are the same");
  }
  if (config.prefix_len < 1 || config.prefix_len > 31) {
    return Status::Error("dhcp4: prefix length must be 1..31");
  }
  uint32_t mask = Mask(config.prefix_len);
  uint32_t server = config.server_id.v4();
  uint32_t client = config.client_address.v4();
  if ((server & mask) != (client & mask)) {
    return Status::Error("dhcp4: server and client addresses are not in one subnet");
  }
  // A /31 has no network or broadcast address (RFC 3021); shorter prefixes have both.
  if (config.prefix_len <= 30) {
    for (uint32_t host : {server & ~mask, client & ~mask}) {
      if (host == 0 || host == ~mask) {
        return Status::Error("dhcp4: an address is the subnet's network or broadcast address");
      }
    }
  }
  if (config.mtu < kMinMtu) {
    return Status::Error("dhcp4: MTU must be at least 68");
  }
  if (config.lease_seconds < kMinLeaseSeconds || config.lease_seconds == kInfiniteLease) {
    return Status::Error("dhcp4: lease time must be at least 60 s and finite");
  }
  Dhcp4Server server_obj(config);
  if (!config.domain_name.empty()) {
    Result<std::string> canonical = CanonicalHostname(config.domain_name);
    if (!canonical.ok()) {
      return Status::Error("dhcp4: domain name: " + canonical.error());
    }
    server_obj.config_.domain_name = std::move(canonical).value();
  }
  return server_obj;
}

std::optional<Dhcp4Reply> Dhcp4Server::Handle(const Dhcp4Input& input) {
  Result<Dhcp4Message> parsed = ParseDhcp4Message(input.payload);
  // A BOOTREPLY on the server port is another server's (or a relay's) business, never ours.
  if (!parsed.ok() || parsed.value().op != Dhcp4Op::kBootRequest) {
    ++stats_.malformed;
    return std::nullopt;
  }
  const Dhcp4Message& request = parsed.value();
  std::optional<Dhcp4MessageType> type = request.message_type();
  if (!type) {
    ++stats_.ignored;  // plain BOOTP: the guest images we serve all speak DHCP
    return std::nullopt;
  }
  switch (*type) {
    case Dhcp4MessageType::kDiscover: {
      ++stats_.discovers;
      // The same offer every time: a retransmitted DISCOVER (same or new xid) is simply answered.
      Dhcp4Message offer = StartReply(request, Dhcp4MessageType::kOffer);
      offer.yiaddr = config_.client_address;
      AddConfiguration(request, /*with_lease=*/true, &offer);
      return Finish(Dhcp4MessageType::kOffer, offer, OfferOrAckDestination(request, offer.yiaddr),
                    std::nullopt);
    }
    case Dhcp4MessageType::kRequest:
      ++stats_.requests;
      return OnRequest(request, input);
    case Dhcp4MessageType::kDecline:
    case Dhcp4MessageType::kRelease:
      if (!ForUs(request)) {
        ++stats_.ignored;
      } else if (*type == Dhcp4MessageType::kDecline) {
        ++stats_.declines;
      } else {
        ++stats_.releases;
      }
      return std::nullopt;
    case Dhcp4MessageType::kInform:
      ++stats_.informs;
      return OnInform(request, input);
    case Dhcp4MessageType::kOffer:
    case Dhcp4MessageType::kAck:
    case Dhcp4MessageType::kNak:
      break;  // server-to-client types
  }
  ++stats_.ignored;  // the above, and types this server does not implement (leasequery, ...)
  return std::nullopt;
}

std::optional<Dhcp4Reply> Dhcp4Server::OnRequest(const Dhcp4Message& request,
                                                 const Dhcp4Input& input) {
  std::optional<IpAddress> server_id = request.server_id();
  std::optional<IpAddress> requested = request.requested_ip();
  bool has_ciaddr = !request.ciaddr.IsUnspecified();
  Dhcp4RequestState state;
  if (server_id) {
    if (*server_id != config_.server_id) {
      ++stats_.ignored;  // the client took another server's offer: say nothing (RFC 2131 4.3.2)
      return std::nullopt;
    }
    state = Dhcp4RequestState::kSelecting;
  } else if (requested) {
    state = Dhcp4RequestState::kInitReboot;
  } else if (has_ciaddr) {
    state = input.broadcast ? Dhcp4RequestState::kRebinding : Dhcp4RequestState::kRenewing;
  } else {
    ++stats_.malformed;  // no server identifier and no address: not a REQUEST of any state
    return std::nullopt;
  }
  if (!requested && !has_ciaddr) {
    ++stats_.malformed;  // SELECTING must name the offered address (RFC 2131 Table 5)
    return std::nullopt;
  }
  bool ours = (!requested || *requested == config_.client_address) &&
              (!has_ciaddr || request.ciaddr == config_.client_address);
  if (!ours) {
    // Every client state is NAKed for a wrong address: this server is the only authority for
    // the link, and a NAK sends the client back to DISCOVER, where it gets the right one.
    Dhcp4Message nak = StartReply(request, Dhcp4MessageType::kNak);
    nak.AddOption(kDhcp4OptMessage, AsBytes(kNakMessage));
    AddClientId(request, &nak);
    // RFC 2131 section 4.1: with giaddr zero, a NAK is always broadcast.
    return Finish(Dhcp4MessageType::kNak, nak, Broadcast(), state);
  }
  Dhcp4Message ack = StartReply(request, Dhcp4MessageType::kAck);
  ack.ciaddr = request.ciaddr;  // Table 3: 'ciaddr' from the DHCPREQUEST
  ack.yiaddr = config_.client_address;
  AddConfiguration(request, /*with_lease=*/true, &ack);
  return Finish(Dhcp4MessageType::kAck, ack, OfferOrAckDestination(request, ack.yiaddr), state);
}

std::optional<Dhcp4Reply> Dhcp4Server::OnInform(const Dhcp4Message& request,
                                                const Dhcp4Input& input) {
  if (!ForUs(request)) {
    ++stats_.ignored;
    return std::nullopt;
  }
  // RFC 2131 section 4.3.5: an ACK to ciaddr, no lease time, no yiaddr. A client that left ciaddr
  // empty (against that section) is answered at its source address if it had one, else broadcast.
  Dhcp4Message ack = StartReply(request, Dhcp4MessageType::kAck);
  ack.ciaddr = request.ciaddr;
  AddConfiguration(request, /*with_lease=*/false, &ack);
  Dhcp4Destination to = Broadcast();
  if (!request.ciaddr.IsUnspecified()) {
    to = {Dhcp4DestinationKind::kClientAddress, request.ciaddr, request.client_mac(),
          kDhcp4ClientPort};
  } else if (UsableUnicast(input.source_ip)) {
    to = {Dhcp4DestinationKind::kClientAddress, input.source_ip, request.client_mac(),
          kDhcp4ClientPort};
  }
  return Finish(Dhcp4MessageType::kAck, ack, to, std::nullopt);
}

bool Dhcp4Server::ForUs(const Dhcp4Message& message) const {
  std::optional<IpAddress> id = message.server_id();
  return !id || *id == config_.server_id;
}

Dhcp4Message Dhcp4Server::StartReply(const Dhcp4Message& request, Dhcp4MessageType type) const {
  // Table 3: hops, secs, siaddr, sname and file zero; xid, flags, giaddr and chaddr from the
  // client. The message type comes first and the server identifier right after it: some
  // clients look for them there.
  Dhcp4Message reply;
  reply.op = Dhcp4Op::kBootReply;
  reply.xid = request.xid;
  reply.flags = request.flags;
  reply.giaddr = request.giaddr;
  reply.chaddr = request.chaddr;
  reply.AddU8Option(kDhcp4OptMessageType, static_cast<uint8_t>(type));
  reply.AddAddressOption(kDhcp4OptServerId, config_.server_id);
  return reply;
}

void Dhcp4Server::AddConfiguration(const Dhcp4Message& request, bool with_lease,
                                   Dhcp4Message* reply) const {
  if (with_lease) {
    uint64_t lease = config_.lease_seconds;
    reply->AddU32Option(kDhcp4OptLeaseTime, config_.lease_seconds);
    reply->AddU32Option(kDhcp4OptRenewalTime, static_cast<uint32_t>(lease / 2));
    reply->AddU32Option(kDhcp4OptRebindingTime, static_cast<uint32_t>(lease * 7 / 8));
  }
  reply->AddAddressOption(kDhcp4OptSubnetMask, IpAddress::V4(Mask(config_.prefix_len)));
  reply->AddAddressOption(kDhcp4OptRouter, config_.server_id);
  reply->AddAddressOption(kDhcp4OptDnsServers, config_.server_id);
  reply->AddU16Option(kDhcp4OptInterfaceMtu, config_.mtu);
  AddClientId(request, reply);
  // Every option above is sent whether or not the client listed it in option 55: RFC 2131
  // section 4.3.1 asks for requested parameters the server has, and allows others. The domain
  // name is the one optional extra, so it is the one left out when a long client identifier
  // leaves no room for it within the 548 bytes every client accepts.
  const std::string& domain = config_.domain_name;
  if (!domain.empty() && WireSize(*reply) + 2 + domain.size() <= kDhcp4MaxReplySize) {
    reply->AddOption(kDhcp4OptDomainName, AsBytes(domain));
  }
}

void Dhcp4Server::AddClientId(const Dhcp4Message& request, Dhcp4Message* reply) {
  // RFC 6842 section 3: a client identifier the client sent MUST come back unaltered in OFFER,
  // ACK and NAK (RFC 2131 Table 3 had said MUST NOT; 6842 reverses it). Parse caps it at 255.
  if (const std::vector<uint8_t>* id = request.client_id(); id != nullptr) {
    reply->AddOption(kDhcp4OptClientId, *id);
  }
}

Dhcp4Reply Dhcp4Server::Finish(Dhcp4MessageType type, const Dhcp4Message& reply,
                               const Dhcp4Destination& destination,
                               std::optional<Dhcp4RequestState> state) {
  if (type == Dhcp4MessageType::kOffer) {
    ++stats_.offers;
  } else if (type == Dhcp4MessageType::kNak) {
    ++stats_.naks;
  } else {
    ++stats_.acks;
  }
  return {type, SerializeDhcp4Message(reply), destination, state};
}

}  // namespace msb::stack
