// UdpRelay: see udp_relay.h.
#include "gateway/datagram/udp_relay.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "gateway/core/upstream_socket.h"

namespace msb::gateway {
namespace {

constexpr size_t kMaxDatagram = 65535;
constexpr int kMaxReadsPerWakeup = 64;  // fairness toward the guest and the other flows

}  // namespace

struct UdpRelay::Flow final : IoHandler {
  UdpRelay* relay = nullptr;
  uint64_t id = 0;
  stack::FlowTuple tuple;
  int fd = -1;
  TimePoint opened;
  TimePoint last_active;
  uint64_t bytes_up = 0;
  uint64_t bytes_down = 0;
  uint64_t datagrams_up = 0;
  uint64_t datagrams_down = 0;
  size_t last_sent_len = 0;  // what an ICMP error toward the guest quotes

  void OnIo(uint32_t /*events*/) override { relay->OnReadable(this); }
};

UdpRelay::UdpRelay(EventLoop* loop, AuditLog* audit, GuestDatagrams* guest,
                   const UdpRelayOptions& options)
    : loop_(loop), audit_(audit), guest_(guest), options_(options) {}

UdpRelay::~UdpRelay() {
  CloseAll("shutdown");
  if (sweep_timer_ != 0) {
    loop_->CancelTimer(sweep_timer_);
  }
}

Status UdpRelay::Open(uint64_t flow_id, const stack::FlowTuple& flow,
                      const SocketAddress& upstream) {
  if (Has(flow)) {
    return Status::Ok();
  }
  if (flows_.size() >= options_.max_flows && !flows_.empty()) {
    auto lru = std::min_element(flows_.begin(), flows_.end(), [](const auto& a, const auto& b) {
      return a.second->last_active < b.second->last_active;
    });
    ++stats_.flows_evicted;
    End(lru, "evicted");
  }
  auto fd = ConnectDatagram(upstream, IPPROTO_UDP);
  if (!fd.ok()) {
    return fd.status();
  }
  auto f = std::make_unique<Flow>();
  f->relay = this;
  f->id = flow_id;
  f->tuple = flow;
  f->fd = fd.value();
  f->opened = f->last_active = loop_->clock().Now();
  if (Status st = loop_->Watch(f->fd, EPOLLIN, f.get()); !st.ok()) {
    close(f->fd);
    return st;
  }
  flows_.emplace(flow, std::move(f));
  ++stats_.flows_opened;
  ArmSweep();
  return Status::Ok();
}

void UdpRelay::Send(const stack::FlowTuple& flow, std::span<const uint8_t> payload) {
  auto it = flows_.find(flow);
  if (it == flows_.end()) {
    return;
  }
  Flow* f = it->second.get();
  f->last_active = loop_->clock().Now();
  f->last_sent_len = payload.size();
  ssize_t n = send(f->fd, payload.data(), payload.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0) {
    if (errno == ECONNREFUSED) {
      // An earlier datagram drew a port unreachable; the guest learns it now, as its own kernel
      // would have told it.
      ++stats_.port_unreachable;
      guest_->SendUdpPortUnreachable(f->tuple, payload.size());
    } else {
      ++stats_.dropped_up;  // EAGAIN, ENOBUFS, EMSGSIZE: lost, as on a congested link
    }
    return;
  }
  ++f->datagrams_up;
  ++stats_.datagrams_up;
  f->bytes_up += payload.size();
}

void UdpRelay::OnReadable(Flow* f) {
  static uint8_t buf[kMaxDatagram];
  for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
    ssize_t n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == ECONNREFUSED) {
        ++stats_.port_unreachable;
        guest_->SendUdpPortUnreachable(f->tuple, f->last_sent_len);
        continue;  // the error is cleared; datagrams may follow it
      }
      return;  // EAGAIN, or an error the guest has no use for (it was cleared by reading it)
    }
    f->last_active = loop_->clock().Now();
    ++f->datagrams_down;
    ++stats_.datagrams_down;
    f->bytes_down += static_cast<size_t>(n);
    guest_->SendUdp(f->tuple.dest, f->tuple.guest, {buf, static_cast<size_t>(n)});
  }
}

void UdpRelay::Close(const stack::FlowTuple& flow, std::string_view reason) {
  auto it = flows_.find(flow);
  if (it != flows_.end()) {
    End(it, reason);
  }
}

void UdpRelay::CloseAll(std::string_view reason) {
  while (!flows_.empty()) {
    End(flows_.begin(), reason);
  }
}

void UdpRelay::End(std::map<stack::FlowTuple, std::unique_ptr<Flow>>::iterator it,
                   std::string_view reason) {
  Flow* f = it->second.get();
  loop_->Unwatch(f->fd);
  close(f->fd);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(loop_->clock().Now() - f->opened);
  AuditRecord rec = FlowCloseRecord({f->id, "udp", f->tuple.guest, f->tuple.dest}, reason,
                                    f->bytes_up, f->bytes_down, ms.count());
  rec.json().Uint("datagrams_up", f->datagrams_up).Uint("datagrams_down", f->datagrams_down);
  audit_->Emit(std::move(rec));
  flows_.erase(it);
}

void UdpRelay::ArmSweep() {
  if (sweep_timer_ != 0 || flows_.empty()) {
    return;
  }
  // A tenth of the idle timeout (between 100 ms and 5 s): flows end at most 10% late.
  Duration every = std::clamp<Duration>(options_.idle_timeout / 10, std::chrono::milliseconds(100),
                                        std::chrono::seconds(5));
  sweep_timer_ = loop_->AddTimer(every, [this] {
    sweep_timer_ = 0;
    Sweep();
    ArmSweep();
  });
}

void UdpRelay::Sweep() {
  TimePoint now = loop_->clock().Now();
  for (auto it = flows_.begin(); it != flows_.end();) {
    auto next = std::next(it);
    if (now - it->second->last_active >= options_.idle_timeout) {
      End(it, "idle");
    }
    it = next;
  }
}

}  // namespace msb::gateway
