// ConnectRelay: CONNECT through a guest-configured proxy, with the inner TLS intercepted (see
// connect_relay.h).
#include "gateway/connect_relay.h"

#include <algorithm>
#include <cctype>

#include "base/strings.h"
#include "gateway/core/prefixed_stream.h"
#include "gateway/core/splice_relay.h"
#include "gateway/http/h1_writer.h"
#include "gateway/intercept_relay.h"
#include "gateway/plain_http_relay.h"
#include "gateway/tls/intercept_context.h"

namespace msb::gateway {
namespace {

constexpr std::string_view kConnect = "CONNECT ";

// Drain reads what `s` holds into `out`, up to `cap` bytes in all.
void Drain(ByteStream* s, std::vector<uint8_t>* out, size_t cap) {
  while (s->ReadableBytes() > 0 && out->size() < cap) {
    std::span<const uint8_t> chunk = s->Peek();
    size_t take = std::min(chunk.size(), cap - out->size());
    out->insert(out->end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
    s->Consume(take);
  }
}

}  // namespace

ConnectRelay::ConnectRelay(const SessionContext& ctx, const AuditFlow& flow, ByteStream* guest,
                           ByteStream* upstream, const SocketAddress& proxy,
                           RelayObserver* observer)
    : ctx_(ctx),
      flow_(flow),
      guest_(guest),
      upstream_(upstream),
      proxy_(proxy),
      observer_(observer) {
  started_ = ctx_.clock().Now();
}

ConnectRelay::~ConnectRelay() {
  if (timer_ != 0) {
    ctx_.loop->CancelTimer(timer_);
  }
  inner_.reset();
  guest_replay_.reset();
  upstream_replay_.reset();
  guest_->SetHandler(nullptr);
  upstream_->SetHandler(nullptr);
}

TimePoint ConnectRelay::last_activity() const {
  return inner_ ? inner_->last_activity() : started_;
}

void ConnectRelay::Start() {
  guest_->SetHandler(&guest_end_);
  upstream_->SetHandler(&upstream_end_);
  Step();
}

void ConnectRelay::Step() {
  switch (phase_) {
    case Phase::kProbe:
      Probe();
      break;
    case Phase::kProxyAnswer:
      ProxyAnswer();
      break;
    case Phase::kHello:
      Hello();
      break;
    case Phase::kInner:
    case Phase::kDone:
      break;
  }
}

bool ConnectRelay::FlushTo(ByteStream* to, std::string* out, size_t* off) {
  while (*off < out->size()) {
    size_t n = to->Write({reinterpret_cast<const uint8_t*>(out->data()) + *off,
                          std::min(out->size() - *off, to->WriteSpace())});
    if (n == 0) {
      break;
    }
    *off += n;
  }
  to->Flush();
  return *off == out->size();
}

void ConnectRelay::Probe() {
  if (guest_buf_.empty() && upstream_->ReadableBytes() > 0) {
    Splice({}, {});  // the server speaks first: not a proxy conversation
    return;
  }
  Drain(guest_, &guest_buf_, kMaxConnectHead + 1);
  if (guest_buf_.empty()) {
    if (guest_->ReadEof()) {
      Splice({}, {});
    }
    return;
  }
  size_t n = std::min(guest_buf_.size(), kConnect.size());
  for (size_t i = 0; i < n; ++i) {
    if (std::toupper(guest_buf_[i]) != kConnect[i]) {
      NotConnect();
      return;
    }
  }
  if (guest_buf_.size() < kConnect.size()) {
    return;
  }
  http::FeedResult r = request_parser_.Feed(guest_buf_);
  if (r.status == http::FeedStatus::kError) {
    Refuse(CloseReason::kHttpRefused, 0, http::H1ErrorName(r.error));
    return;
  }
  if (r.status != http::FeedStatus::kTunnel || !head_.request) {
    if (guest_buf_.size() > kMaxConnectHead) {
      Refuse(CloseReason::kHttpRefused, 0, "head_too_large");
    }
    return;  // more of the head to come
  }
  const http::RequestHead& req = *head_.request;
  std::string_view authority = req.authority;
  size_t colon = authority.rfind(':');
  auto port = colon == std::string_view::npos ? std::nullopt
                                              : ParseUint(authority.substr(colon + 1), 1, 65535);
  auto host = port ? certs::ParseServerName(authority.substr(0, colon))
                   : Result<certs::ServerName>(Status::Error("no port"));
  if (!port || !host.ok()) {
    Refuse(CloseReason::kHttpRefused, 0, "bad_connect_target");
    return;
  }
  target_host_ = host.value().text;
  target_is_ip_ = host.value().is_ip();
  if (target_is_ip_) {
    target_ip_ = *host.value().ip;
  }
  target_port_ = static_cast<uint16_t>(*port);
  // The CONNECT goes on re-serialised from its parsed fields; what followed it stays queued.
  if (!http::AppendRequestHead(req, &to_proxy_) || !response_parser_.ExpectResponseTo("CONNECT")) {
    Refuse(CloseReason::kHttpRefused, 0, "unserializable_request");
    return;
  }
  guest_buf_.erase(guest_buf_.begin(),
                   guest_buf_.begin() + static_cast<std::ptrdiff_t>(r.consumed));
  phase_ = Phase::kProxyAnswer;
  ProxyAnswer();
}

void ConnectRelay::NotConnect() {
  if (ctx_.secrets != nullptr) {
    // With secrets, plain HTTP is inspected (plain_http_relay.h); anything else is spliced.
    std::optional<bool> http = PlainHttpRelay::LooksLikeHttpRequest(guest_buf_);
    if (!http && !guest_->ReadEof()) {
      return;  // too few bytes to tell
    }
    if (http.value_or(false)) {
      guest_->SetHandler(nullptr);
      upstream_->SetHandler(nullptr);
      guest_replay_ = std::make_unique<PrefixedStream>(guest_, std::move(guest_buf_));
      phase_ = Phase::kInner;
      inner_ = std::make_unique<PlainHttpRelay>(ctx_, flow_, guest_replay_.get(), upstream_,
                                                static_cast<RelayObserver*>(this));
      inner_->Start();
      return;
    }
  }
  Splice(std::move(guest_buf_), {});  // anything but CONNECT: spliced as it is
}

void ConnectRelay::ProxyAnswer() {
  FlushTo(upstream_, &to_proxy_, &to_proxy_off_);
  Drain(upstream_, &proxy_buf_, kMaxProxyResponseHead + 1);
  if (proxy_buf_.empty()) {
    if (upstream_->ReadEof()) {
      Done(CloseReason::kClosed);
    }
    return;
  }
  http::FeedResult r = response_parser_.Feed(proxy_buf_);
  if (r.status == http::FeedStatus::kError) {
    Audit("bad_proxy_answer", http::H1ErrorName(r.error));
    Done(CloseReason::kHttpBadResponse);
    return;
  }
  if (!head_.response || head_.response->interim) {
    if (proxy_buf_.size() > kMaxProxyResponseHead) {
      Audit("bad_proxy_answer", "head_too_large");
      Done(CloseReason::kHttpBadResponse);
    }
    head_.response.reset();
    return;
  }
  const http::ResponseHead& resp = *head_.response;
  bool intercept = ctx_.intercept->IsInterceptedPort(target_port_);
  if (!resp.starts_tunnel || r.consumed != proxy_buf_.size()) {
    // Refused by the proxy (or it spoke first inside the tunnel): its answer goes to the guest as
    // it came and the rest is spliced; nothing was intercepted.
    Audit(resp.starts_tunnel ? "splice" : "proxy_refused", std::to_string(resp.status));
    Splice(std::move(guest_buf_), std::move(proxy_buf_));
    return;
  }
  std::string answer;
  if (!http::AppendResponseHead(resp, &answer)) {
    Done(CloseReason::kHttpBadResponse);
    return;
  }
  if (!intercept) {
    Audit("splice", std::to_string(resp.status));
    Splice(std::move(guest_buf_), std::vector<uint8_t>(answer.begin(), answer.end()));
    return;
  }
  Audit("intercept", std::to_string(resp.status));
  answer_ = std::move(answer);
  phase_ = Phase::kHello;
  // Policy judges the inner flow at the target: its address when the CONNECT named one, else the
  // proxy's (the only address the guest reached), with the SNI held to the CONNECT host.
  gate_ = std::make_unique<HelloGate>(
      ctx_, flow_, target_is_ip_ ? target_ip_ : proxy_.ip, target_port_,
      target_is_ip_ ? std::nullopt : std::optional<std::string>(target_host_));
  guest_replay_ = std::make_unique<PrefixedStream>(guest_, std::move(guest_buf_));
  guest_replay_->SetHandler(&guest_end_);
  timer_ = ctx_.loop->AddTimer(ctx_.intercept->options().hello_timeout, [this] {
    timer_ = 0;
    if (phase_ == Phase::kHello) {
      HelloVerdict v = gate_->Timeout();
      Refuse(v.reason, 0, "");
    }
  });
  Hello();
}

void ConnectRelay::Hello() {
  if (!FlushTo(guest_, &answer_, &answer_off_)) {
    return;  // the guest gets the proxy's 200 before anything else
  }
  HelloVerdict v = gate_->Read(guest_replay_.get());
  if (v.kind == HelloVerdict::Kind::kNeedMore) {
    return;
  }
  if (timer_ != 0) {
    ctx_.loop->CancelTimer(timer_);
    timer_ = 0;
  }
  std::vector<uint8_t> hello = gate_->TakeBytes();
  if (v.kind == HelloVerdict::Kind::kRefuse) {
    Refuse(v.reason, v.alert, "");
    return;
  }
  guest_replay_.reset();
  if (v.kind == HelloVerdict::Kind::kBypass) {
    Splice(std::move(hello), {});
    return;
  }
  guest_replay_ = std::make_unique<PrefixedStream>(guest_, std::move(hello));
  InterceptTarget target{v.name, v.had_sni, v.alpn, target_port_, /*via_connect=*/true};
  phase_ = Phase::kInner;
  inner_ =
      std::make_unique<InterceptRelay>(ctx_, ctx_.intercept, flow_, guest_replay_.get(), upstream_,
                                       std::move(target), static_cast<RelayObserver*>(this));
  inner_->Start();
}

void ConnectRelay::Splice(std::vector<uint8_t> guest_prefix, std::vector<uint8_t> upstream_prefix) {
  guest_replay_.reset();
  guest_->SetHandler(nullptr);
  upstream_->SetHandler(nullptr);
  ByteStream* g = guest_;
  ByteStream* u = upstream_;
  if (!guest_prefix.empty()) {
    guest_replay_ = std::make_unique<PrefixedStream>(guest_, std::move(guest_prefix));
    g = guest_replay_.get();
  }
  if (!upstream_prefix.empty()) {
    upstream_replay_ = std::make_unique<PrefixedStream>(upstream_, std::move(upstream_prefix));
    u = upstream_replay_.get();
  }
  if (!to_proxy_.empty() && to_proxy_off_ < to_proxy_.size()) {
    FlushTo(upstream_, &to_proxy_, &to_proxy_off_);
  }
  phase_ = Phase::kInner;
  inner_ = std::make_unique<SpliceRelay>(g, u, ctx_.clock(), static_cast<RelayObserver*>(this));
  inner_->Start();
}

void ConnectRelay::Refuse(CloseReason reason, uint8_t alert, std::string_view http_error) {
  while (guest_->ReadableBytes() > 0) {
    guest_->Consume(guest_->Peek().size());
  }
  std::string out;
  if (!http_error.empty()) {
    Audit("refused", http_error);
    out = http::SimpleResponse(
        400, "Bad Request", "msb-gateway: bad CONNECT request (" + std::string(http_error) + ")\n");
  } else if (alert != 0) {
    auto record = tls::AlertRecord(alert);
    out.assign(record.begin(), record.end());
  }
  size_t off = 0;
  FlushTo(guest_, &out, &off);
  guest_->ShutdownWrite();
  guest_->Flush();
  Done(reason);
}

void ConnectRelay::OnGone(bool is_guest, bool reset) {
  if (phase_ == Phase::kDone || phase_ == Phase::kInner) {
    return;
  }
  Done(reset ? (is_guest ? CloseReason::kGuestReset : CloseReason::kUpstreamReset)
             : CloseReason::kClosed);
}

void ConnectRelay::Done(CloseReason reason) {
  if (phase_ == Phase::kDone) {
    return;
  }
  phase_ = Phase::kDone;
  if (timer_ != 0) {
    ctx_.loop->CancelTimer(timer_);
    timer_ = 0;
  }
  guest_->SetHandler(nullptr);
  upstream_->SetHandler(nullptr);
  observer_->OnRelayDone(reason);
}

void ConnectRelay::Audit(std::string_view result, std::string_view detail) {
  AuditRecord rec("http.connect");
  rec.Flow(flow_);
  JsonWriter& j = rec.json();
  if (!target_host_.empty()) {
    j.Str("target", target_host_ + ":" + std::to_string(target_port_));
  } else {
    j.Null("target");
  }
  j.Str("result", result);
  if (!detail.empty()) {
    j.Str(result == "refused" || result == "bad_proxy_answer" ? "detail" : "status", detail);
  }
  ctx_.audit->Emit(std::move(rec));
}

}  // namespace msb::gateway
