// Dhcp4Server and its codec on real bytes: client packets are built octet by octet here (not with
// the codec under test) and replies are checked octet by octet, for the whole DISCOVER / OFFER /
// REQUEST / ACK exchange, renewals, INIT-REBOOT, other servers, INFORM, DECLINE / RELEASE, the
// RFC 2131 section 4.1 destination rules, the client identifier echo, and malformed input.
#include "stack/dhcp4_server.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "stack/dhcp4_message.h"

namespace msb::stack {
namespace {

constexpr uint32_t kServerIp = 0xac100001;  // 172.16.0.1
constexpr uint32_t kGuestIp = 0xac100002;   // 172.16.0.2
constexpr uint32_t kXid = 0x3903f326;
constexpr MacAddress kClientMac = {0x02, 0x6d, 0x73, 0x00, 0x00, 0x02};
constexpr MacAddress kOtherMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
constexpr MacAddress kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr size_t kOptionsAt = 240;  // 236-byte BOOTP header + 4-byte cookie

using Bytes = std::vector<uint8_t>;

void PutU32(Bytes* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<uint8_t>(v >> shift));
  }
}

Bytes U32(uint32_t v) {
  Bytes b;
  PutU32(&b, v);
  return b;
}

// Packet writes a client message octet by octet; fields default to a DISCOVER's.
struct Packet {
  uint8_t op = 1;
  uint8_t htype = 1;
  uint8_t hlen = 6;
  uint8_t hops = 0;
  uint32_t xid = kXid;
  uint16_t secs = 3;
  uint16_t flags = 0;
  uint32_t ciaddr = 0;
  uint32_t yiaddr = 0;
  uint32_t siaddr = 0;
  uint32_t giaddr = 0;
  MacAddress mac = kClientMac;
  std::array<uint8_t, 4> cookie = {99, 130, 83, 99};
  Bytes options;  // raw option bytes; END follows unless `end` is false
  bool end = true;
  size_t pad_to = 300;

  Packet& Opt(uint8_t code, const Bytes& value) {
    options.push_back(code);
    options.push_back(static_cast<uint8_t>(value.size()));
    options.insert(options.end(), value.begin(), value.end());
    return *this;
  }
  Packet& Type(uint8_t type) { return Opt(53, {type}); }
  Packet& Addr(uint8_t code, uint32_t ip) { return Opt(code, U32(ip)); }

  Bytes Build() const {
    Bytes b = {op, htype, hlen, hops};
    PutU32(&b, xid);
    b.push_back(static_cast<uint8_t>(secs >> 8));
    b.push_back(static_cast<uint8_t>(secs));
    b.push_back(static_cast<uint8_t>(flags >> 8));
    b.push_back(static_cast<uint8_t>(flags));
    for (uint32_t a : {ciaddr, yiaddr, siaddr, giaddr}) {
      PutU32(&b, a);
    }
    b.insert(b.end(), mac.begin(), mac.end());
    b.resize(b.size() + 10 + 64 + 128, 0);  // rest of chaddr, sname, file
    b.insert(b.end(), cookie.begin(), cookie.end());
    b.insert(b.end(), options.begin(), options.end());
    if (end) {
      b.push_back(255);
    }
    if (b.size() < pad_to) {
      b.resize(pad_to, 0);
    }
    return b;
  }
};

const Bytes kParamList = {1, 3, 6, 12, 15, 26, 28, 42, 119, 121};
const Bytes kClientId = {1, 0x02, 0x6d, 0x73, 0x00, 0x00, 0x02};  // type 1 (Ethernet) + MAC

Packet Discover() {
  Packet p;
  p.Type(1).Opt(61, kClientId).Opt(55, kParamList).Opt(57, {0x05, 0xdc});
  return p;
}

Packet Selecting(uint32_t server = kServerIp, uint32_t requested = kGuestIp) {
  Packet p;
  p.Type(3).Opt(61, kClientId).Addr(54, server).Addr(50, requested).Opt(55, kParamList);
  return p;
}

Packet InitReboot(uint32_t requested) {
  Packet p;
  p.Type(3).Opt(61, kClientId).Addr(50, requested).Opt(55, kParamList);
  return p;
}

Packet Renewing(uint32_t ciaddr) {
  Packet p;
  p.ciaddr = ciaddr;
  p.Type(3).Opt(61, kClientId).Opt(55, kParamList);
  return p;
}

uint32_t U32At(const Bytes& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
         b[at + 3];
}

