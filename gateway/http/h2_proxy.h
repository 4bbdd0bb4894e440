// H2Proxy: a sans-I/O HTTP/2 proxy for one intercepted TLS connection whose ALPN chose h2. It is
// the HTTP/2 server toward the guest and the HTTP/2 client toward the upstream (two nghttp2
// sessions), and forwards stream for stream: every request head is shown to a Delegate before
// anything of that stream goes upstream; DATA streams through in both directions without waiting
// for END_STREAM; trailers pass both ways. Flow control is end to end: bytes received on one leg
// are only acknowledged to their sender (WINDOW_UPDATE) once the other leg's session has taken
// them for sending, so what the proxy holds is bounded by the windows it advertises, and nothing
// stalls at the default 65,535-byte windows.
//
// The caller owns the transport: it feeds decrypted bytes with FeedFromGuest / FeedFromUpstream,
// and sends what TakeToGuest / TakeToUpstream hand back. Not taking output is the back-pressure:
// the proxy then stops pulling DATA for that leg, and the other leg's windows close.
//
// Behaviour decided here (documented for the lead):
// - Request headers: nghttp2 enforces RFC 9113 section 8 on receive (pseudo-headers, lowercase
//   names, no connection-specific fields, `te` only "trailers"); the proxy also filters those
//   fields on forwarding, in both directions. `host` is never forwarded: upstream gets
//   `:authority` (or, if the guest sent none, the `host` value as `:authority`).
// - kRefuse answers RST_STREAM(PROTOCOL_ERROR): RFC 9113 8.1.1 calls a request malformed when
//   `host` and `:authority` differ, and PROTOCOL_ERROR is not retried automatically by clients,
//   whereas REFUSED_STREAM is (a refusal loop). kMisdirected answers `421 Misdirected Request`
//   (the status for "this connection does not serve that authority"), which browsers retry on a
//   fresh connection. Neither sends anything upstream; the connection stays usable.
// - CONNECT (plain or extended) is not proxied: the proxy answers 405 itself (extended CONNECT is
//   never enabled, so nghttp2 already resets requests carrying `:protocol`).
// - Streams refused for load (max_upstream_streams) or arriving while the connection drains
//   (upstream GOAWAY or EOF, Shutdown) get RST_STREAM(REFUSED_STREAM): safe for clients to retry.
// - RST_STREAM from the guest is forwarded upstream (CANCEL unless the guest gave a code); from
//   the upstream it is forwarded to the guest as REFUSED_STREAM or CANCEL when it was one of
//   those, INTERNAL_ERROR otherwise. A GOAWAY from the upstream: streams it did not process are
//   reset to the guest with REFUSED_STREAM, and the guest gets a graceful GOAWAY; in-flight
//   streams finish. PING and SETTINGS are per leg. Server push is disabled toward the upstream
//   (SETTINGS_ENABLE_PUSH=0); a PUSH_PROMISE arriving anyway is refused by nghttp2.
// - 1xx responses are forwarded (at most kMaxInformational per stream; more resets the stream).
// - When the upstream ends its response before the request body is complete, the proxy finishes
//   the response to the guest and then sends RST_STREAM(NO_ERROR) (RFC 9113 8.1).
// - Secrets (an active SecretGuard, secret_guard.h; nullptr or an inert plan: none of this runs):
//   request header values go through RewriteHeader, `:path` through RewriteTarget, guest
//   trailers through RewriteHeader; a substituted field is forwarded "never indexed" (HPACK), so
//   no proxy or peer table keeps the value. A request body goes through one BodyRewriter per
//   stream (when it is active); its `content-length` is dropped when the body may change length
//   (END_STREAM frames an HTTP/2 body, RFC 9113 8.1.1). A body with a content-encoding other
//   than identity is forwarded byte-exact and only scanned; an eligible placeholder seen in it
//   refuses the stream (it cannot be substituted there, and must never go out half-done).
//   Response header values (and trailers) are scrubbed of real values, identity-coded response
//   bodies too (one ResponseScrubber per stream; `content-length` dropped when scrubbing).
//   A violation in the head refuses the stream before anything of it goes upstream: the guest
//   gets `403` with `x-msb-blocked: secret ENV not allowed for HOST (LOCATION, FORM)` and the
//   same sentence as a text body, with END_STREAM; if the guest's request is still open then,
//   RST_STREAM(NO_ERROR) follows (RFC 9113 8.1: the response is complete, stop sending). Not
//   REFUSED_STREAM (clients retry it: a refusal loop) nor PROTOCOL_ERROR (the guest broke no
//   rule, and an agent learns nothing from it). A violation in the body or trailers resets the
//   upstream stream with CANCEL (so the upstream never takes a truncated body as complete) and
//   answers the guest the same 403 if no response head went to it yet, else RST_STREAM(CANCEL).
//   Each stream refused for an ineligible placeholder is reported once through
//   SecretGuard::Report, from outside nghttp2's callbacks (the reporter must still not destroy
//   the proxy from inside it); the compressed-body refusal names no secret and is not reported
//   (its summary still ends "secret_violation"). Memory: a body passing through an engine is
//   staged as input (bounded by the windows, as above) and transformed in 4 KiB slices only
//   while the stream's output queue is under output_budget, so a long value behind a short
//   placeholder cannot blow the output up; the engines withhold less than the longest
//   placeholder (requests) or value (responses) per stream.
//
// Thread affinity: one thread; no method may be called from inside a Delegate callback (the
// callbacks run inside Feed*/Take*/On*Eof/Shutdown).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace msb::gateway::http {

