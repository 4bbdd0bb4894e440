// Publisher: accept or reset, receive and translate (see publisher.h).
#include "gateway/publish/publisher.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "gateway/core/socket_stream.h"
#include "gateway/core/upstream_socket.h"
#include "gateway/publish/ingress_audit.h"

namespace msb::gateway {
namespace {

constexpr int kBatch = 64;  // connections or datagrams per wake-up: fairness toward the rest
constexpr auto kExpireEvery = std::chrono::seconds(10);
constexpr auto kPauseOnExhaustion = std::chrono::milliseconds(100);

}  // namespace

Result<std::unique_ptr<Publisher>> Publisher::Create(const PublishContext& ctx,
                                                     const HostListeners* listeners) {
  std::unique_ptr<Publisher> p(new Publisher(ctx));
  p->datagram_.resize(65536);
  for (const HostListeners::Listener& l : listeners->listeners()) {
    p->watches_.push_back(std::make_unique<Watch>(p.get(), &l));
    if (Status st = ctx.loop->Watch(l.fd, EPOLLIN, p->watches_.back().get()); !st.ok()) {
      return Status::Error("published port \"" + l.port.ToString() + "\": " + st.message());
    }
    p->watched_.push_back(&l);
  }
  p->expire_timer_ = ctx.loop->AddTimer(kExpireEvery, [raw = p.get()] { raw->ExpireUdp(); });
  return p;
}

Publisher::~Publisher() {
  Shutdown();
  *alive_ = false;
  if (expire_timer_ != 0) {
    ctx_.loop->CancelTimer(expire_timer_);
  }
  flows_.clear();
}

void Publisher::Shutdown() {
  if (shut_) {
    return;
  }
  shut_ = true;
  for (const HostListeners::Listener* l : watched_) {
    ctx_.loop->Unwatch(l->fd);
  }
  watched_.clear();
  for (TimerId t : pause_timers_) {
    ctx_.loop->CancelTimer(t);
  }
  pause_timers_.clear();
  for (auto& [id, flow] : flows_) {
    flow->Abort(CloseReason::kShutdown);
  }
}

void Publisher::ExpireUdp() {
  udp_.Expire();
  expire_timer_ = ctx_.loop->AddTimer(kExpireEvery, [this] { ExpireUdp(); });
}

void Publisher::OnReadable(const HostListeners::Listener& l) {
  if (shut_) {
    return;
  }
  if (l.port.protocol == policy::PublishProtocol::kTcp) {
    Accept(l);
  } else {
    Receive(l);
  }
}

void Publisher::Pause(const HostListeners::Listener& l) {
  ctx_.loop->SetInterest(l.fd, 0);
  pause_timers_.push_back(ctx_.loop->AddTimer(kPauseOnExhaustion, [this, fd = l.fd] {
    if (!shut_) {  // a pending pause is cancelled by Shutdown, which the destructor runs
      ctx_.loop->SetInterest(fd, EPOLLIN);
    }
  }));
  if (pause_timers_.size() > 64) {
    pause_timers_.erase(pause_timers_.begin());  // long fired; cancelling a fired id is a no-op
  }
}

void Publisher::Accept(const HostListeners::Listener& l) {
  for (int i = 0; i < kBatch; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    int fd = accept4(l.fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        Pause(l);
      }
      return;  // EAGAIN: all taken
    }
    auto peer = FromSockaddr(ss);
    if (!peer) {
      close(fd);  // not an IP peer: a listener only accepts its own family
      continue;
    }
    Admit(l, fd, *peer);
  }
}

void Publisher::Admit(const HostListeners::Listener& l, int fd, const SocketAddress& peer) {
  uint64_t flow_id = ctx_.next_flow_id();
  policy::Decision decision = EvaluateIngress(ctx_, l.port, peer.ip);
  std::string_view reason;
  if (decision.action == policy::Action::kAllow && !ctx_.has_room()) {
    decision.action = policy::Action::kDeny;
    reason = "max_connections";
  }
  EmitIngressDecision(ctx_, flow_id, l.port, peer, decision, reason);
  if (decision.action == policy::Action::kDeny) {
    ++stats_.tcp_denied;
    CloseWithReset(fd);  // the peer's connect succeeded (the kernel's); its read sees RST
    return;
  }
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto stream = SocketStream::Create(ctx_.loop, fd);
  if (!stream.ok()) {
    ++stats_.tcp_denied;
    AuditRecord rec = FlowCloseRecord({flow_id, "tcp", peer, {ctx_.guest_v4, l.port.guest_port}},
                                      "shutdown", 0, 0, 0);
    rec.json().Str("dir", "ingress");
    ctx_.audit->Emit(std::move(rec));
    return;  // the stream closed fd
  }
  ++stats_.tcp_accepted;
  auto flow = std::make_unique<PublishedTcpFlow>(
      ctx_, flow_id, l.port, peer, std::move(stream).value(), [this](uint64_t id) { Release(id); });
  PublishedTcpFlow* raw = flow.get();
  flows_[flow_id] = std::move(flow);
  raw->Start();
}

void Publisher::Receive(const HostListeners::Listener& l) {
  for (int i = 0; i < kBatch; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    ssize_t n = recvfrom(l.fd, datagram_.data(), datagram_.size(), MSG_DONTWAIT,
                         reinterpret_cast<sockaddr*>(&ss), &len);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;  // EAGAIN, or an error queued by an ICMP the kernel received: nothing to read
    }
    ++stats_.udp_in;
    auto peer = FromSockaddr(ss);
    if (!peer) {
      continue;
    }
    if (!udp_.OnPeerDatagram(l.fd, l.port, *peer, {datagram_.data(), static_cast<size_t>(n)})) {
      ++stats_.udp_denied;
    }
  }
}

void Publisher::Release(uint64_t flow_id) {
  ctx_.loop->Defer([this, alive = std::weak_ptr<bool>(alive_), flow_id] {
    if (!alive.expired()) {
      flows_.erase(flow_id);
    }
  });
}

}  // namespace msb::gateway