// OptionBytes is a reply's options field from the cookie to END inclusive, found without the
// codec under test; everything after END must be zero padding.
Bytes OptionBytes(const Bytes& reply) {
  if (reply.size() < kOptionsAt + 1) {
    ADD_FAILURE() << "reply of " << reply.size() << " bytes";
    return {};
  }
  size_t i = kOptionsAt;
  while (i < reply.size() && reply[i] != 255) {
    if (reply[i] != 0 && i + 1 >= reply.size()) {
      ADD_FAILURE() << "option without a length at " << i;
      return {};
    }
    i += reply[i] == 0 ? 1 : 2 + size_t{reply[i + 1]};
  }
  if (i >= reply.size()) {
    ADD_FAILURE() << "no END";
    return {};
  }
  for (size_t j = i + 1; j < reply.size(); ++j) {
    EXPECT_EQ(reply[j], 0) << "padding at " << j;
  }
  return Bytes(reply.begin() + kBootpHeaderSize, reply.begin() + static_cast<ptrdiff_t>(i) + 1);
}

// Options: the link configuration every OFFER / ACK / INFORM-ACK carries, in order.
Bytes LinkOptions() {
  return {1,  4, 255,  255, 255, 252,  // subnet mask of a /30
          3,  4, 172,  16,  0,   1,    // router
          6,  4, 172,  16,  0,   1,    // DNS server
          26, 2, 0x05, 0xdc};          // interface MTU 1500
}

Bytes Head(uint8_t type) {
  return {53, 1, type, 54, 4, 172, 16, 0, 1};
}

Bytes LeaseOptions() {
  return {51, 4, 0, 0, 0x0e, 0x10,   // 3600 s
          58, 4, 0, 0, 0x07, 0x08,   // T1 1800 s
          59, 4, 0, 0, 0x0c, 0x4e};  // T2 3150 s
}

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

Bytes ClientIdOption() {
  return Concat({{61, static_cast<uint8_t>(kClientId.size())}, kClientId});
}

// ExpectReplyHeader checks the fixed header of a reply to `request` (RFC 2131 Table 3).
void ExpectReplyHeader(const Bytes& reply, const Packet& request, uint32_t ciaddr,
                       uint32_t yiaddr) {
  ASSERT_GE(reply.size(), kBootpMinMessageSize);
  EXPECT_EQ(reply[0], 2);  // BOOTREPLY
  EXPECT_EQ(reply[1], 1);
  EXPECT_EQ(reply[2], 6);
  EXPECT_EQ(reply[3], 0);  // hops
  EXPECT_EQ(U32At(reply, 4), request.xid);
  EXPECT_EQ(reply[8], 0);  // secs
  EXPECT_EQ(reply[9], 0);
  EXPECT_EQ(reply[10], request.flags >> 8);
  EXPECT_EQ(reply[11], request.flags & 0xff);
  EXPECT_EQ(U32At(reply, 12), ciaddr);
  EXPECT_EQ(U32At(reply, 16), yiaddr);
  EXPECT_EQ(U32At(reply, 20), 0u);  // siaddr: no next server
  EXPECT_EQ(U32At(reply, 24), request.giaddr);
  EXPECT_TRUE(std::equal(request.mac.begin(), request.mac.end(), reply.begin() + 28));
  for (size_t i = 34; i < 236; ++i) {
    EXPECT_EQ(reply[i], 0) << "chaddr tail, sname or file at " << i;
  }
  EXPECT_EQ(U32At(reply, 236), 0x63825363u);
}

class Dhcp4ServerTest : public ::testing::Test {
 protected:
  Dhcp4ServerTest() : server_(Make(Dhcp4ServerConfig{})) {}

  static Dhcp4Server Make(const Dhcp4ServerConfig& config) {
    Result<Dhcp4Server> s = Dhcp4Server::Create(config);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error());
    return std::move(s).value();
  }

  std::optional<Dhcp4Reply> Send(const Packet& p, bool broadcast = true, uint32_t source = 0) {
    Bytes bytes = p.Build();
    return server_.Handle({bytes, IpAddress::V4(source), broadcast});
  }

  // ExpectDropped: no reply, and exactly one more `counter`.
  void ExpectDropped(const Bytes& bytes, uint64_t Dhcp4ServerStats::*counter) {
    uint64_t before = server_.stats().*counter;
    EXPECT_FALSE(server_.Handle({bytes, IpAddress(), true}).has_value());
    EXPECT_EQ(server_.stats().*counter, before + 1);
  }

  Dhcp4Server server_;
};

