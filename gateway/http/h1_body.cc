// BodyDecoder (h1_body.h): a Content-Length counter, a pass-through until close, and a strict
// chunked decoder whose size lines are read byte by byte with a hard length cap, so no input can
// make it buffer anything but the (capped) trailer section.
#include "gateway/http/h1_body.h"

#include <algorithm>
#include <array>
#include <limits>

#include "gateway/http/h1_chars.h"
#include "base/strings.h"

namespace msb::gateway::http {
namespace {

constexpr size_t kMaxSizeDigits = 16;
constexpr uint64_t kMaxChunkSize = std::numeric_limits<int64_t>::max();

// Trailer fields refused because a recipient that merges trailers into the head would let them
// change framing, routing or connection handling after the gateway checked the head.
constexpr std::array<std::string_view, 10> kForbiddenTrailers = {
    "content-length", "transfer-encoding", "host", "connection",
    "keep-alive",     "upgrade",           "te",   "trailer",
    "expect",         "proxy-connection",
};

}  // namespace

void BodyDecoder::Start(BodyKind kind, uint64_t length) {
  trailer_scanner_.reset();
  trailer_bytes_.clear();
  trailers_.clear();
  remaining_ = length;
  digits_ = 0;
  line_bytes_ = 0;
  switch (kind) {
    case BodyKind::kContentLength:
      state_ = length > 0 ? State::kLength : State::kComplete;
      break;
    case BodyKind::kChunked:
      remaining_ = 0;
      state_ = State::kSize;
      break;
    case BodyKind::kUntilClose:
      state_ = State::kUntilClose;
      break;
    case BodyKind::kNone:
      state_ = State::kComplete;
      break;
  }
}

BodyDecoder::Event BodyDecoder::Fail(H1Error error, std::string_view detail) {
  state_ = State::kIdle;
  Event e;
  e.kind = Event::Kind::kError;
  e.error = error;
  e.detail = detail;
  return e;
}

BodyDecoder::Event BodyDecoder::Next(std::span<const uint8_t> in, size_t* used) {
  *used = 0;
  Event event;
  while (*used < in.size() && state_ != State::kComplete) {
    std::span<const uint8_t> rest = in.subspan(*used);
    switch (state_) {
      case State::kLength:
      case State::kData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
        remaining_ -= n;
        *used += n;
        if (remaining_ == 0) {
          state_ = state_ == State::kLength ? State::kComplete : State::kDataCr;
        }
        event.kind = Event::Kind::kData;
        event.data = rest.first(n);
        return event;
      }
      case State::kUntilClose:
        *used += rest.size();
        event.kind = Event::Kind::kData;
        event.data = rest;
        return event;
      case State::kTrailers: {
        HeadScanner::Step step = trailer_scanner_->Scan(rest);
        trailer_bytes_.append(reinterpret_cast<const char*>(rest.data()), step.used);
        *used += step.used;
        if (step.error != H1Error::kNone) {
          return Fail(step.error, step.detail);
        }
        if (step.done) {
          std::string_view detail;
          if (H1Error e = FinishTrailers(&detail); e != H1Error::kNone) {
            return Fail(e, detail);
          }
          state_ = State::kComplete;
        }
        break;
      }
      case State::kIdle:
        return Fail(H1Error::kMalformed, "internal: no body in progress");
      default: {
        std::string_view detail;
        if (H1Error e = SizeLineByte(rest[0], &detail); e != H1Error::kNone) {
          return Fail(e, detail);
        }
        ++*used;
        break;
      }
    }
  }
  return event;
}

