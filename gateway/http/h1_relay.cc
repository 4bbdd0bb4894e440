// H1Relay: strict, streaming HTTP/1.1 between guest and upstream (see h1_relay.h).
#include "gateway/http/h1_relay.h"

#include <algorithm>
#include <tuple>

#include "gateway/http/h1_writer.h"

namespace msb::gateway::http {
namespace {

constexpr size_t kFeedChunk = 64 * 1024;

std::span<const uint8_t> AsBytes(const std::string& s, size_t off) {
  return {reinterpret_cast<const uint8_t*>(s.data()) + off, s.size() - off};
}

void AppendBytes(std::span<const uint8_t> data, std::string* out) {
  out->append(reinterpret_cast<const char*>(data.data()), data.size());
}

}  // namespace

H1Relay::H1Relay(ByteStream* guest, ByteStream* upstream, const Clock& clock,
                 RelayObserver* observer, ExchangeObserver* exchanges, ExpectedAuthority expected,
                 SecretGuard* secrets)
    : guest_(guest),
      upstream_(upstream),
      clock_(clock),
      observer_(observer),
      exchanges_(exchanges),
      expected_(std::move(expected)),
      secrets_(secrets) {
  last_activity_ = clock_.Now();
}

std::unique_ptr<H1Relay> H1Relay::Plain(ByteStream* guest, ByteStream* upstream, const Clock& clock,
                                        RelayObserver* observer, ExchangeObserver* exchanges,
                                        GuardFactory guard_for) {
  auto relay = std::make_unique<H1Relay>(guest, upstream, clock, observer, exchanges,
                                         ExpectedAuthority{}, nullptr);
  relay->guard_for_ = std::move(guard_for);
  return relay;
}

H1Relay::~H1Relay() {
  guest_->SetHandler(nullptr);
  upstream_->SetHandler(nullptr);
}

void H1Relay::Start() {
  guest_->SetHandler(&guest_end_);
  upstream_->SetHandler(&upstream_end_);
  Pump();
}

void H1Relay::Pump() {
  if (pumping_) {
    pump_again_ = true;  // a write made the other end call back: one more round
    return;
  }
  pumping_ = true;
  do {
    pump_again_ = false;
    PumpOnce();
  } while (pump_again_ && !done_);
  pumping_ = false;
  if (!done_) {
    MaybeFinish();
  }
}

void H1Relay::PumpOnce() {
  bool moved = Flush(&up_out_, &up_off_, upstream_) | Flush(&down_out_, &down_off_, guest_);
  if (done_) {
    return;
  }
  if (tunnel_) {
    if (up_off_ == up_out_.size() && down_off_ == down_out_.size()) {
      SpliceTunnel();
    }
    return;
  }
  FeedRequests();
  if (!done_) {
    FeedResponses();
  }
  if (done_) {
    return;
  }
  moved |= Flush(&up_out_, &up_off_, upstream_) | Flush(&down_out_, &down_off_, guest_);
  ShutdownsIfDue();
  if (moved) {
    last_activity_ = clock_.Now();
    pump_again_ = true;  // until nothing moves: a flush can make the next step possible
  }
}

void H1Relay::ShutdownsIfDue() {
  // The upstream's write side is shut only when the guest really half-closed (or was refused):
  // after a mere "Connection: close" the server closes by itself, and an early close_notify
  // makes some servers drop the response.
  if ((guest_->ReadEof() || refusal_ != Refusal::kNone) && requests_over_ &&
      up_off_ == up_out_.size() && !upstream_->write_shut()) {
    upstream_->ShutdownWrite();  // everything the guest asked for has been passed on
    upstream_->Flush();
  }
  if (refusal_ != Refusal::kNone && pending_.empty() && !refusal_sent_) {
    EmitRefusalResponse();  // after the answers to every earlier request
    pump_again_ = true;
    return;
  }
  bool last_answered = refusal_sent_ || (requests_over_ && pending_.empty());
  if ((responses_over_ || last_answered) && down_off_ == down_out_.size() &&
      !guest_->write_shut()) {
    guest_->ShutdownWrite();  // the last response (or the refusal) is out: close in order
    guest_->Flush();
  }
}

bool H1Relay::Flush(std::string* out, size_t* off, ByteStream* to) {
  bool moved = false;
  while (*off < out->size()) {
    size_t space = to->WriteSpace();
    if (space == 0) {
      break;
    }
    std::span<const uint8_t> rest = AsBytes(*out, *off);
    size_t n = to->Write(rest.first(std::min(space, rest.size())));
    if (n == 0) {
      break;
    }
    *off += n;
    moved = true;
  }
  if (*off == out->size() && !out->empty()) {
    out->clear();
    *off = 0;
    if (out->capacity() > 2 * kMaxPending) {
      out->shrink_to_fit();
    }
  }
  if (moved) {
    to->Flush();
  }
  return moved;
}

void H1Relay::FeedRequests() {
  while (!requests_over_ && !awaiting_upgrade_ && refusal_ == Refusal::kNone &&
         up_out_.size() - up_off_ < kMaxPending && guest_->ReadableBytes() > 0) {
    std::span<const uint8_t> chunk = guest_->Peek();
    chunk = chunk.first(std::min(chunk.size(), kFeedChunk));
    FeedResult r = requests_.Feed(chunk);
    if (r.status == FeedStatus::kError) {
      if (in_request_body_ && !pending_.empty()) {
        // The head already went upstream: the upstream must not take the cut body for a whole
        // one, so both sides are reset.
        pending_.back().exchange.refused = H1ErrorName(r.error);
        EmitPendingAsClosed();
        Done(CloseReason::kProtocolError);
        return;
      }
      Refuse(Refusal::kBadRequest, std::string(H1ErrorName(r.error)), "", "", "");
      return;
    }
    guest_->Consume(r.consumed);
    if (refusal_ != Refusal::kNone) {
      break;  // the head just parsed was refused (the parser was paused)
    }
    if (r.status == FeedStatus::kTunnel) {
      awaiting_upgrade_ = true;  // forwarded; the response says whether the protocol changes
    } else if (r.status == FeedStatus::kClosed) {
      requests_over_ = true;  // "Connection: close": the guest sends nothing more
    }
    if (r.consumed == 0) {
      break;
    }
  }
  if (!requests_over_ && refusal_ == Refusal::kNone && !awaiting_upgrade_ &&
      guest_->ReadableBytes() == 0 && guest_->ReadEof()) {
    FeedResult r = requests_.Finish();
    requests_over_ = true;
    if (r.status == FeedStatus::kError && !pending_.empty()) {
      pending_.back().exchange.end = "closed";  // the guest left inside its request
    }
  }
}

void H1Relay::FeedResponses() {
  while (!responses_over_ && down_out_.size() - down_off_ < kMaxPending &&
         upstream_->ReadableBytes() > 0) {
    std::span<const uint8_t> chunk = upstream_->Peek();
    chunk = chunk.first(std::min(chunk.size(), kFeedChunk));
    FeedResult r = responses_.Feed(chunk);
    if (r.status == FeedStatus::kError) {
      EmitPendingAsClosed();
      Done(CloseReason::kHttpBadResponse);
      return;
    }
    upstream_->Consume(r.consumed);
    if (bad_response_) {
      EmitPendingAsClosed();
      Done(CloseReason::kHttpBadResponse);
      return;
    }
    if (r.status == FeedStatus::kTunnel) {
      tunnel_ = true;  // 101 or 2xx to CONNECT: the rest is the new protocol's
      return;
    }
    if (r.status == FeedStatus::kClosed) {
      responses_over_ = true;
    }
    if (r.consumed == 0) {
      break;
    }
  }
  if (!responses_over_ && upstream_->ReadableBytes() == 0 && upstream_->ReadEof()) {
    FeedResult r = responses_.Finish();
    responses_over_ = true;
    if (r.status == FeedStatus::kError || !pending_.empty()) {
      // Cut inside a response, or before responses the guest is waiting for: the guest must not
      // take what it got for complete.
      EmitPendingAsClosed();
      Done(CloseReason::kHttpBadResponse);
      return;
    }
  }
}

void H1Relay::SpliceTunnel() {
  bool moved = false;
  for (auto [from, to, counter] :
       {std::tuple{guest_, upstream_, &bytes_up_}, std::tuple{upstream_, guest_, &bytes_down_}}) {
    while (from->ReadableBytes() > 0) {
      size_t space = to->WriteSpace();
      if (space == 0) {
        break;
      }
      std::span<const uint8_t> chunk = from->Peek();
      size_t n = to->Write(chunk.first(std::min(chunk.size(), space)));
      if (n == 0) {
        break;
      }
      from->Consume(n);
      *counter += n;
      moved = true;
    }
    if (moved) {
      to->Flush();
    }
    if (from->ReadEof() && !to->write_shut()) {
      to->ShutdownWrite();
      to->Flush();
    }
  }
  if (moved) {
    last_activity_ = clock_.Now();
  }
}

void H1Relay::MaybeFinish() {
  if (done_ || !guest_->write_shut() || up_off_ != up_out_.size() ||
      down_off_ != down_out_.size()) {
    return;
  }
  if (!upstream_->write_shut() && !responses_over_) {
    return;
  }
  if (tunnel_ && !(guest_->ReadEof() && upstream_->ReadEof())) {
    return;
  }
  EmitPendingAsClosed();
  Done(refusal_ != Refusal::kNone ? CloseReason::kHttpRefused : CloseReason::kClosed);
}

void H1Relay::OnGone(bool is_guest, bool reset) {
  if (done_) {
    return;
  }
  if (reset && !is_guest && pending_.empty() && responses_.idle() && !tunnel_) {
    // Between responses (after the last one a "Connection: close" server sent, typically) a
    // reset loses nothing the guest asked for: deliver what is queued and close in order.
    responses_over_ = true;
    requests_over_ = true;
    Pump();
    if (!done_ && down_off_ == down_out_.size()) {
      EmitPendingAsClosed();
      Done(CloseReason::kClosed);
    }
    return;
  }
  if (reset) {
    EmitPendingAsClosed();
    Done(is_guest ? CloseReason::kGuestReset : CloseReason::kUpstreamReset);
    return;
  }
  Pump();
}

void H1Relay::Done(CloseReason reason) {
  if (done_) {
    return;
  }
  done_ = true;
  guest_->SetHandler(nullptr);
  upstream_->SetHandler(nullptr);
  observer_->OnRelayDone(reason);
}

void H1Relay::OnRequestHead(RequestHead&& head) {
  std::string path(head.PathWithoutQuery());
  if (head.is_connect) {
    // A CONNECT inside an intercepted tunnel would open a second, uninspected tunnel.
    Refuse(Refusal::kBadRequest, "connect_in_tunnel", head.authority, head.method, path);
    return;
  }
  if (!guard_for_ && !AuthorityMatches(head.authority, expected_)) {
    Refuse(Refusal::kMisdirected, "authority_mismatch", head.authority, head.method, path);
    return;
  }
  Pending p;
  p.exchange.proto = "h1";
  p.exchange.method = head.method;
  p.exchange.authority = head.authority;
  p.exchange.path = std::move(path);
  p.started = clock_.Now();
  p.request_minor = head.version_minor;
  ResetRequestBodyState();
  if (guard_for_) {
    // Plain HTTP: this request's own host decides (the previous request's body is complete).
    plain_guard_ = guard_for_(AuthorityHost(head.authority));
    secrets_ = plain_guard_.get();
    if (secrets_ != nullptr && secrets_->plan().any_eligible() && !plain_scrubber_) {
      plain_scrubber_.emplace(secrets_->plan().shared_set());
    }
  }
  if (SecretsActive() && !FilterRequestHead(head, p)) {
    return;  // blocked: answered by the gateway in order
  }
  request_chunked_ = head.body == BodyKind::kChunked;
  in_request_body_ = head.body != BodyKind::kNone;
  request_trailers_.clear();
  if (held_head_) {
    // Serialised (and its response expected) once the whole body is here.
    pending_.push_back(std::move(p));
    return;
  }
  size_t before = up_out_.size();
  if (!AppendRequestHead(head, &up_out_) ||
      !responses_.ExpectResponseTo(head.method, head.is_upgrade)) {
    up_out_.resize(before);
    ResetRequestBodyState();
    in_request_body_ = false;
    Refuse(Refusal::kBadRequest, "unserializable_request", head.authority, head.method,
           p.exchange.path);
    return;
  }
  pending_.push_back(std::move(p));
}

void H1Relay::OnRequestBody(std::span<const uint8_t> data) {
  if (refusal_ != Refusal::kNone || pending_.empty() || drop_body_) {
    return;
  }
  pending_.back().exchange.bytes_up += data.size();
  bytes_up_ += data.size();
  if (body_rw_) {
    OnRequestBodySecrets(data);
    return;
  }
  EmitRequestBody(data);
}

void H1Relay::EmitRequestBody(std::span<const uint8_t> data) {
  if (data.empty()) {
    return;
  }
  if (held_head_) {
    held_body_.append(reinterpret_cast<const char*>(data.data()), data.size());
    if (held_body_.size() > 2 * kMaxHeldBody) {
      // Values much longer than their placeholders grew the body past what is held: the rest
      // goes re-chunked (a compressed body is never rewritten, so it cannot get here).
      ReleaseHeldAsChunked();
    }
  } else if (request_chunked_) {
    AppendChunk(data, &up_out_);
  } else {
    AppendBytes(data, &up_out_);
  }
}

void H1Relay::OnRequestEnd() {
  in_request_body_ = false;
  if (drop_body_) {
    drop_body_ = false;
    return;
  }
  if (refusal_ != Refusal::kNone) {
    return;
  }
  if (body_rw_ && !FinishRequestBodySecrets()) {
    return;
  }
  if (!request_chunked_) {
    return;
  }
  if (!AppendLastChunk(request_trailers_, &up_out_)) {
    (void)AppendLastChunk({}, &up_out_);  // trailers that cannot be written are dropped
  }
  request_chunked_ = false;
}

void H1Relay::OnResponseHead(ResponseHead&& head) {
  if (Scrubber() != nullptr) {
    FilterResponseHead(head);  // may hold a Content-Length response to rewrite its length
  }
  if (!held_response_) {
    size_t before = down_out_.size();
    if (!AppendResponseHead(head, &down_out_)) {
      down_out_.resize(before);
      bad_response_ = true;  // a head we could not write back: handled once Feed returns
      return;
    }
  }
  if (head.interim) {
    return;  // 100 Continue, 103 Early Hints: the final response follows
  }
  if (!pending_.empty()) {
    pending_.front().exchange.status = head.status;
  }
  if (head.starts_tunnel) {
    // The protocol changes after this head (101, or 2xx to CONNECT); requests_ then is at its
    // tunnel point too (it stopped after the upgrade request).
    awaiting_upgrade_ = false;
  } else if (awaiting_upgrade_) {
    awaiting_upgrade_ = false;
    requests_.DeclineTunnel();  // the upstream refused the upgrade: HTTP continues
  }
  response_chunked_ = head.body == BodyKind::kChunked;
  response_trailers_.clear();
}

void H1Relay::OnResponseBody(std::span<const uint8_t> data) {
  if (scrub_body_) {
    std::string out;
    Scrubber()->Feed(data, &out);
    EmitResponseBody({reinterpret_cast<const uint8_t*>(out.data()), out.size()});
  } else {
    EmitResponseBody(data);
  }
  if (!pending_.empty()) {
    pending_.front().exchange.bytes_down += data.size();
  }
  bytes_down_ += data.size();
}

void H1Relay::EmitResponseBody(std::span<const uint8_t> data) {
  if (data.empty()) {
    return;
  }
  if (held_response_) {
    held_response_body_.append(reinterpret_cast<const char*>(data.data()), data.size());
    if (held_response_body_.size() > kMaxHeldResponse) {
      // Too long to hold: the rest goes re-chunked (the guest spoke HTTP/1.1, see
      // FilterResponseHead) with the held part as the first chunk.
      ResponseHead head = std::move(*held_response_);
      held_response_.reset();
      std::erase_if(head.headers,
                    [](const Header& h) { return EqualsIgnoreCase(h.name, "content-length"); });
      head.headers.push_back({"Transfer-Encoding", "chunked"});
      if (!AppendResponseHead(head, &down_out_)) {
        bad_response_ = true;
        return;
      }
      response_chunked_ = true;
      AppendChunk({reinterpret_cast<const uint8_t*>(held_response_body_.data()),
                   held_response_body_.size()},
                  &down_out_);
      held_response_body_.clear();
      held_response_body_.shrink_to_fit();
    }
  } else if (response_chunked_) {
    AppendChunk(data, &down_out_);
  } else {
    AppendBytes(data, &down_out_);
  }
}

void H1Relay::OnResponseEnd() {
  if (!FinishResponseBody()) {
    return;
  }
  if (response_chunked_) {
    if (!AppendLastChunk(response_trailers_, &down_out_)) {
      (void)AppendLastChunk({}, &down_out_);
    }
    response_chunked_ = false;
  }
  if (pending_.empty()) {
    return;
  }
  Pending p = std::move(pending_.front());
  pending_.pop_front();
  p.exchange.duration_ms = ToMillis(clock_.Now() - p.started);
  exchanges_->OnExchange(p.exchange);
  EmitLocalResponses();  // answers the gateway gave to later requests, now in order
}

void H1Relay::Refuse(Refusal why, std::string reason, const std::string& authority,
                     const std::string& method, std::string path) {
  refusal_ = why;
  requests_.Pause();
  requests_over_ = true;
  HttpExchange ex;
  ex.proto = "h1";
  ex.method = method;
  ex.authority = authority;
  ex.path = std::move(path);
  ex.status = why == Refusal::kMisdirected ? 421 : 400;
  ex.refused = reason;
  ex.end = "refused";
  if (why == Refusal::kMisdirected) {
    refusal_text_ = "msb-gateway: misdirected request: this TLS connection is for " +
                    expected_.host + ", not for the host the request names\n";
  } else {
    refusal_text_ = "msb-gateway: bad request (" + reason + ")\n";
  }
  // Reported now, in request order: earlier requests were reported as their responses ended.
  if (pending_.empty()) {
    exchanges_->OnExchange(ex);
  } else {
    deferred_refusal_ = std::move(ex);
  }
}

void H1Relay::EmitRefusalResponse() {
  refusal_sent_ = true;
  if (deferred_refusal_) {
    exchanges_->OnExchange(*deferred_refusal_);
    deferred_refusal_.reset();
  }
  if (refusal_ == Refusal::kSecretBlocked) {
    down_out_ +=
        SimpleResponse(403, "Forbidden", refusal_text_, {{"x-msb-blocked", refusal_header_}});
    return;
  }
  down_out_ += refusal_ == Refusal::kMisdirected
                   ? SimpleResponse(421, "Misdirected Request", refusal_text_)
                   : SimpleResponse(400, "Bad Request", refusal_text_);
}

void H1Relay::EmitPendingAsClosed() {
  while (!pending_.empty()) {
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    p.exchange.duration_ms = ToMillis(clock_.Now() - p.started);
    p.exchange.end = "closed";
    exchanges_->OnExchange(p.exchange);
  }
  if (deferred_refusal_) {
    exchanges_->OnExchange(*deferred_refusal_);
    deferred_refusal_.reset();
  }
}

}  // namespace msb::gateway::http