TEST_F(Dhcp4ServerTest, DiscoverOfferRequestAck) {
  Packet discover = Discover();
  discover.flags = kDhcp4BroadcastFlag;
  std::optional<Dhcp4Reply> offer = Send(discover);
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->type, Dhcp4MessageType::kOffer);
  EXPECT_EQ(offer->payload.size(), kBootpMinMessageSize);
  ExpectReplyHeader(offer->payload, discover, 0, kGuestIp);
  EXPECT_EQ(
      OptionBytes(offer->payload),
      Concat({{99, 130, 83, 99}, Head(2), LeaseOptions(), LinkOptions(), ClientIdOption(), {255}}));
  EXPECT_EQ(offer->destination.kind, Dhcp4DestinationKind::kBroadcast);
  EXPECT_EQ(offer->destination.ip, IpAddress::V4(0xffffffff));
  EXPECT_EQ(offer->destination.mac, kBroadcastMac);
  EXPECT_EQ(offer->destination.port, 68);
  EXPECT_FALSE(offer->request_state.has_value());

  Packet request = Selecting();
  request.flags = kDhcp4BroadcastFlag;
  std::optional<Dhcp4Reply> ack = Send(request);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->type, Dhcp4MessageType::kAck);
  EXPECT_EQ(ack->request_state, Dhcp4RequestState::kSelecting);
  ExpectReplyHeader(ack->payload, request, 0, kGuestIp);
  EXPECT_EQ(
      OptionBytes(ack->payload),
      Concat({{99, 130, 83, 99}, Head(5), LeaseOptions(), LinkOptions(), ClientIdOption(), {255}}));
  EXPECT_EQ(ack->destination.kind, Dhcp4DestinationKind::kBroadcast);

  const Dhcp4ServerStats& s = server_.stats();
  EXPECT_EQ(s.discovers, 1u);
  EXPECT_EQ(s.offers, 1u);
  EXPECT_EQ(s.requests, 1u);
  EXPECT_EQ(s.acks, 1u);
  EXPECT_EQ(s.naks + s.malformed + s.ignored + s.informs + s.declines + s.releases, 0u);
}

TEST_F(Dhcp4ServerTest, WithoutBroadcastFlagRepliesGoToChaddrWithoutArp) {
  std::optional<Dhcp4Reply> offer = Send(Discover());
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->destination.kind, Dhcp4DestinationKind::kHardwareAddress);
  EXPECT_EQ(offer->destination.ip, IpAddress::V4(kGuestIp));
  EXPECT_EQ(offer->destination.mac, kClientMac);
  EXPECT_EQ(offer->payload[10], 0);  // flags copied: no broadcast bit
  std::optional<Dhcp4Reply> ack = Send(Selecting());
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->destination.kind, Dhcp4DestinationKind::kHardwareAddress);
  EXPECT_EQ(ack->destination.ip, IpAddress::V4(kGuestIp));
  EXPECT_EQ(ack->destination.mac, kClientMac);
}

TEST_F(Dhcp4ServerTest, RetransmittedDiscoverGetsTheSameOffer) {
  std::optional<Dhcp4Reply> first = Send(Discover());
  std::optional<Dhcp4Reply> again = Send(Discover());
  ASSERT_TRUE(first && again);
  EXPECT_EQ(first->payload, again->payload);
  Packet later = Discover();
  later.xid = 0x11223344;
  later.secs = 9;
  std::optional<Dhcp4Reply> third = Send(later);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(U32At(third->payload, 4), 0x11223344u);
  EXPECT_EQ(OptionBytes(third->payload), OptionBytes(first->payload));
  EXPECT_EQ(server_.stats().offers, 3u);
}

TEST_F(Dhcp4ServerTest, AnyClientOnTheLinkIsOfferedTheOneAddress) {
  Packet other = Discover();
  other.mac = kOtherMac;
  other.options.clear();
  other.Type(1);
  std::optional<Dhcp4Reply> a = Send(Discover());
  std::optional<Dhcp4Reply> b = Send(other);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(U32At(b->payload, 16), kGuestIp);
  EXPECT_TRUE(std::equal(kOtherMac.begin(), kOtherMac.end(), b->payload.begin() + 28));
  EXPECT_EQ(b->destination.mac, kOtherMac);
  // No client identifier sent, none echoed.
  EXPECT_EQ(OptionBytes(b->payload),
            Concat({{99, 130, 83, 99}, Head(2), LeaseOptions(), LinkOptions(), {255}}));
  Packet req = Selecting();
  req.mac = kOtherMac;
  std::optional<Dhcp4Reply> ack = Send(req);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->type, Dhcp4MessageType::kAck);
}

TEST_F(Dhcp4ServerTest, RenewingIsUnicastToCiaddrAndRebindingToo) {
  Packet renew = Renewing(kGuestIp);
  renew.flags = kDhcp4BroadcastFlag;  // ciaddr wins over the broadcast flag (RFC 2131 4.1)
  std::optional<Dhcp4Reply> ack = Send(renew, /*broadcast=*/false, kGuestIp);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->type, Dhcp4MessageType::kAck);
  EXPECT_EQ(ack->request_state, Dhcp4RequestState::kRenewing);
  ExpectReplyHeader(ack->payload, renew, kGuestIp, kGuestIp);
  EXPECT_EQ(
      OptionBytes(ack->payload),
      Concat({{99, 130, 83, 99}, Head(5), LeaseOptions(), LinkOptions(), ClientIdOption(), {255}}));
  EXPECT_EQ(ack->destination.kind, Dhcp4DestinationKind::kClientAddress);
  EXPECT_EQ(ack->destination.ip, IpAddress::V4(kGuestIp));
  EXPECT_EQ(ack->destination.mac, kClientMac);

  std::optional<Dhcp4Reply> rebind = Send(Renewing(kGuestIp), /*broadcast=*/true, kGuestIp);
  ASSERT_TRUE(rebind.has_value());
  EXPECT_EQ(rebind->type, Dhcp4MessageType::kAck);
  EXPECT_EQ(rebind->request_state, Dhcp4RequestState::kRebinding);
  EXPECT_EQ(rebind->destination.kind, Dhcp4DestinationKind::kClientAddress);
  EXPECT_EQ(server_.stats().acks, 2u);
}

