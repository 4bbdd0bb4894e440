// BodyDecoder: frames one message body (Content-Length, chunked, or until close) without
// buffering it: data is handed out as views of the caller's input as it arrives. The chunked
// decoder is our own rather than llhttp's because llhttp 8.1.0 accepts chunk data not followed by
// CRLF (a request-smuggling primitive); it enforces RFC 9112 7.1 strictly:
//   chunk-size    1-16 hex digits, value below 2^63
//   chunk-ext     *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] ), validated and
//                 dropped; whitespace only where a ";" or "=" follows
//   line length   size line with extensions and CRLF <= H1Limits::max_chunk_line_bytes
//   chunk data    exactly chunk-size bytes followed by CRLF
//   trailers      field lines as strict as a head's (HeadScanner), <= max_trailer_bytes; fields
//                 that frame or route a message (Content-Length, Transfer-Encoding, Host,
//                 Connection, ...) are kForbiddenTrailer, since some servers merge trailers into
//                 the head.
// Every error is kBadChunk unless named otherwise above.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/h1_head_scanner.h"
#include "gateway/http/h1_message.h"

namespace msb::gateway::http {

class BodyDecoder {
 public:
  explicit BodyDecoder(const H1Limits& limits) : limits_(limits) {}

  // Start begins a body of `kind` (not kNone) and, for kContentLength, `length` bytes (> 0).
  void Start(BodyKind kind, uint64_t length);

  struct Event {
    enum class Kind : uint8_t {
      kProgress,  // framing bytes consumed, no data (or all input consumed)
      kData,      // `data` is body bytes, a view into the input
      kError,
    };
    Kind kind = Kind::kProgress;
    std::span<const uint8_t> data;
    H1Error error = H1Error::kNone;
    std::string_view detail;  // static text
  };

  // Next consumes input up to and including the next piece of body data, or up to the end of the
  // body, or all of it; *used says how much (at least one byte unless `in` is empty, the body is
  // complete, or an error is returned). Call until complete() or the input is used up.
  Event Next(std::span<const uint8_t> in, size_t* used);

  // Finish reports the end of the stream: complete() afterwards for kUntilClose bodies, a
  // kTruncated error for any other unfinished body.
  Event Finish();

  bool complete() const { return state_ == State::kComplete; }
  // TakeTrailers returns the trailer fields of a complete chunked body (empty if none).
  std::vector<Header> TakeTrailers();

 private:
  enum class State : uint8_t {
    kIdle,
    kLength,  // Content-Length body
    kUntilClose,
    kSize,       // chunk-size hex digits
    kSizeSpace,  // BWS after the size: ';' must follow
    kExtNameStart,
    kExtName,
    kExtNameSpace,  // BWS after a name: '=' or ';' must follow
    kExtValueStart,
    kExtToken,
    kExtQuoted,
    kExtQuotedPair,
    kExtQuoteEnd,
    kExtValueSpace,  // BWS after a value: ';' must follow
    kSizeLf,
    kData,
    kDataCr,
    kDataLf,
    kTrailers,
    kComplete,
  };

  H1Error SizeLineByte(uint8_t c, std::string_view* detail);
  Event Fail(H1Error error, std::string_view detail);
  H1Error FinishTrailers(std::string_view* detail);

  H1Limits limits_;
  State state_ = State::kIdle;
  uint64_t remaining_ = 0;  // body or chunk bytes still to come
  size_t digits_ = 0;
  size_t line_bytes_ = 0;
  std::optional<HeadScanner> trailer_scanner_;
  std::string trailer_bytes_;  // raw trailer section, bounded by max_trailer_bytes
  std::vector<Header> trailers_;
};

}  // namespace msb::gateway::http
