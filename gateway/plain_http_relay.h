// PlainHttpRelay: a plain-HTTP (not TLS) connection when secrets are configured. Without TLS
// there is no verified server identity, so a secret is substituted here only when it opts out of
// require_tls_identity (and its host and the pin gate hold for the Host the request names);
// every other secret's placeholder is detected as on intercepted connections, so the violation
// action applies to hosts a secret is not bound to, while an allowed host gets the placeholder
// unchanged (docs/secrets.md). The HTTP runs through H1Relay's plain mode: strict framing,
// re-serialised heads, each request judged by its own Host (a plain forward proxy's keep-alive
// connection may carry several hosts).
#pragma once

#include <memory>

#include "gateway/core/audit_log.h"
#include "gateway/core/relay.h"
#include "gateway/core/session_context.h"
#include "gateway/http/exchange.h"
#include "gateway/http/h1_relay.h"
#include "gateway/http/secret_guard.h"

namespace msb::gateway {

class PlainHttpRelay final : public Relay,
                             private RelayObserver,
                             private http::ExchangeObserver,
                             private http::SecretEvents {
 public:
  // `guest` and `upstream` are borrowed (the guest's stream may replay sniffed bytes).
  PlainHttpRelay(const SessionContext& ctx, const AuditFlow& flow, ByteStream* guest,
                 ByteStream* upstream, RelayObserver* observer);

  void Start() override { http_->Start(); }
  uint64_t bytes_up() const override { return http_->bytes_up(); }
  uint64_t bytes_down() const override { return http_->bytes_down(); }
  TimePoint last_activity() const override { return http_->last_activity(); }

  // LooksLikeHttpRequest: `prefix` starts with a request method that plain HTTP clients send
  // (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS) and a space; nullopt while too short to tell.
  static std::optional<bool> LooksLikeHttpRequest(std::span<const uint8_t> prefix);

 private:
  void OnRelayDone(CloseReason reason) override { observer_->OnRelayDone(reason); }
  void OnExchange(const http::HttpExchange& exchange) override;
  void OnSecretViolation(const secrets::Violation& violation,
                         const http::ViolationSite& site) override;

  SessionContext ctx_;
  AuditFlow flow_;
  RelayObserver* observer_;
  std::unique_ptr<http::H1Relay> http_;
};

}  // namespace msb::gateway
