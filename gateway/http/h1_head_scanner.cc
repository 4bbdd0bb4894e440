// HeadScanner (h1_head_scanner.h): one small state machine over raw head bytes. Each state names
// the grammar element being read; every byte either advances it or is an error, so the scanner
// reads each byte once, holds no buffer and cannot loop.
#include "gateway/http/h1_head_scanner.h"

#include "gateway/http/h1_chars.h"

namespace msb::gateway::http {
namespace {

constexpr std::string_view kHttpSlash = "HTTP/";
constexpr size_t kVersionLength = 8;  // "HTTP/1.1"
constexpr size_t kStatusDigits = 3;

}  // namespace

HeadScanner::HeadScanner(Mode mode, size_t max_bytes, size_t max_fields)
    : mode_(mode),
      max_bytes_(max_bytes),
      max_fields_(max_fields),
      state_(mode == Mode::kRequest    ? State::kMethod
             : mode == Mode::kResponse ? State::kVersion
                                       : State::kLineStart) {}

HeadScanner::Step HeadScanner::Scan(std::span<const uint8_t> data) {
  Step step;
  if (state_ == State::kDone || state_ == State::kFailed) {
    step.done = state_ == State::kDone;
    step.error = error_;
    step.detail = detail_;
    return step;
  }
  for (uint8_t c : data) {
    if (bytes_ == max_bytes_) {
      error_ = mode_ == Mode::kTrailers ? H1Error::kTrailersTooLarge : H1Error::kHeadTooLarge;
      detail_ = mode_ == Mode::kTrailers ? "trailer section too large" : "head too large";
    } else {
      error_ = Byte(c, &detail_);
    }
    if (error_ != H1Error::kNone) {
      state_ = State::kFailed;
      step.error = error_;
      step.detail = detail_;
      return step;
    }
    ++bytes_;
    ++step.used;
    if (state_ == State::kDone) {
      step.done = true;
      return step;
    }
  }
  return step;
}

H1Error HeadScanner::StartLineByte(uint8_t c, std::string_view* detail) {
  switch (state_) {
    case State::kMethod:
      if (IsTokenChar(c)) {
        ++run_;
        return H1Error::kNone;
      }
      if (c == ' ' && run_ > 0) {
        state_ = State::kTarget;
        run_ = 0;
        return H1Error::kNone;
      }
      *detail = "invalid method";
      return H1Error::kMalformed;
    case State::kTarget:
      if (IsTargetChar(c)) {
        ++run_;
        return H1Error::kNone;
      }
      if (c == ' ' && run_ > 0) {
        state_ = State::kVersion;
        run_ = 0;
        return H1Error::kNone;
      }
      if (c == ' ' || c == '\r' || c == '\n') {
        *detail = "request line is not method SP target SP version";
        return H1Error::kMalformed;
      }
      *detail = "invalid byte in request-target";
      return H1Error::kBadTarget;
    case State::kVersion: {
      // Only "HTTP/1.0" and "HTTP/1.1"; other digits are kUnsupportedVersion below.
      bool ok = run_ < kHttpSlash.size() ? c == static_cast<uint8_t>(kHttpSlash[run_])
                : run_ == 5              ? c == '1'
                : run_ == 6              ? c == '.'
                : run_ == 7              ? c == '0' || c == '1'
                                         : false;
      if (ok) {
        ++run_;
        return H1Error::kNone;
      }
      if ((run_ == 5 && IsDigit(c)) || (run_ == 7 && IsDigit(c))) {
        *detail = "only HTTP/1.0 and HTTP/1.1";
        return H1Error::kUnsupportedVersion;
      }
      if (run_ == kVersionLength && mode_ == Mode::kRequest && c == '\r') {
        state_ = State::kStartLf;
        return H1Error::kNone;
      }
      if (run_ == kVersionLength && mode_ == Mode::kResponse && c == ' ') {
        state_ = State::kStatus;
        run_ = 0;
        return H1Error::kNone;
      }
      *detail = "invalid HTTP version";
      return H1Error::kMalformed;
    }
    case State::kStatus:
      if (run_ < kStatusDigits && IsDigit(c)) {
        ++run_;
        return H1Error::kNone;
      }
      if (run_ == kStatusDigits && (c == ' ' || c == '\r')) {
        // A missing reason phrase (no SP) is common enough to tolerate; it is re-serialised
        // with the SP.
        state_ = c == ' ' ? State::kReason : State::kStartLf;
        return H1Error::kNone;
      }
      *detail = "status code is not three digits";
      return H1Error::kMalformed;
    case State::kReason:
      if (c == '\r') {
        state_ = State::kStartLf;
        return H1Error::kNone;
      }
      if (IsFieldValueChar(c)) {
        return H1Error::kNone;
      }
      *detail = "invalid byte in reason phrase";
      return H1Error::kMalformed;
    default:
      *detail = "internal: not a start-line state";
      return H1Error::kMalformed;
  }
}

H1Error HeadScanner::Byte(uint8_t c, std::string_view* detail) {
  switch (state_) {
    case State::kStartLf:
    case State::kValueLf:
      if (c != '\n') {
        *detail = "CR not followed by LF";
        return H1Error::kMalformed;
      }
      state_ = State::kLineStart;
      return H1Error::kNone;
    case State::kLineStart:
      if (c == '\r') {
        state_ = State::kFinalLf;
        return H1Error::kNone;
      }
      if (IsWhitespace(c)) {
        *detail = "field line starts with whitespace (obs-fold)";
        return H1Error::kObsFold;
      }
      if (c == ':') {
        *detail = "empty field name";
        return H1Error::kEmptyHeaderName;
      }
      if (c == '\n') {
        *detail = "bare LF";
        return H1Error::kMalformed;
      }
      if (!IsTokenChar(c)) {
        *detail = "invalid byte in field name";
        return H1Error::kInvalidHeaderChar;
      }
      if (fields_ == max_fields_) {
        *detail = "too many field lines";
        return H1Error::kTooManyHeaders;
      }
      ++fields_;
      state_ = State::kName;
      return H1Error::kNone;
    case State::kName:
      if (IsTokenChar(c)) {
        return H1Error::kNone;
      }
      if (c == ':') {
        state_ = State::kValue;
        return H1Error::kNone;
      }
      if (IsWhitespace(c)) {
        // Reported at the whitespace itself, before llhttp (which accepts "Host :" but rejects
        // "Content-Length :") can see it, so the error is the same for every field name.
        *detail = "whitespace between field name and colon";
        return H1Error::kSpaceBeforeColon;
      }
      if (c == '\r' || c == '\n') {
        *detail = "field line without colon";
        return H1Error::kMalformed;
      }
      *detail = "invalid byte in field name";
      return H1Error::kInvalidHeaderChar;
    case State::kValue:
      if (c == '\r') {
        state_ = State::kValueLf;
        return H1Error::kNone;
      }
      if (c == '\n') {
        *detail = "bare LF";
        return H1Error::kMalformed;
      }
      if (!IsFieldValueChar(c)) {
        *detail = "control byte in field value";
        return H1Error::kInvalidHeaderChar;
      }
      return H1Error::kNone;
    case State::kFinalLf:
      if (c != '\n') {
        *detail = "CR not followed by LF";
        return H1Error::kMalformed;
      }
      state_ = State::kDone;
      return H1Error::kNone;
    default:
      return StartLineByte(c, detail);
  }
}

}  // namespace msb::gateway::http
