// Tests for the HTTP/2 proxy's flow control and limits: 10 MiB both ways at the default
// 65,535-byte windows (no stall), bounded buffering with slow and stalled readers, many
// interleaved streams, random and byte-by-byte splits, and misbehaving guests (garbage, bad
// frames, CONTINUATION floods, huge headers, rapid reset, too many streams).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "gateway/http/h2_proxy.h"
#include "tests/gateway/http/h2_test_peers.h"

namespace msb::gateway::http {
namespace {

using testing::H2Harness;
using ::testing::HasSubstr;
using testing::PeerOptions;
using testing::PeerStream;
using testing::TestRequest;
using testing::TestResponse;
using testing::TestUpstream;

constexpr uint64_t kTenMiB = 10u << 20;
constexpr size_t kFrame = 16384 + 9;

// What the proxy may hold: each direction's body bytes are bounded by the window it advertised
// (per stream, and per connection), plus each leg's serialized output.
size_t Bound(const H2Limits& l, size_t streams) {
  size_t per_direction =
      std::min<size_t>(l.connection_window_size, streams * size_t{l.initial_window_size});
  return 2 * per_direction + 2 * (l.output_budget + 2 * kFrame);
}

void RespondOnHead(TestUpstream& up, uint64_t size) {
  up.on_head = [size](TestUpstream& u, PeerStream& s) {
    TestResponse r;
    r.body_size = size;
    u.Respond(s.id, r);
  };
}

TEST(H2ProxyFlow, TenMiBBothWaysWithDefaultWindowsDoesNotStall) {
  H2Limits limits;
  limits.initial_window_size = 65535;
  limits.connection_window_size = 65535;
  H2Harness h(limits);
  RespondOnHead(h.upstream, kTenMiB);  // the response streams while the request uploads
  TestRequest req;
  req.method = "POST";
  req.body_size = kTenMiB;
  int32_t id = h.guest.Submit(req);
  int steps = h.Pump();
  EXPECT_LT(steps, 1000000);
  const PeerStream& up = h.upstream.streams().at(1);
  EXPECT_EQ(up.body_bytes, kTenMiB);
  EXPECT_TRUE(up.pattern_ok);
  EXPECT_TRUE(up.end_stream);
  const PeerStream* s = h.guest.Find(id);
  EXPECT_EQ(s->body_bytes, kTenMiB);
  EXPECT_TRUE(s->pattern_ok);
  EXPECT_TRUE(s->end_stream);
  const H2StreamSummary& sum = h.delegate.summaries.at(id);
  EXPECT_EQ(sum.bytes_up, kTenMiB);
  EXPECT_EQ(sum.bytes_down, kTenMiB);
  EXPECT_EQ(sum.end, "complete");
  EXPECT_LE(h.max_buffered, Bound(limits, 1));
}

TEST(H2ProxyFlow, TenMiBWithSlowReadersStaysBounded) {
  H2Limits limits;  // 256 KiB stream windows, 1 MiB connection windows
  PeerOptions slow;
  slow.auto_consume = false;
  H2Harness h(limits, slow, slow);
  h.guest_consume_per_step = 8192;
  h.upstream_consume_per_step = 8192;
  RespondOnHead(h.upstream, kTenMiB);
  TestRequest req;
  req.method = "POST";
  req.body_size = kTenMiB;
  int32_t id = h.guest.Submit(req);
  h.Pump();
  EXPECT_EQ(h.upstream.streams().at(1).body_bytes, kTenMiB);
  EXPECT_TRUE(h.upstream.streams().at(1).pattern_ok);
  EXPECT_EQ(h.guest.Find(id)->body_bytes, kTenMiB);
  EXPECT_TRUE(h.guest.Find(id)->pattern_ok);
  EXPECT_EQ(h.delegate.summaries.at(id).end, "complete");
  // Readers slower than the writers: the proxy fills up to its windows and no further.
  EXPECT_GT(h.max_buffered, size_t{limits.initial_window_size});
  EXPECT_LE(h.max_buffered, Bound(limits, 1));
}

TEST(H2ProxyFlow, StalledUpstreamHoldsAtMostTheWindow) {
  H2Limits limits;
  H2Harness h(limits);
  TestRequest req;
  req.method = "POST";
  req.body_size = kTenMiB;
  int32_t id = h.guest.Submit(req);
  h.PumpUntil([&] { return h.upstream.requests == 1; });
  h.upstream_paused = true;  // the upstream socket stops draining
  h.Pump();
  size_t held = h.proxy->BufferedBytes();
  EXPECT_GE(held, size_t{limits.initial_window_size});
  EXPECT_LE(held, limits.initial_window_size + limits.output_budget + 2 * kFrame);
  uint64_t sent = h.guest.Find(id)->sent;
  EXPECT_LT(sent, 2u * limits.initial_window_size);  // the guest's window closed
  h.upstream_paused = false;
  h.Pump();
  EXPECT_EQ(h.upstream.streams().at(1).body_bytes, kTenMiB);
  EXPECT_EQ(h.guest.Find(id)->Get("x-request-bytes"), std::to_string(kTenMiB));
}

TEST(H2ProxyFlow, ManyConcurrentStreamsInterleave) {
  H2Limits limits;
  H2Harness h(limits);
  h.chunk = 1500;  // small steps interleave frames of every stream
  RespondOnHead(h.upstream, 100000);
  std::vector<int32_t> ids;
  for (int i = 0; i < 60; ++i) {
    TestRequest req;
    req.method = "POST";
    req.path = "/item/" + std::to_string(i);
    req.body_size = 100000 + static_cast<uint64_t>(i);
    ids.push_back(h.guest.Submit(req));
  }
  h.Pump();
  EXPECT_EQ(h.upstream.requests, 60);
  for (auto& [uid, up] : h.upstream.streams()) {
    std::string n = up.Get(":path").substr(6);
    EXPECT_EQ(up.body_bytes, 100000 + std::stoull(n));
    EXPECT_TRUE(up.pattern_ok);
    EXPECT_TRUE(up.end_stream);
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    const PeerStream* s = h.guest.Find(ids[i]);
    EXPECT_EQ(s->body_bytes, 100000u);
    EXPECT_TRUE(s->pattern_ok);
    const H2StreamSummary& sum = h.delegate.summaries.at(ids[i]);
    EXPECT_EQ(sum.bytes_up, 100000 + i);
    EXPECT_EQ(sum.bytes_down, 100000u);
    EXPECT_EQ(sum.path_without_query, "/item/" + std::to_string(i));
    EXPECT_EQ(sum.end, "complete");
  }
  EXPECT_EQ(h.delegate.summaries.size(), 60u);
  EXPECT_EQ(h.delegate.duplicate_summaries, 0);
  EXPECT_LE(h.max_buffered, Bound(limits, 60));
}

class H2ProxySplit : public ::testing::TestWithParam<int> {};

TEST_P(H2ProxySplit, ExchangeSurvivesAnySplit) {
  H2Harness h;
  RespondOnHead(h.upstream, 40000);
  TestRequest req;
  req.method = "POST";
  req.body_size = 30000;
  req.trailers = {{"x-done", "1", false}};
  int32_t id = h.guest.Submit(req);
  std::mt19937 rng(static_cast<uint32_t>(GetParam()));
  for (int i = 0; i < 2000000; ++i) {
    h.chunk = GetParam() == 0 ? 1 : 1 + rng() % 97;
    if (!h.Step()) {
      break;
    }
  }
  EXPECT_EQ(h.upstream.streams().at(1).body_bytes, 30000u);
  EXPECT_EQ(h.guest.Find(id)->body_bytes, 40000u);
  EXPECT_TRUE(h.guest.Find(id)->pattern_ok);
  EXPECT_EQ(h.delegate.summaries.at(id).end, "complete");
}

INSTANTIATE_TEST_SUITE_P(ByteByByteAndRandom, H2ProxySplit, ::testing::Values(0, 1, 2, 3));

TEST(H2ProxyFlow, GarbageInsteadOfPrefaceIsAnError) {
  testing::RecordingDelegate d;
  auto proxy = std::move(H2Proxy::Create(&d)).value();
  std::string junk = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
  auto r =
      proxy->FeedFromGuest(std::span(reinterpret_cast<const uint8_t*>(junk.data()), junk.size()));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("guest"));
  EXPECT_FALSE(proxy->WantsWriteToGuest());
  proxy->OnGuestEof();
  std::string out;
  proxy->TakeToUpstream(&out, 1 << 20);
  proxy->OnUpstreamEof();
  EXPECT_TRUE(proxy->Done());
  EXPECT_TRUE(d.summaries.empty());
}

std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string f;
  f.push_back(static_cast<char>(payload.size() >> 16));
  f.push_back(static_cast<char>(payload.size() >> 8));
  f.push_back(static_cast<char>(payload.size()));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  for (int shift : {24, 16, 8, 0}) {
    f.push_back(static_cast<char>((stream >> shift) & 0x7f));
  }
  return f + payload;
}

