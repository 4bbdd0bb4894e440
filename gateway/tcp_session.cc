// TcpSession: connect, accept, relay, audit (see tcp_session.h).
#include "gateway/tcp_session.h"

#include <cstring>

#include "gateway/core/splice_relay.h"

namespace msb::gateway {

const char* TcpSession::StateName(State s) {
  switch (s) {
    case State::kConnecting:
      return "connecting";
    case State::kAccepting:
      return "accepting";
    case State::kRelaying:
      return "relaying";
    case State::kDone:
      return "done";
  }
  return "?";
}

TcpSession::TcpSession(const SessionContext& ctx, uint64_t flow_id, uint64_t syn_id,
                       const stack::FlowTuple& tuple, const SocketAddress& upstream)
    : ctx_(ctx), flow_id_(flow_id), syn_id_(syn_id), tuple_(tuple), upstream_addr_(upstream) {
  started_ = ctx_.clock().Now();
}

TcpSession::~TcpSession() {
  if (idle_timer_ != 0) {
    ctx_.loop->CancelTimer(idle_timer_);
  }
  relay_.reset();
  if (upstream_ != nullptr && state_ != State::kDone) {
    upstream_->Abort();  // destroyed while open (gateway teardown): never a clean-looking end
  }
}

AuditFlow TcpSession::Flow() const {
  return {flow_id_, "tcp", tuple_.guest, tuple_.dest};
}

void TcpSession::Start() {
  attempt_ = ctx_.connector->Connect(upstream_addr_, ctx_.options->connect_timeout,
                                     [this](ConnectOutcome&& o) { OnConnected(std::move(o)); });
}

void TcpSession::OnConnected(ConnectOutcome&& outcome) {
  if (state_ != State::kConnecting) {
    return;
  }
  int64_t ms = ToMillis(ctx_.clock().Now() - started_);
  AuditRecord rec("flow.connect");
  rec.Flow(Flow());
  if (outcome.stream == nullptr) {
    ++ctx_.stats->upstream_connect_failures;
    rec.json()
        .Str("result", ConnectFailureName(outcome.failure))
        .Str("upstream", upstream_addr_.ToString());
    if (outcome.failure != ConnectFailure::kTimeout) {
      rec.json().Str("error", strerror(outcome.error));
    }
    rec.json().Int("ms", ms);
    ctx_.audit->Emit(std::move(rec));
    // A refusal is mirrored as RST; anything else as ICMP host-unreachable, so the guest learns
    // the truth at once instead of waiting out its own SYN retries.
    bool refused = outcome.failure == ConnectFailure::kRefused;
    ctx_.syns->ResolveSyn(syn_id_,
                          refused ? stack::SynOutcome::kRefuse : stack::SynOutcome::kUnreachable);
    Finish(refused                                         ? CloseReason::kUpstreamRefused
           : outcome.failure == ConnectFailure::kTimeout ? CloseReason::kConnectTimeout
                                                         : CloseReason::kUpstreamUnreachable);
    return;
  }
  rec.json().Str("result", "ok").Str("upstream", upstream_addr_.ToString()).Int("ms", ms);
  ctx_.audit->Emit(std::move(rec));
  upstream_ = std::move(outcome.stream);
  state_ = State::kAccepting;
  if (!ctx_.syns->ResolveSyn(syn_id_, stack::SynOutcome::kAccept)) {
    Finish(CloseReason::kGuestHandshakeFailed);
  }
}

void TcpSession::OnAccepted(std::unique_ptr<ByteStream> guest) {
  guest_ = std::move(guest);
  state_ = State::kRelaying;
  relay_ = std::make_unique<SpliceRelay>(guest_.get(), upstream_.get(), ctx_.clock(),
                                         static_cast<RelayObserver*>(this));
  if (ctx_.options->idle_timeout > Duration::zero()) {
    ArmIdleTimer(ctx_.options->idle_timeout);
  }
  relay_->Start();  // the handshake's last ACK may have carried data
}

void TcpSession::OnAcceptFailed() {
  Finish(CloseReason::kGuestHandshakeFailed);
}

void TcpSession::OnRelayDone(CloseReason reason) {
  Finish(reason);
}

void TcpSession::ArmIdleTimer(Duration delay) {
  idle_timer_ = ctx_.loop->AddTimer(delay, [this] {
    idle_timer_ = 0;
    OnIdleTimer();
  });
}

void TcpSession::OnIdleTimer() {
  if (state_ != State::kRelaying) {
    return;
  }
  Duration idle = ctx_.clock().Now() - relay_->last_activity();
  Duration limit = ctx_.options->idle_timeout;
  if (idle < limit) {
    ArmIdleTimer(limit - idle);
    return;
  }
  Finish(CloseReason::kIdleTimeout);
}

void TcpSession::Abort(CloseReason reason) {
  if (state_ == State::kConnecting) {
    ctx_.syns->ResolveSyn(syn_id_, stack::SynOutcome::kRefuse);
  }
  Finish(reason);
}

void TcpSession::Finish(CloseReason reason) {
  if (state_ == State::kDone) {
    return;
  }
  state_ = State::kDone;
  attempt_.reset();
  if (idle_timer_ != 0) {
    ctx_.loop->CancelTimer(idle_timer_);
    idle_timer_ = 0;
  }
  const CloseAction& action = CloseActionFor(reason);
  if (upstream_ != nullptr && action.reset_upstream) {
    upstream_->Abort();
  }
  if (guest_ != nullptr && action.reset_guest) {
    guest_->Abort();
  }
  uint64_t up = relay_ != nullptr ? relay_->bytes_up() : 0;
  uint64_t down = relay_ != nullptr ? relay_->bytes_down() : 0;
  // Every allowed flow ends with exactly one flow.close, connected or not.
  ctx_.audit->Emit(
      FlowCloseRecord(Flow(), action.name, up, down, ToMillis(ctx_.clock().Now() - started_)));
  ctx_.owner->ReleaseSession(flow_id_);
}

}  // namespace msb::gateway
