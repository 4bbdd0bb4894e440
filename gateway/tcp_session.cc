// TcpSession: the splice between a guest stream and an upstream socket (see tcp_session.h).
#include "gateway/tcp_session.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "gateway/gateway.h"
#include "gateway/upstream_socket.h"

namespace msb::gateway {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

}  // namespace

const char* TcpSession::StateName(State s) {
  switch (s) {
    case State::kConnecting:
      return "connecting";
    case State::kAccepting:
      return "accepting";
    case State::kSplicing:
      return "splicing";
    case State::kDone:
      return "done";
  }
  return "?";
}

TcpSession::TcpSession(Gateway* gateway, uint64_t flow_id, uint64_t syn_id,
                       const stack::FlowTuple& tuple, const SocketAddress& upstream)
    : gw_(gateway), flow_id_(flow_id), syn_id_(syn_id), tuple_(tuple), upstream_(upstream) {
  started_ = gw_->loop().clock().Now();
  last_activity_ = started_;
}

TcpSession::~TcpSession() {
  if (connect_timer_ != 0) {
    gw_->loop().CancelTimer(connect_timer_);
  }
  if (idle_timer_ != 0) {
    gw_->loop().CancelTimer(idle_timer_);
  }
  if (fd_ >= 0) {
    if (watched_) {
      gw_->loop().Unwatch(fd_);
    }
    CloseWithReset(fd_);
  }
  if (guest_ != nullptr) {
    guest_->SetHandler(nullptr);
  }
}

AuditFlow TcpSession::Flow() const {
  return {flow_id_, "tcp", tuple_.guest, tuple_.dest};
}

void TcpSession::Start() {
  ConnectStart c = ConnectTcp(upstream_);
  if (c.fd < 0) {
    OnConnectDone(c.error);
    return;
  }
  fd_ = c.fd;
  Status st = gw_->loop().Watch(fd_, EPOLLOUT, this);
  if (!st.ok()) {
    spdlog::error("flow {}: {}", flow_id_, st.message());
    OnConnectDone(EMFILE);
    return;
  }
  interest_ = EPOLLOUT;
  watched_ = true;
  if (!c.in_progress) {
    OnConnectDone(0);
    return;
  }
  connect_timer_ = gw_->loop().AddTimer(gw_->options().connect_timeout, [this] {
    connect_timer_ = 0;
    OnConnectTimeout();
  });
}

void TcpSession::OnConnectTimeout() {
  if (state_ != State::kConnecting) {
    return;
  }
  ++gw_->stats().upstream_connect_failures;
  AuditRecord rec("flow.connect");
  rec.Flow(Flow())
      .json()
      .Str("result", "timeout")
      .Str("upstream", upstream_.ToString())
      .Int("ms", ToMillis(gw_->loop().clock().Now() - started_));
  gw_->audit().Emit(std::move(rec));
  gw_->netstack().ResolveSyn(syn_id_, stack::SynOutcome::kUnreachable);
  Finish("connect_timeout", /*reset_upstream=*/true, /*abort_guest=*/false);
}

void TcpSession::OnConnectDone(int err) {
  if (connect_timer_ != 0) {
    gw_->loop().CancelTimer(connect_timer_);
    connect_timer_ = 0;
  }
  int64_t ms = ToMillis(gw_->loop().clock().Now() - started_);
  AuditRecord rec("flow.connect");
  rec.Flow(Flow());
  if (err != 0) {
    ConnectFailure failure = ClassifyConnectError(err);
    ++gw_->stats().upstream_connect_failures;
    rec.json()
        .Str("result", ConnectFailureName(failure))
        .Str("upstream", upstream_.ToString())
        .Str("error", strerror(err))
        .Int("ms", ms);
    gw_->audit().Emit(std::move(rec));
    // A refusal is mirrored as RST; anything else as ICMP host-unreachable, so the guest learns
    // the truth at once instead of waiting out its own SYN retries.
    gw_->netstack().ResolveSyn(syn_id_, failure == ConnectFailure::kRefused
                                            ? stack::SynOutcome::kRefuse
                                            : stack::SynOutcome::kUnreachable);
    Finish(failure == ConnectFailure::kRefused ? "upstream_refused" : "upstream_unreachable", true,
           false);
    return;
  }
  rec.json().Str("result", "ok").Str("upstream", upstream_.ToString()).Int("ms", ms);
  gw_->audit().Emit(std::move(rec));
  state_ = State::kAccepting;
  UpdateInterest();  // nothing to watch until the guest's handshake completes
  if (!gw_->netstack().ResolveSyn(syn_id_, stack::SynOutcome::kAccept)) {
    Finish("guest_handshake_failed", true, false);
  }
}

