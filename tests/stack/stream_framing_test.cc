// The length-prefix stream codec: the same records whatever the chunking (down to single bytes),
// runts skipped with framing kept, an oversize length fatal until Reset, zero-copy for records
// that arrive whole, and the encoder's bytes decoding back to what was encoded.
#include "stack/stream_framing.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace msb::stack {
namespace {

using Kind = StreamFrameDecoder::Kind;

struct Event {
  Kind kind;
  std::vector<uint8_t> bytes;
  bool operator==(const Event&) const = default;
};

std::vector<uint8_t> Frame(size_t size, uint8_t seed) {
  std::vector<uint8_t> f(size);
  for (size_t i = 0; i < size; ++i) {
    f[i] = static_cast<uint8_t>(seed + i * 7);
  }
  return f;
}

void Append(std::vector<uint8_t>* stream, const std::vector<uint8_t>& frame) {
  const std::span<const uint8_t> parts[1] = {frame};
  AppendStreamFrame(parts, stream);
}

void AppendHeader(std::vector<uint8_t>* stream, uint32_t len) {
  auto h = StreamFrameHeader(len);
  stream->insert(stream->end(), h.begin(), h.end());
}

// Feed passes `chunk` to the decoder until it is used up, recording every record.
void Feed(StreamFrameDecoder* d, std::span<const uint8_t> chunk, std::vector<Event>* events) {
  while (true) {
    StreamFrameDecoder::Step s = d->Decode(chunk);
    ASSERT_LE(s.consumed, chunk.size());
    chunk = chunk.subspan(s.consumed);
    if (s.kind == Kind::kNeedMore) {
      ASSERT_TRUE(chunk.empty());
      return;
    }
    events->push_back({s.kind, {s.record.begin(), s.record.end()}});
    if (s.kind == Kind::kFatal) {
      return;
    }
  }
}

// DecodeInChunks cuts `stream` at `cuts` (sorted offsets) and decodes the pieces in order.
std::vector<Event> DecodeInChunks(std::span<const uint8_t> stream, const std::vector<size_t>& cuts,
                                  size_t max_frame = kDefaultMaxFrameSize) {
  StreamFrameDecoder d(max_frame);
  std::vector<Event> events;
  size_t start = 0;
  for (size_t cut : cuts) {
    Feed(&d, stream.subspan(start, cut - start), &events);
    start = cut;
    if (d.fatal()) {
      return events;  // the device drops the connection here
    }
  }
  Feed(&d, stream.subspan(start), &events);
  return events;
}

class StreamFramingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    frames_ = {Frame(14, 1),
               Frame(60, 2),
               Frame(1514, 3),
               Frame(13, 4),
               Frame(0, 5),
               Frame(100, 6),
               Frame(kDefaultMaxFrameSize, 7)};
    for (const auto& f : frames_) {
      Append(&stream_, f);
      expected_.push_back({f.size() < 14 ? Kind::kMalformed : Kind::kFrame, f});
    }
  }
  std::vector<std::vector<uint8_t>> frames_;
  std::vector<uint8_t> stream_;
  std::vector<Event> expected_;
};

TEST_F(StreamFramingTest, WholeStreamAtOnce) {
  EXPECT_EQ(DecodeInChunks(stream_, {}), expected_);
}

TEST_F(StreamFramingTest, EveryFixedChunkSizeIncludingSingleBytes) {
  // Every chunk size up to a little past the third record covers cuts inside every header and
  // body of the small records; 1-byte chunks cut everywhere.
  for (size_t size = 1; size <= 1700; ++size) {
    std::vector<size_t> cuts;
    for (size_t at = size; at < stream_.size(); at += size) {
      cuts.push_back(at);
    }
    ASSERT_EQ(DecodeInChunks(stream_, cuts), expected_) << "chunk size " << size;
  }
}

TEST_F(StreamFramingTest, EverySingleCutPoint) {
  for (size_t at = 0; at <= stream_.size(); at += (at < 2000 ? 1 : 97)) {
    ASSERT_EQ(DecodeInChunks(stream_, {at}), expected_) << "cut at " << at;
  }
}

TEST_F(StreamFramingTest, RandomChunkings) {
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::vector<size_t> cuts;
    for (size_t at = 0;;) {
      at += 1 + rng() % 300;
      if (at >= stream_.size()) {
        break;
      }
      cuts.push_back(at);
    }
    ASSERT_EQ(DecodeInChunks(stream_, cuts), expected_) << "round " << round;
  }
}

TEST(StreamFramingEdges, RunsBelowTheMinimumAreSkippedWithFramingKept) {
  std::vector<uint8_t> stream;
  Append(&stream, Frame(0, 0));
  Append(&stream, Frame(13, 1));
  Append(&stream, Frame(14, 2));
  std::vector<Event> events = DecodeInChunks(stream, {});
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, Kind::kMalformed);
  EXPECT_EQ(events[1].kind, Kind::kMalformed);
  EXPECT_EQ(events[1].bytes, Frame(13, 1));
  EXPECT_EQ(events[2], (Event{Kind::kFrame, Frame(14, 2)}));
}

