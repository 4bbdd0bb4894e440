// Stream framing: the length-prefix decoder's state machine (header, body, fatal) and the encoder.
// A record that arrives whole in one input is handed out in place; only records split across
// inputs are copied, into a buffer bounded by the frame cap.
#include "stack/stream_framing.h"

#include <algorithm>

namespace msb::stack {
namespace {

uint32_t LoadBigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

std::array<uint8_t, kStreamHeaderSize> StreamFrameHeader(size_t frame_size) {
  auto n = static_cast<uint32_t>(frame_size);
  return {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
          static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
}

void AppendStreamFrame(std::span<const std::span<const uint8_t>> parts, std::vector<uint8_t>* out) {
  size_t size = FramePartsSize(parts);
  std::array<uint8_t, kStreamHeaderSize> header = StreamFrameHeader(size);
  out->insert(out->end(), header.begin(), header.end());
  for (std::span<const uint8_t> part : parts) {
    out->insert(out->end(), part.begin(), part.end());
  }
}

StreamFrameDecoder::StreamFrameDecoder(size_t max_frame)
    : max_frame_(std::max(max_frame, kEthernetHeaderSize)) {}

void StreamFrameDecoder::Reset() {
  header_got_ = 0;
  in_body_ = false;
  body_size_ = 0;
  body_.clear();
  fatal_ = false;
}

StreamFrameDecoder::Step StreamFrameDecoder::Finish(size_t consumed,
                                                    std::span<const uint8_t> record) const {
  Kind kind = record.size() < kEthernetHeaderSize ? Kind::kMalformed : Kind::kFrame;
  return {kind, consumed, record};
}

StreamFrameDecoder::Step StreamFrameDecoder::Decode(std::span<const uint8_t> input) {
  if (fatal_) {
    return {Kind::kFatal, 0, {}};
  }
  size_t pos = 0;
  if (!in_body_) {
    // The common case: a whole record at the start of the input, handed out without a copy.
    if (header_got_ == 0 && input.size() >= kStreamHeaderSize) {
      uint32_t len = LoadBigEndian32(input.data());
      if (len > max_frame_) {
        fatal_ = true;
        return {Kind::kFatal, kStreamHeaderSize, {}};
      }
      if (input.size() - kStreamHeaderSize >= len) {
        return Finish(kStreamHeaderSize + len, input.subspan(kStreamHeaderSize, len));
      }
    }
    size_t take = std::min(kStreamHeaderSize - header_got_, input.size());
    std::copy_n(input.begin(), take, header_.begin() + static_cast<ptrdiff_t>(header_got_));
    header_got_ += take;
    pos = take;
    if (header_got_ < kStreamHeaderSize) {
      return {Kind::kNeedMore, pos, {}};
    }
    header_got_ = 0;
    uint32_t len = LoadBigEndian32(header_.data());
    if (len > max_frame_) {
      fatal_ = true;
      return {Kind::kFatal, pos, {}};
    }
    in_body_ = true;
    body_size_ = len;
    body_.clear();
  }
  size_t take = std::min(body_size_ - body_.size(), input.size() - pos);
  body_.insert(body_.end(), input.begin() + static_cast<ptrdiff_t>(pos),
               input.begin() + static_cast<ptrdiff_t>(pos + take));
  pos += take;
  if (body_.size() < body_size_) {
    return {Kind::kNeedMore, pos, {}};
  }
  in_body_ = false;
  return Finish(pos, body_);
}

}  // namespace msb::stack
