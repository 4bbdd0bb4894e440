// Netstack: the guest-facing TCP/IP stack (lwIP 2.1.3, NO_SYS) on one FrameDevice.
//
// Theory of operation. The event loop calls OnDeviceReadable() when the device has frames; each
// frame goes through lwIP's ethernet input, whose IPv4 input hook (ip4_input.cc) takes every
// unicast TCP and UDP packet, whatever its destination address. A new guest SYN is reported to the
// Delegate, which decides at SYN time: reject (the guest gets RST at once) or hold. A held SYN is
// kept, unanswered, while the gateway connects upstream; ResolveSyn() then completes the guest's
// handshake (the accepted connection's local address is the original destination), or answers RST
// (refused) or ICMP host-unreachable (unreachable / timed out). Frames for the guest are written to
// the device at once, or queued (bounded) until it is writable again. lwIP timers run from the
// loop through RunTimers()/NextTimerDelay(). Only one Netstack may exist per process (lwIP is a
// process-wide singleton) and every call must come from the loop thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "base/clock.h"
#include "base/ip_address.h"
#include "base/status.h"
#include "stack/dhcp4_server.h"
#include "stack/flow.h"
#include "stack/frame_device.h"
#include "stack/guest_connect.h"
#include "stack/guest_tcp.h"

namespace msb::stack {

using MacAddress = std::array<uint8_t, 6>;

struct NetstackConfig {
  IpAddress gateway_v4 = IpAddress::V4(0xac100001);  // 172.16.0.1
  IpAddress guest_v4 = IpAddress::V4(0xac100002);    // 172.16.0.2
  unsigned v4_prefix_len = 30;
  MacAddress gateway_mac = {0x02, 0x6d, 0x73, 0x00, 0x00, 0x01};
  MacAddress guest_mac = {0x02, 0x6d, 0x73, 0x00, 0x00, 0x02};
  uint16_t mtu = 1500;  // the guest link's MTU (what IP datagrams for the guest are cut to)
  size_t tx_queue_frames = 4096;  // frames held for the guest while the device is full
  size_t max_pending_syns = 4096;
  // dhcp4: answer DHCPv4 on the link (stack/dhcp4_server.h), offering guest_v4 with the gateway
  // as router and DNS server. A guest configured statically never asks, so it is harmless on.
  bool dhcp4 = true;
  uint32_t dhcp4_lease_seconds = kDhcp4DefaultLeaseSeconds;
  // ipv6: serve IPv6 on the link. The gateway is gateway_v6 (and a link-local address from its
  // MAC) in the /64 around it; guests configure themselves by SLAAC from its router
  // advertisements (prefix, MTU, RDNSS = gateway_v6), or statically (guest_v6, what `run` sets).
  // Any address of that /64 but the gateway's may be the guest's.
  bool ipv6 = true;
  IpAddress gateway_v6 = *IpAddress::Parse("fd42:6d73:62::1");
  IpAddress guest_v6 = *IpAddress::Parse("fd42:6d73:62::2");
};

enum class SynVerdict : uint8_t { kReject, kHold };
enum class SynOutcome : uint8_t {
  kAccept,       // complete the guest's handshake
  kRefuse,       // RST: the guest sees ECONNREFUSED
  kUnreachable,  // ICMP host unreachable: the guest sees EHOSTUNREACH
};
enum class UdpVerdict : uint8_t { kHandled, kPortUnreachable, kDrop };

// IcmpEcho: an ICMP echo request from the guest. flow.transport is kIcmp, flow.guest.port the
// echo's identifier, flow.dest.port 0; `data` (what follows the 8-byte header) is valid only
// during the call.
struct IcmpEcho {
  FlowTuple flow;
  uint16_t sequence = 0;
  std::span<const uint8_t> data;
};
// IcmpVerdict: kAnswer lets the stack answer an echo to the gateway's own address (for any other
// address it is a drop); kRelayed says the delegate took the echo (it answers later, through
// SendIcmpEchoReply, or never); kDrop discards it.
enum class IcmpVerdict : uint8_t { kAnswer, kRelayed, kDrop };

// Counters for tests, the audit log and debugging.
struct NetstackStats {
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
  uint64_t frames_dropped_tx_full = 0;
  uint64_t bad_packets = 0;     // failed validation (length, checksum, header)
  uint64_t frames_ignored = 0;  // ethertypes other than IPv4 and ARP
  uint64_t spoofed = 0;         // source address not the guest's
  uint64_t syns_held = 0;
  uint64_t syn_retransmits_dropped = 0;
  uint64_t gso_frames_in = 0;   // segments larger than the MTU handed over by an offloading guest
  uint64_t gso_frames_out = 0;  // segments we handed to the guest's kernel to split
  uint64_t icmp_echo_answered = 0;     // echo requests to the gateway the stack answered
  uint64_t icmp_echo_relayed = 0;      // echo requests the delegate relays
  uint64_t icmp_dropped = 0;           // other ICMP from the guest, and echoes not answered
  uint64_t pcb_list_resyncs = 0;       // the pcb index rebuilt its order from lwIP's (pcb_index.h)
  uint64_t router_solicitations = 0;   // IPv6 router solicitations answered
  uint64_t router_advertisements = 0;  // router advertisements sent (answers and periodic ones)
};

class Netstack {
 public:
  class Delegate {
   public:
    virtual ~Delegate() = default;
    // OnTcpSyn: a new connection attempt. On kHold the delegate must eventually call ResolveSyn.
    virtual SynVerdict OnTcpSyn(uint64_t syn_id, const FlowTuple& tuple) = 0;
    // OnTcpAccepted: the guest completed the handshake of a SYN resolved with kAccept.
    virtual void OnTcpAccepted(std::unique_ptr<GuestTcp> conn) = 0;
    // OnTcpAcceptFailed: an accepted SYN never completed its handshake (the guest vanished).
    virtual void OnTcpAcceptFailed(uint64_t syn_id) = 0;
    // OnUdp: one (reassembled) datagram from the guest.
    virtual UdpVerdict OnUdp(const FlowTuple& tuple, std::span<const uint8_t> payload) = 0;
    // OnIcmpEcho: an ICMP echo request from the guest (fragments reassembled, checksum checked).
    virtual IcmpVerdict OnIcmpEcho(const IcmpEcho& echo) = 0;
  };