class H2Connection;
class SecretGuard;

// One header field. Names are lowercase (HTTP/2 requires it). `never_index` mirrors the HPACK
// "never indexed" representation and is preserved when forwarded.
struct H2Header {
  std::string name;
  std::string value;
  bool never_index = false;
};

// A guest request's head, as shown to the Delegate. `headers` holds the regular fields in order
// (no pseudo-headers, no `host`); `host_headers` every `host` value (nghttp2 rejects more than
// one, so at most one in practice). Empty strings mean "absent".
struct H2RequestHead {
  int32_t stream_id = 0;
  std::string method;
  std::string scheme;
  std::string authority;
  std::string path;
  std::vector<H2Header> headers;
  std::vector<std::string> host_headers;
  bool end_stream = false;  // the HEADERS frame ended the request (no body)
};

enum class H2Verdict : uint8_t {
  kForward,      // send it upstream
  kRefuse,       // RST_STREAM(PROTOCOL_ERROR) to the guest, nothing upstream
  kMisdirected,  // "421 Misdirected Request" to the guest, nothing upstream
};

// What happened to one guest stream, reported once when the proxy forgets it.
struct H2StreamSummary {
  int32_t guest_stream_id = 0;
  std::string method;
  std::string authority;           // `:authority`, or the `host` value without one
  std::string path_without_query;  // `:path` up to the first '?'
  uint16_t status = 0;             // final status from upstream, or the proxy's 405/421; 0: none
  uint64_t bytes_up = 0;           // request DATA payload handed to the upstream session
  uint64_t bytes_down = 0;         // response DATA payload handed to the guest session
  // How it ended: "complete", "refused" (Delegate), "rejected" (the proxy: CONNECT, load),
  // "headers_too_large", "protocol_error" (nghttp2 reset it: the guest broke HTTP/2 rules),
  // "reset_by_guest", "reset_by_upstream", "upstream_error" (the upstream broke HTTP/2 rules),
  // "goaway" (not processed: the connection was going away), "guest_closed",
  // "upstream_closed" (that leg ended, or failed, mid-stream), "aborted" (the proxy was
  // destroyed with the stream in flight), "secret_violation" (an ineligible placeholder, or an
  // eligible one in a compressed body: refused with 403, see above).
  std::string end;
  std::vector<std::string> secrets_injected;  // env var names substituted in the request
  std::string blocked_secret;  // the env var whose placeholder refused the stream ("" if none)
};

// Limits and advertised settings. The defaults suit a gateway; tests shrink them.
struct H2Limits {
  uint32_t max_concurrent_streams = 100;      // SETTINGS_MAX_CONCURRENT_STREAMS to the guest
  uint32_t initial_window_size = 256 * 1024;  // SETTINGS_INITIAL_WINDOW_SIZE, both legs
  uint32_t connection_window_size = 1 << 20;  // connection window, both legs (>= 65,535)
  uint32_t max_header_list_size = 64 * 1024;  // both legs; larger blocks reset the stream
  size_t max_continuations = 8;               // CONTINUATION frames per header block
  uint64_t reset_burst = 1000;                // guest RST_STREAM rate limit (rapid reset):
  uint64_t reset_rate = 33;                   //   token bucket burst and tokens per second
  size_t max_upstream_streams = 200;          // streams alive on the upstream leg
  size_t output_budget = 32 * 1024;           // serialized DATA held per leg before pausing
};

