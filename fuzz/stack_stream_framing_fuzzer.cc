// stack_stream_framing_fuzzer: arbitrary bytes, in arbitrary chunks, into the stream decoder.
// Input: [u8 cap][u8 chunking][stream]. cap 0 = the default cap, else 14 + 4 * cap; chunking
// seeds the chunk sizes (its low 3 bits pick the largest chunk, 1 byte to 64 KiB). Checked: the
// chunked decoder reports exactly what one pass over the whole stream finds, every frame is
// within the caps, and re-encoding the records reproduces the stream up to where it stopped
// (a length above the cap, or a record still incomplete, which in_record() must then say).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "stack/stream_framing.h"

namespace {

using msb::stack::StreamFrameDecoder;
using Kind = StreamFrameDecoder::Kind;

void Check(bool ok) {
  if (!ok) {
    abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 1024 * 1024) {
    return 0;
  }
  const size_t cap = data[0] == 0 ? msb::stack::kDefaultMaxFrameSize : 14 + 4 * size_t{data[0]};
  uint32_t rng = 0x9e3779b9u ^ data[1];
  const size_t kLargest[8] = {1, 2, 3, 7, 64, 1500, 9000, 65536};
  const size_t largest = kLargest[data[1] & 7];
  std::span<const uint8_t> stream(data + 2, size - 2);

  // One pass over the whole stream: where the complete records end.
  size_t end = 0;
  bool fatal = false;
  while (stream.size() - end >= 4) {
    size_t len = (size_t{stream[end]} << 24) | (size_t{stream[end + 1]} << 16) |
                 (size_t{stream[end + 2]} << 8) | stream[end + 3];
    if (len > cap) {
      fatal = true;
      break;
    }
    if (stream.size() - end - 4 < len) {
      break;
    }
    end += 4 + len;
  }

  StreamFrameDecoder decoder(cap);
  std::vector<uint8_t> reencoded;
  bool saw_fatal = false;
  for (size_t pos = 0; pos < stream.size() && !saw_fatal;) {
    rng ^= rng << 13;  // xorshift32: chunk sizes the fuzzer steers through one byte
    rng ^= rng >> 17;
    rng ^= rng << 5;
    std::span<const uint8_t> chunk =
        stream.subspan(pos, std::min(1 + rng % largest, stream.size() - pos));
    pos += chunk.size();
    while (true) {
      StreamFrameDecoder::Step s = decoder.Decode(chunk);
      Check(s.consumed <= chunk.size());
      chunk = chunk.subspan(s.consumed);
      if (s.kind == Kind::kNeedMore) {
        Check(chunk.empty());
        break;
      }
      if (s.kind == Kind::kFatal) {
        saw_fatal = true;
        break;
      }
      Check(s.record.size() <= cap);
      Check((s.kind == Kind::kFrame) == (s.record.size() >= msb::stack::kEthernetHeaderSize));
      const std::span<const uint8_t> parts[1] = {s.record};
      msb::stack::AppendStreamFrame(parts, &reencoded);
    }
  }
  Check(saw_fatal == fatal);
  Check(reencoded.size() == end);
  Check(std::equal(reencoded.begin(), reencoded.end(), stream.begin()));
  Check(decoder.in_record() == (!fatal && end < stream.size()));
  return 0;
}
