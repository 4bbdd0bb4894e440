// H1Parser: a sans-I/O HTTP/1.1 parser for one direction of one connection (the guest's requests
// or the upstream's responses inside an intercepted TLS tunnel). It takes bytes and calls H1Events;
// it never touches a socket, never buffers a body, and fails closed on every framing ambiguity
// (h1_head_rules.h, h1_body.h, h1_head_scanner.h list the rules).
//
// How it works: each head passes the strict HeadScanner byte by byte and then llhttp 8.1.0
// (HeadParser), which tokenises it; the head rules derive framing and routing; the body is framed
// by BodyDecoder. llhttp never sees body bytes. Events are delivered after llhttp returns, never
// from inside its callbacks.
//
// Delivery: OnRequestHead / OnResponseHead, then OnBody for each piece of body as it arrives (a
// view valid only during the call), then OnTrailers (only when a chunked body had trailer fields),
// then OnMessageEnd. Interim responses (1xx but 101) get only OnResponseHead; the final response
// to the same request follows. Several pipelined messages in one Feed are delivered in order;
// to take them one at a time, call Pause() from OnMessageEnd: Feed then returns kPaused with
// `consumed` ending at that message, and the caller feeds the rest after Resume().
//
// Thread affinity: one thread. `events` must outlive the parser. Callbacks may call Pause(), and
// nothing else on the parser (no Feed, no destruction).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string_view>

#include "gateway/http/h1_body.h"
#include "gateway/http/h1_head_parser.h"
#include "gateway/http/h1_head_rules.h"
#include "gateway/http/h1_head_scanner.h"
#include "gateway/http/h1_message.h"

namespace msb::gateway::http {

class H1Events {
 public:
  virtual ~H1Events() = default;
  virtual void OnRequestHead(RequestHead&& /*head*/) {}
  virtual void OnResponseHead(ResponseHead&& /*head*/) {}
  // De-chunked body bytes, as they arrive (never empty).
  virtual void OnBody(std::span<const uint8_t> data) = 0;
  virtual void OnTrailers(std::vector<Header>&& /*trailers*/) {}
  virtual void OnMessageEnd() = 0;
};

enum class FeedStatus : uint8_t {
  kNeedMore,  // every byte was consumed; feed more when it arrives
  kPaused,    // Pause() was called; `consumed` ends right after the event that called it
  // The message that ended last hands the connection to another protocol: a CONNECT request or
  // an upgrade request (request side; DeclineTunnel() resumes HTTP if the peer refuses), a 101
  // or a 2xx to CONNECT (response side). The bytes after it are not consumed, now or later.
  kTunnel,
  kClosed,  // the last message ended the connection (keep_alive false); later bytes not consumed
  kError,   // `error` says why; the parser stays failed
};

struct FeedResult {
  FeedStatus status = FeedStatus::kNeedMore;
  size_t consumed = 0;  // bytes of this call's input that were parsed (unspecified on kError)
  H1Error error = H1Error::kNone;
  std::string_view detail;  // static text for logs, never message content
};

class H1Parser {
 public:
  enum class Kind : uint8_t { kRequest, kResponse };

  H1Parser(Kind kind, H1Events* events, const H1Limits& limits = {});
  H1Parser(const H1Parser&) = delete;
  H1Parser& operator=(const H1Parser&) = delete;

  // Feed parses as much of `data` as it can (see FeedStatus). Bytes not consumed must be fed
  // again (after Resume()) if parsing is to continue. Once failed, it returns the same error.
  FeedResult Feed(std::span<const uint8_t> data);

  // Finish reports that the peer closed the stream: a body delimited by the close ends
  // (OnMessageEnd, then kClosed); inside any other message it is kTruncated; between messages,
  // kClosed.
  FeedResult Finish();

  // ExpectResponseTo (response parsers) queues the request the next final response answers:
  // HEAD means no body, CONNECT means a 2xx starts a tunnel, `upgrade_requested` allows 101.
  // Call it once per request forwarded, in order. A response with nothing queued is
  // kUnexpectedResponse. Returns false (and queues nothing) beyond max_pending_responses.
  [[nodiscard]] bool ExpectResponseTo(std::string_view method, bool upgrade_requested = false);

  // Pause makes Feed return kPaused after the current event (callable from any callback, or
  // between calls); Resume lets the next Feed continue.
  void Pause() { paused_ = true; }
  void Resume() { paused_ = false; }

  // DeclineTunnel (request parsers at kTunnel): the peer refused the CONNECT or upgrade, so the
  // connection stays HTTP/1.1; the next Feed parses the next request (or reports kClosed when the
  // request did not keep the connection alive).
  void DeclineTunnel();

  // True between messages (no byte of a next message seen yet).
  bool idle() const { return state_ == State::kHead && !in_head_; }

 private:
  enum class State : uint8_t { kHead, kBody, kTunnel, kClosed, kError };

  size_t FeedHead(std::span<const uint8_t> data);
  size_t FeedBody(std::span<const uint8_t> data);
  void DeliverHead();
  void DeliverRequestHead(RawHead& raw);
  void DeliverResponseHead(RawHead& raw);
  void EndMessage();
  void Fail(H1Error error, std::string_view detail);
  FeedResult Result(size_t consumed) const;

  Kind kind_;
  H1Events* events_;
  H1Limits limits_;
  State state_ = State::kHead;
  bool paused_ = false;
  bool in_head_ = false;
  std::optional<HeadScanner> scanner_;
  HeadParser head_parser_;
  BodyDecoder body_;
  std::deque<ResponseContext> pending_;  // response parsers: requests awaiting a final response
  // Of the message in progress:
  bool keep_alive_ = true;
  bool tunnel_after_ = false;
  H1Error error_ = H1Error::kNone;
  std::string_view detail_;
};

}  // namespace msb::gateway::http