// NakOptions: type 6, our identifier, the message, the client identifier; nothing else.
Bytes NakOptions() {
  const std::string_view text = "wrong address for this link";
  return Concat({{99, 130, 83, 99},
                 Head(6),
                 {56, static_cast<uint8_t>(text.size())},
                 Bytes(text.begin(), text.end()),
                 ClientIdOption(),
                 {255}});
}

TEST_F(Dhcp4ServerTest, RenewingAnotherAddressIsNakedByBroadcast) {
  Packet renew = Renewing(0xac100009);
  std::optional<Dhcp4Reply> nak = Send(renew, /*broadcast=*/false, 0xac100009);
  ASSERT_TRUE(nak.has_value());
  EXPECT_EQ(nak->type, Dhcp4MessageType::kNak);
  EXPECT_EQ(nak->request_state, Dhcp4RequestState::kRenewing);
  ExpectReplyHeader(nak->payload, renew, 0, 0);  // NAK: ciaddr and yiaddr zero
  EXPECT_EQ(OptionBytes(nak->payload), NakOptions());
  EXPECT_EQ(nak->destination.kind, Dhcp4DestinationKind::kBroadcast);
  EXPECT_EQ(nak->destination.mac, kBroadcastMac);
  EXPECT_EQ(server_.stats().naks, 1u);
}

TEST_F(Dhcp4ServerTest, InitRebootAcksOurAddressAndNaksAnother) {
  std::optional<Dhcp4Reply> ack = Send(InitReboot(kGuestIp));
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->type, Dhcp4MessageType::kAck);
  EXPECT_EQ(ack->request_state, Dhcp4RequestState::kInitReboot);
  EXPECT_EQ(ack->destination.kind, Dhcp4DestinationKind::kHardwareAddress);

  Packet wrong = InitReboot(0xc0a80164);  // 192.168.1.100, from the image's last network
  std::optional<Dhcp4Reply> nak = Send(wrong);
  ASSERT_TRUE(nak.has_value());
  EXPECT_EQ(nak->type, Dhcp4MessageType::kNak);
  EXPECT_EQ(nak->request_state, Dhcp4RequestState::kInitReboot);
  ExpectReplyHeader(nak->payload, wrong, 0, 0);
  EXPECT_EQ(OptionBytes(nak->payload), NakOptions());
  // No broadcast flag, yet the NAK is broadcast: the client has no address to unicast to.
  EXPECT_EQ(nak->destination.kind, Dhcp4DestinationKind::kBroadcast);
  EXPECT_EQ(nak->destination.ip, IpAddress::V4(0xffffffff));
}

TEST_F(Dhcp4ServerTest, SelectingAnotherServerIsIgnored) {
  std::optional<Dhcp4Reply> r = Send(Selecting(0xac100063));
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(server_.stats().requests, 1u);
  EXPECT_EQ(server_.stats().ignored, 1u);
  EXPECT_EQ(server_.stats().naks + server_.stats().acks, 0u);
}

TEST_F(Dhcp4ServerTest, SelectingUsForAnotherAddressIsNaked) {
  std::optional<Dhcp4Reply> r = Send(Selecting(kServerIp, 0xac100003));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->type, Dhcp4MessageType::kNak);
  EXPECT_EQ(r->request_state, Dhcp4RequestState::kSelecting);
}

TEST_F(Dhcp4ServerTest, RequestNamingNoAddressIsMalformed) {
  Packet none;
  none.Type(3);
  ExpectDropped(none.Build(), &Dhcp4ServerStats::malformed);
  Packet selecting_nothing;
  selecting_nothing.Type(3).Addr(54, kServerIp);
  ExpectDropped(selecting_nothing.Build(), &Dhcp4ServerStats::malformed);
  EXPECT_EQ(server_.stats().requests, 2u);
}

