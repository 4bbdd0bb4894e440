// ContentDecoder: undoes a body's Content-Encoding so it can be SCANNED for placeholders (never to
// forward the decoded bytes: a compressed body goes upstream byte-exact or not at all). gzip,
// x-gzip and deflate (zlib or raw) via zlib; "identity" is no coding. Anything else, or more than
// one coding, is unsupported: the caller fails closed when it had to look inside. Decoding is
// streaming with a fixed buffer, and stops at kMaxDecodedBytes (a decompression bomb costs at
// most that much CPU).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

namespace msb::gateway::http {

class ContentDecoder {
 public:
  static constexpr uint64_t kMaxDecodedBytes = 1ull << 30;

  enum class Coding : uint8_t { kIdentity, kGzip, kDeflate, kUnsupported };
  // CodingOf parses a Content-Encoding value ("" = no header).
  static Coding CodingOf(std::string_view content_encoding);
  // IsIdentity: the value lists no coding but "identity" (or none at all).
  static bool IsIdentity(std::string_view content_encoding);

  // For kGzip / kDeflate only.
  explicit ContentDecoder(Coding coding);
  ~ContentDecoder();
  ContentDecoder(const ContentDecoder&) = delete;
  ContentDecoder& operator=(const ContentDecoder&) = delete;

  // Feed decodes `in`, handing decoded pieces to `sink`. False when the data is not valid for the
  // coding or decoding passed kMaxDecodedBytes (the decoder stays failed).
  using Sink = std::function<void(std::span<const uint8_t>)>;
  bool Feed(std::span<const uint8_t> in, const Sink& sink);

 private:
  struct State;
  std::unique_ptr<State> state_;
  bool failed_ = false;
  bool ended_ = false;
  uint64_t decoded_ = 0;
};

}  // namespace msb::gateway::http
