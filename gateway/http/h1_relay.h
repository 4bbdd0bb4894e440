// H1Relay: HTTP/1.1 between the guest and the upstream inside an intercepted TLS tunnel. Every
// request is parsed strictly (h1_parser.h), must name the tunnel's host (authority.h), and is
// re-serialised from its parsed fields before anything goes upstream, so bytes one side could
// read differently never pass (smuggling). Bodies stream as they arrive, re-chunked when chunked:
// a server-sent-events response or a 256 MiB upload passes through a buffer of bounded size
// (kMaxPending per direction), never held whole. Keep-alive, pipelining (responses matched to
// requests in order), Expect: 100-continue and interim responses work as in a plain connection; a
// 101 (WebSocket) or a 2xx to CONNECT turns the rest of the connection into a blind splice.
//
// A request that names another host, or that breaks HTTP/1.1 framing, is answered by the gateway
// (421 Misdirected Request / 400 Bad Request, after the responses to earlier requests) and the
// connection is closed; nothing of it reaches the upstream. A response that breaks framing, or
// that the upstream truncates, resets the guest: it must not mistake a cut response for a whole
// one. One HttpExchange per request goes to the ExchangeObserver.
//
// With a SecretGuard (secret injection, docs/secrets.md; h1_relay_secrets.cc): each request head
// is rewritten (header values, Basic credentials, the query) before it is serialised; a request
// carrying a placeholder it may not carry is answered 403 with `x-msb-blocked` by the gateway, in
// order, and nothing of it goes upstream (its body is read and dropped; the connection stays
// usable). Bodies of body-scope secrets stream through a BodyRewriter: a Content-Length body up
// to kMaxHeldBody is held whole so its new length can be written (and a violation in it refused
// before anything is sent); a longer one is re-framed as chunked when it may change length;
// chunked bodies are re-chunked. A compressed body is scanned through a ContentDecoder and goes
// upstream byte-exact, or is refused when it holds an eligible placeholder the gateway cannot
// substitute inside it. Responses are scrubbed of real values on connections where a secret was
// eligible (a Content-Length body up to kMaxHeldResponse is held to rewrite its length, longer
// ones are re-chunked).
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/core/byte_stream.h"
#include "gateway/core/relay.h"
#include "gateway/http/authority.h"
#include "gateway/http/content_decoder.h"
#include "gateway/http/exchange.h"
#include "gateway/http/h1_parser.h"
#include "gateway/http/secret_guard.h"

namespace msb::gateway::http {

class H1Relay final : public Relay {
 public:
  static constexpr size_t kMaxPending = 64 * 1024;  // serialised bytes waiting for one side
  static constexpr uint64_t kMaxHeldBody = 4 * 1024 * 1024;  // request, secrets only
  static constexpr uint64_t kMaxHeldResponse = 1024 * 1024;  // response, secrets only

  // Every pointer is borrowed and must outlive the relay. `guest` and `upstream` are plaintext
  // streams (the TLS layers); the relay installs itself as their handler. `secrets` may be null.
  H1Relay(ByteStream* guest, ByteStream* upstream, const Clock& clock, RelayObserver* observer,
          ExchangeObserver* exchanges, ExpectedAuthority expected, SecretGuard* secrets = nullptr);

  // Plain HTTP (no TLS, so no SNI to hold requests to): every request may name its own host, and
  // `guard_for` makes the SecretGuard for the host it names (null: no secret work for it). The
  // relay keeps each guard until the next request; responses are scrubbed once some secret was
  // eligible on the connection.
  using GuardFactory = std::function<std::unique_ptr<SecretGuard>(std::string_view host)>;
  static std::unique_ptr<H1Relay> Plain(ByteStream* guest, ByteStream* upstream, const Clock& clock,
                                        RelayObserver* observer, ExchangeObserver* exchanges,
                                        GuardFactory guard_for);
  ~H1Relay() override;
  H1Relay(const H1Relay&) = delete;
  H1Relay& operator=(const H1Relay&) = delete;

  void Start() override;
  uint64_t bytes_up() const override { return bytes_up_; }
  uint64_t bytes_down() const override { return bytes_down_; }
  TimePoint last_activity() const override { return last_activity_; }

 private:
  class End final : public StreamHandler {
   public:
    End(H1Relay* relay, bool is_guest) : relay_(relay), is_guest_(is_guest) {}
    void OnStreamReadable() override { relay_->Pump(); }
    void OnStreamWritable() override { relay_->Pump(); }
    void OnStreamGone(bool reset) override { relay_->OnGone(is_guest_, reset); }

   private:
    H1Relay* relay_;
    bool is_guest_;
  };
  class RequestEvents final : public H1Events {
   public:
    explicit RequestEvents(H1Relay* relay) : relay_(relay) {}
    void OnRequestHead(RequestHead&& head) override { relay_->OnRequestHead(std::move(head)); }
    void OnBody(std::span<const uint8_t> data) override { relay_->OnRequestBody(data); }
    void OnTrailers(std::vector<Header>&& t) override { relay_->request_trailers_ = std::move(t); }
    void OnMessageEnd() override { relay_->OnRequestEnd(); }

   private:
    H1Relay* relay_;
  };
  class ResponseEvents final : public H1Events {
   public:
    explicit ResponseEvents(H1Relay* relay) : relay_(relay) {}
    void OnResponseHead(ResponseHead&& head) override { relay_->OnResponseHead(std::move(head)); }
    void OnBody(std::span<const uint8_t> data) override { relay_->OnResponseBody(data); }
    void OnTrailers(std::vector<Header>&& t) override { relay_->response_trailers_ = std::move(t); }
    void OnMessageEnd() override { relay_->OnResponseEnd(); }