TEST_F(Dhcp4ServerTest, InformGetsOptionsOnly) {
  Packet inform;
  inform.ciaddr = kGuestIp;
  inform.Type(8).Opt(61, kClientId).Opt(55, kParamList);
  std::optional<Dhcp4Reply> ack = Send(inform, /*broadcast=*/false, kGuestIp);
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->type, Dhcp4MessageType::kAck);
  ExpectReplyHeader(ack->payload, inform, kGuestIp, 0);  // no yiaddr
  EXPECT_EQ(OptionBytes(ack->payload),
            Concat({{99, 130, 83, 99}, Head(5), LinkOptions(), ClientIdOption(), {255}}));
  EXPECT_EQ(ack->destination.kind, Dhcp4DestinationKind::kClientAddress);
  EXPECT_EQ(ack->destination.ip, IpAddress::V4(kGuestIp));
  EXPECT_EQ(server_.stats().informs, 1u);
  EXPECT_EQ(server_.stats().acks, 1u);
}

TEST_F(Dhcp4ServerTest, InformWithoutCiaddrGoesToItsSourceElseBroadcast) {
  Packet inform;
  inform.Type(8);
  std::optional<Dhcp4Reply> to_source = Send(inform, /*broadcast=*/true, 0xac100002);
  ASSERT_TRUE(to_source.has_value());
  EXPECT_EQ(to_source->destination.kind, Dhcp4DestinationKind::kClientAddress);
  EXPECT_EQ(to_source->destination.ip, IpAddress::V4(0xac100002));
  std::optional<Dhcp4Reply> nowhere = Send(inform, /*broadcast=*/true, 0);
  ASSERT_TRUE(nowhere.has_value());
  EXPECT_EQ(nowhere->destination.kind, Dhcp4DestinationKind::kBroadcast);
}

TEST_F(Dhcp4ServerTest, DeclineAndReleaseAreCountedNotAnswered) {
  Packet decline;
  decline.Type(4).Addr(50, kGuestIp).Addr(54, kServerIp);
  ExpectDropped(decline.Build(), &Dhcp4ServerStats::declines);
  Packet release;
  release.ciaddr = kGuestIp;
  release.Type(7).Addr(54, kServerIp);
  ExpectDropped(release.Build(), &Dhcp4ServerStats::releases);
  // A RELEASE for another server is not ours to count.
  Packet elsewhere;
  elsewhere.ciaddr = kGuestIp;
  elsewhere.Type(7).Addr(54, 0x0a000001);
  ExpectDropped(elsewhere.Build(), &Dhcp4ServerStats::ignored);
  EXPECT_EQ(server_.stats().releases, 1u);
  // And a release changes nothing: the next DISCOVER gets the same address.
  std::optional<Dhcp4Reply> offer = Send(Discover());
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(U32At(offer->payload, 16), kGuestIp);
}

TEST_F(Dhcp4ServerTest, GiaddrIsCopiedButNeverUsedAsDestination) {
  Packet relayed = Discover();
  relayed.giaddr = 0x08080808;
  std::optional<Dhcp4Reply> offer = Send(relayed);
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(U32At(offer->payload, 24), 0x08080808u);
  EXPECT_EQ(offer->destination.kind, Dhcp4DestinationKind::kHardwareAddress);
  EXPECT_EQ(offer->destination.ip, IpAddress::V4(kGuestIp));
  EXPECT_EQ(offer->destination.port, 68);
}

TEST_F(Dhcp4ServerTest, OtherTypesAndBootpAreIgnored) {
  Packet bootp;  // no option 53
  ExpectDropped(bootp.Build(), &Dhcp4ServerStats::ignored);
  for (uint8_t type : std::initializer_list<uint8_t>{2, 5, 6, 0, 9, 13, 18, 200}) {
    Packet p;
    p.Type(type);
    ExpectDropped(p.Build(), &Dhcp4ServerStats::ignored);
  }
  EXPECT_EQ(server_.stats().malformed, 0u);
}

