// H2Relay: the H2Proxy between two plaintext streams (see h2_relay.h).
#include "gateway/http/h2_relay.h"

#include <algorithm>

namespace msb::gateway::http {
namespace {

// The proxy serialises eagerly; this bounds what is taken from it per round and leg.
constexpr size_t kTakeChunk = 64 * 1024;

std::string_view EndOf(const H2StreamSummary& s) {
  if (s.end == "complete") {
    return "complete";
  }
  if (s.end == "refused") {
    return "refused";
  }
  if (s.end.starts_with("reset") || s.end == "protocol_error" || s.end == "upstream_error") {
    return "reset";
  }
  return "closed";
}

}  // namespace

Result<std::unique_ptr<H2Relay>> H2Relay::Create(ByteStream* guest, ByteStream* upstream,
                                                 const Clock& clock, RelayObserver* observer,
                                                 ExchangeObserver* exchanges,
                                                 ExpectedAuthority expected, SecretGuard* secrets) {
  std::unique_ptr<H2Relay> r(
      new H2Relay(guest, upstream, clock, observer, exchanges, std::move(expected)));
  auto proxy = H2Proxy::Create(r.get(), H2Limits{}, secrets);
  if (!proxy.ok()) {
    return proxy.status();
  }
  r->proxy_ = std::move(proxy).value();
  return r;
}

H2Relay::H2Relay(ByteStream* guest, ByteStream* upstream, const Clock& clock,
                 RelayObserver* observer, ExchangeObserver* exchanges, ExpectedAuthority expected)
    : guest_(guest),
      upstream_(upstream),
      clock_(clock),
      observer_(observer),
      exchanges_(exchanges),
      expected_(std::move(expected)) {
  last_activity_ = clock_.Now();
}

H2Relay::~H2Relay() {
  guest_->SetHandler(nullptr);
  upstream_->SetHandler(nullptr);
  done_ = true;    // the proxy reports streams still in flight from its destructor:
  proxy_.reset();  // the exchanges observer must (and does) outlive this relay
}

void H2Relay::Start() {
  guest_->SetHandler(&guest_end_);
  upstream_->SetHandler(&upstream_end_);
  Pump();
}

H2Verdict H2Relay::OnRequest(const H2RequestHead& head) {
  started_[head.stream_id] = clock_.Now();
  bool ok = AuthorityMatches(head.authority, expected_);
  for (const std::string& host : head.host_headers) {
    ok = ok && AuthorityMatches(host, expected_);
  }
  if (!ok) {
    refused_[head.stream_id] = "authority_mismatch";
    return H2Verdict::kMisdirected;
  }
  return H2Verdict::kForward;
}

void H2Relay::OnStreamClosed(const H2StreamSummary& s) {
  HttpExchange ex;
  ex.proto = "h2";
  ex.method = s.method;
  ex.authority = s.authority;
  ex.path = s.path_without_query;
  ex.status = s.status;
  ex.bytes_up = s.bytes_up;
  ex.bytes_down = s.bytes_down;
  ex.end = EndOf(s);
  ex.secrets_injected = s.secrets_injected;
  ex.blocked_secret = s.blocked_secret;
  if (auto it = started_.find(s.guest_stream_id); it != started_.end()) {
    ex.duration_ms = ToMillis(clock_.Now() - it->second);
    started_.erase(it);
  }
  if (auto it = refused_.find(s.guest_stream_id); it != refused_.end()) {
    ex.refused = it->second;
    ex.end = "refused";
    refused_.erase(it);
  } else if (s.end == "rejected" || s.end == "headers_too_large" || s.end == "secret_violation") {
    ex.refused = s.end;
    ex.end = "refused";
  }
  bytes_up_ += s.bytes_up;
  bytes_down_ += s.bytes_down;
  exchanges_->OnExchange(ex);
}

void H2Relay::Pump() {
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  bool moved = false;
  do {
    pump_again_ = false;
    // Until nothing moves: draining one leg can make room to feed the other (the proxy holds
    // input back while its output is backed up), and no callback would come for that.
    if (PumpOnce()) {
      moved = true;
      pump_again_ = true;
    }
  } while (pump_again_ && !done_);
  pumping_ = false;
  if (moved) {
    last_activity_ = clock_.Now();
  }
  if (done_) {
    return;
  }
  bool flushed = to_guest_off_ == to_guest_.size() && to_upstream_off_ == to_upstream_.size();
  if (proxy_->Done() && flushed) {
    // Both legs finished (GOAWAY exchanged, or EOF): close both in order.
    for (ByteStream* s : {guest_, upstream_}) {
      if (!s->write_shut()) {
        s->ShutdownWrite();
        s->Flush();
      }
    }
    Done(guest_failed_ ? CloseReason::kProtocolError : CloseReason::kClosed);
  }
}

bool H2Relay::PumpOnce() {
  bool moved = false;
  moved |= Feed(guest_, true);
  if (done_) {
    return moved;
  }
  moved |= Feed(upstream_, false);
  if (done_) {
    return moved;
  }
  moved |= Drain(upstream_, false, &to_upstream_, &to_upstream_off_);
  moved |= Drain(guest_, true, &to_guest_, &to_guest_off_);
  return moved;
}

bool H2Relay::Feed(ByteStream* from, bool guest_leg) {
  bool& eof = guest_leg ? guest_eof_ : upstream_eof_;
  bool moved = false;
  // The proxy always consumes everything: what a peer may send is bounded by the windows the
  // proxy advertised, which it reopens only as the other leg takes the bytes. Reading must never
  // wait on the other direction's backlog: a WINDOW_UPDATE that would drain it arrives here.
  while (!eof && from->ReadableBytes() > 0) {
    std::span<const uint8_t> chunk = from->Peek();
    Result<size_t> r = guest_leg ? proxy_->FeedFromGuest(chunk) : proxy_->FeedFromUpstream(chunk);
    from->Consume(chunk.size());
    moved = true;
    if (!r.ok()) {
      eof = true;  // that leg is over; the proxy has reset its streams
      if (guest_leg) {
        guest_failed_ = true;
      }
      break;
    }
  }
  if (!eof && from->ReadEof()) {
    eof = true;
    if (guest_leg) {
      proxy_->OnGuestEof();
    } else {
      proxy_->OnUpstreamEof();
    }
  }
  return moved;
}

bool H2Relay::Drain(ByteStream* to, bool guest_leg, std::string* pending, size_t* off) {
  bool moved = false;
  for (;;) {
    while (*off < pending->size()) {
      size_t space = to->WriteSpace();
      if (space == 0) {
        break;
      }
      size_t n = to->Write({reinterpret_cast<const uint8_t*>(pending->data()) + *off,
                            std::min(space, pending->size() - *off)});
      if (n == 0) {
        break;
      }
      *off += n;
      moved = true;
    }
    if (*off < pending->size()) {
      break;
    }
    pending->clear();
    *off = 0;
    bool wants = guest_leg ? proxy_->WantsWriteToGuest() : proxy_->WantsWriteToUpstream();
    size_t space = to->WriteSpace();
    if (!wants || space == 0 || to->write_shut()) {
      break;
    }
    if (guest_leg) {
      proxy_->TakeToGuest(pending, std::min(space, kTakeChunk));
    } else {
      proxy_->TakeToUpstream(pending, std::min(space, kTakeChunk));
    }
    if (pending->empty()) {
      break;
    }
  }
  if (moved) {
    to->Flush();
  }
  return moved;
}

void H2Relay::OnGone(bool is_guest, bool reset) {
  if (done_) {
    return;
  }
  if (reset) {
    Done(is_guest ? CloseReason::kGuestReset : CloseReason::kUpstreamReset);
    return;
  }
  Pump();
}

void H2Relay::Done(CloseReason reason) {
  if (done_) {
    return;
  }
  done_ = true;
  guest_->SetHandler(nullptr);
  upstream_->SetHandler(nullptr);
  observer_->OnRelayDone(reason);
}

}  // namespace msb::gateway::http