   private:
    H1Relay* relay_;
  };
  struct Pending {
    HttpExchange exchange;
    TimePoint started;
    // A request the gateway answers itself (a secret violation): `local_response` goes to the
    // guest when every earlier response has; nothing of the request went upstream.
    bool local = false;
    std::string local_response;
    uint8_t request_minor = 1;
  };
  // Why the relay stopped taking requests from the guest.
  enum class Refusal : uint8_t { kNone, kMisdirected, kBadRequest, kSecretBlocked };

  void Pump();
  void PumpOnce();
  void FeedRequests();
  void FeedResponses();
  void SpliceTunnel();
  void ShutdownsIfDue();
  bool Flush(std::string* out, size_t* off, ByteStream* to);
  void MaybeFinish();
  void OnGone(bool is_guest, bool reset);
  void Done(CloseReason reason);

  void OnRequestHead(RequestHead&& head);
  void OnRequestBody(std::span<const uint8_t> data);
  void OnRequestEnd();
  void OnResponseHead(ResponseHead&& head);
  void OnResponseBody(std::span<const uint8_t> data);
  void OnResponseEnd();
  void Refuse(Refusal why, std::string reason, const std::string& authority,
              const std::string& method, std::string path);
  void EmitRefusalResponse();
  void EmitPendingAsClosed();

  // Secrets (h1_relay_secrets.cc).
  bool SecretsActive() const { return secrets_ != nullptr && !secrets_->plan().inert(); }
  // Rewrites `head`; false when the request was blocked (answered locally, body to be dropped).
  bool FilterRequestHead(RequestHead& head, Pending& p);
  void BlockRequest(Pending p, const secrets::Violation& v, std::string_view why, bool has_body);
  void EmitLocalResponses();
  // Where a request body's bytes go once rewritten: held, chunked or as is.
  void EmitRequestBody(std::span<const uint8_t> data);
  void OnRequestBodySecrets(std::span<const uint8_t> data);
  bool FinishRequestBodySecrets();
  void FailRequestBody(const secrets::Violation* v, std::string_view why);
  void ReleaseHeldAsChunked();
  // SendHeldHead serialises a held request's head; false (and the request refused) when it
  // cannot be written.
  bool SendHeldHead(const RequestHead& head);
  void ResetRequestBodyState();
  void FilterResponseHead(ResponseHead& head);
  void EmitResponseBody(std::span<const uint8_t> data);
  bool FinishResponseBody();

  ByteStream* guest_;
  ByteStream* upstream_;
  const Clock& clock_;
  RelayObserver* observer_;
  ExchangeObserver* exchanges_;
  ExpectedAuthority expected_;
  SecretGuard* secrets_;
  GuardFactory guard_for_;                                   // plain HTTP only
  std::unique_ptr<SecretGuard> plain_guard_;                 // plain HTTP: the current request's
  std::optional<secrets::ResponseScrubber> plain_scrubber_;  // plain HTTP, once one was eligible
  // The scrubber responses go through (null: none).
  secrets::ResponseScrubber* Scrubber() {
    if (guard_for_) {
      return plain_scrubber_ ? &*plain_scrubber_ : nullptr;
    }
    return secrets_ != nullptr ? secrets_->scrubber() : nullptr;
  }
  End guest_end_{this, true};
  End upstream_end_{this, false};
  RequestEvents request_events_{this};
  ResponseEvents response_events_{this};
  H1Parser requests_{H1Parser::Kind::kRequest, &request_events_};
  H1Parser responses_{H1Parser::Kind::kResponse, &response_events_};
  std::string up_out_;  // serialised for the upstream, from up_off_ on unsent
  size_t up_off_ = 0;
  std::string down_out_;  // serialised for the guest
  size_t down_off_ = 0;
  std::deque<Pending> pending_;  // forwarded requests awaiting their final response
  bool request_chunked_ = false;
  bool in_request_body_ = false;  // a forwarded request's body is still arriving
  bool response_chunked_ = false;
  std::vector<Header> request_trailers_;
  std::vector<Header> response_trailers_;
  Refusal refusal_ = Refusal::kNone;
  std::string refusal_text_;
  std::string refusal_header_;                    // kSecretBlocked: the x-msb-blocked value
  std::optional<HttpExchange> deferred_refusal_;  // reported after the earlier exchanges
  bool refusal_sent_ = false;
  bool requests_over_ = false;   // no more requests will be read (close, EOF, refusal, tunnel)
  bool responses_over_ = false;  // no more responses will be read
  bool awaiting_upgrade_ = false;
  bool tunnel_ = false;
  bool bad_response_ = false;
  uint64_t bytes_up_ = 0;
  uint64_t bytes_down_ = 0;
  TimePoint last_activity_;
  bool done_ = false;
  bool pumping_ = false;
  bool pump_again_ = false;

  // Secrets: the request body in progress.
  bool drop_body_ = false;  // the request was blocked: its body is read and dropped
  std::unique_ptr<secrets::BodyRewriter> body_rw_;
  std::unique_ptr<ContentDecoder> body_decoder_;  // a compressed body: scanned, sent as is
  std::optional<RequestHead> held_head_;  // holding a Content-Length body to rewrite its length
  std::string held_body_;
  // Secrets: the response in progress.
  bool scrub_body_ = false;
  std::optional<ResponseHead> held_response_;
  std::string held_response_body_;
};

}  // namespace msb::gateway::http