TEST_F(Dhcp4ServerTest, MalformedInputIsCountedAndNotAnswered) {
  Bytes good = Discover().Build();
  ASSERT_TRUE(server_.Handle({good, IpAddress(), true}).has_value());

  ExpectDropped({}, &Dhcp4ServerStats::malformed);
  ExpectDropped(Bytes(good.begin(), good.begin() + 239), &Dhcp4ServerStats::malformed);
  ExpectDropped(Bytes(good.begin(), good.begin() + 100), &Dhcp4ServerStats::malformed);
  ExpectDropped(Bytes(300, 0xa5), &Dhcp4ServerStats::malformed);  // garbage
  Packet oversize = Discover();
  oversize.pad_to = 1501;
  ExpectDropped(oversize.Build(), &Dhcp4ServerStats::malformed);
  Packet cookie = Discover();
  cookie.cookie = {99, 130, 83, 98};
  ExpectDropped(cookie.Build(), &Dhcp4ServerStats::malformed);
  Packet reply = Discover();
  reply.op = 2;  // BOOTREPLY on the server port
  ExpectDropped(reply.Build(), &Dhcp4ServerStats::malformed);
  Packet op3 = Discover();
  op3.op = 3;
  ExpectDropped(op3.Build(), &Dhcp4ServerStats::malformed);
  Packet token_ring = Discover();
  token_ring.htype = 6;
  ExpectDropped(token_ring.Build(), &Dhcp4ServerStats::malformed);
  Packet long_hw = Discover();
  long_hw.hlen = 16;
  ExpectDropped(long_hw.Build(), &Dhcp4ServerStats::malformed);

  // Option lengths: past the end of the message, and wrong for the options the server reads.
  Packet past_end;
  past_end.Type(1).Opt(12, {'v', 'm'});
  past_end.options.push_back(61);
  past_end.options.push_back(40);  // 40 bytes claimed, 3 present
  past_end.options.insert(past_end.options.end(), {1, 2, 3});
  past_end.end = false;
  past_end.pad_to = 0;
  ExpectDropped(past_end.Build(), &Dhcp4ServerStats::malformed);
  Packet no_length;
  no_length.Type(1);
  no_length.options.push_back(12);  // a code and then the end of the datagram
  no_length.end = false;
  no_length.pad_to = 0;
  ExpectDropped(no_length.Build(), &Dhcp4ServerStats::malformed);
  Packet type_len;
  type_len.Opt(53, {1, 1});
  ExpectDropped(type_len.Build(), &Dhcp4ServerStats::malformed);
  Packet type_empty;
  type_empty.Opt(53, {});
  ExpectDropped(type_empty.Build(), &Dhcp4ServerStats::malformed);
  Packet sid_len = Selecting();
  sid_len.options.clear();
  sid_len.Type(3).Opt(54, {172, 16, 0}).Addr(50, kGuestIp);
  ExpectDropped(sid_len.Build(), &Dhcp4ServerStats::malformed);
  Packet req_len;
  req_len.Type(3).Opt(50, {172, 16, 0, 2, 0});
  ExpectDropped(req_len.Build(), &Dhcp4ServerStats::malformed);
  Packet short_id;
  short_id.Type(1).Opt(61, {1});
  ExpectDropped(short_id.Build(), &Dhcp4ServerStats::malformed);
  Packet twice;
  twice.Type(1).Type(3).Addr(50, kGuestIp);
  ExpectDropped(twice.Build(), &Dhcp4ServerStats::malformed);

  EXPECT_EQ(server_.stats().malformed, 18u);
  EXPECT_EQ(server_.stats().offers, 1u);
  EXPECT_EQ(server_.stats().acks + server_.stats().naks, 0u);
}

TEST_F(Dhcp4ServerTest, LenientWhereTheRfcAllows) {
  // PAD between options, no END with the options running exactly to the end of the datagram,
  // an overload option (52, ignored), bytes after END, and the 1500-byte cap itself.
  Packet p;
  p.options = {0, 0, 53, 1, 1, 0, 52, 1, 3, 0};
  p.Opt(61, kClientId);
  p.end = false;
  p.pad_to = 0;
  std::optional<Dhcp4Reply> offer = Send(p);
  ASSERT_TRUE(offer.has_value());
  EXPECT_EQ(offer->type, Dhcp4MessageType::kOffer);
  EXPECT_NE(OptionBytes(offer->payload), Bytes{});

  Packet trailing = Discover();
  trailing.pad_to = 1500;
  Bytes bytes = trailing.Build();
  std::fill(bytes.end() - 100, bytes.end(), 0xee);  // junk after END is not looked at
  EXPECT_TRUE(server_.Handle({bytes, IpAddress(), true}).has_value());

  Packet minimal;  // exactly header + cookie + type + END: shorter than BOOTP's 300
  minimal.Type(1);
  minimal.pad_to = 0;
  ASSERT_EQ(minimal.Build().size(), 244u);
  EXPECT_TRUE(Send(minimal).has_value());
  EXPECT_EQ(server_.stats().malformed, 0u);
}

TEST_F(Dhcp4ServerTest, ClientIdentifierIsEchoedInEveryReplyKind) {
  const Bytes duid_id = {0xff, 0, 0, 0, 1, 0, 4, 0xde, 0xad, 0xbe, 0xef, 0x12};  // RFC 4361
  Packet d;
  d.Type(1).Opt(61, duid_id);
  Packet r;
  r.Type(3).Opt(61, duid_id).Addr(50, 0x01020304);  // NAK
  Packet i;
  i.ciaddr = kGuestIp;
  i.Type(8).Opt(61, duid_id);
  for (const Packet& p : {d, r, i}) {
    std::optional<Dhcp4Reply> reply = Send(p);
    ASSERT_TRUE(reply.has_value());
    Result<Dhcp4Message> parsed = ParseDhcp4Message(reply->payload);
    ASSERT_TRUE(parsed.ok());
    ASSERT_NE(parsed.value().client_id(), nullptr);
    EXPECT_EQ(*parsed.value().client_id(), duid_id);
  }
}

