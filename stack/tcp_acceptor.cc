// TcpAcceptor: terminates guest TCP to any destination with one catch-all listening pcb, and holds
// each new SYN until the gateway has tried the upstream (netstack.h explains the flow).
//
// The listener is bound to the "any" address. Its local_port is 0 at rest, so every segment that
// matches no connection gets lwIP's RST (correct TCP behaviour for strays). To accept a held SYN,
// the port is set to the SYN's destination port just for that one tcp_input() call: lwIP then
// creates the connection with local address:port = the original destination, which its replies
// carry as source. lwIP's passive-open extension callback gives us the new pcb before the SYN-ACK
// leaves, so callbacks and lifetime tracking are in place from the first moment. Each connection
// is also entered in a PcbIndex, through which every segment reaches lwIP, so that no segment
// walks lwIP's lists of open connections (pcb_index.h).
#include <spdlog/spdlog.h>

#include "stack/lwip_glue.h"

namespace msb::stack {
namespace {

const tcp_ext_arg_callbacks kListenerCallbacks = {nullptr, nullptr};

void ConnDestroyed(u8_t /*id*/, void* data) {
  if (data != nullptr) {
    static_cast<GuestTcp*>(data)->OnPcbDestroyed();
  }
}
const tcp_ext_arg_callbacks kConnCallbacks = {ConnDestroyed, nullptr};

bool TupleIs(const tcp_pcb* pcb, const FlowTuple& t) {
  return pcb->local_port == t.dest.port && pcb->remote_port == t.guest.port &&
         FromLwip(pcb->local_ip) == t.dest.ip && FromLwip(pcb->remote_ip) == t.guest.ip;
}

bool ChecksumOk(pbuf* p, const IpPacket& pkt) {
  ip_addr_t src = ToLwip(pkt.src);
  ip_addr_t dst = ToLwip(pkt.dst);
  pbuf_remove_header(p, pkt.header_len);
  u16_t sum = ip_chksum_pseudo(p, IP_PROTO_TCP, static_cast<u16_t>(pkt.total_len - pkt.header_len),
                               &src, &dst);
  pbuf_add_header_force(p, pkt.header_len);
  return sum == 0;
}

}  // namespace

uint8_t ConnExtArgId() {
  static const uint8_t id = tcp_ext_arg_alloc_id();
  return id;
}

void AttachConn(tcp_pcb* pcb, GuestTcp* conn) {
  tcp_ext_arg_set_callbacks(pcb, ConnExtArgId(), &kConnCallbacks);
  tcp_ext_arg_set(pcb, ConnExtArgId(), conn);
}

TcpAcceptor::~TcpAcceptor() {
  for (auto& [id, pending] : pending_) {
    if (pending.syn != nullptr) {
      pbuf_free(pending.syn);
    }
  }
  pending_.clear();
  if (listener_ != nullptr) {
    tcp_close(reinterpret_cast<tcp_pcb*>(listener_));
  }
}

Status TcpAcceptor::Init() {
  tcp_pcb* pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
  if (pcb == nullptr) {
    return Status::Error("lwIP tcp_new failed");
  }
  // Bind to a placeholder port; the real port is set per accepted SYN (see the file comment).
  if (tcp_bind(pcb, IP_ANY_TYPE, 1) != ERR_OK) {
    tcp_abort(pcb);
    return Status::Error("lwIP tcp_bind failed");
  }
  err_t err = ERR_OK;
  listener_ = reinterpret_cast<tcp_pcb_listen*>(tcp_listen_with_backlog_and_err(pcb, 255, &err));
  if (listener_ == nullptr) {
    return Status::Error("lwIP tcp_listen failed");
  }
  listener_->local_port = 0;
  static tcp_ext_arg_callbacks listener_cbs = kListenerCallbacks;
  listener_cbs.passive_open = PassiveOpen;
  tcp_ext_arg_set_callbacks(reinterpret_cast<tcp_pcb*>(listener_), ConnExtArgId(), &listener_cbs);
  tcp_arg(reinterpret_cast<tcp_pcb*>(listener_), this);
  tcp_accept(reinterpret_cast<tcp_pcb*>(listener_), Accept);
  return Status::Ok();
}

void TcpAcceptor::Deliver(pbuf* p, netif* inp, const IpPacket& pkt, const FlowTuple& tuple,
                          uint16_t listen_port) {
  listener_->local_port = listen_port;
  index_.Deliver(p, inp, pkt, tuple);
  listener_->local_port = 0;
  stack_->mutable_stats().pcb_list_resyncs = index_.resyncs();
}

void TcpAcceptor::OnSegment(pbuf* p, netif* inp, const IpPacket& pkt) {
  uint8_t hdr[TCP_HLEN];
  if (pkt.total_len - pkt.header_len < TCP_HLEN ||
      pbuf_copy_partial(p, hdr, TCP_HLEN, pkt.header_len) != TCP_HLEN) {
    ++stack_->mutable_stats().bad_packets;
    pbuf_free(p);
    return;
  }
  uint16_t sport = static_cast<uint16_t>((hdr[0] << 8) | hdr[1]);
  uint16_t dport = static_cast<uint16_t>((hdr[2] << 8) | hdr[3]);
  uint8_t flags = hdr[13] & TCP_FLAGS;
  if (sport == 0 || dport == 0) {
    ++stack_->mutable_stats().bad_packets;
    pbuf_free(p);
    return;
  }
  bool pure_syn = (flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) == TCP_SYN;
  FlowTuple tuple{Transport::kTcp, {pkt.src, sport}, {pkt.dst, dport}};
  if (!pure_syn) {
    Deliver(p, inp, pkt, tuple, 0);  // established flows, or an RST from lwIP for strays
    return;
  }
  // A SYN starts a policy decision and an upstream connect: verify its checksum first (lwIP
  // checks every segment too, but only later, inside tcp_input).
  if (!pkt.l4_csum_trusted && !ChecksumOk(p, pkt)) {
    ++stack_->mutable_stats().bad_packets;
    pbuf_free(p);
    return;
  }
  if (tcp_pcb* existing = index_.Find(tuple); existing != nullptr) {
    if (existing->state != TIME_WAIT) {
      Deliver(p, inp, pkt, tuple, 0);  // a SYN inside an existing connection: lwIP's job
      return;
    }
    // lwIP will not reuse a 4-tuple still in TIME_WAIT for a new SYN; the guest's new
    // connection wins (the guest chose the port, it knows the old one is over).
    tcp_abort(existing);
  }
  if (by_tuple_.count(tuple) != 0) {
    ++stack_->mutable_stats().syn_retransmits_dropped;  // we are still deciding on the first one
    pbuf_free(p);
    return;
  }
  if (pending_.size() >= stack_->config().max_pending_syns) {
    pbuf_free(p);  // the guest retransmits; this bounds memory under a SYN flood
    return;
  }
  uint64_t id = next_id_++;
  SynVerdict verdict = stack_->delegate()->OnTcpSyn(id, tuple);
  if (verdict == SynVerdict::kReject) {
    Deliver(p, inp, pkt, tuple, 0);  // no listener on the port: lwIP answers RST
    return;
  }
  pbuf* copy = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
  pbuf_free(p);
  if (copy == nullptr) {
    stack_->delegate()->OnTcpAcceptFailed(id);
    return;
  }
  ++stack_->mutable_stats().syns_held;
  Pending& pending = pending_[id];
  pending.tuple = tuple;
  pending.packet = pkt;
  pending.syn = copy;
  by_tuple_[tuple] = id;
}

bool TcpAcceptor::Resolve(uint64_t syn_id, SynOutcome outcome) {
  auto it = pending_.find(syn_id);
  if (it == pending_.end() || it->second.syn == nullptr) {
    return outcome != SynOutcome::kAccept;
  }
  pbuf* syn = it->second.syn;
  it->second.syn = nullptr;
  // A copy: the entry may be erased below, or by a callback while the SYN is in tcp_input.
  const IpPacket packet = it->second.packet;
  netif* inp = &stack_->lwip()->nif;
  if (outcome == SynOutcome::kAccept) {
    injecting_ = syn_id;
    const FlowTuple tuple = it->second.tuple;
    Deliver(syn, inp, packet, tuple, tuple.dest.port);
    injecting_ = 0;
    it = pending_.find(syn_id);
    if (it != pending_.end() && it->second.conn != nullptr) {
      return true;  // SYN-ACK sent; Accept() fires when the guest completes the handshake
    }
    if (it != pending_.end()) {
      by_tuple_.erase(it->second.tuple);
      pending_.erase(it);
    }
    return false;
  }
  const FlowTuple tuple = it->second.tuple;
  by_tuple_.erase(tuple);
  pending_.erase(it);
  if (outcome == SynOutcome::kRefuse) {
    Deliver(syn, inp, packet, tuple, 0);
  } else if (packet.v6) {
    SendIcmp6Error(stack_, syn, packet, kIcmp6DestUnreachable, kIcmp6AddressUnreachable);
    pbuf_free(syn);
  } else {
    icmp_dest_unreach(syn, ICMP_DUR_HOST);
    pbuf_free(syn);
  }
  return true;
}

err_t TcpAcceptor::PassiveOpen(u8_t /*id*/, tcp_pcb_listen* lpcb, tcp_pcb* cpcb) {
  auto* self = static_cast<TcpAcceptor*>(lpcb->callback_arg);
  auto it = self->pending_.find(self->injecting_);
  if (self->injecting_ == 0 || it == self->pending_.end() || !TupleIs(cpcb, it->second.tuple)) {
    return ERR_VAL;  // not a SYN we released: lwIP abandons the pcb
  }
  // With offloads, segments for a guest that takes full link-MTU segments are built up to 64 KiB
  // and split by its kernel (GSO at the link MTU): one lwIP segment, one frame, per 64 KiB.
  const NetstackConfig& cfg = self->stack_->config();
  if (self->stack_->offload() && IP_IS_V4_VAL(cpcb->remote_ip) && cfg.mtu > 40 &&
      cpcb->mss >= cfg.mtu - 40) {
    cpcb->mss = kOffloadMss4;
  } else if (self->stack_->offload() && IP_IS_V6_VAL(cpcb->remote_ip) && cfg.mtu > 60 &&
             cpcb->mss >= cfg.mtu - 60) {
    cpcb->mss = kOffloadMss6;
  }
  self->index_.Track(cpcb, it->second.tuple);
  it->second.conn = std::make_unique<GuestTcp>(cpcb, it->second.tuple, it->first);
  AttachConn(cpcb, it->second.conn.get());
  return ERR_OK;
}

err_t TcpAcceptor::Accept(void* /*arg*/, tcp_pcb* newpcb, err_t err) {
  // lwIP passes the new pcb's callback argument (already our GuestTcp), not the listener's.
  if (err != ERR_OK || newpcb == nullptr || newpcb->listener == nullptr) {
    return ERR_VAL;
  }
  auto* self = static_cast<TcpAcceptor*>(newpcb->listener->callback_arg);
  auto* conn = static_cast<GuestTcp*>(tcp_ext_arg_get(newpcb, ConnExtArgId()));
  auto it = conn != nullptr ? self->pending_.find(conn->syn_id()) : self->pending_.end();
  if (it == self->pending_.end() || it->second.conn.get() != conn) {
    tcp_abort(newpcb);
    return ERR_ABRT;
  }
  std::unique_ptr<GuestTcp> owned = std::move(it->second.conn);
  self->by_tuple_.erase(it->second.tuple);
  self->pending_.erase(it);
  owned->MarkAccepted();
  self->stack_->delegate()->OnTcpAccepted(std::move(owned));
  return ERR_OK;
}

void TcpAcceptor::OnHandshakeFailed(GuestTcp* conn) {
  auto it = pending_.find(conn->syn_id());
  if (it == pending_.end() || it->second.conn.get() != conn) {
    return;
  }
  uint64_t id = it->first;
  graveyard_.push_back(std::move(it->second.conn));  // we are inside conn's own callback
  by_tuple_.erase(it->second.tuple);
  pending_.erase(it);
  if (injecting_ != id) {
    stack_->delegate()->OnTcpAcceptFailed(id);
  }
}

void TcpAcceptor::CollectGarbage() {
  graveyard_.clear();
}

}  // namespace msb::stack