TEST(StreamFramingEdges, LengthAtTheCapIsAFrameAboveItIsFatalUntilReset) {
  const size_t cap = 200;
  std::vector<uint8_t> at_cap;
  Append(&at_cap, Frame(cap, 9));
  EXPECT_EQ(DecodeInChunks(at_cap, {}, cap), (std::vector<Event>{{Kind::kFrame, Frame(cap, 9)}}));

  std::vector<uint8_t> over;
  Append(&over, Frame(20, 1));
  AppendHeader(&over, cap + 1);
  Append(&over, Frame(20, 2));  // never reached: nothing after a bad length can be trusted
  for (size_t chunk : {size_t{1}, size_t{5}, over.size()}) {
    std::vector<size_t> cuts;
    for (size_t at = chunk; at < over.size(); at += chunk) {
      cuts.push_back(at);
    }
    std::vector<Event> events = DecodeInChunks(over, cuts, cap);
    ASSERT_EQ(events.size(), 2u) << "chunk " << chunk;
    EXPECT_EQ(events[0], (Event{Kind::kFrame, Frame(20, 1)}));
    EXPECT_EQ(events[1].kind, Kind::kFatal);
  }

  StreamFrameDecoder d(cap);
  std::vector<uint8_t> bad;
  AppendHeader(&bad, 0xffffffff);
  EXPECT_EQ(d.Decode(bad).kind, Kind::kFatal);
  EXPECT_TRUE(d.fatal());
  std::vector<uint8_t> good;
  Append(&good, Frame(30, 3));
  StreamFrameDecoder::Step s = d.Decode(good);
  EXPECT_EQ(s.kind, Kind::kFatal);
  EXPECT_EQ(s.consumed, 0u);
  d.Reset();
  s = d.Decode(good);
  EXPECT_EQ(s.kind, Kind::kFrame);
  EXPECT_EQ(s.consumed, good.size());
}

TEST(StreamFramingEdges, CapBelowAnEthernetHeaderIsRaisedToIt) {
  StreamFrameDecoder d(3);
  EXPECT_EQ(d.max_frame(), kEthernetHeaderSize);
}

TEST(StreamFramingEdges, PartialRecordIsVisibleForTruncationAccounting) {
  std::vector<uint8_t> stream;
  Append(&stream, Frame(40, 1));
  StreamFrameDecoder d(kDefaultMaxFrameSize);
  EXPECT_FALSE(d.in_record());
  EXPECT_EQ(d.Decode(std::span(stream).first(2)).kind, Kind::kNeedMore);
  EXPECT_TRUE(d.in_record());  // inside the header
  EXPECT_EQ(d.Decode(std::span(stream).subspan(2, 10)).kind, Kind::kNeedMore);
  EXPECT_TRUE(d.in_record());  // inside the body
  EXPECT_EQ(d.Decode(std::span(stream).subspan(12)).kind, Kind::kFrame);
  EXPECT_FALSE(d.in_record());
  d.Decode(std::span(stream).first(7));
  d.Reset();
  EXPECT_FALSE(d.in_record());
}

TEST(StreamFramingEdges, WholeRecordsAreHandedOutInPlace) {
  std::vector<uint8_t> stream;
  Append(&stream, Frame(50, 1));
  Append(&stream, Frame(60, 2));
  StreamFrameDecoder d(kDefaultMaxFrameSize);
  StreamFrameDecoder::Step s = d.Decode(stream);
  EXPECT_EQ(s.record.data(), stream.data() + 4);
  s = d.Decode(std::span(stream).subspan(s.consumed));
  EXPECT_EQ(s.record.data(), stream.data() + 4 + 50 + 4);
}

TEST(StreamFramingEncoder, HeaderIsBigEndianAndPartsAreJoined) {
  auto h = StreamFrameHeader(0x01020304);
  EXPECT_EQ(std::vector<uint8_t>(h.begin(), h.end()), (std::vector<uint8_t>{1, 2, 3, 4}));
  std::vector<uint8_t> a = Frame(10, 1);
  std::vector<uint8_t> b = Frame(7, 2);
  const std::span<const uint8_t> parts[2] = {a, b};
  std::vector<uint8_t> out = {0xee};  // appended after what is there
  AppendStreamFrame(parts, &out);
  std::vector<uint8_t> expected = {0xee, 0, 0, 0, 17};
  expected.insert(expected.end(), a.begin(), a.end());
  expected.insert(expected.end(), b.begin(), b.end());
  EXPECT_EQ(out, expected);
}

TEST(StreamFramingEncoder, RoundTrip) {
  std::mt19937 rng(7);
  std::vector<std::vector<uint8_t>> frames;
  std::vector<uint8_t> stream;
  for (int i = 0; i < 50; ++i) {
    frames.push_back(Frame(14 + rng() % 3000, static_cast<uint8_t>(i)));
    Append(&stream, frames.back());
  }
  std::vector<Event> events = DecodeInChunks(stream, {1, 2, 3, 1000, 1001, 5000});
  ASSERT_EQ(events.size(), frames.size());
  std::vector<uint8_t> again;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i], (Event{Kind::kFrame, frames[i]}));
    Append(&again, events[i].bytes);
  }
  EXPECT_EQ(again, stream);
}

}  // namespace
}  // namespace msb::stack