TEST(Dhcp4ServerConfigTest, DomainNameAndItsRoomNextToALongClientId) {
  Dhcp4ServerConfig config;
  config.domain_name = "Sandbox.Internal.";
  Result<Dhcp4Server> created = Dhcp4Server::Create(config);
  ASSERT_TRUE(created.ok()) << created.error();
  Dhcp4Server server = std::move(created).value();
  EXPECT_EQ(server.config().domain_name, "sandbox.internal");
  Packet p;
  p.Type(1);
  Bytes bytes = p.Build();
  std::optional<Dhcp4Reply> offer = server.Handle({bytes, IpAddress(), true});
  ASSERT_TRUE(offer.has_value());
  const std::string_view name = "sandbox.internal";
  EXPECT_EQ(OptionBytes(offer->payload), Concat({{99, 130, 83, 99},
                                                 Head(2),
                                                 LeaseOptions(),
                                                 LinkOptions(),
                                                 {15, static_cast<uint8_t>(name.size())},
                                                 Bytes(name.begin(), name.end()),
                                                 {255}}));

  // A 255-byte client identifier must be echoed (RFC 6842); the domain name then gives way so the
  // reply stays within the 548 bytes every client accepts.
  Packet long_id;
  long_id.Type(1).Opt(61, Bytes(255, 0x42));
  bytes = long_id.Build();
  offer = server.Handle({bytes, IpAddress(), true});
  ASSERT_TRUE(offer.has_value());
  EXPECT_LE(offer->payload.size(), kDhcp4MaxReplySize);
  Result<Dhcp4Message> parsed = ParseDhcp4Message(offer->payload);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.value().FindOption(kDhcp4OptDomainName), nullptr);
  ASSERT_NE(parsed.value().client_id(), nullptr);
  EXPECT_EQ(parsed.value().client_id()->size(), 255u);
}

TEST(Dhcp4ServerConfigTest, LeaseTimersFollowTheLease) {
  Dhcp4ServerConfig config;
  config.lease_seconds = 86400;
  config.mtu = 65520;
  config.server_id = IpAddress::V4(0x0a000201);       // 10.0.2.1
  config.client_address = IpAddress::V4(0x0a00020f);  // 10.0.2.15
  config.prefix_len = 24;
  Result<Dhcp4Server> created = Dhcp4Server::Create(config);
  ASSERT_TRUE(created.ok()) << created.error();
  Dhcp4Server server = std::move(created).value();
  Packet p;
  p.Type(1);
  Bytes bytes = p.Build();
  std::optional<Dhcp4Reply> offer = server.Handle({bytes, IpAddress(), true});
  ASSERT_TRUE(offer.has_value());
  Result<Dhcp4Message> parsed = ParseDhcp4Message(offer->payload);
  ASSERT_TRUE(parsed.ok());
  const Dhcp4Message& m = parsed.value();
  EXPECT_EQ(m.yiaddr, IpAddress::V4(0x0a00020f));
  auto value = [&m](uint8_t code) {
    const Dhcp4Option* o = m.FindOption(code);
    return o == nullptr ? Bytes{} : o->value;
  };
  EXPECT_EQ(value(kDhcp4OptLeaseTime), U32(86400));
  EXPECT_EQ(value(kDhcp4OptRenewalTime), U32(43200));
  EXPECT_EQ(value(kDhcp4OptRebindingTime), U32(75600));
  EXPECT_EQ(value(kDhcp4OptSubnetMask), U32(0xffffff00));
  EXPECT_EQ(value(kDhcp4OptRouter), U32(0x0a000201));
  EXPECT_EQ(value(kDhcp4OptServerId), U32(0x0a000201));
  EXPECT_EQ(value(kDhcp4OptInterfaceMtu), (Bytes{0xff, 0xf0}));
}

