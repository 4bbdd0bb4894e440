// Netstack: lwIP set-up, the netif facing the guest, frame I/O and timers. The packet-level
// interception lives in ip4_input.cc and tcp_acceptor.cc; see netstack.h for the overview.
#include "stack/netstack.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "stack/lwip_glue.h"
#include "stack/lwip_port.h"
#include "stack/offload.h"

namespace msb::stack {
namespace {

Netstack* g_instance = nullptr;
constexpr size_t kMaxFramesPerWakeup = 4096;  // fairness toward upstream sockets
constexpr size_t kMinEthernetFrame = 60;      // without FCS
constexpr size_t kMaxFrameParts = 16;

// LinkOutput hands a frame to the device as the pbuf chain's pieces, without copying. With
// offloads, TCP checksums are left to the guest's kernel (lwIP does not compute them) and large
// segments go out as GSO.
err_t LinkOutput(netif* nif, pbuf* p) {
  auto* ns = static_cast<Netstack*>(nif->state);
  std::span<const uint8_t> parts[kMaxFrameParts];
  size_t n = 0;
  for (const pbuf* q = p; q != nullptr && n <= kMaxFrameParts; q = q->next) {
    if (q->len != 0) {
      if (n == kMaxFrameParts) {
        ++n;
        break;
      }
      parts[n++] = {static_cast<const uint8_t*>(q->payload), q->len};
    }
  }
  std::optional<FrameOffload> offload = FrameOffload{};
  if (ns->offload() && n <= kMaxFrameParts) {
    offload =
        PrepareTxOffload({static_cast<uint8_t*>(p->payload), p->len}, p->tot_len, ns->config().mtu);
  }
  std::vector<uint8_t> linear;
  if (n > kMaxFrameParts || !offload) {
    // Rare: too many pieces, or headers split across pbufs. One copy.
    linear.resize(p->tot_len);
    pbuf_copy_partial(p, linear.data(), p->tot_len, 0);
    parts[0] = linear;
    n = 1;
    offload =
        ns->offload() ? PrepareTxOffload(linear, linear.size(), ns->config().mtu) : FrameOffload{};
  }
  if (offload->gso != FrameOffload::Gso::kNone) {
    ++ns->mutable_stats().gso_frames_out;
  }
  ns->TransmitFrame({parts, n}, *offload);
  return ERR_OK;
}

err_t NetifInit(netif* nif) {
  auto* ns = static_cast<Netstack*>(nif->state);
  const NetstackConfig& cfg = ns->config();
  nif->name[0] = 'm';
  nif->name[1] = 'g';
  nif->hwaddr_len = ETH_HWADDR_LEN;
  std::memcpy(nif->hwaddr, cfg.gateway_mac.data(), ETH_HWADDR_LEN);
  nif->mtu = ns->offload() ? std::max(cfg.mtu, kOffloadNetifMtu) : cfg.mtu;
  nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  nif->output = etharp_output;
  nif->output_ip6 = ethip6_output;
  nif->linkoutput = LinkOutput;
  return ERR_OK;
}

}  // namespace

IpAddress FromLwip(const ip_addr_t& a) {
  if (IP_IS_V4_VAL(a)) {
    return IpAddress::V4(lwip_ntohl(ip_2_ip4(&a)->addr));
  }
  std::array<uint8_t, 16> b{};
  std::memcpy(b.data(), ip_2_ip6(&a)->addr, 16);
  return IpAddress::V6(b);
}

ip_addr_t ToLwip(const IpAddress& a) {
  ip_addr_t out;
  if (a.is_v4()) {
    IP_ADDR4(&out, a.bytes()[0], a.bytes()[1], a.bytes()[2], a.bytes()[3]);
  } else {
    ip_addr_set_zero_ip6(&out);
    std::memcpy(ip_2_ip6(&out)->addr, a.bytes().data(), 16);
    IP_SET_TYPE_VAL(out, IPADDR_TYPE_V6);
  }
  return out;
}

Netstack* Netstack::Instance() {
  return g_instance;
}

size_t Netstack::TcpPcbCount() const {
  size_t n = 0;
  for (const tcp_pcb* pcb = tcp_active_pcbs; pcb != nullptr; pcb = pcb->next) {
    ++n;
  }
  for (const tcp_pcb* pcb = tcp_tw_pcbs; pcb != nullptr; pcb = pcb->next) {
    ++n;
  }
  return n;
}

const Dhcp4ServerStats* Netstack::dhcp4_stats() const {
  return lwip_ && lwip_->dhcp4 ? &lwip_->dhcp4->stats() : nullptr;
}

bool Netstack::PcbIndexConsistent() const {
  const PcbIndex& index = lwip_->acceptor->index();
  return index.size() == TcpPcbCount() && index.ShadowMatchesLwip();
}

Netstack::Netstack(const NetstackConfig& config, FrameDevice* device, const Clock& clock,
                   Delegate* delegate)
    : config_(config), device_(device), clock_(clock), delegate_(delegate) {}

Result<std::unique_ptr<Netstack>> Netstack::Create(const NetstackConfig& config,
                                                   FrameDevice* device, const Clock& clock,
                                                   Delegate* delegate) {
  if (g_instance != nullptr) {
    return Status::Error("only one Netstack may exist per process (lwIP is a singleton)");
  }
  if (!config.gateway_v4.is_v4() || !config.guest_v4.is_v4() || config.v4_prefix_len > 30) {
    return Status::Error("IPv4 gateway and guest addresses and a prefix of /30 or shorter needed");
  }
  if (config.ipv6 && (!config.gateway_v6.is_v6() || !config.guest_v6.is_v6() ||
                      !IpPrefix::Make(config.gateway_v6, 64)->Contains(config.guest_v6) ||
                      config.gateway_v6 == config.guest_v6)) {
    return Status::Error("IPv6 gateway and guest addresses must be different addresses in one /64");
  }
  if (config.ipv6 && config.mtu < 1280) {
    return Status::Error("IPv6 needs an MTU of at least 1280");
  }
  if (config.mtu < 576 || config.mtu > 65520) {
    return Status::Error("MTU " + std::to_string(config.mtu) + " out of range 576..65520");
  }
  std::unique_ptr<Netstack> ns(new Netstack(config, device, clock, delegate));
  ns->offload_ = device != nullptr && device->offloads();
  g_instance = ns.get();
  SetLwipClock(&clock);
  Status st = ns->Init();
  if (!st.ok()) {
    return st;
  }
  return ns;
}

Status Netstack::Init() {
  static bool lwip_initialized = false;
  if (!lwip_initialized) {
    lwip_init();
    lwip_initialized = true;
  }
  // With offloads the guest may hand over whole 64 KiB segments whatever its MTU.
  rx_buf_.resize(offload_ ? size_t{65535} + 64 : size_t{config_.mtu} + 64);
  lwip_ = std::make_unique<LwipState>();
  ip4_addr_t ip;
  ip4_addr_t mask;
  ip4_addr_t gw;
  ip4_addr_set_u32(&ip, lwip_htonl(config_.gateway_v4.v4()));
  uint32_t mask_host =
      config_.v4_prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - config_.v4_prefix_len);
  ip4_addr_set_u32(&mask, lwip_htonl(mask_host));
  ip4_addr_set_zero(&gw);
  if (netif_add(&lwip_->nif, &ip, &mask, &gw, this, NetifInit, ethernet_input) == nullptr) {
    return Status::Error("lwIP netif_add failed");
  }
  if (offload_) {
    // TCP checksums for the guest are completed by its kernel (PrepareTxOffload tags them).
    NETIF_SET_CHECKSUM_CTRL(&lwip_->nif, NETIF_CHECKSUM_ENABLE_ALL & ~NETIF_CHECKSUM_GEN_TCP);
  }
  if (config_.ipv6) {
    // The link-local address (from the MAC: what router advertisements come from) and the
    // gateway's address in the guest's /64, both usable at once (no duplicate detection: the
    // link holds the guest only).
    netif_create_ip6_linklocal_address(&lwip_->nif, 1);
    netif_ip6_addr_set_state(&lwip_->nif, 0, IP6_ADDR_PREFERRED);
    ip_addr_t global = ToLwip(config_.gateway_v6);
    s8_t index = -1;
    if (netif_add_ip6_address(&lwip_->nif, ip_2_ip6(&global), &index) != ERR_OK) {
      return Status::Error("lwIP netif_add_ip6_address failed");
    }
    netif_ip6_addr_set_state(&lwip_->nif, index, IP6_ADDR_PREFERRED);
    lwip_->ip6_reassembly = std::make_unique<Ip6Reassembler>(clock_);
  }
  netif_set_default(&lwip_->nif);
  netif_set_up(&lwip_->nif);
  netif_set_link_up(&lwip_->nif);
  lwip_->udp_out = udp_new_ip_type(IPADDR_TYPE_ANY);
  if (lwip_->udp_out == nullptr) {
    return Status::Error("lwIP udp_new failed");
  }
  if (config_.dhcp4) {
    Dhcp4ServerConfig dhcp;
    dhcp.server_id = config_.gateway_v4;
    dhcp.client_address = config_.guest_v4;
    dhcp.prefix_len = config_.v4_prefix_len;
    dhcp.mtu = config_.mtu;
    dhcp.lease_seconds = config_.dhcp4_lease_seconds;
    auto server = Dhcp4Server::Create(dhcp);
    if (!server.ok()) {
      return Status::Error("DHCP server: " + server.error());
    }
    lwip_->dhcp4.emplace(std::move(server).value());
  }
  // The first unsolicited advertisement comes after a guest has had time to ask (it answers).
  next_router_advertisement_ = clock_.Now() + std::chrono::minutes(5);
  lwip_->acceptor = std::make_unique<TcpAcceptor>(this);
  return lwip_->acceptor->Init();
}