void TcpSession::OnAccepted(std::unique_ptr<stack::GuestTcp> conn) {
  guest_ = std::move(conn);
  guest_->SetHandler(this);
  state_ = State::kSplicing;
  last_activity_ = gw_->loop().clock().Now();
  if (gw_->options().idle_timeout > Duration::zero()) {
    ArmIdleTimer(gw_->options().idle_timeout);
  }
  PumpUp();  // the handshake's last ACK may have carried data
  if (state_ == State::kSplicing) {
    UpdateInterest();
  }
}

void TcpSession::OnAcceptFailed() {
  if (state_ == State::kDone) {
    return;
  }
  Finish("guest_handshake_failed", true, false);
}

void TcpSession::OnIo(uint32_t events) {
  if (state_ == State::kConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
      OnConnectDone(SocketError(fd_));
    }
    return;
  }
  if (state_ != State::kSplicing) {
    return;
  }
  if ((events & EPOLLERR) != 0) {
    int err = SocketError(fd_);
    if (err != 0) {
      Finish("upstream_reset", true, true);
      return;
    }
  }
  if ((events & EPOLLHUP) != 0) {
    hup_seen_ = true;  // level-triggered and not maskable: see UpdateInterest
  }
  if ((events & EPOLLOUT) != 0 && up_blocked_) {
    up_blocked_ = false;
    PumpUp();
  }
  if (state_ == State::kSplicing && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
    PumpDown();
  }
  if (state_ == State::kSplicing) {
    UpdateInterest();
  }
}

void TcpSession::OnGuestReadable() {
  if (state_ != State::kSplicing) {
    return;
  }
  PumpUp();
  if (state_ == State::kSplicing) {
    UpdateInterest();
  }
}

void TcpSession::OnGuestWritable() {
  if (state_ != State::kSplicing) {
    return;
  }
  if (down_pending_off_ < down_pending_.size() || !upstream_eof_) {
    PumpDown();
  }
  if (state_ == State::kSplicing) {
    MaybeFinishOrderly();
  }
  if (state_ == State::kSplicing) {
    UpdateInterest();
  }
}

void TcpSession::OnGuestGone(bool reset) {
  if (state_ == State::kDone) {
    return;
  }
  // The guest's pcb is gone: a reset from the guest resets the upstream too. An orderly end can
  // only be seen here after both FINs, in which case the session is already finishing.
  Finish(reset ? "guest_reset" : "closed", /*reset_upstream=*/reset, /*abort_guest=*/false);
}

void TcpSession::PumpUp() {
  while (!up_blocked_ && guest_->ReadableBytes() > 0) {
    std::span<const uint8_t> chunk = guest_->Peek();
    ssize_t n = send(fd_, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        up_blocked_ = true;  // the guest's window stays closed until the upstream drains
        break;
      }
      Finish("upstream_reset", true, true);
      return;
    }
    guest_->Consume(static_cast<size_t>(n));
    bytes_up_ += static_cast<uint64_t>(n);
    last_activity_ = gw_->loop().clock().Now();
  }
  if (!up_blocked_ && guest_->ReadEof() && !up_write_shut_) {
    up_write_shut_ = true;
    (void)shutdown(fd_, SHUT_WR);  // half-close: the upstream can still answer
    MaybeFinishOrderly();
  }
}

