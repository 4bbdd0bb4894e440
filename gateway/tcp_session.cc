// TcpSession: connect, accept, sniff and decide (intercepted ports), relay, audit (see
// tcp_session.h).
#include "gateway/tcp_session.h"

#include <cstring>

#include "gateway/core/prefixed_stream.h"
#include "gateway/core/splice_relay.h"
#include "gateway/intercept_relay.h"
#include "gateway/tls/intercept_context.h"

namespace msb::gateway {
namespace {

// TLS alert descriptions (RFC 8446 6).
constexpr uint8_t kAlertHandshakeFailure = 40;
constexpr uint8_t kAlertAccessDenied = 49;
constexpr uint8_t kAlertDecodeError = 50;
constexpr uint8_t kAlertProtocolVersion = 70;
constexpr uint8_t kAlertUnrecognizedName = 112;
constexpr uint8_t kAlertNoApplicationProtocol = 120;

// Printable renders an ALPN name the guest chose for the audit log (printable ASCII, else hex).
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[(static_cast<uint8_t>(c) >> 4) & 0xf]);
      out.push_back(kHex[static_cast<uint8_t>(c) & 0xf]);
    }
  }
  return out;
}

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
                       const stack::FlowTuple& tuple, const SocketAddress& upstream,
                       bool intercept)
    : ctx_(ctx),
      flow_id_(flow_id),
      syn_id_(syn_id),
      tuple_(tuple),
      upstream_addr_(upstream),
      intercept_(intercept && ctx.intercept != nullptr) {
  started_ = ctx_.clock().Now();
}

