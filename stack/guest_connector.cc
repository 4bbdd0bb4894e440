// GuestConnector: TCP connections from the gateway to the guest (guest_connect.h), for published
// ports.
//
// Each attempt is an lwIP pcb bound to the gateway's address and the next free port of the
// ephemeral range, then tcp_connect()ed to the guest. tcp_connect puts the pcb at the head of
// lwIP's active list, which is what PcbIndex::Track expects, so the pcb is entered in the index at
// once: the guest's SYN-ACK or RST (a segment that is not a pure SYN) then reaches it through the
// index like any other segment, and the PcbIndexConsistent invariant holds for these connections
// too. A guest RST fails the attempt at once (lwIP's error callback, ERR_RST); a guest that never
// answers is given up after the caller's timeout (an lwIP timer, so it runs with lwIP's clock).
// On success the pcb becomes a GuestTcp, marked accepted, with the destroy tracking the accepted
// connections have (AttachConn).
#include <algorithm>

#include "stack/lwip_glue.h"

namespace msb::stack {
namespace {

void* IdArg(uint64_t id) {
  return reinterpret_cast<void*>(static_cast<uintptr_t>(id));
}

uint64_t ArgId(void* arg) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(arg));
}

GuestConnector* Connector() {
  Netstack* ns = Netstack::Instance();
  return ns != nullptr && ns->lwip() != nullptr ? ns->lwip()->connector.get() : nullptr;
}

// Forget detaches our callbacks from a pcb still in lwIP's hands.
void Forget(tcp_pcb* pcb) {
  tcp_arg(pcb, nullptr);
  tcp_err(pcb, nullptr);
}

}  // namespace

Result<uint64_t> Netstack::ConnectToGuest(uint16_t guest_port, Duration timeout,
                                          GuestConnectDone done) {
  if (!lwip_->connector) {
    lwip_->connector = std::make_unique<GuestConnector>(this, &lwip_->acceptor->index());
  }
  return lwip_->connector->Connect(guest_port, timeout, std::move(done));
}

void Netstack::CancelGuestConnect(uint64_t id) {
  if (lwip_->connector) {
    lwip_->connector->Cancel(id);
  }
}

GuestConnector::~GuestConnector() {
  for (auto& [id, p] : pending_) {
    sys_untimeout(TimedOut, IdArg(id));
    Forget(p.pcb);
    tcp_abort(p.pcb);
  }
}

bool GuestConnector::Bind(tcp_pcb* pcb, uint16_t guest_port, FlowTuple* tuple) {
  const NetstackConfig& cfg = stack_->config();
  ip_addr_t local = ToLwip(cfg.gateway_v4);
  constexpr uint32_t kRange = uint32_t{kGuestConnectLastPort} - kGuestConnectFirstPort + 1;
  for (uint32_t tried = 0; tried < kRange; ++tried) {
    uint16_t port = next_port_;
    next_port_ =
        port == kGuestConnectLastPort ? kGuestConnectFirstPort : static_cast<uint16_t>(port + 1);
    FlowTuple t{Transport::kTcp, {cfg.guest_v4, guest_port}, {cfg.gateway_v4, port}};
    // The index knows every connection by tuple; tcp_bind refuses a port any pcb holds on our
    // address (a guest's own connection to the gateway's address on that port, TIME_WAIT).
    if (index_->Find(t) != nullptr || tcp_bind(pcb, &local, port) != ERR_OK) {
      continue;
    }
    *tuple = t;
    return true;
  }
  return false;
}

Result<uint64_t> GuestConnector::Connect(uint16_t guest_port, Duration timeout,
                                         GuestConnectDone done) {
  tcp_pcb* pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
  if (pcb == nullptr) {
    return Status::Error("lwIP tcp_new failed");
  }
  FlowTuple tuple;
  if (!Bind(pcb, guest_port, &tuple)) {
    tcp_close(pcb);
    return Status::Error("no free local port toward the guest (" + std::to_string(pending_.size()) +
                         " connects in flight)");
  }
  uint64_t id = next_id_++;
  tcp_arg(pcb, IdArg(id));
  tcp_err(pcb, Failed);
  ip_addr_t guest = ToLwip(stack_->config().guest_v4);
  if (err_t err = tcp_connect(pcb, &guest, guest_port, Connected); err != ERR_OK) {
    Forget(pcb);
    tcp_abort(pcb);  // bound, not yet active: lwIP frees it from the bound list
    return Status::Error("lwIP tcp_connect failed (" + std::to_string(err) + ")");
  }
  index_->Track(pcb, tuple);
  pending_[id] = Pending{pcb, tuple, std::move(done)};
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  sys_timeout(static_cast<u32_t>(std::clamp<int64_t>(ms, 1, 600000)), TimedOut, IdArg(id));
  return id;
}

void GuestConnector::Cancel(uint64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) {
    return;
  }
  tcp_pcb* pcb = it->second.pcb;
  pending_.erase(it);
  sys_untimeout(TimedOut, IdArg(id));
  Forget(pcb);
  tcp_abort(pcb);
}

void GuestConnector::Finish(uint64_t id, GuestConnectResult&& result) {
  auto it = pending_.find(id);
  if (it == pending_.end()) {
    return;
  }
  GuestConnectDone done = std::move(it->second.done);
  pending_.erase(it);
  sys_untimeout(TimedOut, IdArg(id));
  done(std::move(result));
}

err_t GuestConnector::Connected(void* arg, tcp_pcb* pcb, err_t /*err: always ERR_OK*/) {
  GuestConnector* self = Connector();
  bool ours = self != nullptr;
  auto it = ours ? self->pending_.find(ArgId(arg)) : std::map<uint64_t, Pending>::iterator();
  if (!ours || it == self->pending_.end() || it->second.pcb != pcb) {
    Forget(pcb);
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  // With offloads, segments for a guest that takes full link-MTU segments are built up to 64 KiB
  // and split by its kernel, as for accepted connections (TcpAcceptor::PassiveOpen).
  const NetstackConfig& cfg = self->stack_->config();
  if (self->stack_->offload() && cfg.mtu > 40 && pcb->mss >= cfg.mtu - 40) {
    pcb->mss = kOffloadMss4;
  }
  auto conn = std::make_unique<GuestTcp>(pcb, it->second.tuple, /*syn_id=*/0);  // takes tcp_arg
  conn->MarkAccepted();
  AttachConn(pcb, conn.get());
  self->Finish(ArgId(arg), GuestConnectResult{std::move(conn), GuestConnectFailure::kNone});
  return ERR_OK;
}

void GuestConnector::Failed(void* arg, err_t err) {
  // The pcb is gone (lwIP frees it after this call; the index hears of it on its own).
  GuestConnector* self = Connector();
  if (self == nullptr) {
    return;
  }
  GuestConnectFailure failure =
      err == ERR_RST ? GuestConnectFailure::kRefused : GuestConnectFailure::kTimeout;
  self->Finish(ArgId(arg), GuestConnectResult{nullptr, failure});
}

void GuestConnector::TimedOut(void* arg) {
  GuestConnector* self = Connector();
  if (self == nullptr) {
    return;
  }
  auto it = self->pending_.find(ArgId(arg));
  if (it == self->pending_.end()) {
    return;
  }
  tcp_pcb* pcb = it->second.pcb;
  Forget(pcb);
  tcp_abort(pcb);
  self->Finish(ArgId(arg), GuestConnectResult{nullptr, GuestConnectFailure::kTimeout});
}

}  // namespace msb::stack
