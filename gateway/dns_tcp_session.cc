// DnsTcpSession: DNS over TCP from the guest (see dns_tcp_session.h).
#include "gateway/dns_tcp_session.h"

#include <algorithm>

#include "gateway/dns_forwarder.h"
#include "gateway/gateway.h"

namespace msb::gateway {

DnsTcpSession::DnsTcpSession(Gateway* gateway, uint64_t flow_id, uint64_t syn_id,
                             const stack::FlowTuple& tuple)
    : gw_(gateway), flow_id_(flow_id), syn_id_(syn_id), tuple_(tuple) {
  started_ = gw_->loop().clock().Now();
  last_activity_ = started_;
}

DnsTcpSession::~DnsTcpSession() {
  *alive_ = false;
  if (idle_timer_ != 0) {
    gw_->loop().CancelTimer(idle_timer_);
  }
  if (guest_ != nullptr) {
    guest_->SetHandler(nullptr);
  }
}

void DnsTcpSession::Start() {
  // Nothing to connect to: the gateway itself answers, so the handshake completes at once.
  if (!gw_->netstack().ResolveSyn(syn_id_, stack::SynOutcome::kAccept)) {
    Finish("guest_handshake_failed", false);
  }
}

void DnsTcpSession::OnAccepted(std::unique_ptr<stack::GuestTcp> conn) {
  guest_ = std::move(conn);
  guest_->SetHandler(this);
  ArmIdle();
  ReadQueries();
}

void DnsTcpSession::OnAcceptFailed() {
  Finish("guest_handshake_failed", false);
}

void DnsTcpSession::Abort(const char* reason) {
  if (guest_ == nullptr && !done_) {
    gw_->netstack().ResolveSyn(syn_id_, stack::SynOutcome::kRefuse);
  }
  Finish(reason, true);
}

void DnsTcpSession::OnGuestReadable() {
  ReadQueries();
}

void DnsTcpSession::OnGuestWritable() {
  Flush();
}

void DnsTcpSession::OnGuestGone(bool reset) {
  Finish(reset ? "guest_reset" : "closed", false);
}

void DnsTcpSession::ReadQueries() {
  while (!done_ && pending_ < kMaxPending && guest_->ReadableBytes() > 0) {
    // Take what completes the length prefix or the message, never more: unread bytes stay in
    // lwIP's queue and keep the guest's window honest.
    size_t need = in_.size() < 2 ? 2 - in_.size() : 2 + ((in_[0] << 8) | in_[1]) - in_.size();
    std::span<const uint8_t> chunk = guest_->Peek();
    size_t take = std::min(need, chunk.size());
    in_.insert(in_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
    guest_->Consume(take);
    bytes_up_ += take;
    last_activity_ = gw_->loop().clock().Now();
    if (in_.size() < 2) {
      continue;
    }
    size_t length = static_cast<size_t>((in_[0] << 8) | in_[1]);
    if (length == 0) {
      Finish("protocol_error", true);  // an empty DNS message is not a query
      return;
    }
    if (in_.size() < 2 + length) {
      continue;
    }
    DnsRequest req;
    req.flow_id = gw_->NextFlowId();
    req.tcp_flow_id = flow_id_;
    req.transport = policy::DnsTransport::kTcp;
    req.guest = tuple_.guest;
    req.dest = tuple_.dest;
    req.message.assign(in_.begin() + 2, in_.end());
    in_.clear();
    ++pending_;
    ++queries_;
    std::weak_ptr<bool> alive = alive_;
    gw_->dns().Handle(std::move(req), [this, alive](std::vector<uint8_t>&& answer) {
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
      last_activity_ = gw_->loop().clock().Now();
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
    Finish("closed", false);
  }
}

void DnsTcpSession::ArmIdle() {
  idle_timer_ = gw_->loop().AddTimer(kIdleTimeout, [this] {
    idle_timer_ = 0;
    if (done_) {
      return;
    }
    Duration idle = gw_->loop().clock().Now() - last_activity_;
    if (pending_ > 0 || idle < kIdleTimeout) {
      ArmIdle();
      return;
    }
    // An idle DNS connection ends in order (RFC 7766 6.2.3: the server may close it).
    guest_->ShutdownWrite();
    guest_->Flush();
    Finish("idle_timeout", false);
  });
}

void DnsTcpSession::Finish(const char* reason, bool abort_guest) {
  if (done_) {
    return;
  }
  done_ = true;
  if (guest_ != nullptr && abort_guest) {
    guest_->Abort();
  }
  AuditRecord rec = FlowCloseRecord({flow_id_, "tcp", tuple_.guest, tuple_.dest}, reason, bytes_up_,
                                    bytes_down_, ToMillis(gw_->loop().clock().Now() - started_));
  rec.json().Uint("dns_queries", queries_);
  gw_->audit().Emit(std::move(rec));
  gw_->ReleaseSession(flow_id_);
}

}  // namespace msb::gateway
