// H2Relay: HTTP/2 between the guest and the upstream inside an intercepted TLS tunnel whose ALPN
// chose h2, over the sans-I/O H2Proxy (h2_proxy.h: stream for stream, flow control on both legs,
// trailers, resets). This class only moves bytes between the two plaintext streams and the
// proxy, and judges each request: its :authority and every host header must name the tunnel's
// host, else the stream is answered 421 and nothing of it goes upstream (the connection stays
// usable for the other streams). Output is taken from the proxy only as the destination stream
// has room, which is what keeps the proxy's windows (and so memory) bounded. One HttpExchange per
// stream goes to the ExchangeObserver.
//
// Secrets (an optional SecretGuard, secret_guard.h): the proxy substitutes placeholders of
// eligible secrets in request headers, the :path query, Basic credentials, trailers and bodies,
// and scrubs values out of responses (h2_proxy.h, "Secrets", has the details). A stream holding
// an ineligible placeholder is refused with `403` + `x-msb-blocked: secret ENV not allowed for
// HOST (LOCATION, FORM)` and END_STREAM, not with RST_STREAM as the issue sketched: an agent can
// read a 403 and its reason, while REFUSED_STREAM would be retried by clients (a refusal loop)
// and PROTOCOL_ERROR blames the guest for breaking HTTP/2, which it did not. Only when the guest
// keeps sending DATA after the 403 does it get RST_STREAM(NO_ERROR) (RFC 9113 8.1), and only when
// a response head already went to it (a violation late in the body) RST_STREAM(CANCEL). The
// exchange then has refused "secret_violation" and blocked_secret set; every exchange lists
// the secrets substituted in it (secrets_injected).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "gateway/core/byte_stream.h"
#include "gateway/core/relay.h"
#include "gateway/http/authority.h"
#include "gateway/http/exchange.h"
#include "gateway/http/h2_proxy.h"
#include "gateway/http/secret_guard.h"

namespace msb::gateway::http {

class H2Relay final : public Relay, private H2Proxy::Delegate {
 public:
  // Create fails only when the proxy cannot be created. Pointers are borrowed (see H1Relay);
  // `secrets` (nullptr: no secret work) must outlive the relay.
  static Result<std::unique_ptr<H2Relay>> Create(ByteStream* guest, ByteStream* upstream,
                                                 const Clock& clock, RelayObserver* observer,
                                                 ExchangeObserver* exchanges,
                                                 ExpectedAuthority expected,
                                                 SecretGuard* secrets = nullptr);
  ~H2Relay() override;
  H2Relay(const H2Relay&) = delete;
  H2Relay& operator=(const H2Relay&) = delete;

  void Start() override;
  uint64_t bytes_up() const override { return bytes_up_; }
  uint64_t bytes_down() const override { return bytes_down_; }
  TimePoint last_activity() const override { return last_activity_; }

 private:
  class End final : public StreamHandler {
   public:
    End(H2Relay* relay, bool is_guest) : relay_(relay), is_guest_(is_guest) {}
    void OnStreamReadable() override { relay_->Pump(); }
    void OnStreamWritable() override { relay_->Pump(); }
    void OnStreamGone(bool reset) override { relay_->OnGone(is_guest_, reset); }

   private:
    H2Relay* relay_;
    bool is_guest_;
  };

  H2Relay(ByteStream* guest, ByteStream* upstream, const Clock& clock, RelayObserver* observer,
          ExchangeObserver* exchanges, ExpectedAuthority expected);
  H2Verdict OnRequest(const H2RequestHead& head) override;
  void OnStreamClosed(const H2StreamSummary& summary) override;

  void Pump();
  bool PumpOnce();
  bool Feed(ByteStream* from, bool guest_leg);
  bool Drain(ByteStream* to, bool guest_leg, std::string* pending, size_t* off);
  void OnGone(bool is_guest, bool reset);
  void Done(CloseReason reason);

  ByteStream* guest_;
  ByteStream* upstream_;
  const Clock& clock_;
  RelayObserver* observer_;
  ExchangeObserver* exchanges_;
  ExpectedAuthority expected_;
  std::unique_ptr<H2Proxy> proxy_;
  End guest_end_{this, true};
  End upstream_end_{this, false};
  std::string to_guest_;  // taken from the proxy, not yet accepted by the guest stream
  size_t to_guest_off_ = 0;
  std::string to_upstream_;
  size_t to_upstream_off_ = 0;
  std::unordered_map<int32_t, TimePoint> started_;  // guest stream id -> request time
  std::unordered_map<int32_t, std::string> refused_;
  bool guest_eof_ = false;
  bool upstream_eof_ = false;
  bool guest_failed_ = false;
  uint64_t bytes_up_ = 0;
  uint64_t bytes_down_ = 0;
  TimePoint last_activity_;
  bool done_ = false;
  bool pumping_ = false;
  bool pump_again_ = false;
};

}  // namespace msb::gateway::http
