// Test helpers for the HTTP/1.1 codec: an H1Events recorder that writes every event into a
// canonical log (adjacent body pieces merged, so logs compare equal however the input was split),
// and feeding helpers that drive a parser through a split input the way a proxy would.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/h1_parser.h"

namespace msb::gateway::http::h1test {

inline std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string DumpHeaders(const std::vector<Header>& headers);
std::string Dump(const RequestHead& head);
std::string Dump(const ResponseHead& head);

class Recorder : public H1Events {
 public:
  void OnRequestHead(RequestHead&& head) override;
  void OnResponseHead(ResponseHead&& head) override;
  void OnBody(std::span<const uint8_t> data) override;
  void OnTrailers(std::vector<Header>&& trailers) override;
  void OnMessageEnd() override;

  // Canonical event log: one entry per event, body pieces of one message merged into one entry.
  std::vector<std::string> log;
  std::vector<RequestHead> requests;
  std::vector<ResponseHead> responses;
  std::vector<std::string> bodies;  // per message that had a body, in order
  std::vector<std::vector<Header>> trailers;
  size_t messages_ended = 0;
  size_t body_calls = 0;
  size_t largest_body_call = 0;
  uint64_t body_bytes = 0;
  bool keep_bodies = true;  // false: count body bytes without storing them
  // When set, Pause() is called on `parser` at every message end.
  H1Parser* pause_parser = nullptr;

 private:
  bool in_body_ = false;
};

struct Outcome {
  FeedStatus status = FeedStatus::kNeedMore;
  H1Error error = H1Error::kNone;
  size_t consumed = 0;  // total bytes of the input consumed
  std::vector<std::string> log;

  bool operator==(const Outcome&) const = default;
};

// FeedSplit feeds `input` to `parser` in pieces ending at `cuts` (ascending offsets), resuming
// after kPaused as a proxy would, and stops at kTunnel, kClosed or kError. `finish` calls Finish()
// after the last piece if the parser still needs more.
FeedResult FeedSplit(H1Parser* parser, std::string_view input, const std::vector<size_t>& cuts,
                     size_t* consumed, bool finish = false);

// Run parses `input` with a fresh parser of `kind` (response parsers expect `methods`, one per
// response) split at `cuts`, and returns what happened.
Outcome Run(H1Parser::Kind kind, std::string_view input, const std::vector<size_t>& cuts = {},
            const std::vector<std::string>& methods = {"GET", "GET", "GET", "GET"},
            bool finish = false);

// RequestError is the error of parsing `input` as requests in one piece (kNone if accepted).
H1Error RequestError(std::string_view input);
H1Error ResponseError(std::string_view input, std::string_view method = "GET");

}  // namespace msb::gateway::http::h1test