Netstack::~Netstack() {
  if (lwip_) {
    lwip_->connector.reset();  // before the index its pcbs are entered in
    lwip_->acceptor.reset();
    // Abort every connection still in lwIP so a later Netstack starts from a clean stack.
    while (tcp_active_pcbs != nullptr) {
      tcp_abort(tcp_active_pcbs);
    }
    while (tcp_tw_pcbs != nullptr) {
      tcp_abort(tcp_tw_pcbs);
    }
    if (lwip_->udp_out != nullptr) {
      udp_remove(lwip_->udp_out);
    }
    netif_remove(&lwip_->nif);
  }
  g_instance = nullptr;
  SetLwipClock(nullptr);
}

bool Netstack::OnDeviceReadable() {
  // The budget may not strand frames a device already holds (one read(2) of a stream socket brings
  // many): its fd would not wake us for them again.
  for (size_t i = 0; i < kMaxFramesPerWakeup || device_->HasPendingInput(); ++i) {
    ReadResult r = device_->ReadFrame(rx_buf_);
    if (r.status == IoStatus::kWouldBlock) {
      break;
    }
    if (r.status != IoStatus::kOk) {
      spdlog::warn("guest device {}", r.status == IoStatus::kClosed ? "closed" : "failed");
      return false;
    }
    ++stats_.frames_in;
    if (r.size < SIZEOF_ETH_HDR || r.size > rx_buf_.size() - 4 || r.size > 0xffff) {
      ++stats_.bad_packets;  // runt, bad offload header, or longer than allowed (truncated read)
      continue;
    }
    if (r.offload.gso != FrameOffload::Gso::kNone) {
      ++stats_.gso_frames_in;
    }
    // Only IPv4, ARP and (when served) IPv6 reach lwIP; every IPv4 and IPv6 packet passes its
    // validating hook (ip4_input.cc, ip6_input.cc) before lwIP's own input sees it.
    uint16_t ethertype = static_cast<uint16_t>((rx_buf_[12] << 8) | rx_buf_[13]);
    if (ethertype != ETHTYPE_IP && ethertype != ETHTYPE_ARP &&
        !(ethertype == ETHTYPE_IPV6 && config_.ipv6)) {
      ++stats_.frames_ignored;
      continue;
    }
    // Pad short frames to the Ethernet minimum, as a NIC would: lwIP's ARP input reads a full
    // 42-byte ARP packet after checking only the Ethernet header length.
    size_t len = std::max(r.size, kMinEthernetFrame);
    if (len > r.size) {
      std::memset(rx_buf_.data() + r.size, 0, len - r.size);
    }
    pbuf* p = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(len), PBUF_RAM);
    if (p == nullptr) {
      continue;
    }
    std::memcpy(p->payload, rx_buf_.data(), len);
    rx_offload_ = r.offload;
    if (lwip_->nif.input(p, &lwip_->nif) != ERR_OK) {
      pbuf_free(p);
    }
    rx_offload_ = FrameOffload{};
  }
  lwip_->acceptor->CollectGarbage();
  return true;
}