  static Result<std::unique_ptr<Netstack>> Create(const NetstackConfig& config, FrameDevice* device,
                                                  const Clock& clock, Delegate* delegate);
  ~Netstack();
  Netstack(const Netstack&) = delete;
  Netstack& operator=(const Netstack&) = delete;

  // Device I/O, driven by the event loop. OnDeviceReadable returns false when the device closed or
  // failed (the gateway should stop); it reads a bounded number of frames per call, but never
  // leaves frames the device already holds (FrameDevice::HasPendingInput). The device's fd() may
  // have changed after it (FrameDevice::fd_generation). OnDeviceWritable writes what the device
  // holds (FrameDevice::Flush), then frames queued here. WantsDeviceWritable: either is waiting.
  bool OnDeviceReadable();
  void OnDeviceWritable();
  bool WantsDeviceWritable() const;

  // lwIP timers.
  void RunTimers();
  Duration NextTimerDelay() const;

  // ResolveSyn finishes a held SYN. Unknown ids (already resolved or evicted) are ignored.
  // For kAccept it returns false when the handshake could not be started (the gateway then
  // cleans up as for a failed accept); kRefuse and kUnreachable always return true.
  bool ResolveSyn(uint64_t syn_id, SynOutcome outcome);

  // SendUdp sends a datagram to the guest that appears to come from `from` (IP fragmented when it
  // exceeds the MTU).
  void SendUdp(const SocketAddress& from, const SocketAddress& to,
               std::span<const uint8_t> payload);

  // SendIcmpEchoReply sends an echo reply to the guest that appears to come from `from`.
  void SendIcmpEchoReply(const IpAddress& from, const IpAddress& to, uint16_t identifier,
                         uint16_t sequence, std::span<const uint8_t> data);
  // SendUdpPortUnreachable tells the guest that the destination of its UDP flow `udp` has no
  // listener (ICMP port unreachable from udp.dest quoting a datagram of `payload_len` bytes), so
  // its socket fails with ECONNREFUSED.
  void SendUdpPortUnreachable(const FlowTuple& udp, size_t payload_len);
  // ConnectToGuest opens a TCP connection from the gateway's address to the guest's `guest_port`
  // (guest_connect.h): `done` gets the GuestTcp once the handshake completes, or kRefused (the
  // guest's RST) or kTimeout. The id cancels it (CancelGuestConnect: no callback follows). Fails at
  // once, without a callback, when no local port is free. Implemented in guest_connector.cc.
  Result<uint64_t> ConnectToGuest(uint16_t guest_port, Duration timeout, GuestConnectDone done);
  void CancelGuestConnect(uint64_t id);

  // TcpPcbCount counts lwIP's TCP connections (active and TIME_WAIT, not the listener): what a
  // leak check compares against the sessions the gateway believes are open.
  size_t TcpPcbCount() const;
  // PcbIndexConsistent: the connection index tracks exactly lwIP's connections, in lwIP's order
  // (for tests).
  bool PcbIndexConsistent() const;

  const NetstackConfig& config() const { return config_; }
  // offload: the device moves partial checksums and GSO segments (FrameDevice::offloads()).
  bool offload() const { return offload_; }
  const NetstackStats& stats() const { return stats_; }
  // dhcp4_stats: the DHCP server's counters (nullptr when it is off).
  const Dhcp4ServerStats* dhcp4_stats() const;
  NetstackStats& mutable_stats() { return stats_; }
  Delegate* delegate() const { return delegate_; }
  const Clock& clock() const { return clock_; }

  // Internal to stack/ (the lwIP glue), not part of the public surface.
  struct LwipState;
  LwipState* lwip() const { return lwip_.get(); }
  void TransmitFrame(std::span<const std::span<const uint8_t>> parts, const FrameOffload& offload);
  // rx_offload: the offload header of the frame being processed (empty without offloads).
  const FrameOffload& rx_offload() const { return rx_offload_; }
  // SendRouterAdvertisement advertises the gateway as IPv6 router to `to` (a guest's link-local
  // address, or all nodes).
  void SendRouterAdvertisement(const IpAddress& to);
  static Netstack* Instance();

 private:
  Netstack(const NetstackConfig& config, FrameDevice* device, const Clock& clock,
           Delegate* delegate);
  Status Init();

  NetstackConfig config_;
  FrameDevice* device_;
  const Clock& clock_;
  Delegate* delegate_;
  NetstackStats stats_;
  bool offload_ = false;
  TimePoint next_router_advertisement_{};
  FrameOffload rx_offload_;
  struct QueuedFrame {
    std::vector<uint8_t> bytes;
    FrameOffload offload;
  };
  std::deque<QueuedFrame> tx_queue_;
  std::vector<uint8_t> rx_buf_;
  std::unique_ptr<LwipState> lwip_;
};

}  // namespace msb::stack
