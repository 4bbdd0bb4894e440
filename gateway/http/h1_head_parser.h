// HeadParser: the llhttp 8.1.0 tokeniser behind H1Parser, for message heads only (start line and
// field lines). Bodies never reach llhttp: H1Parser frames them itself (h1_body.h), because
// llhttp 8.1.0 accepts chunk data not followed by CRLF. This is the only file that knows llhttp;
// replacing the tokeniser means replacing h1_head_parser.cc.
//
// llhttp callbacks only append to strings here and flag errors; nothing is freed or delivered
// from inside them. H1Parser reads the head after Feed returns.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/h1_message.h"

namespace msb::gateway::http {

// RawHead is what llhttp extracted from one head, before the rules of h1_head_rules.h.
struct RawHead {
  std::string method;   // requests
  std::string target;   // requests
  uint16_t status = 0;  // responses
  std::string reason;   // responses, as sent
  uint8_t major = 0;
  uint8_t minor = 0;
  std::vector<Header> headers;  // values trimmed
};

class HeadParser {
 public:
  explicit HeadParser(bool request);
  ~HeadParser();
  HeadParser(const HeadParser&) = delete;
  HeadParser& operator=(const HeadParser&) = delete;

  // Begin starts a new head, discarding the previous one.
  void Begin();

  struct Step {
    bool complete = false;  // llhttp ended the head exactly at the end of the data given
    H1Error error = H1Error::kNone;
    std::string_view detail;  // static text
  };
  // Feed hands llhttp the next bytes of the head (never bytes after it). After an error the
  // parser must be restarted with Begin().
  Step Feed(std::span<const uint8_t> data);

  RawHead& head();

  struct Impl;  // llhttp state and the callbacks' scratch; defined in h1_head_parser.cc

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace msb::gateway::http
