// lwip_glue.h: internal to stack/. lwIP headers and the state the Netstack keeps in lwIP terms.
// Nothing outside stack/ may include this file (the seam DEVELOPERS.md fixes).
#pragma once

#include <lwip/etharp.h>
#include <lwip/ethip6.h>
#include <lwip/icmp.h>
#include <lwip/inet_chksum.h>
#include <lwip/init.h>
#include <lwip/ip.h>
#include <lwip/ip4_frag.h>
#include <lwip/ip6.h>
#include <lwip/ip6_frag.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/prot/icmp6.h>
#include <lwip/prot/ip4.h>
#include <lwip/prot/ip6.h>
#include <lwip/prot/tcp.h>
#include <lwip/prot/udp.h>
#include <lwip/sys.h>
#include <lwip/tcp.h>
#include <lwip/timeouts.h>
#include <lwip/udp.h>
#include <netif/ethernet.h>

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "stack/dhcp4_server.h"
#include "stack/guest_connect.h"
#include "stack/ip6_reassembly.h"
#include "stack/netstack.h"
#include "stack/pcb_index.h"

namespace msb::stack {

// With offloads lwIP builds TCP segments up to this size whatever the guest's link MTU (its
// kernel splits them, GSO): the largest IPv4 packet whose frame still fits a 16-bit pbuf length.
inline constexpr uint16_t kOffloadNetifMtu = 65520;
inline constexpr uint16_t kOffloadMss4 = kOffloadNetifMtu - 40;
inline constexpr uint16_t kOffloadMss6 = kOffloadNetifMtu - 60;

IpAddress FromLwip(const ip_addr_t& a);
ip_addr_t ToLwip(const IpAddress& a);

// IpPacket is the validated view of an IPv4 or IPv6 packet an input hook hands on. For IPv6,
// header_len covers the fixed header (extension headers are not accepted, fragments are
// reassembled first) and protocol is its next header.
struct IpPacket {
  bool v6 = false;
  uint16_t header_len = 0;
  uint16_t total_len = 0;
  uint8_t protocol = 0;
  bool l4_csum_trusted = false;  // the frame's offload header vouches for the L4 checksum
  IpAddress src;
  IpAddress dst;
};

// ConnExtArgId is the lwIP extension-argument slot holding each connection's GuestTcp (allocated
// once per process, like lwIP itself).
uint8_t ConnExtArgId();
// AttachConn binds `conn` to `pcb`'s slot so that lwIP's destroy callback reaches it, for every
// way the pcb ends (tcp_acceptor.cc; accepted and actively opened connections alike).
void AttachConn(tcp_pcb* pcb, GuestTcp* conn);

// UdpHeader is a validated UDP header (ParseUdp): ports and the payload's length.
struct UdpHeader {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t payload_len = 0;
};
// ParseUdp validates the UDP header of a whole datagram at pkt.header_len in `p` (lengths, ports,
// checksum unless the offload header vouches for it).
bool ParseUdp(pbuf* p, const IpPacket& pkt, UdpHeader* out);

// AcceptRxOffload applies the received frame's offload header to the packet in `p` (either
// family, ip4_input.cc): false when its claims do not fit (drop it), else l4_csum_trusted says
// whether the L4 checksum may be skipped. Fragments never carry valid claims.
bool AcceptRxOffload(Netstack* ns, pbuf* p, bool fragment, IpPacket* pkt);

// HandleUdpDatagram hands one whole, validated UDP datagram (either family) to the delegate and
// answers a refusal with port unreachable (udp_input.cc). Consumes `p`.
void HandleUdpDatagram(Netstack* ns, pbuf* p, const IpPacket& pkt);

// ICMPv6 (icmp6_link.cc). HandleIcmp6 takes one whole ICMPv6 message from the guest (echo
// requests; router solicitations are answered there too); consumes `p`. SendIcmp6Error answers
// the packet in `p` (IPv6 header at the payload; not consumed) with an error from its
// destination, quoting as much of it as the minimum MTU allows.
inline constexpr uint8_t kIcmp6DestUnreachable = 1;
inline constexpr uint8_t kIcmp6AddressUnreachable = 3;
inline constexpr uint8_t kIcmp6PortUnreachable = 4;
void HandleIcmp6(Netstack* ns, pbuf* p, const IpPacket& pkt);
void SendIcmp6Error(Netstack* ns, pbuf* p, const IpPacket& pkt, uint8_t type, uint8_t code);
// DeliverEcho hands a validated echo request (`msg`: the whole ICMP or ICMPv6 message) to the
// delegate and carries out its verdict: answered when addressed to `own` (the gateway's address
// of that family), counted as relayed, or dropped (icmp4_link.cc).
void DeliverEcho(Netstack* ns, const IpPacket& pkt, std::span<const uint8_t> msg,
                 const IpAddress& own);
// SendIcmpMessage sends one ICMP or ICMPv6 message (by `from`'s family; header fields + body,
// checksum filled in) from `from` to `to`, IP-fragmented at the guest's link MTU
// (icmp4_link.cc).
void SendIcmpMessage(Netstack* ns, const IpAddress& from, const IpAddress& to, uint8_t hop_limit,
                     uint8_t type, uint8_t code, uint32_t rest, std::span<const uint8_t> body);
// The IPv6 halves of Netstack::SendIcmpEchoReply and SendUdpPortUnreachable.
void SendIcmp6EchoReply(Netstack* ns, const IpAddress& from, const IpAddress& to,
                        uint16_t identifier, uint16_t sequence, std::span<const uint8_t> data);
void SendUdp6PortUnreachable(Netstack* ns, const FlowTuple& udp, size_t payload_len);

// HandleDhcp4 answers one datagram for the gateway's DHCP server (dhcp4_link.cc). Consumes `p`.
void HandleDhcp4(Netstack* ns, pbuf* p, const IpPacket& pkt);

// HandleIcmp4 takes one whole ICMP datagram from the guest (icmp4_link.cc). Consumes `p`;
// returns the IPv4 input hook's result.
int HandleIcmp4(Netstack* ns, pbuf* p, const IpPacket& pkt);

// DeliverToTcpInput sets lwIP's per-packet globals as ip4_input / ip6_input would, strips the IP
// header and runs tcp_input(). Consumes `p`. DeliverToTcpInput6 is its IPv6 half (ip6_input.cc).
void DeliverToTcpInput6(pbuf* p, netif* inp, const IpPacket& pkt);
void DeliverToTcpInput(pbuf* p, netif* inp, const IpPacket& pkt);

// TcpAcceptor owns the catch-all listener and the table of held SYNs (see netstack.h).
class TcpAcceptor {
 public:
  explicit TcpAcceptor(Netstack* stack) : stack_(stack) {}
  ~TcpAcceptor();
  Status Init();
  // OnSegment handles one validated TCP packet (payload at the IP header). Consumes `p`.
  void OnSegment(pbuf* p, netif* inp, const IpPacket& pkt);
  bool Resolve(uint64_t syn_id, SynOutcome outcome);
  // Called from GuestTcp when a not-yet-accepted pcb dies.
  void OnHandshakeFailed(GuestTcp* conn);
  // Frees connections whose pcb died during the handshake (deferred: they died in a callback).
  void CollectGarbage();
  size_t pending() const { return pending_.size(); }
  const PcbIndex& index() const { return index_; }
  PcbIndex& index() { return index_; }

