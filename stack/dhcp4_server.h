// Dhcp4Server: a sans-I/O DHCPv4 server (RFC 2131, RFC 6842) for the single guest on the link, so
// that a stock VM image configured for DHCP boots and gets its address from the gateway.
//
// Theory of operation. The guest link is point-to-point: one guest, one gateway, one address to
// give. The server allocates nothing. The configured address is offered to whichever client asks,
// whatever its chaddr or client identifier (a guest whose MAC changed, or a second client on the
// link, gets the same address: this link is defined to carry one guest, and refusing an unknown
// MAC would only leave a freshly booted guest without a network). There is no lease table and no
// clock: every answer depends only on the configuration and the message, so a retransmitted
// DISCOVER gets the same OFFER and a renewal gets an ACK for as long as the client names our
// address. The client's state is inferred per REQUEST from its fields (RFC 2131 section 4.3.2):
//
//   SELECTING    server identifier present. Ours: ACK if the requested address is ours, else NAK.
//                Another server's: silently ignored (the client chose that server's offer).
//   INIT-REBOOT  no server identifier, a requested address: ACK if it is ours, else NAK.
//   RENEWING     no server identifier, no requested address, ciaddr set, sent unicast;
//   REBINDING    the same, sent broadcast: ACK if ciaddr is ours, else NAK.
//
// Every address a REQUEST names (requested address, ciaddr) must be ours for an ACK; a REQUEST
// naming none is malformed. INFORM gets an ACK with the configuration options only (no yiaddr,
// no lease). DECLINE and RELEASE get no reply and are counted: with one address there is nothing
// to withhold or reclaim (a declining client retries, RFC 2131 section 3.1 step 5, and is offered
// the same address; the counter tells the operator something else on the link claims it). BOOTP
// requests without option 53, messages for other servers, server-to-client types and unknown
// types are ignored; undecodable input is malformed. Both are counted, neither is answered.
//
// giaddr is copied into replies but never used to route them: there is no relay on this link,
// and a guest must not be able to make the gateway send datagrams to an address of its choosing.
// Every reply goes out on the guest link. Not thread-safe: one thread (the event loop) calls it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/ip_address.h"
#include "base/status.h"
#include "stack/dhcp4_message.h"