TEST(Dhcp4ServerConfigTest, RejectsUnusableConfigurations) {
  auto fails = [](auto&& mutate) {
    Dhcp4ServerConfig config;
    mutate(config);
    return !Dhcp4Server::Create(config).ok();
  };
  EXPECT_FALSE(fails([](Dhcp4ServerConfig&) {}));
  EXPECT_TRUE(fails([](Dhcp4ServerConfig& c) { c.server_id = *IpAddress::Parse("2001:db8::1"); }));
  EXPECT_TRUE(fails([](Dhcp4ServerConfig& c) { c.client_address = IpAddress(); }));
  EXPECT_TRUE(fails([](Dhcp4ServerConfig& c) { c.client_address = c.server_id; }));
  EXPECT_TRUE(fails([](Dhcp4ServerConfig& c) { c.client_address = IpAddress::V4(0xe0000001); }));
  EXPECT_TRUE(fails([](Dhcp4ServerConfig& c) { c.client_address = IpAddress::V4(0xac100005); }));
  EXPECT_TRUE(fails([](Dhcp4ServerConfig& c) { c.client_address = IpAddress::V4(0xac100003); }));
  EXPECT_TRUE(fails([](Dhcp4ServerConfig& c) { c.prefix_len = 0; }));
  EXPECT_TRUE(fails([](Dhcp4ServerConfig& c) { c.prefix_len = 32; }));
  EXPECT_TRUE(fails([](Dhcp4ServerConfig& c) { c.mtu = 67; }));
  EXPECT_TRUE(fails([](Dhcp4ServerConfig& c) { c.lease_seconds = 59; }));
  EXPECT_TRUE(fails([](Dhcp4ServerConfig& c) { c.lease_seconds = 0xffffffff; }));
  EXPECT_TRUE(fails([](Dhcp4ServerConfig& c) { c.domain_name = "bad_name.example"; }));
  // A /31 has no network or broadcast address: .2 and .3 are both hosts.
  EXPECT_FALSE(fails([](Dhcp4ServerConfig& c) {
    c.server_id = IpAddress::V4(0xac100003);
    c.prefix_len = 31;
  }));
}

TEST(Dhcp4MessageTest, SerializeParsesBack) {
  Dhcp4Message m;
  m.op = Dhcp4Op::kBootReply;
  m.hops = 1;
  m.xid = 0xdeadbeef;
  m.secs = 7;
  m.flags = kDhcp4BroadcastFlag;
  m.ciaddr = IpAddress::V4(0x01020304);
  m.yiaddr = IpAddress::V4(0x05060708);
  m.siaddr = IpAddress::V4(0x090a0b0c);
  m.giaddr = IpAddress::V4(0x0d0e0f10);
  for (size_t i = 0; i < m.chaddr.size(); ++i) {
    m.chaddr[i] = static_cast<uint8_t>(0xa0 + i);
  }
  m.AddU8Option(kDhcp4OptMessageType, 2);
  m.AddAddressOption(kDhcp4OptServerId, IpAddress::V4(kServerIp));
  m.AddU16Option(kDhcp4OptInterfaceMtu, 9000);
  m.AddOption(12, {});
  Bytes wire = SerializeDhcp4Message(m);
  EXPECT_EQ(wire.size(), kBootpMinMessageSize);
  Result<Dhcp4Message> back = ParseDhcp4Message(wire);
  ASSERT_TRUE(back.ok()) << back.error();
  const Dhcp4Message& b = back.value();
  EXPECT_EQ(b.op, m.op);
  EXPECT_EQ(b.hops, 1);
  EXPECT_EQ(b.xid, m.xid);
  EXPECT_EQ(b.secs, 7);
  EXPECT_TRUE(b.broadcast_flag());
  EXPECT_EQ(b.ciaddr, m.ciaddr);
  EXPECT_EQ(b.yiaddr, m.yiaddr);
  EXPECT_EQ(b.siaddr, m.siaddr);
  EXPECT_EQ(b.giaddr, m.giaddr);
  EXPECT_EQ(b.chaddr, m.chaddr);
  EXPECT_EQ(b.client_mac(), (MacAddress{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5}));
  EXPECT_EQ(b.options, m.options);
  EXPECT_EQ(b.message_type(), Dhcp4MessageType::kOffer);
  EXPECT_EQ(b.server_id(), IpAddress::V4(kServerIp));
  EXPECT_FALSE(b.requested_ip().has_value());
  EXPECT_EQ(b.client_id(), nullptr);
}

TEST(Dhcp4MessageTest, LongValuesAreSplitAsRfc3396Says) {
  Dhcp4Message m;
  Bytes value(300);
  for (size_t i = 0; i < value.size(); ++i) {
    value[i] = static_cast<uint8_t>(i);
  }
  m.AddOption(77, value);
  Bytes wire = SerializeDhcp4Message(m);
  ASSERT_EQ(wire.size(), kOptionsAt + 2 + 255 + 2 + 45 + 1);
  EXPECT_EQ(wire[kOptionsAt], 77);
  EXPECT_EQ(wire[kOptionsAt + 1], 255);
  EXPECT_EQ(wire[kOptionsAt + 2 + 255], 77);
  EXPECT_EQ(wire[kOptionsAt + 2 + 255 + 1], 45);
  EXPECT_EQ(wire[kOptionsAt + 2 + 255 + 2], 255);  // value byte 255
  EXPECT_EQ(wire.back(), 255);                     // END
  Result<Dhcp4Message> back = ParseDhcp4Message(wire);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back.value().options.size(), 2u);
  EXPECT_EQ(back.value().options[0].value.size(), 255u);
  EXPECT_EQ(back.value().options[1].value.size(), 45u);
}

}  // namespace
}  // namespace msb::stack