// Request and response bodies in flight are bounded by the windows: at most
// initial_window_size per stream and connection_window_size per direction, plus the serialized
// output of each leg (output_budget of DATA plus control frames, capped near kMaxPendingOutput).
inline constexpr size_t kMaxPendingOutput = 256 * 1024;
inline constexpr int kMaxInformational = 8;

class H2Proxy {
 public:
  class Delegate {
   public:
    virtual ~Delegate() = default;
    // Called once per well-formed guest request, before anything of it goes upstream.
    virtual H2Verdict OnRequest(const H2RequestHead& head) = 0;
    // Called exactly once for every guest stream whose request HEADERS the proxy began reading
    // (so for every stream shown to OnRequest, and for streams reset before it).
    virtual void OnStreamClosed(const H2StreamSummary& summary) = 0;
  };

  // Creates both sessions and queues the upstream connection preface and both legs' SETTINGS
  // (take them with TakeToUpstream / TakeToGuest). `delegate` and `secrets` must outlive the
  // proxy; `secrets` may be nullptr (no secret work). Fails only if nghttp2 cannot allocate or
  // the limits are unusable.
  static Result<std::unique_ptr<H2Proxy>> Create(Delegate* delegate, const H2Limits& limits = {},
                                                 SecretGuard* secrets = nullptr);
  // Streams still in flight are reported (end "aborted") to the delegate from the destructor.
  ~H2Proxy();
  H2Proxy(const H2Proxy&) = delete;
  H2Proxy& operator=(const H2Proxy&) = delete;

  // Guest leg: decrypted bytes from the guest, starting with the client connection preface. All
  // bytes are always consumed (the returned count equals data.size()): memory is bounded by flow
  // control and nghttp2's flood limits, not by refusing input. An error means the guest broke
  // the protocol (bad preface, connection-level violation, flood): the guest leg is over;
  // TakeToGuest may still yield a final GOAWAY to send before closing; every stream is reset
  // upstream and reported. Feeding after an error or OnGuestEof returns an error.
  [[nodiscard]] Result<size_t> FeedFromGuest(std::span<const uint8_t> data);
  // Upstream leg, likewise (the upstream's server preface is a SETTINGS frame). An error ends
  // only the upstream leg: unfinished streams are reset toward the guest, the guest gets a
  // graceful GOAWAY and may finish streams whose responses were complete.
  [[nodiscard]] Result<size_t> FeedFromUpstream(std::span<const uint8_t> data);

  // Appends up to `max` bytes of output for that leg to `out` (to be encrypted and sent).
  void TakeToGuest(std::string* out, size_t max);
  void TakeToUpstream(std::string* out, size_t max);
  // True when the Take* of that leg would append something now.
  bool WantsWriteToGuest() const;
  bool WantsWriteToUpstream() const;

  // The guest's / upstream's connection closed (EOF, reset, TLS failure). Guest EOF: every
  // stream is reset upstream and the upstream session is terminated (GOAWAY queued). Upstream
  // EOF: as an upstream error above.
  void OnGuestEof();
  void OnUpstreamEof();
  // Graceful stop: GOAWAY to the guest; streams in flight finish, new ones are refused; once the
  // guest leg is quiet the upstream session is terminated.
  void Shutdown();
  // Both legs are finished (GOAWAY exchanged and nothing in flight, or EOF) and have no output
  // left: the caller may close both connections.
  bool Done() const;

  // Bytes the proxy holds: stream bodies not yet taken by the other leg plus serialized output
  // not yet taken by the caller (nghttp2's own small frame queues are not counted).
  size_t BufferedBytes() const;
  // Guest streams the proxy still tracks (each will get one OnStreamClosed).
  size_t LiveStreams() const;

 private:
  explicit H2Proxy(std::unique_ptr<H2Connection> conn);
  std::unique_ptr<H2Connection> conn_;
};

}  // namespace msb::gateway::http