namespace msb::stack {

// kDhcp4DefaultLeaseSeconds: one hour. The address never changes, so the lease only bounds two
// things: how long a guest keeps an old configuration (DNS, MTU) after the gateway is reconfigured
// (it picks the new one up at T1, 30 minutes), and how long the gateway may be unresponsive (a
// paused or overloaded process) before the guest drops its address (60 minutes). An hour keeps
// renewals rare (two small datagrams per 30 minutes) while making both bounds tolerable.
inline constexpr uint32_t kDhcp4DefaultLeaseSeconds = 3600;

struct Dhcp4ServerConfig {
  // server_id: the gateway's IPv4 address, sent as the server identifier (54), the router (3)
  // and the DNS server (6).
  IpAddress server_id = IpAddress::V4(0xac100001);       // 172.16.0.1, as NetstackConfig
  IpAddress client_address = IpAddress::V4(0xac100002);  // the one address offered (the guest's)
  unsigned prefix_len = 30;                              // subnet mask (1)
  uint16_t mtu = 1500;                                   // interface MTU (26)
  uint32_t lease_seconds = kDhcp4DefaultLeaseSeconds;    // 51; T1 (58) = 1/2, T2 (59) = 7/8
  // domain_name: option 15 when not empty (a canonical LDH host name). Sent only when it fits in
  // the 548 bytes every client accepts next to the client identifier echo, which must be sent.
  std::string domain_name;
};

struct Dhcp4Input {
  std::span<const uint8_t> payload;  // the UDP payload received on port 67 (borrowed)
  IpAddress source_ip;  // the datagram's IP source; 0.0.0.0 from an unconfigured client
  // broadcast: the datagram's IP destination was a broadcast address. Only tells RENEWING
  // (unicast to the server) from REBINDING (broadcast); both are answered the same way.
  bool broadcast = false;
};

// How a reply must be delivered (RFC 2131 section 4.1, giaddr zero).
enum class Dhcp4DestinationKind : uint8_t {
  // kBroadcast: IP 255.255.255.255 to Ethernet ff:ff:ff:ff:ff:ff. NAKs, replies to clients that
  // set the broadcast flag, and an INFORM's ACK when the client gave no address at all.
  kBroadcast,
  // kClientAddress: unicast to an address the client already uses (its ciaddr, or an INFORM's
  // source address), so it answers ARP; `mac` is its chaddr, usable instead of ARP.
  kClientAddress,
  // kHardwareAddress: unicast to yiaddr at the client's chaddr. The client has no address yet and
  // cannot answer ARP, so the caller must send the frame straight to `mac`, without ARP.
  kHardwareAddress,
};

struct Dhcp4Destination {
  Dhcp4DestinationKind kind = Dhcp4DestinationKind::kBroadcast;
  IpAddress ip;    // the IP destination (255.255.255.255, ciaddr/source, or yiaddr)
  MacAddress mac;  // the Ethernet destination (ff:ff:ff:ff:ff:ff, or the client's chaddr)
  uint16_t port = kDhcp4ClientPort;  // always 68; the source port is always 67
};

// The client state a REQUEST was read as (see the header comment).
enum class Dhcp4RequestState : uint8_t { kSelecting, kInitReboot, kRenewing, kRebinding };

struct Dhcp4Reply {
  Dhcp4MessageType type = Dhcp4MessageType::kAck;  // kOffer, kAck or kNak
  std::vector<uint8_t> payload;                    // the UDP payload, 300..548 bytes
  Dhcp4Destination destination;
  std::optional<Dhcp4RequestState> request_state;  // set when answering a REQUEST
};

// Counters: client messages by type, replies by kind, and drops (malformed, ignored).
struct Dhcp4ServerStats {
  uint64_t discovers = 0;
  uint64_t offers = 0;
  uint64_t requests = 0;  // all REQUESTs, including those for other servers and malformed ones
  uint64_t acks = 0;      // to REQUESTs and INFORMs
  uint64_t naks = 0;
  uint64_t informs = 0;
  uint64_t declines = 0;
  uint64_t releases = 0;
  uint64_t malformed = 0;  // undecodable, not a BOOTREQUEST, or a REQUEST naming no address
  uint64_t ignored = 0;    // BOOTP, another server's, server-to-client and unknown types
};

class Dhcp4Server {
 public:
  // Create validates `config`: both addresses unicast IPv4, distinct, inside one prefix of
  // length 1..31 and (up to /30) neither the network nor the broadcast address; MTU at least 68
  // (RFC 2132 section 5.1); lease at least 60 s and finite; domain name canonical if set.
  static Result<Dhcp4Server> Create(const Dhcp4ServerConfig& config);

  // Handle processes one datagram and returns the reply to send, or nullopt when there is none
  // (the reason is counted in stats()). The reply owns its bytes.
  std::optional<Dhcp4Reply> Handle(const Dhcp4Input& input);

  const Dhcp4ServerConfig& config() const { return config_; }
  const Dhcp4ServerStats& stats() const { return stats_; }

 private:
  explicit Dhcp4Server(const Dhcp4ServerConfig& config) : config_(config) {}

  std::optional<Dhcp4Reply> OnRequest(const Dhcp4Message& request, const Dhcp4Input& input);
  std::optional<Dhcp4Reply> OnInform(const Dhcp4Message& request, const Dhcp4Input& input);
  // ForUs: the message carries no server identifier, or ours.
  bool ForUs(const Dhcp4Message& message) const;
  // StartReply: a BOOTREPLY of `type` echoing the request's identity, with options 53 and 54.
  Dhcp4Message StartReply(const Dhcp4Message& request, Dhcp4MessageType type) const;
  // AddConfiguration: the lease options (`with_lease`), the link options and the client-id echo.
  void AddConfiguration(const Dhcp4Message& request, bool with_lease, Dhcp4Message* reply) const;
  static void AddClientId(const Dhcp4Message& request, Dhcp4Message* reply);
  // Finish serializes `reply` (of `type`) and counts it.
  Dhcp4Reply Finish(Dhcp4MessageType type, const Dhcp4Message& reply,
                    const Dhcp4Destination& destination, std::optional<Dhcp4RequestState> state);

  Dhcp4ServerConfig config_;
  Dhcp4ServerStats stats_;
};

}  // namespace msb::stack
