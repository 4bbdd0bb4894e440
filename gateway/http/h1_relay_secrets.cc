// H1Relay's secret injection (see h1_relay.h and docs/secrets.md): request heads rewritten or
// blocked, request bodies rewritten, held or scanned, responses scrubbed of real values. Kept apart
// from the framing code in h1_relay.cc; nothing here runs without a SecretGuard.
#include <algorithm>
#include <string>

#include "gateway/http/h1_relay.h"
#include "gateway/http/h1_writer.h"

namespace msb::gateway::http {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// BlockedText is the x-msb-blocked value and the 403 body: which secret, and why (the same words
// as the HTTP/2 relay's). Names and fixed words only, never a value.
std::string BlockedText(const secrets::Violation* v, std::string_view why, std::string_view host) {
  if (v != nullptr) {
    return "secret " + v->secret->spec.env_var + " not allowed for " + std::string(host) + " (" +
           std::string(secrets::LocationName(v->location)) + ", " +
           std::string(secrets::MatchFormName(v->form)) + ")";
  }
  if (why == "placeholder_in_compressed_body") {
    return "compressed body holds a placeholder: the gateway cannot substitute it there; send "
           "the body uncompressed";
  }
  if (why == "uninspectable_content_encoding") {
    return "the body's content-coding cannot be inspected for placeholders; send it as gzip, "
           "deflate or uncompressed";
  }
  return "the compressed body could not be decoded to inspect it for placeholders";
}

}  // namespace

bool H1Relay::FilterRequestHead(RequestHead& head, Pending& p) {
  secrets::RequestRewriter& rw = secrets_->rewriter();
  std::optional<secrets::Violation> found;
  for (Header& h : head.headers) {
    bool sub = false;
    found = secrets::Stricter(
        found, rw.RewriteHeader(h.name, &h.value, &sub, &p.exchange.secrets_injected));
  }
  bool target_sub = false;
  found = secrets::Stricter(
      found, rw.RewriteTarget(&head.target, &target_sub, &p.exchange.secrets_injected));
  bool has_body = head.body != BodyKind::kNone;
  if (found && found->action != secrets::ViolationAction::kPassthrough) {
    BlockRequest(std::move(p), *found, "placeholder", has_body);
    return false;
  }
  if (!has_body) {
    return true;
  }
  auto rewriter = std::make_unique<secrets::BodyRewriter>(secrets_->plan());
  if (!rewriter->active()) {
    return true;
  }
  const Header* ce = FindHeader(head.headers, "content-encoding");
  ContentDecoder::Coding coding = ContentDecoder::CodingOf(ce ? ce->value : "");
  if (coding == ContentDecoder::Coding::kUnsupported) {
    // A body-scope secret applies and the gateway cannot look inside: fail closed.
    BlockRequest(std::move(p), secrets::Violation{}, "uninspectable_content_encoding", true);
    return false;
  }
  body_rw_ = std::move(rewriter);
  if (coding != ContentDecoder::Coding::kIdentity) {
    body_decoder_ = std::make_unique<ContentDecoder>(coding);
  }
  if (head.body == BodyKind::kContentLength && head.content_length <= kMaxHeldBody) {
    // Held whole: its length may change, and a violation in it is refused before anything of
    // the request goes upstream. The gateway answers "100 Continue" itself (the upstream never
    // sees the Expect) when no earlier response is still due, so a waiting client sends its body.
    std::erase_if(head.headers, [](const Header& h) { return EqualsIgnoreCase(h.name, "expect"); });
    if (head.expect_continue && pending_.empty()) {
      down_out_ += "HTTP/1.1 100 Continue\r\n\r\n";
    }
    held_head_ = head;
    held_body_.clear();
  } else if (head.body == BodyKind::kContentLength && !body_decoder_ &&
             secrets_->plan().rewrites_bodies()) {
    // Too long to hold and it may change length: re-framed as chunked.
    std::erase_if(head.headers,
                  [](const Header& h) { return EqualsIgnoreCase(h.name, "content-length"); });
    head.headers.push_back({"Transfer-Encoding", "chunked"});
    head.body = BodyKind::kChunked;
  }
  return true;
}