 private:
  struct Pending {
    FlowTuple tuple;
    IpPacket packet;      // the held SYN's validated header fields
    pbuf* syn = nullptr;  // the held SYN, full IP packet
    std::unique_ptr<GuestTcp> conn;
  };
  static err_t PassiveOpen(u8_t id, tcp_pcb_listen* lpcb, tcp_pcb* cpcb);
  static err_t Accept(void* arg, tcp_pcb* newpcb, err_t err);
  // Deliver hands one segment of `tuple` to lwIP through the index, with the listener open on
  // `listen_port` for that one call (0: closed, so strays and refused SYNs get RST).
  void Deliver(pbuf* p, netif* inp, const IpPacket& pkt, const FlowTuple& tuple,
               uint16_t listen_port);

  Netstack* stack_;
  tcp_pcb_listen* listener_ = nullptr;
  uint64_t next_id_ = 1;
  uint64_t injecting_ = 0;  // syn id whose SYN is inside tcp_input right now
  std::map<uint64_t, Pending> pending_;
  std::map<FlowTuple, uint64_t> by_tuple_;
  std::vector<std::unique_ptr<GuestTcp>> graveyard_;
  PcbIndex index_;  // every connection pcb by tuple, from passive open to free
};

// GuestConnector opens TCP connections from the gateway's address to the guest (guest_connect.h,
// guest_connector.cc). Each pcb is entered in the acceptor's PcbIndex from tcp_connect on, so
// the guest's answers reach it through the index like every other segment.
class GuestConnector {
 public:
  GuestConnector(Netstack* stack, PcbIndex* index) : stack_(stack), index_(index) {}
  // Aborts every attempt still in flight, without callbacks.
  ~GuestConnector();
  GuestConnector(const GuestConnector&) = delete;
  GuestConnector& operator=(const GuestConnector&) = delete;
  Result<uint64_t> Connect(uint16_t guest_port, Duration timeout, GuestConnectDone done);
  void Cancel(uint64_t id);
  size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    tcp_pcb* pcb = nullptr;
    FlowTuple tuple;
    GuestConnectDone done;
  };
  static err_t Connected(void* arg, tcp_pcb* pcb, err_t err);
  static void Failed(void* arg, err_t err);
  static void TimedOut(void* arg);
  // Bind finds a free local port and binds `pcb` to it; false when every one is taken.
  bool Bind(tcp_pcb* pcb, uint16_t guest_port, FlowTuple* tuple);
  void Finish(uint64_t id, GuestConnectResult&& result);

  Netstack* stack_;
  PcbIndex* index_;
  uint64_t next_id_ = 1;
  uint16_t next_port_ = kGuestConnectFirstPort;
  std::map<uint64_t, Pending> pending_;
};

struct Netstack::LwipState {
  netif nif{};
  udp_pcb* udp_out = nullptr;
  std::unique_ptr<TcpAcceptor> acceptor;
  std::unique_ptr<GuestConnector> connector;       // created by the first ConnectToGuest
  std::optional<Dhcp4Server> dhcp4;                // when NetstackConfig::dhcp4
  std::unique_ptr<Ip6Reassembler> ip6_reassembly;  // when NetstackConfig::ipv6
};

}  // namespace msb::stack