std::string Preface() {
  return std::string(NGHTTP2_CLIENT_MAGIC, NGHTTP2_CLIENT_MAGIC_LEN) + Frame(4, 0, 0, "");
}

// HPACK "literal header field without indexing, new name".
std::string Literal(const std::string& name, const std::string& value) {
  return std::string(1, '\0') + static_cast<char>(name.size()) + name +
         static_cast<char>(value.size()) + value;
}

Result<size_t> FeedRaw(H2Proxy& proxy, const std::string& bytes) {
  return proxy.FeedFromGuest(
      std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

TEST(H2ProxyFlow, BadFrameAfterPrefaceIsAnErrorWithGoaway) {
  testing::RecordingDelegate d;
  auto proxy = std::move(H2Proxy::Create(&d)).value();
  std::string settings;
  proxy->TakeToGuest(&settings, 1 << 20);
  auto r = FeedRaw(*proxy, Preface() + Frame(0, 0, 0, "data on stream zero"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr("PROTOCOL_ERROR"));
  std::string out;
  proxy->TakeToGuest(&out, 1 << 20);
  // Among the frames sent is a GOAWAY (type 7) carrying PROTOCOL_ERROR (1).
  bool goaway = false;
  for (size_t pos = 0; pos + 9 <= out.size();) {
    size_t len = (size_t{static_cast<uint8_t>(out[pos])} << 16) |
                 (size_t{static_cast<uint8_t>(out[pos + 1])} << 8) |
                 static_cast<uint8_t>(out[pos + 2]);
    if (out[pos + 3] == 7 && len >= 8 && pos + 9 + len <= out.size()) {
      goaway = static_cast<uint8_t>(out[pos + 9 + 7]) == NGHTTP2_PROTOCOL_ERROR;
    }
    pos += 9 + len;
  }
  EXPECT_TRUE(goaway);
  EXPECT_FALSE(FeedRaw(*proxy, "more").ok());
  proxy->OnGuestEof();
  proxy->OnUpstreamEof();
  EXPECT_TRUE(proxy->Done());
}

TEST(H2ProxyFlow, ContinuationFloodIsAnError) {
  testing::RecordingDelegate d;
  auto proxy = std::move(H2Proxy::Create(&d)).value();
  std::string bytes = Preface() + Frame(1, 0, 1, "\x82\x87" + Literal(":path", "/"));
  for (int i = 0; i < 40; ++i) {
    bytes += Frame(9, 0, 1, Literal("x-filler", std::string(10, 'a')));
  }
  auto r = FeedRaw(*proxy, bytes);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(d.heads.empty());
  proxy->OnGuestEof();
  EXPECT_EQ(proxy->LiveStreams(), 0u);
  EXPECT_EQ(d.summaries.size(), 1u);
  EXPECT_EQ(d.summaries.count(1), 1u);
}

TEST(H2ProxyFlow, HugeHeaderListResetsOnlyThatStream) {
  PeerOptions big_headers;
  H2Harness h({}, big_headers);
  TestRequest huge;
  for (int i = 0; i < 10; ++i) {
    huge.headers.push_back({"x-big-" + std::to_string(i), std::string(7000, 'v'), false});
  }
  int32_t bad = h.guest.Submit(huge);
  int32_t ok = h.guest.Submit(TestRequest{});
  h.Pump();
  EXPECT_TRUE(h.guest.Find(bad)->rst_received);
  EXPECT_EQ(h.delegate.summaries.at(bad).end, "headers_too_large");
  EXPECT_EQ(h.delegate.heads.size(), 1u);
  EXPECT_EQ(h.upstream.requests, 1);
  EXPECT_EQ(h.delegate.summaries.at(ok).end, "complete");
  EXPECT_TRUE(h.guest_error.empty());
}

TEST(H2ProxyFlow, RapidResetEndsTheConnection) {
  H2Limits limits;
  limits.reset_burst = 10;
  limits.reset_rate = 1;
  H2Harness h(limits);
  h.upstream.on_head = [](TestUpstream&, PeerStream&) {};
  h.Pump();
  for (int i = 0; i < 40; ++i) {
    int32_t id = h.guest.Submit(TestRequest{});
    h.guest.Flush();  // HEADERS leave before the reset
    h.guest.Reset(id, NGHTTP2_CANCEL);
  }
  h.Pump();
  EXPECT_THAT(h.guest_error, HasSubstr("GOAWAY"));
  h.proxy->OnGuestEof();
  h.Pump();
  EXPECT_TRUE(h.proxy->Done());
  EXPECT_EQ(h.proxy->LiveStreams(), 0u);
  for (const H2RequestHead& head : h.delegate.heads) {
    EXPECT_EQ(h.delegate.summaries.count(head.stream_id), 1u);
  }
  EXPECT_EQ(h.delegate.duplicate_summaries, 0);
}

TEST(H2ProxyFlow, UpstreamStreamCapRefusesRetryably) {
  H2Limits limits;
  limits.max_upstream_streams = 2;
  H2Harness h(limits);
  h.upstream.on_head = [](TestUpstream&, PeerStream&) {};
  std::vector<int32_t> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(h.guest.Submit(TestRequest{}));
  }
  h.Pump();
  EXPECT_EQ(h.upstream.requests, 2);
  EXPECT_EQ(h.guest.Find(ids[2])->rst_code, static_cast<uint32_t>(NGHTTP2_REFUSED_STREAM));
  EXPECT_EQ(h.guest.Find(ids[3])->rst_code, static_cast<uint32_t>(NGHTTP2_REFUSED_STREAM));
  EXPECT_EQ(h.delegate.summaries.at(ids[2]).end, "rejected");
  for (int32_t uid : {1, 3}) {
    TestResponse r;
    r.literal = "x";
    h.upstream.Respond(uid, r);
  }
  h.Pump();
  EXPECT_EQ(h.delegate.summaries.at(ids[0]).end, "complete");
  EXPECT_EQ(h.delegate.summaries.at(ids[1]).end, "complete");
  EXPECT_EQ(h.proxy->LiveStreams(), 0u);
}

}  // namespace
}  // namespace msb::gateway::http