TcpSession::~TcpSession() {
  for (TimerId t : {idle_timer_, hello_timer_}) {
    if (t != 0) {
      ctx_.loop->CancelTimer(t);
    }
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
    CloseReason reason = refused ? CloseReason::kUpstreamRefused
                         : outcome.failure == ConnectFailure::kTimeout
                             ? CloseReason::kConnectTimeout
                             : CloseReason::kUpstreamUnreachable;
    if (state_ == State::kConnectingUpstream) {
      // The guest's TCP connection is up and waits for a ServerHello: tell its TLS stack.
      RefuseHello(reason, kAlertHandshakeFailure, "");
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
  guest_->SetHandler(this);
  hello_timer_ = ctx_.loop->AddTimer(ctx_.intercept->options().hello_timeout, [this] {
    hello_timer_ = 0;
    if (state_ == State::kSniffing) {
      EmitHello(nullptr, "deny", "client_hello_timeout", "", nullptr);
      RefuseHello(CloseReason::kHelloTimeout, 0, "");
    }
  });
  ReadHello();
}

void TcpSession::StartRelay() {
  state_ = State::kRelaying;
  if (!intercept_) {
    relay_ = std::make_unique<SpliceRelay>(guest_.get(), upstream_.get(), ctx_.clock(),
                                           static_cast<RelayObserver*>(this));
  } else {
    guest_->SetHandler(nullptr);
    replayed_ = std::make_unique<PrefixedStream>(guest_.get(), std::move(hello_));
    if (bypass_) {
      relay_ = std::make_unique<SpliceRelay>(replayed_.get(), upstream_.get(), ctx_.clock(),
                                             static_cast<RelayObserver*>(this));
    } else {
      InterceptTarget target{name_, had_sni_, alpn_, tuple_.dest.port};
      relay_ = std::make_unique<InterceptRelay>(ctx_, ctx_.intercept, Flow(), replayed_.get(),
                                                upstream_.get(), std::move(target),
                                                static_cast<RelayObserver*>(this));
    }
  }
  if (ctx_.options->idle_timeout > Duration::zero()) {
    ArmIdleTimer(ctx_.options->idle_timeout);
  }
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
  // Everything read is kept: it is replayed to the TLS server or the bypass splice. The sniffer
  // stops at its cap, so this holds at most that much.
  constexpr size_t kCap = tls::kDefaultMaxHelloBytes + 5;
  while (guest_->ReadableBytes() > 0 && hello_.size() < kCap) {
    std::span<const uint8_t> chunk = guest_->Peek();
    size_t take = std::min(chunk.size(), kCap - hello_.size());
    hello_.insert(hello_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
    guest_->Consume(take);
  }
  tls::SniffResult r = sniffer_.Sniff(hello_);
  if (r.status == tls::SniffStatus::kNeedMore) {
    if (guest_->ReadEof()) {
      EmitHello(nullptr, "deny", hello_.empty() ? "closed_before_hello" : "not_tls",
                "the guest closed before a whole ClientHello", nullptr);
      RefuseHello(hello_.empty() ? CloseReason::kClosed : CloseReason::kNotTls, 0, "");
    }
    return;
  }
  if (hello_timer_ != 0) {
    ctx_.loop->CancelTimer(hello_timer_);
    hello_timer_ = 0;
  }
  if (r.status == tls::SniffStatus::kError) {
    bool not_tls = r.error == tls::SniffError::kNotTls || r.error == tls::SniffError::kNotHandshake;
    EmitHello(nullptr, "deny", not_tls ? "not_tls" : "bad_client_hello",
              tls::SniffErrorName(r.error), nullptr);
    RefuseHello(not_tls ? CloseReason::kNotTls : CloseReason::kBadClientHello,
                not_tls                                            ? 0
                : r.error == tls::SniffError::kUnsupportedVersion ? kAlertProtocolVersion
                                                                   : kAlertDecodeError,
                "");
    return;
  }
  Decide(r.info);
}

void TcpSession::Decide(const tls::ClientHelloInfo& hello) {
  had_sni_ = hello.sni.has_value();
  if (had_sni_) {
    auto parsed = certs::ParseServerName(*hello.sni);
    if (!parsed.ok()) {
      EmitHello(&hello, "deny", "invalid_sni", parsed.error(), nullptr);
      RefuseHello(CloseReason::kInvalidSni, kAlertUnrecognizedName, "");
      return;
    }
    name_ = std::move(parsed).value();
  } else {
    name_ = certs::ServerNameFromIp(tuple_.dest.ip);  // no SNI (an IP literal): policy by IP
  }
  // Deny name rules match the SNI alone; allow name rules need the SNI and a pin tying this IP
  // to a matching name, so a guest cannot claim an allowed name for another server.
  policy::FlowQuery q;
  q.direction = policy::Direction::kEgress;
  q.protocol = policy::Protocol::kTcp;
  q.ip = tuple_.dest.ip;
  q.port = tuple_.dest.port;
  if (had_sni_) {
    q.sni = name_.text;
  }
  policy::Decision d = ctx_.policy->Evaluate(q, ctx_.pins);
  if (d.action == policy::Action::kDeny) {
    EmitHello(&hello, "deny", "policy", "", &d);
    RefuseHello(CloseReason::kDenied, kAlertAccessDenied, "");
    return;
  }
  bypass_ = ctx_.intercept->Bypassed(name_);
  if (!bypass_) {
    alpn_ = tls::FilterAlpn(hello.alpn);
    if (!hello.alpn.empty() && alpn_.empty()) {
      EmitHello(&hello, "deny", "no_inspectable_alpn", "", &d);
      RefuseHello(CloseReason::kBadClientHello, kAlertNoApplicationProtocol, "");
      return;
    }
  }
  EmitHello(&hello, bypass_ ? "bypass" : "intercept", had_sni_ ? "" : "no_sni", "", &d);
  state_ = State::kConnectingUpstream;
  attempt_ = ctx_.connector->Connect(upstream_addr_, ctx_.options->connect_timeout,
                                     [this](ConnectOutcome&& o) { OnConnected(std::move(o)); });
}

void TcpSession::RefuseHello(CloseReason reason, uint8_t alert, std::string_view /*detail*/) {
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

void TcpSession::EmitHello(const tls::ClientHelloInfo* hello, std::string_view action,
                           std::string_view reason, std::string_view detail,
                           const policy::Decision* decision) {
  AuditRecord rec("tls.hello");
  rec.Flow(Flow());
  JsonWriter& j = rec.json();
  if (hello != nullptr && had_sni_ && reason != "invalid_sni") {
    j.Str("sni", name_.text);
  } else {
    j.Null("sni");
  }
  if (hello != nullptr) {
    std::vector<std::string> alpn;
    for (const std::string& p : hello->alpn) {
      alpn.push_back(Printable(p));
    }
    j.Raw("alpn", JsonStringArray(alpn));
    j.Bool("tls13", hello->offers_tls13);
  }
  j.Str("action", action);
  if (!reason.empty()) {
    j.Str("reason", reason);
  }
  if (!detail.empty()) {
    j.Str("detail", detail);
  }
  if (decision != nullptr) {
    AddRuleFields(j, ctx_.policy->policy(), *decision, "default egress");
  }
  ctx_.audit->Emit(std::move(rec));
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
  for (TimerId* t : {&idle_timer_, &hello_timer_}) {
    if (*t != 0) {
      ctx_.loop->CancelTimer(*t);
      *t = 0;
    }
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
