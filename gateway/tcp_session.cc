// TcpSession: connect, accept, sniff and decide (intercepted ports), relay, audit (see
// tcp_session.h).
#include "gateway/tcp_session.h"

#include <cstring>

#include "gateway/connect_relay.h"
#include "gateway/core/prefixed_stream.h"
#include "gateway/core/splice_relay.h"
#include "gateway/intercept_relay.h"
#include "gateway/tls/intercept_context.h"

namespace msb::gateway {
namespace {

// TLS alert descriptions (RFC 8446 6).
constexpr uint8_t kAlertHandshakeFailure = 40;

}  // namespace

const char* TcpSession::StateName(State s) {
  switch (s) {
    case State::kConnecting:
      return "connecting";
    case State::kAccepting:
      return "accepting";
    case State::kSniffing:
      return "sniffing";
    case State::kConnectingUpstream:
      return "connecting_upstream";
    case State::kRelaying:
      return "relaying";
    case State::kDone:
      return "done";
  }
  return "?";
}

TcpSession::TcpSession(const SessionContext& ctx, uint64_t flow_id, uint64_t syn_id,
                       const stack::FlowTuple& tuple, const SocketAddress& upstream, bool intercept,
                       std::optional<SocketAddress> fallback)
    : ctx_(ctx),
      flow_id_(flow_id),
      syn_id_(syn_id),
      tuple_(tuple),
      upstream_addr_(upstream),
      intercept_(intercept && ctx.intercept != nullptr),
      fallback_(fallback),
      idle_(ctx.loop) {
  started_ = ctx_.clock().Now();
}

TcpSession::~TcpSession() {
  idle_.Stop();
  if (hello_timer_ != 0) {
    ctx_.loop->CancelTimer(hello_timer_);
  }
  relay_.reset();
  replayed_.reset();
  if (upstream_ != nullptr && state_ != State::kDone) {
    upstream_->Abort();  // destroyed while open (gateway teardown): never a clean-looking end
  }
  if (guest_ != nullptr) {
    guest_->SetHandler(nullptr);
  }
}

AuditFlow TcpSession::Flow() const {
  return {flow_id_, "tcp", tuple_.guest, tuple_.dest};
}

void TcpSession::Start() {
  if (intercept_) {
    // The SNI decides whether and where to connect, and it comes only after the handshake.
    state_ = State::kAccepting;
    if (!ctx_.syns->ResolveSyn(syn_id_, stack::SynOutcome::kAccept)) {
      Finish(CloseReason::kGuestHandshakeFailed);
    }
    return;
  }
  attempt_ = ctx_.connector->Connect(upstream_addr_, ctx_.options->connect_timeout,
                                     [this](ConnectOutcome&& o) { OnConnected(std::move(o)); });
}

void TcpSession::OnConnected(ConnectOutcome&& outcome) {
  if (state_ != State::kConnecting && state_ != State::kConnectingUpstream) {
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
    bool refused = outcome.failure == ConnectFailure::kRefused;
    if (fallback_ && (refused || outcome.failure == ConnectFailure::kUnreachable)) {
      // The host alias: a service on the host may listen on one family's loopback only.
      upstream_addr_ = *fallback_;
      fallback_.reset();
      first_attempt_ = std::move(attempt_);  // we are inside its callback: destroyed later
      attempt_ = ctx_.connector->Connect(upstream_addr_, ctx_.options->connect_timeout,
                                         [this](ConnectOutcome&& o) { OnConnected(std::move(o)); });
      return;
    }
    CloseReason reason = refused ? CloseReason::kUpstreamRefused
                         : outcome.failure == ConnectFailure::kTimeout
                             ? CloseReason::kConnectTimeout
                             : CloseReason::kUpstreamUnreachable;
    if (state_ == State::kConnectingUpstream) {
      // The guest's TCP connection is up and waits for a ServerHello: tell its TLS stack.
      RefuseHello(reason, kAlertHandshakeFailure);
      return;
    }
    // A refusal is mirrored as RST; anything else as ICMP host-unreachable, so the guest learns
    // the truth at once instead of waiting out its own SYN retries.
    ctx_.syns->ResolveSyn(syn_id_,
                          refused ? stack::SynOutcome::kRefuse : stack::SynOutcome::kUnreachable);
    Finish(reason);
    return;
  }
  rec.json().Str("result", "ok").Str("upstream", upstream_addr_.ToString()).Int("ms", ms);
  ctx_.audit->Emit(std::move(rec));
  upstream_ = std::move(outcome.stream);
  if (state_ == State::kConnectingUpstream) {
    StartRelay();
    return;
  }
  state_ = State::kAccepting;
  if (!ctx_.syns->ResolveSyn(syn_id_, stack::SynOutcome::kAccept)) {
    Finish(CloseReason::kGuestHandshakeFailed);
  }
}

void TcpSession::OnAccepted(std::unique_ptr<ByteStream> guest) {
  guest_ = std::move(guest);
  if (!intercept_) {
    StartRelay();
    return;
  }
  state_ = State::kSniffing;
  gate_ = std::make_unique<HelloGate>(ctx_, Flow(), tuple_.dest.ip, tuple_.dest.port);
  guest_->SetHandler(this);
  hello_timer_ = ctx_.loop->AddTimer(ctx_.intercept->options().hello_timeout, [this] {
    hello_timer_ = 0;
    if (state_ == State::kSniffing) {
      OnHelloVerdict(gate_->Timeout());
    }
  });
  ReadHello();
}

void TcpSession::StartRelay() {
  state_ = State::kRelaying;
  if (!intercept_ && ctx_.intercept != nullptr) {
    // Interception is on but this port is not intercepted: a guest-configured HTTP proxy's
    // CONNECT tunnels are looked into (connect_relay.h); anything else is spliced.
    relay_ = std::make_unique<ConnectRelay>(ctx_, Flow(), guest_.get(), upstream_.get(),
                                            tuple_.dest, static_cast<RelayObserver*>(this));
  } else if (!intercept_) {
    relay_ = std::make_unique<SpliceRelay>(guest_.get(), upstream_.get(), ctx_.clock(),
                                           static_cast<RelayObserver*>(this));
  } else {
    guest_->SetHandler(nullptr);
    replayed_ = std::make_unique<PrefixedStream>(guest_.get(), gate_->TakeBytes());
    if (verdict_.kind == HelloVerdict::Kind::kBypass) {
      relay_ = std::make_unique<SpliceRelay>(replayed_.get(), upstream_.get(), ctx_.clock(),
                                             static_cast<RelayObserver*>(this));
    } else {
      InterceptTarget target{verdict_.name, verdict_.had_sni, verdict_.alpn, tuple_.dest.port};
      relay_ = std::make_unique<InterceptRelay>(ctx_, ctx_.intercept, Flow(), replayed_.get(),
                                                upstream_.get(), std::move(target),
                                                static_cast<RelayObserver*>(this));
    }
  }
  idle_.Start(relay_.get(), ctx_.options->idle_timeout,
              [this] { Finish(CloseReason::kIdleTimeout); });
  relay_->Start();  // bytes may already be waiting on either end
}

void TcpSession::OnStreamReadable() {
  if (state_ == State::kSniffing) {
    ReadHello();
  }
}

void TcpSession::OnStreamGone(bool reset) {
  if (state_ == State::kSniffing || state_ == State::kConnectingUpstream) {
    Finish(reset ? CloseReason::kGuestReset : CloseReason::kClosed);
  }
}

void TcpSession::ReadHello() {
  HelloVerdict v = gate_->Read(guest_.get());
  if (v.kind != HelloVerdict::Kind::kNeedMore) {
    OnHelloVerdict(std::move(v));
  }
}

void TcpSession::OnHelloVerdict(HelloVerdict&& v) {
  if (hello_timer_ != 0) {
    ctx_.loop->CancelTimer(hello_timer_);
    hello_timer_ = 0;
  }
  if (v.kind == HelloVerdict::Kind::kRefuse) {
    RefuseHello(v.reason, v.alert);
    return;
  }
  verdict_ = std::move(v);
  state_ = State::kConnectingUpstream;
  attempt_ = ctx_.connector->Connect(upstream_addr_, ctx_.options->connect_timeout,
                                     [this](ConnectOutcome&& o) { OnConnected(std::move(o)); });
}

void TcpSession::RefuseHello(CloseReason reason, uint8_t alert) {
  // Whatever else the guest sent is discarded (nothing unread: the close is a FIN, which does
  // not destroy the alert queued before it).
  while (guest_->ReadableBytes() > 0) {
    guest_->Consume(guest_->Peek().size());
  }
  if (alert != 0) {
    auto record = tls::AlertRecord(alert);
    guest_->Write(record);
  }
  guest_->ShutdownWrite();
  guest_->Flush();
  Finish(reason);
}

void TcpSession::OnAcceptFailed() {
  Finish(CloseReason::kGuestHandshakeFailed);
}

void TcpSession::OnRelayDone(CloseReason reason) {
  Finish(reason);
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
  idle_.Stop();
  if (hello_timer_ != 0) {
    ctx_.loop->CancelTimer(hello_timer_);
    hello_timer_ = 0;
  }
  const CloseAction& action = CloseActionFor(reason);
  if (upstream_ != nullptr && action.reset_upstream) {
    upstream_->Abort();
  }
  if (guest_ != nullptr) {
    guest_->SetHandler(nullptr);
    if (action.reset_guest) {
      guest_->Abort();
    }
  }
  uint64_t up = relay_ != nullptr ? relay_->bytes_up() : 0;
  uint64_t down = relay_ != nullptr ? relay_->bytes_down() : 0;
  // Every allowed flow ends with exactly one flow.close, connected or not.
  ctx_.audit->Emit(
      FlowCloseRecord(Flow(), action.name, up, down, ToMillis(ctx_.clock().Now() - started_)));
  ctx_.owner->ReleaseSession(flow_id_);
}

}  // namespace msb::gateway
