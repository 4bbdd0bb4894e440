// ContentDecoder: zlib-based decoding of gzip / deflate bodies for scanning (content_decoder.h).
#include "gateway/http/content_decoder.h"

#include <zlib.h>

#include <array>
#include <cstring>

#include "base/strings.h"

namespace msb::gateway::http {

struct ContentDecoder::State {
  z_stream z{};
  bool raw_fallback_tried = false;
  Coding coding;
};

bool ContentDecoder::IsIdentity(std::string_view content_encoding) {
  std::string_view rest = content_encoding;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view token = TrimSpaceTab(rest.substr(0, comma));
    if (!token.empty() && !EqualsIgnoreAsciiCase(token, "identity")) {
      return false;
    }
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return true;
}

ContentDecoder::Coding ContentDecoder::CodingOf(std::string_view v) {
  v = TrimSpaceTab(v);
  if (IsIdentity(v)) {
    return Coding::kIdentity;
  }
  if (v.find(',') != std::string_view::npos) {
    return Coding::kUnsupported;  // a chain of codings
  }
  if (EqualsIgnoreAsciiCase(v, "gzip") || EqualsIgnoreAsciiCase(v, "x-gzip")) {
    return Coding::kGzip;
  }
  if (EqualsIgnoreAsciiCase(v, "deflate")) {
    return Coding::kDeflate;
  }
  return Coding::kUnsupported;
}

ContentDecoder::ContentDecoder(Coding coding) : state_(std::make_unique<State>()) {
  state_->coding = coding;
  // 15 + 16: gzip only; 15 + 32 would also take zlib. deflate is zlib-wrapped by the RFC, raw
  // in practice from some clients: try zlib first, raw on a header error.
  int bits = coding == Coding::kGzip ? 15 + 16 : 15;
  if (inflateInit2(&state_->z, bits) != Z_OK) {
    failed_ = true;
  }
}

ContentDecoder::~ContentDecoder() {
  inflateEnd(&state_->z);
}

bool ContentDecoder::Feed(std::span<const uint8_t> in, const Sink& sink) {
  if (failed_) {
    return false;
  }
  std::array<uint8_t, 16 * 1024> out;
  z_stream& z = state_->z;
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  while (z.avail_in > 0 && !ended_) {
    z.next_out = out.data();
    z.avail_out = out.size();
    int rc = inflate(&z, Z_NO_FLUSH);
    if (rc == Z_DATA_ERROR && state_->coding == Coding::kDeflate && !state_->raw_fallback_tried &&
        z.total_out == 0) {
      state_->raw_fallback_tried = true;
      inflateEnd(&z);
      std::memset(&z, 0, sizeof(z));
      if (inflateInit2(&z, -15) != Z_OK) {
        failed_ = true;
        return false;
      }
      z.next_in = const_cast<Bytef*>(in.data());
      z.avail_in = static_cast<uInt>(in.size());
      continue;
    }
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      failed_ = true;
      return false;
    }
    size_t n = out.size() - z.avail_out;
    decoded_ += n;
    if (decoded_ > kMaxDecodedBytes) {
      failed_ = true;
      return false;
    }
    if (n > 0) {
      sink({out.data(), n});
    }
    if (rc == Z_STREAM_END) {
      ended_ = true;  // trailing bytes after the stream are not looked at
    } else if (rc == Z_BUF_ERROR && n == 0) {
      break;
    }
  }
  // Drain output still pending for the input already taken.
  while (!ended_) {
    z.next_out = out.data();
    z.avail_out = out.size();
    int rc = inflate(&z, Z_NO_FLUSH);
    size_t n = out.size() - z.avail_out;
    if (n == 0 || (rc != Z_OK && rc != Z_STREAM_END)) {
      if (rc == Z_STREAM_END)
        ended_ = true;
      break;
    }
    decoded_ += n;
    if (decoded_ > kMaxDecodedBytes) {
      failed_ = true;
      return false;
    }
    sink({out.data(), n});
    if (rc == Z_STREAM_END)
      ended_ = true;
  }
  return true;
}

}  // namespace msb::gateway::http