void TcpSession::PumpDown() {
  static uint8_t buf[kReadChunk];
  for (;;) {
    // First hand the guest what an earlier read left over.
    if (down_pending_off_ < down_pending_.size()) {
      std::span<const uint8_t> rest(down_pending_.data() + down_pending_off_,
                                    down_pending_.size() - down_pending_off_);
      size_t w = guest_->Write(rest);
      down_pending_off_ += w;
      bytes_down_ += w;
      if (w > 0) {
        guest_->Flush();
      }
      if (down_pending_off_ < down_pending_.size()) {
        return;  // guest full: wait for OnGuestWritable
      }
      down_pending_.clear();
      down_pending_off_ = 0;
    }
    if (upstream_eof_) {
      break;
    }
    size_t space = guest_->WriteSpace();
    if (space == 0) {
      return;
    }
    ssize_t n = recv(fd_, buf, std::min(space, sizeof(buf)), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      }
      Finish("upstream_reset", true, true);
      return;
    }
    if (n == 0) {
      upstream_eof_ = true;
      break;
    }
    last_activity_ = gw_->loop().clock().Now();
    size_t w = guest_->Write({buf, static_cast<size_t>(n)});
    bytes_down_ += w;
    if (w < static_cast<size_t>(n)) {
      down_pending_.assign(buf + w, buf + n);
      down_pending_off_ = 0;
    }
    guest_->Flush();
  }
  if (upstream_eof_ && down_pending_off_ >= down_pending_.size() && !guest_->write_shut()) {
    guest_->ShutdownWrite();  // FIN after everything the upstream sent
    guest_->Flush();
    MaybeFinishOrderly();
  }
}

void TcpSession::MaybeFinishOrderly() {
  if (state_ == State::kSplicing && up_write_shut_ && guest_->write_shut()) {
    // Both directions are closed. lwIP delivers what is still unacknowledged and completes the
    // guest's close on its own after the GuestTcp lets go of the pcb.
    Finish("closed", false, false);
  }
}

void TcpSession::UpdateInterest() {
  uint32_t want = 0;
  if (state_ == State::kSplicing) {
    if (!upstream_eof_ && down_pending_off_ >= down_pending_.size() && guest_->WriteSpace() > 0) {
      want |= EPOLLIN;
    }
    if (up_blocked_) {
      want |= EPOLLOUT;
    }
  }
  if (fd_ < 0) {
    return;
  }
  // EPOLLHUP is reported whatever the interest set. While we cannot read (the guest is full) a
  // hung-up socket would wake the loop forever, so it leaves epoll until reading can resume.
  bool park = hup_seen_ && (want & EPOLLIN) == 0;
  if (park) {
    if (watched_) {
      gw_->loop().Unwatch(fd_);
      watched_ = false;
    }
    return;
  }
  if (!watched_) {
    if (gw_->loop().Watch(fd_, want, this).ok()) {
      watched_ = true;
      interest_ = want;
    }
    return;
  }
  if (want != interest_) {
    gw_->loop().SetInterest(fd_, want);
    interest_ = want;
  }
}

void TcpSession::ArmIdleTimer(Duration delay) {
  idle_timer_ = gw_->loop().AddTimer(delay, [this] {
    idle_timer_ = 0;
    OnIdleTimer();
  });
}

void TcpSession::OnIdleTimer() {
  if (state_ != State::kSplicing) {
    return;
  }
  Duration idle = gw_->loop().clock().Now() - last_activity_;
  Duration limit = gw_->options().idle_timeout;
  if (idle < limit) {
    ArmIdleTimer(limit - idle);
    return;
  }
  Finish("idle_timeout", true, true);
}

void TcpSession::Abort(const char* reason) {
  if (state_ == State::kConnecting) {
    gw_->netstack().ResolveSyn(syn_id_, stack::SynOutcome::kRefuse);
  }
  Finish(reason, true, true);
}

void TcpSession::Finish(const char* reason, bool reset_upstream, bool abort_guest) {
  if (state_ == State::kDone) {
    return;
  }
  state_ = State::kDone;
  if (fd_ >= 0) {
    if (watched_) {
      gw_->loop().Unwatch(fd_);
      watched_ = false;
    }
    if (reset_upstream) {
      CloseWithReset(fd_);
    } else {
      close(fd_);
    }
    fd_ = -1;
  }
  if (guest_ != nullptr && abort_guest) {
    guest_->Abort();
  }
  // Every allowed flow ends with exactly one flow.close, connected or not.
  gw_->audit().Emit(FlowCloseRecord(Flow(), reason, bytes_up_, bytes_down_,
                                    ToMillis(gw_->loop().clock().Now() - started_)));
  gw_->ReleaseSession(flow_id_);
}

}  // namespace msb::gateway
