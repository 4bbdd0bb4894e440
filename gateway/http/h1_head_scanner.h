// HeadScanner: a strict, byte-at-a-time check of the raw grammar of a message head (start line and
// field lines up to the empty line) or of a chunked body's trailer section. It is deliberately a
// second parser next to llhttp: llhttp 8.1.0 accepts space before the colon, an empty field name,
// obs-fold continuation lines, control bytes in values, "GET  /" and "HTTP/2.0" heads, so every
// head byte passes this scanner before llhttp sees it, and a head is accepted only if both accept
// it. The scanner also finds the exact end of the head (so llhttp is fed the head and nothing
// else) and enforces the size and field-count limits, whatever the feeding splits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "gateway/http/h1_message.h"

namespace msb::gateway::http {

class HeadScanner {
 public:
  enum class Mode : uint8_t {
    kRequest,   // request-line = method SP request-target SP HTTP-version CRLF
    kResponse,  // status-line = HTTP-version SP 3DIGIT [SP reason-phrase] CRLF
    kTrailers,  // field lines only
  };
  // Limits: at most `max_bytes` bytes in all (exceeding is kHeadTooLarge, or kTrailersTooLarge in
  // trailer mode) and at most `max_fields` field lines (kTooManyHeaders).
  HeadScanner(Mode mode, size_t max_bytes, size_t max_fields);

  struct Step {
    // Bytes that belong to the head and are well-formed; on error the offending byte is not
    // included, so everything before it may still be handed to another parser.
    size_t used = 0;
    bool done = false;  // the head's final CRLF ends at `used`
    H1Error error = H1Error::kNone;
    std::string_view detail;  // static text
  };

  // Scan continues over the next bytes of the stream. After a step that is done or failed, the
  // scanner stays there (further calls use nothing and repeat the outcome).
  Step Scan(std::span<const uint8_t> data);

  size_t bytes() const { return bytes_; }    // bytes used so far
  size_t fields() const { return fields_; }  // field lines begun so far

 private:
  enum class State : uint8_t {
    kMethod,
    kTarget,
    kVersion,
    kStatus,
    kReason,
    kStartLf,
    kLineStart,
    kName,
    kValue,
    kValueLf,
    kFinalLf,
    kDone,
    kFailed,
  };

  // Step one byte; returns kNone or the error (with *detail) for a byte that cannot be used.
  H1Error Byte(uint8_t c, std::string_view* detail);
  H1Error StartLineByte(uint8_t c, std::string_view* detail);

  Mode mode_;
  size_t max_bytes_;
  size_t max_fields_;
  State state_;
  size_t run_ = 0;  // bytes in the current start-line element
  size_t bytes_ = 0;
  size_t fields_ = 0;
  H1Error error_ = H1Error::kNone;
  std::string_view detail_;
};

}  // namespace msb::gateway::http
