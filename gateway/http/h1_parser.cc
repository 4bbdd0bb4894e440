// H1Parser (h1_parser.h): the loop that moves each message through head (scanner + llhttp),
// rules, and body, and the state that decides what follows a message (next message, tunnel,
// close). Each step consumes input or changes state, so Feed always terminates.
#include "gateway/http/h1_parser.h"

#include <utility>

namespace msb::gateway::http {

H1Parser::H1Parser(Kind kind, H1Events* events, const H1Limits& limits)
    : kind_(kind),
      events_(events),
      limits_(limits),
      head_parser_(kind == Kind::kRequest),
      body_(limits) {}

FeedResult H1Parser::Result(size_t consumed) const {
  FeedResult r;
  r.consumed = consumed;
  switch (state_) {
    case State::kError:
      r.status = FeedStatus::kError;
      r.error = error_;
      r.detail = detail_;
      return r;
    case State::kTunnel:
      r.status = FeedStatus::kTunnel;
      return r;
    case State::kClosed:
      r.status = FeedStatus::kClosed;
      return r;
    default:
      r.status = paused_ ? FeedStatus::kPaused : FeedStatus::kNeedMore;
      return r;
  }
}

FeedResult H1Parser::Feed(std::span<const uint8_t> data) {
  size_t pos = 0;
  while (true) {
    if (state_ == State::kError || state_ == State::kTunnel || state_ == State::kClosed ||
        paused_) {
      return Result(pos);
    }
    if (state_ == State::kBody && body_.complete()) {
      EndMessage();
      continue;
    }
    if (pos == data.size()) {
      return Result(pos);
    }
    std::span<const uint8_t> rest = data.subspan(pos);
    pos += state_ == State::kHead ? FeedHead(rest) : FeedBody(rest);
  }
}

size_t H1Parser::FeedHead(std::span<const uint8_t> data) {
  if (!in_head_) {
    in_head_ = true;
    scanner_.emplace(
        kind_ == Kind::kRequest ? HeadScanner::Mode::kRequest : HeadScanner::Mode::kResponse,
        limits_.max_head_bytes, limits_.max_headers);
    head_parser_.Begin();
  }
  // The scanner sees each byte first; llhttp gets the bytes the scanner accepted, so whichever of
  // the two objects first (in stream order) reports, independent of how the input was split.
  HeadScanner::Step scan = scanner_->Scan(data);
  HeadParser::Step parse = head_parser_.Feed(data.first(scan.used));
  if (parse.error != H1Error::kNone) {
    Fail(parse.error, parse.detail);
  } else if (scan.error != H1Error::kNone) {
    Fail(scan.error, scan.detail);
  } else if (scan.done != parse.complete) {
    Fail(H1Error::kMalformed, "llhttp and the scanner disagree on the end of the head");
  } else if (scan.done) {
    in_head_ = false;
    DeliverHead();
  }
  return scan.used;
}

void H1Parser::DeliverHead() {
  RawHead& raw = head_parser_.head();
  if (kind_ == Kind::kRequest) {
    DeliverRequestHead(raw);
  } else {
    DeliverResponseHead(raw);
  }
}

void H1Parser::DeliverRequestHead(RawHead& raw) {
  RequestHead head;
  head.method = std::move(raw.method);
  head.target = std::move(raw.target);
  head.version_minor = raw.minor;
  head.headers = std::move(raw.headers);
  std::string_view detail;
  if (H1Error e = FinishRequestHead(raw.major, &head, &detail); e != H1Error::kNone) {
    Fail(e, detail);
    return;
  }
  keep_alive_ = head.keep_alive;
  tunnel_after_ = head.is_connect || head.is_upgrade;
  BodyKind body = head.body;
  uint64_t length = head.content_length;
  events_->OnRequestHead(std::move(head));
  state_ = State::kBody;
  body_.Start(body, length);
}

void H1Parser::DeliverResponseHead(RawHead& raw) {
  if (pending_.empty()) {
    Fail(H1Error::kUnexpectedResponse, "response with no request outstanding");
    return;
  }
  ResponseHead head;
  head.status = raw.status;
  head.reason = std::move(raw.reason);
  head.version_minor = raw.minor;
  head.headers = std::move(raw.headers);
  std::string_view detail;
  if (H1Error e = FinishResponseHead(raw.major, pending_.front(), &head, &detail);
      e != H1Error::kNone) {
    Fail(e, detail);
    return;
  }
  bool interim = head.interim;
  keep_alive_ = head.keep_alive;
  tunnel_after_ = head.starts_tunnel;
  BodyKind body = head.body;
  uint64_t length = head.content_length;
  events_->OnResponseHead(std::move(head));
  if (interim) {
    return;  // the next head answers the same request
  }
  pending_.pop_front();
  state_ = State::kBody;
  body_.Start(body, length);
}

size_t H1Parser::FeedBody(std::span<const uint8_t> data) {
  size_t used = 0;
  BodyDecoder::Event event = body_.Next(data, &used);
  if (event.kind == BodyDecoder::Event::Kind::kError) {
    Fail(event.error, event.detail);
  } else if (event.kind == BodyDecoder::Event::Kind::kData && !event.data.empty()) {
    events_->OnBody(event.data);
  }
  return used;
}

void H1Parser::EndMessage() {
  std::vector<Header> trailers = body_.TakeTrailers();
  if (!trailers.empty()) {
    events_->OnTrailers(std::move(trailers));
  }
  events_->OnMessageEnd();
  state_ = tunnel_after_ ? State::kTunnel : keep_alive_ ? State::kHead : State::kClosed;
}

void H1Parser::Fail(H1Error error, std::string_view detail) {
  state_ = State::kError;
  error_ = error;
  detail_ = detail;
}

FeedResult H1Parser::Finish() {
  if (state_ == State::kHead) {
    if (in_head_) {
      Fail(H1Error::kTruncated, "connection ended inside a head");
    } else {
      state_ = State::kClosed;
    }
  } else if (state_ == State::kBody) {
    BodyDecoder::Event event = body_.Finish();
    if (event.kind == BodyDecoder::Event::Kind::kError) {
      Fail(event.error, event.detail);
    } else {
      EndMessage();
      if (state_ == State::kHead) {
        state_ = State::kClosed;
      }
    }
  }
  return Result(0);
}

bool H1Parser::ExpectResponseTo(std::string_view method, bool upgrade_requested) {
  if (pending_.size() >= limits_.max_pending_responses) {
    return false;
  }
  ResponseContext context;
  context.to_head = method == "HEAD";
  context.to_connect = method == "CONNECT";
  context.upgrade_requested = upgrade_requested;
  pending_.push_back(context);
  return true;
}

void H1Parser::DeclineTunnel() {
  if (kind_ == Kind::kRequest && state_ == State::kTunnel) {
    state_ = keep_alive_ ? State::kHead : State::kClosed;
  }
}

}  // namespace msb::gateway::http
