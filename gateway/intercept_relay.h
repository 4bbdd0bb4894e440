// InterceptRelay: an intercepted TLS tunnel, once the upstream's TCP connection is up. Upstream
// first: the real server's TLS handshake completes, offering the guest's SNI and its
// inspectable ALPN list, and its certificate is verified, before the guest hears anything; only
// then is the guest answered with a leaf for its name and the protocol the server chose, so an
// h2-only server (gRPC) works and a bad upstream certificate reaches the guest as a TLS alert,
// never as a successful handshake followed by a silent close. After both handshakes the
// plaintext runs through an HTTP relay (H1Relay or H2Relay by ALPN) that holds every request to
// the tunnel's host. Each stage is audited (tls.upstream, tls.guest, http.request).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "certs/server_name.h"
#include "gateway/core/audit_log.h"
#include "gateway/core/relay.h"
#include "gateway/core/session_context.h"
#include "gateway/http/exchange.h"
#include "gateway/http/secret_guard.h"
#include "gateway/tls/intercept_context.h"
#include "gateway/tls/tls_stream.h"

namespace msb::gateway {

struct InterceptTarget {
  certs::ServerName name;  // the SNI, or the dialled IP when the guest sent none
  bool had_sni = false;
  std::vector<std::string> alpn;  // the guest's offer, filtered to what can be inspected
  uint16_t port = 443;
  bool via_connect = false;  // inside a CONNECT tunnel the guest opened to a proxy
};

class InterceptRelay final : public Relay,
                             private RelayObserver,
                             private http::ExchangeObserver,
                             private http::SecretEvents {
 public:
  // `guest` is the guest's raw stream with the sniffed ClientHello replayed in front (a
  // PrefixedStream); `upstream` the connected upstream socket. Both borrowed.
  InterceptRelay(const SessionContext& ctx, tls::InterceptContext* tls, const AuditFlow& flow,
                 ByteStream* guest, ByteStream* upstream, InterceptTarget target,
                 RelayObserver* observer);
  ~InterceptRelay() override;
  InterceptRelay(const InterceptRelay&) = delete;
  InterceptRelay& operator=(const InterceptRelay&) = delete;

  void Start() override;
  uint64_t bytes_up() const override { return http_ ? http_->bytes_up() : 0; }
  uint64_t bytes_down() const override { return http_ ? http_->bytes_down() : 0; }
  TimePoint last_activity() const override;

 private:
  // One observer per handshake, so a callback says which leg it concerns.
  class Leg final : public tls::TlsObserver {
   public:
    Leg(InterceptRelay* relay, bool is_guest) : relay_(relay), is_guest_(is_guest) {}
    void OnTlsHandshakeDone() override { relay_->OnHandshakeDone(is_guest_); }
    void OnTlsFailed(const tls::TlsFailure& f) override { relay_->OnHandshakeFailed(is_guest_, f); }

   private:
    InterceptRelay* relay_;
    bool is_guest_;
  };

  void OnHandshakeDone(bool is_guest);
  void OnHandshakeFailed(bool is_guest, const tls::TlsFailure& failure);
  void OnHandshakeTimeout();
  void ArmIdleCheck();
  void StartGuestHandshake();
  void StartHttp();
  void AlertGuestAndFail(uint8_t alert, CloseReason reason);
  void OnRelayDone(CloseReason reason) override;
  void OnExchange(const http::HttpExchange& exchange) override;
  void OnSecretViolation(const secrets::Violation& violation,
                         const http::ViolationSite& site) override;
  void Done(CloseReason reason);
  void EmitTls(std::string_view event, std::string_view result, const tls::TlsStream* stream,
               std::string_view detail);

  SessionContext ctx_;
  tls::InterceptContext* tls_;
  AuditFlow flow_;
  ByteStream* guest_raw_;
  ByteStream* upstream_raw_;
  InterceptTarget target_;
  RelayObserver* observer_;
  Leg upstream_leg_{this, false};
  Leg guest_leg_{this, true};
  TimePoint started_;
  TimePoint stage_started_;
  TimerId timer_ = 0;
  TimerId idle_check_ = 0;
  std::unique_ptr<tls::TlsStream> upstream_tls_;
  std::unique_ptr<tls::TlsStream> guest_tls_;
  std::unique_ptr<http::SecretGuard> secrets_;  // declared before http_: outlives it
  std::unique_ptr<Relay> http_;
  std::string alpn_;  // what the upstream chose
  bool done_ = false;
};

}  // namespace msb::gateway
