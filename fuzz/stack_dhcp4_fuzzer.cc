// stack_dhcp4_fuzzer: any bytes as a UDP payload to the DHCPv4 server, once as a broadcast from
// 0.0.0.0 and once as a unicast from the guest's address. Every reply must parse back with the
// codec, stay within 300..548 bytes, answer the request (xid, flags, giaddr, chaddr, client id),
// start with options 53 and 54, and carry a destination that agrees with its type (RFC 2131 4.1).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "stack/dhcp4_server.h"

namespace {

using namespace msb::stack;  // NOLINT(google-build-using-namespace): harness brevity

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "violation: %s\n", what);
    std::abort();
  }
}

void CheckReply(const Dhcp4ServerConfig& config, const Dhcp4Message& request,
                const msb::IpAddress& source, const Dhcp4Reply& reply) {
  Check(reply.payload.size() >= kBootpMinMessageSize, "reply shorter than 300 bytes");
  Check(reply.payload.size() <= kDhcp4MaxReplySize, "reply longer than 548 bytes");
  msb::Result<Dhcp4Message> parsed = ParseDhcp4Message(reply.payload);
  Check(parsed.ok(), "reply does not parse");
  const Dhcp4Message& m = parsed.value();
  Check(m.op == Dhcp4Op::kBootReply && m.hops == 0 && m.secs == 0 && m.siaddr.IsUnspecified(),
        "reply header");
  Check(m.xid == request.xid && m.flags == request.flags && m.giaddr == request.giaddr &&
            m.chaddr == request.chaddr,
        "reply does not echo the request");
  Check(m.options.size() >= 2 && m.options[0].code == kDhcp4OptMessageType &&
            m.options[1].code == kDhcp4OptServerId && m.message_type() == reply.type &&
            m.server_id() == config.server_id,
        "options 53 and 54 first");
  const std::vector<uint8_t>* id = request.client_id();
  const std::vector<uint8_t>* echo = m.client_id();
  Check((id == nullptr) == (echo == nullptr) && (id == nullptr || *id == *echo), "client id");
  bool lease = m.FindOption(kDhcp4OptLeaseTime) != nullptr;
  const Dhcp4Destination& to = reply.destination;
  Check(to.port == kDhcp4ClientPort, "destination port");
  switch (reply.type) {
    case Dhcp4MessageType::kNak:
      Check(m.yiaddr.IsUnspecified() && m.ciaddr.IsUnspecified() && !lease &&
                to.kind == Dhcp4DestinationKind::kBroadcast,
            "NAK fields");
      break;
    case Dhcp4MessageType::kOffer:
    case Dhcp4MessageType::kAck:
      // An ACK without an address or lease answers an INFORM; every other carries both.
      Check(m.yiaddr == config.client_address ? lease : (!lease && m.yiaddr.IsUnspecified()),
            "address and lease go together");
      break;
    default:
      Check(false, "reply type");
  }
  Check(to.kind != Dhcp4DestinationKind::kBroadcast ||
            (to.ip == msb::IpAddress::V4(0xffffffff) &&
             to.mac == MacAddress{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
        "broadcast destination");
  Check(to.kind != Dhcp4DestinationKind::kHardwareAddress ||
            (to.ip == config.client_address && to.mac == request.client_mac()),
        "unicast to chaddr goes to the offered address");
  Check(to.kind != Dhcp4DestinationKind::kClientAddress ||
            (!to.ip.IsUnspecified() && (to.ip == request.ciaddr || to.ip == source)),
        "unicast to the client's own address");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);  // libFuzzer's entry

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) {
    return 0;  // the server's cap is 1500; a little beyond it is enough to test the cap
  }
  Dhcp4ServerConfig config;
  config.domain_name = "sandbox.internal";  // so the room left by a long client id is exercised
  msb::Result<Dhcp4Server> server = Dhcp4Server::Create(config);
  Check(server.ok(), "config");
  msb::Result<Dhcp4Message> request = ParseDhcp4Message({data, size});
  for (bool broadcast : {true, false}) {
    msb::IpAddress source = broadcast ? msb::IpAddress() : config.client_address;
    Dhcp4ServerStats before = server.value().stats();
    auto reply = server.value().Handle({{data, size}, source, broadcast});
    const Dhcp4ServerStats& after = server.value().stats();
    uint64_t replies =
        (after.offers - before.offers) + (after.acks - before.acks) + (after.naks - before.naks);
    Check(replies == (reply ? 1u : 0u), "one reply counted per reply");
    if (reply) {
      Check(request.ok(), "reply to a message that does not parse");
      CheckReply(config, request.value(), source, *reply);
    }
  }
  return 0;
}