H1Error BodyDecoder::SizeLineByte(uint8_t c, std::string_view* detail) {
  *detail = "invalid chunk framing";
  if (state_ == State::kDataCr || state_ == State::kDataLf) {
    bool ok = c == (state_ == State::kDataCr ? '\r' : '\n');
    state_ = state_ == State::kDataCr ? State::kDataLf : State::kSize;
    if (!ok) {
      *detail = "chunk data not followed by CRLF";
    }
    return ok ? H1Error::kNone : H1Error::kBadChunk;
  }
  if (++line_bytes_ > limits_.max_chunk_line_bytes) {
    *detail = "chunk-size line too long";
    return H1Error::kBadChunk;
  }
  bool space = IsWhitespace(c);
  bool token = IsTokenChar(c);
  switch (state_) {
    case State::kSize: {
      int v = HexValue(c);
      if (v >= 0) {
        if (++digits_ > kMaxSizeDigits || remaining_ > (kMaxChunkSize >> 4)) {
          *detail = "chunk size too large";
          return H1Error::kBadChunk;
        }
        remaining_ = (remaining_ << 4) | static_cast<uint64_t>(v);
        return H1Error::kNone;
      }
      if (digits_ == 0) {
        *detail = "chunk size is not hex";
        return H1Error::kBadChunk;
      }
      state_ = c == '\r'  ? State::kSizeLf
               : c == ';' ? State::kExtNameStart
               : space    ? State::kSizeSpace
                          : State::kIdle;
      break;
    }
    case State::kSizeSpace:
    case State::kExtValueSpace:
      state_ = space ? state_ : c == ';' ? State::kExtNameStart : State::kIdle;
      break;
    case State::kExtNameStart:
      state_ = space ? state_ : token ? State::kExtName : State::kIdle;
      break;
    case State::kExtName:
    case State::kExtNameSpace:
      state_ = c == '='                                 ? State::kExtValueStart
               : c == ';'                               ? State::kExtNameStart
               : space                                  ? State::kExtNameSpace
               : c == '\r' && state_ == State::kExtName ? State::kSizeLf
               : token && state_ == State::kExtName     ? State::kExtName
                                                        : State::kIdle;
      break;
    case State::kExtValueStart:
      state_ = space      ? state_
               : c == '"' ? State::kExtQuoted
               : token    ? State::kExtToken
                          : State::kIdle;
      break;
    case State::kExtToken:
    case State::kExtQuoteEnd:
      state_ = c == '\r'                             ? State::kSizeLf
               : c == ';'                            ? State::kExtNameStart
               : space                               ? State::kExtValueSpace
               : token && state_ == State::kExtToken ? State::kExtToken
                                                     : State::kIdle;
      break;
    case State::kExtQuoted:
      state_ = c == '"'              ? State::kExtQuoteEnd
               : c == '\\'           ? State::kExtQuotedPair
               : IsFieldValueChar(c) ? State::kExtQuoted
                                     : State::kIdle;
      break;
    case State::kExtQuotedPair:
      state_ = IsFieldValueChar(c) ? State::kExtQuoted : State::kIdle;
      break;
    case State::kSizeLf:
      if (c != '\n') {
        state_ = State::kIdle;
        break;
      }
      line_bytes_ = 0;
      digits_ = 0;
      if (remaining_ > 0) {
        state_ = State::kData;
      } else {
        state_ = State::kTrailers;
        trailer_scanner_.emplace(HeadScanner::Mode::kTrailers, limits_.max_trailer_bytes,
                                 limits_.max_headers);
      }
      break;
    default:
      state_ = State::kIdle;
      break;
  }
  return state_ == State::kIdle ? H1Error::kBadChunk : H1Error::kNone;
}

H1Error BodyDecoder::FinishTrailers(std::string_view* detail) {
  // The scanner has checked every line: "name:value" CRLF ... CRLF, so splitting is safe.
  std::string_view rest = trailer_bytes_;
  while (true) {
    size_t eol = rest.find("\r\n");
    if (eol == 0 || eol == std::string_view::npos) {
      break;
    }
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol + 2);
    size_t colon = line.find(':');
    Header h{std::string(line.substr(0, colon)), std::string(TrimSpaceTab(line.substr(colon + 1)))};
    for (std::string_view forbidden : kForbiddenTrailers) {
      if (EqualsIgnoreCase(h.name, forbidden)) {
        *detail = "framing or routing field in trailers";
        return H1Error::kForbiddenTrailer;
      }
    }
    trailers_.push_back(std::move(h));
  }
  trailer_bytes_.clear();
  return H1Error::kNone;
}

BodyDecoder::Event BodyDecoder::Finish() {
  if (state_ == State::kUntilClose) {
    state_ = State::kComplete;
    return Event{};
  }
  if (state_ == State::kComplete) {
    return Event{};
  }
  return Fail(H1Error::kTruncated, "connection ended inside a body");
}

std::vector<Header> BodyDecoder::TakeTrailers() {
  return std::move(trailers_);
}

}  // namespace msb::gateway::http