void H1Relay::BlockRequest(Pending p, const secrets::Violation& v, std::string_view why,
                           bool has_body) {
  const secrets::Violation* vp = v.secret != nullptr ? &v : nullptr;
  std::string host(AuthorityHost(p.exchange.authority));
  std::string text = BlockedText(vp, why, host);
  p.local = true;
  p.exchange.status = 403;
  p.exchange.refused = vp ? "secret_violation" : std::string(why);
  p.exchange.end = "refused";
  if (vp) {
    p.exchange.blocked_secret = vp->secret->spec.env_var;
    secrets_->Report(
        v, ViolationSite{"h1", p.exchange.method, p.exchange.authority, p.exchange.path, 0});
  }
  p.local_response = SimpleResponse(403, "Forbidden", "msb-gateway: " + text + "\n",
                                    {{"x-msb-blocked", text}}, /*close=*/false);
  drop_body_ = has_body;
  in_request_body_ = has_body;
  pending_.push_back(std::move(p));
  EmitLocalResponses();
}

void H1Relay::EmitLocalResponses() {
  while (!pending_.empty() && pending_.front().local) {
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    down_out_ += p.local_response;
    p.exchange.duration_ms = ToMillis(clock_.Now() - p.started);
    exchanges_->OnExchange(p.exchange);
  }
}

void H1Relay::ResetRequestBodyState() {
  drop_body_ = false;
  body_rw_.reset();
  body_decoder_.reset();
  held_head_.reset();
  held_body_.clear();
  if (held_body_.capacity() > kMaxPending) {
    held_body_.shrink_to_fit();
  }
}

void H1Relay::OnRequestBodySecrets(std::span<const uint8_t> data) {
  std::optional<secrets::Violation> v;
  if (body_decoder_) {
    // Compressed: scanned decoded, forwarded as sent.
    std::string scratch;
    bool ok = body_decoder_->Feed(data, [&](std::span<const uint8_t> piece) {
      scratch.clear();
      v = secrets::Stricter(v, body_rw_->Feed(piece, &scratch));
    });
    if (!ok) {
      FailRequestBody(nullptr, "undecodable_content_encoding");
      return;
    }
    if (v) {
      FailRequestBody(&*v, "placeholder");
      return;
    }
    if (body_rw_->saw_eligible()) {
      FailRequestBody(nullptr, "placeholder_in_compressed_body");
      return;
    }
    EmitRequestBody(data);
    return;
  }
  std::string out;
  v = body_rw_->Feed(data, &out);
  if (v && v->action != secrets::ViolationAction::kPassthrough) {
    FailRequestBody(&*v, "placeholder");
    return;
  }
  EmitRequestBody(Bytes(out));
}

bool H1Relay::FinishRequestBodySecrets() {
  std::string out;
  std::optional<secrets::Violation> v;
  if (!body_decoder_) {
    v = body_rw_->Finish(&out);
  }
  if (v && v->action != secrets::ViolationAction::kPassthrough) {
    FailRequestBody(&*v, "placeholder");
    return false;
  }
  EmitRequestBody(Bytes(out));
  if (!pending_.empty()) {
    body_rw_->AddInjected(&pending_.back().exchange.secrets_injected);
  }
  if (held_head_) {
    RequestHead head = std::move(*held_head_);
    held_head_.reset();
    for (Header& h : head.headers) {
      if (EqualsIgnoreCase(h.name, "content-length")) {
        h.value = std::to_string(held_body_.size());
      }
    }
    if (!SendHeldHead(head)) {
      return false;
    }
    up_out_ += held_body_;
    held_body_.clear();
  }
  body_rw_.reset();
  body_decoder_.reset();
  return true;
}

bool H1Relay::SendHeldHead(const RequestHead& head) {
  size_t before = up_out_.size();
  if (AppendRequestHead(head, &up_out_) &&
      responses_.ExpectResponseTo(head.method, head.is_upgrade)) {
    return true;
  }
  up_out_.resize(before);
  Pending p = std::move(pending_.back());
  pending_.pop_back();
  ResetRequestBodyState();
  drop_body_ = in_request_body_;  // the rest of its body, if any, is read and dropped
  Refuse(Refusal::kBadRequest, "unserializable_request", p.exchange.authority, p.exchange.method,
         p.exchange.path);
  return false;
}

