// DnsTcpSession: DNS over TCP from the guest (see dns_tcp_session.h).
#include "gateway/dns/tcp_session.h"

#include <algorithm>

#include "gateway/core/audit_log.h"
#include "gateway/dns/forwarder.h"
#include "gateway/tls/intercept_context.h"

namespace msb::gateway {

DnsTcpSession::DnsTcpSession(const SessionContext& ctx, uint64_t flow_id, uint64_t syn_id,
                             const stack::FlowTuple& tuple, bool over_tls)
    : ctx_(ctx),
      flow_id_(flow_id),
      syn_id_(syn_id),
      tuple_(tuple),
      over_tls_(over_tls && ctx.intercept != nullptr) {
  started_ = ctx_.clock().Now();
  last_activity_ = started_;
}

DnsTcpSession::~DnsTcpSession() {
  *alive_ = false;
  for (TimerId t : {idle_timer_, handshake_timer_}) {
    if (t != 0) {
      ctx_.loop->CancelTimer(t);
    }
  }
  if (guest_ != nullptr) {
    guest_->SetHandler(nullptr);
  }
  tls_.reset();  // before the stream under it
}

void DnsTcpSession::Start() {
  // Nothing to connect to: the gateway itself answers, so the handshake completes at once.
  if (!ctx_.syns->ResolveSyn(syn_id_, stack::SynOutcome::kAccept)) {
    Finish(CloseReason::kGuestHandshakeFailed);
  }
}

void DnsTcpSession::OnAccepted(std::unique_ptr<ByteStream> guest) {
  raw_ = std::move(guest);
  if (!over_tls_) {
    guest_ = raw_.get();
    Serve();
    return;
  }
  auto ssl = ctx_.intercept->NewDotSsl(tuple_.dest.ip);
  if (!ssl.ok()) {
    Finish(CloseReason::kGuestTlsFailed);
    return;
  }
  tls_ = std::make_unique<tls::TlsStream>(raw_.get(), std::move(ssl).value(),
                                          static_cast<tls::TlsObserver*>(this));
  handshake_timer_ = ctx_.loop->AddTimer(ctx_.intercept->options().handshake_timeout, [this] {
    handshake_timer_ = 0;
    if (guest_ == nullptr) {
      Finish(CloseReason::kGuestTlsFailed);
    }
  });
  tls_->StartHandshake();
}

void DnsTcpSession::OnTlsHandshakeDone() {
  if (handshake_timer_ != 0) {
    ctx_.loop->CancelTimer(handshake_timer_);
    handshake_timer_ = 0;
  }
  guest_ = tls_.get();
  Serve();
}

void DnsTcpSession::OnTlsFailed(const tls::TlsFailure& /*failure*/) {
  Finish(CloseReason::kGuestTlsFailed);
}

void DnsTcpSession::Serve() {
  guest_->SetHandler(this);
  ArmIdle();
  ReadQueries();
}

void DnsTcpSession::OnAcceptFailed() {
  Finish(CloseReason::kGuestHandshakeFailed);
}

void DnsTcpSession::Abort(CloseReason reason) {
  if (raw_ == nullptr && !done_) {
    ctx_.syns->ResolveSyn(syn_id_, stack::SynOutcome::kRefuse);
  }
  Finish(reason);
}

void DnsTcpSession::OnStreamReadable() {
  ReadQueries();
}

void DnsTcpSession::OnStreamWritable() {
  Flush();
}

void DnsTcpSession::OnStreamGone(bool reset) {
  Finish(reset ? CloseReason::kGuestReset : CloseReason::kClosed);
}

void DnsTcpSession::ReadQueries() {
  while (!done_ && guest_ != nullptr && pending_ < kMaxPending && guest_->ReadableBytes() > 0) {
    // Take what completes the length prefix or the message, never more: unread bytes stay in
    // lwIP's queue and keep the guest's window honest.
    size_t need = in_.size() < 2 ? 2 - in_.size() : 2 + ((in_[0] << 8) | in_[1]) - in_.size();
    std::span<const uint8_t> chunk = guest_->Peek();
    size_t take = std::min(need, chunk.size());
    in_.insert(in_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
    guest_->Consume(take);
    bytes_up_ += take;
    last_activity_ = ctx_.clock().Now();
    if (in_.size() < 2) {
      continue;
    }
    size_t length = static_cast<size_t>((in_[0] << 8) | in_[1]);
    if (length == 0) {
      Finish(CloseReason::kProtocolError);  // an empty DNS message is not a query
      return;
    }
    if (in_.size() < 2 + length) {
      continue;
    }
    DnsRequest req;
    req.flow_id = ctx_.owner->NextFlowId();
    req.tcp_flow_id = flow_id_;
    // The gateway terminated the TLS: the query inside is DNS over TCP to the gateway, judged as
    // such (allow@dns covers it); over_tls only marks it in the audit log.
    req.transport = policy::DnsTransport::kTcp;
    req.over_tls = over_tls_;
    req.guest = tuple_.guest;
    req.dest = tuple_.dest;
    req.message.assign(in_.begin() + 2, in_.end());
    in_.clear();
    ++pending_;
    ++queries_;
    std::weak_ptr<bool> alive = alive_;
    ctx_.dns->Handle(std::move(req), [this, alive](std::vector<uint8_t>&& answer) {
      if (!alive.expired() && *alive.lock()) {
        OnAnswer(std::move(answer));
      }
    });
  }
  MaybeClose();
}

void DnsTcpSession::OnAnswer(std::vector<uint8_t>&& answer) {
  --pending_;
  if (done_) {
    return;
  }
  if (!answer.empty()) {
    out_.push_back(static_cast<uint8_t>(answer.size() >> 8));
    out_.push_back(static_cast<uint8_t>(answer.size()));
    out_.insert(out_.end(), answer.begin(), answer.end());
  }
  Flush();
  if (!done_ && guest_ != nullptr) {
    ReadQueries();  // a slot opened
  }
}

void DnsTcpSession::Flush() {
  if (done_ || guest_ == nullptr) {
    return;
  }
  if (out_off_ < out_.size()) {
    size_t n = guest_->Write({out_.data() + out_off_, out_.size() - out_off_});
    out_off_ += n;
    bytes_down_ += n;
    if (n > 0) {
      last_activity_ = ctx_.clock().Now();
      guest_->Flush();
    }
    if (out_off_ == out_.size()) {
      out_.clear();
      out_off_ = 0;
    }
  }
  MaybeClose();
}

void DnsTcpSession::MaybeClose() {
  if (!done_ && guest_ != nullptr && guest_->ReadEof() && pending_ == 0 && out_.empty()) {
    guest_->ShutdownWrite();
    guest_->Flush();
    Finish(CloseReason::kClosed);
  }
}

void DnsTcpSession::ArmIdle() {
  idle_timer_ = ctx_.loop->AddTimer(kIdleTimeout, [this] {
    idle_timer_ = 0;
    if (done_) {
      return;
    }
    Duration idle = ctx_.clock().Now() - last_activity_;
    if (pending_ > 0 || idle < kIdleTimeout) {
      ArmIdle();
      return;
    }
    // An idle DNS connection ends in order (RFC 7766 6.2.3: the server may close it).
    guest_->ShutdownWrite();
    guest_->Flush();
    Finish(CloseReason::kIdleClosed);
  });
}

void DnsTcpSession::Finish(CloseReason reason) {
  if (done_) {
    return;
  }
  done_ = true;
  if (guest_ != nullptr) {
    guest_->SetHandler(nullptr);
    if (CloseActionFor(reason).reset_guest) {
      guest_->Abort();
    }
  }
  AuditRecord rec =
      FlowCloseRecord({flow_id_, "tcp", tuple_.guest, tuple_.dest}, CloseReasonName(reason),
                      bytes_up_, bytes_down_, ToMillis(ctx_.clock().Now() - started_));
  rec.json().Uint("dns_queries", queries_);
  ctx_.audit->Emit(std::move(rec));
  ctx_.owner->ReleaseSession(flow_id_);
}

}  // namespace msb::gateway