void Netstack::TransmitFrame(std::span<const std::span<const uint8_t>> parts,
                             const FrameOffload& offload) {
  if (tx_queue_.empty()) {
    IoStatus st = device_->WriteFrameParts(parts, offload);
    if (st == IoStatus::kOk) {
      ++stats_.frames_out;
      return;
    }
    if (st != IoStatus::kWouldBlock) {
      ++stats_.frames_dropped_tx_full;
      return;
    }
  }
  if (tx_queue_.size() >= config_.tx_queue_frames) {
    ++stats_.frames_dropped_tx_full;  // TCP retransmits; datagrams are lost as on a full NIC
    return;
  }
  tx_queue_.push_back({JoinFrameParts(parts), offload});
}

bool Netstack::WantsDeviceWritable() const {
  return !tx_queue_.empty() || device_->HasPendingOutput();
}

void Netstack::OnDeviceWritable() {
  // What the device holds was accepted before anything queued here: it goes first.
  if (device_->Flush() == IoStatus::kWouldBlock) {
    return;
  }
  while (!tx_queue_.empty()) {
    const QueuedFrame& q = tx_queue_.front();
    const std::span<const uint8_t> one[1] = {q.bytes};
    IoStatus st = device_->WriteFrameParts(one, q.offload);
    if (st == IoStatus::kWouldBlock) {
      return;
    }
    if (st == IoStatus::kOk) {
      ++stats_.frames_out;
    } else {
      ++stats_.frames_dropped_tx_full;
    }
    tx_queue_.pop_front();
  }
}

