// InterceptRelay: upstream TLS, then guest TLS, then HTTP inspection (see intercept_relay.h).
#include "gateway/intercept_relay.h"

#include <openssl/ssl.h>

#include "certs/verify_failure.h"
#include "gateway/http/h1_relay.h"
#include "gateway/http/h2_relay.h"
#include "gateway/http_audit.h"
#include "gateway/secrets_runtime.h"
#include "gateway/tls/client_hello.h"

namespace msb::gateway {
namespace {

// An established tunnel idle this long gives its TLS buffers back (about 34 KiB per leg; OpenSSL
// allocates them again with the next record), checked every kIdleCheck.
constexpr Duration kIdleRelease = std::chrono::seconds(2);
constexpr Duration kIdleCheck = std::chrono::seconds(5);

// TLS alert descriptions (RFC 8446 6).
constexpr uint8_t kAlertHandshakeFailure = 40;
constexpr uint8_t kAlertInternalError = 80;

std::string_view VersionName(const SSL* ssl) {
  switch (SSL_version(ssl)) {
    case TLS1_3_VERSION:
      return "TLSv1.3";
    case TLS1_2_VERSION:
      return "TLSv1.2";
    default:
      return "other";
  }
}

}  // namespace

InterceptRelay::InterceptRelay(const SessionContext& ctx, tls::InterceptContext* tls,
                               const AuditFlow& flow, ByteStream* guest, ByteStream* upstream,
                               InterceptTarget target, RelayObserver* observer)
    : ctx_(ctx),
      tls_(tls),
      flow_(flow),
      guest_raw_(guest),
      upstream_raw_(upstream),
      target_(std::move(target)),
      observer_(observer) {
  started_ = ctx_.clock().Now();
}

InterceptRelay::~InterceptRelay() {
  for (TimerId t : {timer_, idle_check_}) {
    if (t != 0) {
      ctx_.loop->CancelTimer(t);
    }
  }
  done_ = true;
  http_.reset();  // first: it borrows the TLS streams and may still report exchanges
  guest_tls_.reset();
  upstream_tls_.reset();
}

TimePoint InterceptRelay::last_activity() const {
  return http_ ? http_->last_activity() : stage_started_;
}

void InterceptRelay::Start() {
  stage_started_ = ctx_.clock().Now();
  auto ssl = tls_->NewUpstreamSsl(target_.name, target_.alpn);
  if (!ssl.ok()) {
    EmitTls("tls.upstream", "error", nullptr, ssl.error());
    AlertGuestAndFail(kAlertInternalError, CloseReason::kUpstreamTlsFailed);
    return;
  }
  upstream_tls_ =
      std::make_unique<tls::TlsStream>(upstream_raw_, std::move(ssl).value(), &upstream_leg_);
  timer_ = ctx_.loop->AddTimer(tls_->options().handshake_timeout, [this] {
    timer_ = 0;
    OnHandshakeTimeout();
  });
  upstream_tls_->StartHandshake();
}

void InterceptRelay::OnHandshakeTimeout() {
  if (done_) {
    return;
  }
  bool guest_stage = guest_tls_ != nullptr;
  EmitTls(guest_stage ? "tls.guest" : "tls.upstream", "timeout",
          guest_stage ? guest_tls_.get() : upstream_tls_.get(), "handshake timed out");
  if (guest_stage) {
    Done(CloseReason::kGuestTlsFailed);
  } else {
    AlertGuestAndFail(kAlertHandshakeFailure, CloseReason::kUpstreamTlsFailed);
  }
}

void InterceptRelay::OnHandshakeDone(bool is_guest) {
  if (done_) {
    return;
  }
  if (!is_guest) {
    alpn_ = upstream_tls_->alpn();
    EmitTls("tls.upstream", "ok", upstream_tls_.get(), "");
    StartGuestHandshake();
    return;
  }
  if (timer_ != 0) {
    ctx_.loop->CancelTimer(timer_);
    timer_ = 0;
  }
  EmitTls("tls.guest", "ok", guest_tls_.get(), "");
  StartHttp();
}

void InterceptRelay::OnHandshakeFailed(bool is_guest, const tls::TlsFailure& failure) {
  if (done_) {
    return;
  }
  if (is_guest) {
    // Typically the guest does not trust the intercepting CA ("tlsv1 alert unknown ca"): the
    // detail says so in the audit.
    EmitTls("tls.guest", failure.lower_closed ? "closed" : "failed", guest_tls_.get(),
            failure.detail);
    Done(CloseReason::kGuestTlsFailed);
    return;
  }
  std::string_view result = "failed";
  if (failure.verify_result != X509_V_OK) {
    result = certs::VerifyFailureName(certs::ClassifyVerifyResult(failure.verify_result));
  } else if (failure.lower_closed) {
    result = "closed";
  } else if (failure.peer_alert) {
    result = "alert";
  }
  EmitTls("tls.upstream", result, upstream_tls_.get(), failure.detail);
  AlertGuestAndFail(kAlertHandshakeFailure, CloseReason::kUpstreamTlsFailed);
}

void InterceptRelay::StartGuestHandshake() {
  stage_started_ = ctx_.clock().Now();
  auto ssl = tls_->NewGuestSsl(target_.name, alpn_);
  if (!ssl.ok()) {
    EmitTls("tls.guest", "error", nullptr, ssl.error());
    AlertGuestAndFail(kAlertInternalError, CloseReason::kGuestTlsFailed);
    return;
  }
  guest_tls_ = std::make_unique<tls::TlsStream>(guest_raw_, std::move(ssl).value(), &guest_leg_);
  guest_tls_->StartHandshake();  // the replayed ClientHello is read at once
}

void InterceptRelay::StartHttp() {
  http::ExpectedAuthority expected{target_.name.text, target_.port, target_.name.is_ip()};
  secrets_ = gateway::MakeSecretGuard(ctx_, flow_, target_.name.text, /*tls_intercepted=*/true,
                                      target_.via_connect, this);
  if (alpn_ == "h2") {
    auto r = http::H2Relay::Create(
        guest_tls_.get(), upstream_tls_.get(), ctx_.clock(), static_cast<RelayObserver*>(this),
        static_cast<http::ExchangeObserver*>(this), expected, secrets_.get());
    if (!r.ok()) {
      Done(CloseReason::kTlsError);
      return;
    }
    http_ = std::move(r).value();
  } else {
    http_ = std::make_unique<http::H1Relay>(
        guest_tls_.get(), upstream_tls_.get(), ctx_.clock(), static_cast<RelayObserver*>(this),
        static_cast<http::ExchangeObserver*>(this), expected, secrets_.get());
  }
  http_->Start();
  ArmIdleCheck();
}

void InterceptRelay::ArmIdleCheck() {
  idle_check_ = ctx_.loop->AddTimer(kIdleCheck, [this] {
    idle_check_ = 0;
    if (done_ || http_ == nullptr) {
      return;
    }
    if (ctx_.clock().Now() - http_->last_activity() >= kIdleRelease) {
      guest_tls_->ReleaseIdleBuffers();
      upstream_tls_->ReleaseIdleBuffers();
    }
    ArmIdleCheck();
  });
}

void InterceptRelay::AlertGuestAndFail(uint8_t alert, CloseReason reason) {
  // No SSL object has answered the guest yet: a plaintext fatal alert tells its TLS stack at
  // once (curl: "tlsv1 alert handshake failure") instead of a bare close.
  auto record = tls::AlertRecord(alert);
  while (guest_raw_->ReadableBytes() > 0) {
    guest_raw_->Consume(guest_raw_->Peek().size());  // nothing unread: close with FIN, not RST
  }
  guest_raw_->Write(record);
  guest_raw_->ShutdownWrite();
  guest_raw_->Flush();
  Done(reason);
}

void InterceptRelay::OnRelayDone(CloseReason reason) {
  if (reason == CloseReason::kGuestReset || reason == CloseReason::kUpstreamReset) {
    // A TLS failure inside an open tunnel reaches the HTTP relay as a reset of that side.
    const tls::TlsStream* s =
        reason == CloseReason::kGuestReset ? guest_tls_.get() : upstream_tls_.get();
    if (s != nullptr && !s->failure().detail.empty() && !s->failure().lower_closed) {
      reason = CloseReason::kTlsError;
    }
  } else if (reason == CloseReason::kClosed) {
    for (tls::TlsStream* s : {guest_tls_.get(), upstream_tls_.get()}) {
      if (!s->write_shut()) {
        s->ShutdownWrite();  // close_notify, then FIN
      }
    }
  }
  Done(reason);
}

void InterceptRelay::OnExchange(const http::HttpExchange& e) {
  AuditHttpExchange(ctx_.audit, flow_, e);
}

void InterceptRelay::OnSecretViolation(const secrets::Violation& violation,
                                       const http::ViolationSite& site) {
  ctx_.secrets->OnViolation(violation, site, target_.name.text, flow_);
}

void InterceptRelay::Done(CloseReason reason) {
  if (done_) {
    return;
  }
  done_ = true;
  for (TimerId* t : {&timer_, &idle_check_}) {
    if (*t != 0) {
      ctx_.loop->CancelTimer(*t);
      *t = 0;
    }
  }
  observer_->OnRelayDone(reason);
}

void InterceptRelay::EmitTls(std::string_view event, std::string_view result,
                             const tls::TlsStream* stream, std::string_view detail) {
  AuditRecord rec(event);
  rec.Flow(flow_);
  JsonWriter& j = rec.json();
  j.Str("result", result);
  if (target_.had_sni) {
    j.Str("sni", target_.name.text);
  } else {
    j.Null("sni");
  }
  if (!detail.empty()) {
    j.Str("detail", detail);
  }
  if (stream != nullptr && result == "ok") {
    j.Str("version", VersionName(stream->ssl()));
    j.Str("alpn", stream->alpn());
    j.Str("cipher", SSL_get_cipher_name(stream->ssl()));
    j.Bool("resumed", SSL_session_reused(stream->ssl()) == 1);
  }
  if (event == "tls.upstream") {
    auto trust = tls_->verifier().For(target_.name);
    j.Bool("verify", trust.verify);
  }
  j.Int("ms", ToMillis(ctx_.clock().Now() - stage_started_));
  ctx_.audit->Emit(std::move(rec));
}

}  // namespace msb::gateway