void H1Relay::ReleaseHeldAsChunked() {
  RequestHead head = std::move(*held_head_);
  held_head_.reset();
  std::erase_if(head.headers,
                [](const Header& h) { return EqualsIgnoreCase(h.name, "content-length"); });
  head.headers.push_back({"Transfer-Encoding", "chunked"});
  if (!SendHeldHead(head)) {
    return;
  }
  request_chunked_ = true;
  AppendChunk(Bytes(held_body_), &up_out_);
  held_body_.clear();
  held_body_.shrink_to_fit();
}

void H1Relay::FailRequestBody(const secrets::Violation* v, std::string_view why) {
  if (pending_.empty()) {
    return;
  }
  if (held_head_) {
    // Nothing of this request went upstream: answer it like a blocked head; the rest of its
    // body is read and dropped.
    Pending p = std::move(pending_.back());
    pending_.pop_back();
    ResetRequestBodyState();
    BlockRequest(std::move(p), v ? *v : secrets::Violation{}, why, true);
    return;
  }
  // Part of the body went upstream already. The upstream must never take the cut body for a
  // whole one, so its side is never finished: a lone request is answered 403 and the connection
  // closed (the upstream sees the stream end mid-body); with earlier responses still due, both
  // sides are reset.
  Pending& cur = pending_.back();
  cur.exchange.refused = v ? "secret_violation" : std::string(why);
  cur.exchange.status = 403;
  if (v) {
    cur.exchange.blocked_secret = v->secret->spec.env_var;
    secrets_->Report(
        *v, ViolationSite{"h1", cur.exchange.method, cur.exchange.authority, cur.exchange.path, 0});
  }
  std::string host(AuthorityHost(cur.exchange.authority));
  if (pending_.size() > 1 || down_off_ != down_out_.size()) {
    EmitPendingAsClosed();
    Done(CloseReason::kSecretViolation);
    return;
  }
  std::string text = BlockedText(v, why, host);
  Pending p = std::move(pending_.back());
  pending_.pop_back();
  p.exchange.end = "refused";
  p.exchange.duration_ms = ToMillis(clock_.Now() - p.started);
  exchanges_->OnExchange(p.exchange);
  ResetRequestBodyState();
  drop_body_ = true;
  refusal_ = Refusal::kSecretBlocked;
  refusal_text_ = "msb-gateway: " + text + "\n";
  refusal_header_ = text;
  requests_.Pause();
  requests_over_ = true;
  responses_over_ = true;  // whatever the upstream says about a cut request is not passed on
  request_chunked_ = false;
}

void H1Relay::FilterResponseHead(ResponseHead& head) {
  secrets::ResponseScrubber* scrubber = Scrubber();
  for (Header& h : head.headers) {
    scrubber->ScrubHeader(&h.value);
  }
  scrub_body_ = false;
  if (head.body == BodyKind::kNone || head.interim || head.starts_tunnel) {
    return;
  }
  const Header* ce = FindHeader(head.headers, "content-encoding");
  if (ContentDecoder::CodingOf(ce ? ce->value : "") != ContentDecoder::Coding::kIdentity) {
    return;  // compressed responses are not looked into (docs/secrets.md)
  }
  uint8_t minor = pending_.empty() ? 1 : pending_.front().request_minor;
  if (head.body == BodyKind::kContentLength && minor == 0) {
    return;  // an HTTP/1.0 client cannot take a re-chunked body; not scrubbed
  }
  scrub_body_ = true;
  if (head.body == BodyKind::kContentLength) {
    held_response_ = head;
    held_response_body_.clear();
  }
}

bool H1Relay::FinishResponseBody() {
  if (!scrub_body_) {
    return true;
  }
  scrub_body_ = false;
  std::string out;
  Scrubber()->Finish(&out);
  EmitResponseBody(Bytes(out));
  if (!held_response_) {
    return true;
  }
  ResponseHead head = std::move(*held_response_);
  held_response_.reset();
  for (Header& h : head.headers) {
    if (EqualsIgnoreCase(h.name, "content-length")) {
      h.value = std::to_string(held_response_body_.size());
    }
  }
  if (!AppendResponseHead(head, &down_out_)) {
    bad_response_ = true;
    return false;
  }
  down_out_ += held_response_body_;
  held_response_body_.clear();
  if (held_response_body_.capacity() > kMaxPending) {
    held_response_body_.shrink_to_fit();
  }
  return true;
}

}  // namespace msb::gateway::http