void Netstack::RunTimers() {
  sys_check_timeouts();
  if (config_.ipv6 && clock_.Now() >= next_router_advertisement_) {
    // Unsolicited advertisements keep a guest's default route and prefix alive and reach one
    // whose solicitations were lost (RFC 4861 6.2.4; at most every 600 s).
    next_router_advertisement_ = clock_.Now() + std::chrono::minutes(5);
    SendRouterAdvertisement(*IpAddress::Parse("ff02::1"));
  }
  lwip_->acceptor->CollectGarbage();
}

Duration Netstack::NextTimerDelay() const {
  u32_t ms = sys_timeouts_sleeptime();
  if (ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE) {
    return std::chrono::seconds(1);
  }
  return std::chrono::milliseconds(ms);
}

bool Netstack::ResolveSyn(uint64_t syn_id, SynOutcome outcome) {
  bool ok = lwip_->acceptor->Resolve(syn_id, outcome);
  lwip_->acceptor->CollectGarbage();
  return ok;
}

void Netstack::SendUdp(const SocketAddress& from, const SocketAddress& to,
                       std::span<const uint8_t> payload) {
  if (payload.size() > 65507) {
    return;
  }
  pbuf* p = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(payload.size()), PBUF_RAM);
  if (p == nullptr) {
    return;
  }
  pbuf_take(p, payload.data(), static_cast<u16_t>(payload.size()));
  ip_addr_t src = ToLwip(from.ip);
  ip_addr_t dst = ToLwip(to.ip);
  // The pcb is never bound into lwIP's lists: it only stamps the source port on replies.
  lwip_->udp_out->local_port = from.port;
  // Datagrams are cut to the guest's link MTU (with offloads the netif's MTU is only lwIP's TCP
  // segment ceiling).
  u16_t netif_mtu = lwip_->nif.mtu;
  lwip_->nif.mtu = config_.mtu;
  udp_sendto_if_src(lwip_->udp_out, p, &dst, to.port, &lwip_->nif, &src);
  lwip_->nif.mtu = netif_mtu;
  pbuf_free(p);
}

}  // namespace msb::stack
