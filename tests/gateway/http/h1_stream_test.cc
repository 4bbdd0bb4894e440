// Tests for the HTTP/1.1 parser as a stream: feeding byte by byte and in random splits gives
// exactly the one-shot result (a property test over many requests and responses, valid and not),
// pipelining and pausing, bodies that stream with bounded memory, 100-continue, tunnels that
// leave their bytes unconsumed, and the parse -> write -> parse round trip of heads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "gateway/http/h1_parser.h"
#include "gateway/http/h1_writer.h"
#include "tests/gateway/http/h1_test_util.h"

namespace msb::gateway::http {
namespace {

using h1test::Bytes;
using h1test::Outcome;
using h1test::Recorder;
using h1test::Run;

// Streams: several messages each, covering every body kind and a sample of the error paths.
const std::vector<std::string>& RequestStreams() {
  static const std::vector<std::string> streams = {
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /x?y HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\nPOST /p HTTP/1.1\r\nHost: a\r\n"
      "Content-Length: 11\r\n\r\nhello worldPUT /c HTTP/1.1\r\nHost: a\r\n"
      "Transfer-Encoding: chunked\r\n\r\n4;x=y\r\nwiki\r\n5\r\npedia\r\n0\r\nT: v\r\n\r\n"
      "GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\n",
      "GET http://a:8/x HTTP/1.1\r\nHost: a:8\r\nX: caf\xc3\xa9\r\n\r\n",
      "OPTIONS * HTTP/1.0\r\n\r\n",
      "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n\x16\x03\x01tunnel bytes",
      "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: "
      "websocket\r\n\r\n\x81\x05hello",
      "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
      "chunked\r\n\r\n1a\r\nabcdefghijklmnopqrstuvwxyz"
      "\r\n0\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost : a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\"\\\"\"\r\nabc\r\n0\r\n"
      "Content-Length: 1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
      "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
      "get / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX:\x01\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX\t: v\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
  };
  return streams;
}

const std::vector<std::string>& ResponseStreams() {
  static const std::vector<std::string> streams = {
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\nX: y\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 NM\r\n\r\n",
      "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil the end",
      "HTTP/1.1 103 Early\r\nLink: <a>\r\n\r\nHTTP/1.1 200 OK\r\nConnection: close\r\n"
      "Content-Length: 1\r\n\r\nxHTTP/1.1 200 OK\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
      "HTTP/1.1 200 OK\r\nX : y\r\n\r\n",
      "HTTP/1.1 2000 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\n",
  };
  return streams;
}

std::vector<size_t> RandomCuts(std::mt19937* rng, size_t size) {
  std::vector<size_t> cuts;
  if (size < 2) {
    return cuts;
  }
  std::uniform_int_distribution<size_t> count(0, std::min<size_t>(size - 1, 12));
  std::uniform_int_distribution<size_t> at(1, size - 1);
  for (size_t n = count(*rng); n > 0; --n) {
    cuts.push_back(at(*rng));
  }
  std::sort(cuts.begin(), cuts.end());
  return cuts;
}

std::vector<size_t> EveryByte(size_t size) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < size; ++i) {
    cuts.push_back(i);
  }
  return cuts;
}

void CheckSplitsAgree(H1Parser::Kind kind, const std::string& input, uint32_t seed) {
  const std::vector<std::string> methods = {"POST", "GET", "GET", "GET"};
  Outcome whole = Run(kind, input, {}, methods, /*finish=*/true);
  ASSERT_FALSE(whole.log.empty() && whole.error == H1Error::kNone) << input;
  EXPECT_EQ(Run(kind, input, EveryByte(input.size()), methods, true), whole) << input;
  std::mt19937 rng(seed);
  for (int i = 0; i < 200; ++i) {
    std::vector<size_t> cuts = RandomCuts(&rng, input.size());
    Outcome split = Run(kind, input, cuts, methods, true);
    ASSERT_EQ(split, whole) << input << " split " << ::testing::PrintToString(cuts);
  }
}

TEST(H1Stream, RequestSplitsGiveTheOneShotResult) {
  uint32_t seed = 1;
  for (const std::string& s : RequestStreams()) {
    CheckSplitsAgree(H1Parser::Kind::kRequest, s, seed++);
  }
}

TEST(H1Stream, ResponseSplitsGiveTheOneShotResult) {
  uint32_t seed = 100;
  for (const std::string& s : ResponseStreams()) {
    CheckSplitsAgree(H1Parser::Kind::kResponse, s, seed++);
  }
}

TEST(H1Stream, PipelinedRequestsInOneFeed) {
  const std::string& in = RequestStreams()[1];
  Recorder rec;
  H1Parser p(H1Parser::Kind::kRequest, &rec);
  FeedResult r = p.Feed(Bytes(in));
  // The fourth request says Connection: close: the fifth is left unconsumed.
  EXPECT_EQ(r.status, FeedStatus::kClosed);
  EXPECT_EQ(in.substr(r.consumed), "GET /ignored HTTP/1.1\r\n");
  ASSERT_EQ(rec.requests.size(), 4u);
  EXPECT_EQ(rec.requests[0].target, "/x?y");
  EXPECT_EQ(rec.requests[1].method, "POST");
  EXPECT_EQ(rec.requests[2].body, BodyKind::kChunked);
  EXPECT_FALSE(rec.requests[3].keep_alive);
  EXPECT_EQ(rec.bodies, (std::vector<std::string>{"hello world", "wikipedia"}));
  EXPECT_EQ(rec.trailers.at(0), (std::vector<Header>{{"T", "v"}}));
  EXPECT_EQ(rec.messages_ended, 4u);
  EXPECT_EQ(p.Feed(Bytes("more")).status, FeedStatus::kClosed);
}

TEST(H1Stream, PauseAtMessageEndDeliversOneRequestAtATime) {
  std::string one = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string two = "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi";
  std::string three = "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string in = one + two + three;
  Recorder rec;
  H1Parser p(H1Parser::Kind::kRequest, &rec);
  rec.pause_parser = &p;
  FeedResult r = p.Feed(Bytes(in));
  EXPECT_EQ(r.status, FeedStatus::kPaused);
  EXPECT_EQ(r.consumed, one.size());
  EXPECT_EQ(rec.requests.size(), 1u);
  // Still paused: nothing happens until Resume().
  EXPECT_EQ(p.Feed(Bytes(in.substr(one.size()))).consumed, 0u);
  p.Resume();
  r = p.Feed(Bytes(in.substr(one.size())));
  EXPECT_EQ(r.status, FeedStatus::kPaused);
  EXPECT_EQ(r.consumed, two.size());
  EXPECT_EQ(rec.requests.size(), 2u);
  EXPECT_EQ(rec.bodies.at(0), "hi");
  p.Resume();
  r = p.Feed(Bytes(three));
  EXPECT_EQ(r.status, FeedStatus::kPaused);
  EXPECT_EQ(r.consumed, three.size());
  EXPECT_EQ(rec.messages_ended, 3u);
}

// PausingRecorder pauses inside OnRequestHead and OnBody (back-pressure mid-message).
class PausingRecorder : public Recorder {
 public:
  H1Parser* parser = nullptr;
  void OnRequestHead(RequestHead&& head) override {
    Recorder::OnRequestHead(std::move(head));
    parser->Pause();
  }
  void OnBody(std::span<const uint8_t> data) override {
    Recorder::OnBody(data);
    parser->Pause();
  }
};

TEST(H1Stream, PauseInsideAMessage) {
  std::string head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n";
  PausingRecorder rec;
  H1Parser p(H1Parser::Kind::kRequest, &rec);
  rec.parser = &p;
  FeedResult r = p.Feed(Bytes(head + "ab"));
  EXPECT_EQ(r.status, FeedStatus::kPaused);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_TRUE(rec.bodies.empty());
  p.Resume();
  r = p.Feed(Bytes("ab"));
  EXPECT_EQ(r.status, FeedStatus::kPaused);
  EXPECT_EQ(r.consumed, 2u);
  p.Resume();
  r = p.Feed(Bytes("cd"));
  EXPECT_EQ(r.consumed, 2u);
  p.Resume();
  // The end of the message is delivered by the next call, even with no bytes.
  EXPECT_EQ(rec.messages_ended, 0u);
  r = p.Feed({});
  EXPECT_EQ(r.status, FeedStatus::kNeedMore);
  EXPECT_EQ(rec.messages_ended, 1u);
  EXPECT_EQ(rec.bodies.at(0), "abcd");
}

TEST(H1Stream, LargeBodiesStreamWithoutAccumulating) {
  constexpr size_t kBody = 10 * 1024 * 1024;
  constexpr size_t kFeed = 64 * 1024;
  std::string payload(kFeed, 'x');
  for (bool chunked : {false, true}) {
    Recorder rec;
    rec.keep_bodies = false;
    H1Parser p(H1Parser::Kind::kRequest, &rec);
    std::string head =
        chunked ? "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                : "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(kBody) +
                      "\r\n\r\n";
    ASSERT_EQ(p.Feed(Bytes(head)).status, FeedStatus::kNeedMore);
    ASSERT_EQ(rec.requests.size(), 1u);
    for (size_t sent = 0; sent < kBody; sent += kFeed) {
      std::string piece;
      if (chunked) {
        AppendChunk(Bytes(payload), &piece);
      } else {
        piece = payload;
      }
      FeedResult r = p.Feed(Bytes(piece));
      ASSERT_EQ(r.status, FeedStatus::kNeedMore);
      ASSERT_EQ(r.consumed, piece.size());
      // Every byte that arrived was handed out before Feed returned.
      ASSERT_EQ(rec.body_bytes, sent + kFeed);
    }
    if (chunked) {
      ASSERT_EQ(p.Feed(Bytes("0\r\n\r\n")).status, FeedStatus::kNeedMore);
    }
    EXPECT_EQ(rec.body_bytes, kBody);
    EXPECT_EQ(rec.messages_ended, 1u);
    EXPECT_LE(rec.largest_body_call, kFeed);
    EXPECT_GE(rec.body_calls, kBody / kFeed);
  }
}

TEST(H1Stream, ExpectContinueFlow) {
  Recorder guest;
  Recorder upstream;
  H1Parser requests(H1Parser::Kind::kRequest, &guest);
  H1Parser responses(H1Parser::Kind::kResponse, &upstream);
  // The guest sends the head only and waits for 100 Continue.
  ASSERT_EQ(requests
                .Feed(Bytes("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                            "Content-Length: 5\r\n\r\n"))
                .status,
            FeedStatus::kNeedMore);
  ASSERT_EQ(guest.requests.size(), 1u);
  EXPECT_TRUE(guest.requests[0].expect_continue);
  EXPECT_EQ(guest.messages_ended, 0u);
  ASSERT_TRUE(responses.ExpectResponseTo(guest.requests[0].method));
  ASSERT_EQ(responses.Feed(Bytes("HTTP/1.1 100 Continue\r\n\r\n")).status, FeedStatus::kNeedMore);
  ASSERT_EQ(upstream.responses.size(), 1u);
  EXPECT_TRUE(upstream.responses[0].interim);
  EXPECT_EQ(upstream.messages_ended, 0u);
  // Then the body, then the final response.
  ASSERT_EQ(requests.Feed(Bytes("hello")).status, FeedStatus::kNeedMore);
  EXPECT_EQ(guest.messages_ended, 1u);
  ASSERT_EQ(responses.Feed(Bytes("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")).status,
            FeedStatus::kNeedMore);
  EXPECT_EQ(upstream.responses.size(), 2u);
  EXPECT_EQ(upstream.messages_ended, 1u);
}

TEST(H1Stream, ConnectStopsAtTheHead) {
  const std::string& in = RequestStreams()[4];
  Recorder rec;
  H1Parser p(H1Parser::Kind::kRequest, &rec);
  FeedResult r = p.Feed(Bytes(in));
  EXPECT_EQ(r.status, FeedStatus::kTunnel);
  EXPECT_EQ(in.substr(r.consumed), "\x16\x03\x01tunnel bytes");
  ASSERT_EQ(rec.requests.size(), 1u);
  EXPECT_TRUE(rec.requests[0].is_connect);
  EXPECT_EQ(rec.requests[0].authority, "a:443");
  EXPECT_EQ(rec.messages_ended, 1u);
  EXPECT_EQ(p.Feed(Bytes("more")).consumed, 0u);
  // The upstream refused the CONNECT: HTTP continues on the same connection.
  p.DeclineTunnel();
  r = p.Feed(Bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(r.status, FeedStatus::kNeedMore);
  EXPECT_EQ(rec.requests.size(), 2u);
}

TEST(H1Stream, UpgradeStopsAfterTheRequest) {
  const std::string& in = RequestStreams()[5];
  Recorder rec;
  H1Parser p(H1Parser::Kind::kRequest, &rec);
  FeedResult r = p.Feed(Bytes(in));
  EXPECT_EQ(r.status, FeedStatus::kTunnel);
  EXPECT_EQ(in.substr(r.consumed), "\x81\x05hello");
  ASSERT_EQ(rec.requests.size(), 1u);
  EXPECT_TRUE(rec.requests[0].is_upgrade);

  Recorder up;
  H1Parser responses(H1Parser::Kind::kResponse, &up);
  ASSERT_TRUE(responses.ExpectResponseTo("GET", /*upgrade_requested=*/true));
  std::string resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x82\x01z";
  r = responses.Feed(Bytes(resp));
  EXPECT_EQ(r.status, FeedStatus::kTunnel);
  EXPECT_EQ(resp.substr(r.consumed), "\x82\x01z");
  ASSERT_EQ(up.responses.size(), 1u);
  EXPECT_TRUE(up.responses[0].starts_tunnel);
  EXPECT_EQ(up.messages_ended, 1u);
}

TEST(H1Stream, TwoHundredToConnectStartsATunnel) {
  Recorder rec;
  H1Parser p(H1Parser::Kind::kResponse, &rec);
  ASSERT_TRUE(p.ExpectResponseTo("CONNECT"));
  std::string in = "HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03\x03";
  FeedResult r = p.Feed(Bytes(in));
  EXPECT_EQ(r.status, FeedStatus::kTunnel);
  EXPECT_EQ(in.substr(r.consumed), "\x16\x03\x03");
  EXPECT_EQ(rec.responses.at(0).body, BodyKind::kNone);
}

// Round trips: parse, write with the Append* functions, parse again: the same heads, bodies and
// trailers.
TEST(H1Stream, RequestsRoundTripThroughTheWriter) {
  size_t checked = 0;
  for (const std::string& s : RequestStreams()) {
    Recorder first;
    H1Parser p(H1Parser::Kind::kRequest, &first);
    (void)p.Feed(Bytes(s));
    for (size_t i = 0; i < first.requests.size(); ++i) {
      const RequestHead& head = first.requests[i];
      std::string wire;
      ASSERT_TRUE(AppendRequestHead(head, &wire)) << h1test::Dump(head);
      Recorder second;
      H1Parser q(H1Parser::Kind::kRequest, &second);
      FeedResult r = q.Feed(Bytes(wire));
      EXPECT_EQ(r.error, H1Error::kNone) << wire;
      EXPECT_EQ(r.consumed, wire.size());
      ASSERT_EQ(second.requests.size(), 1u) << wire;
      EXPECT_EQ(second.requests[0], head) << h1test::Dump(second.requests[0]) << "\n"
                                          << h1test::Dump(head);
      ++checked;
    }
  }
  EXPECT_GE(checked, 10u);
}

TEST(H1Stream, ChunkedBodyRoundTripsThroughTheWriter) {
  Recorder first;
  H1Parser p(H1Parser::Kind::kRequest, &first);
  (void)p.Feed(Bytes(RequestStreams()[1]));
  const RequestHead& head = first.requests.at(2);
  std::string wire;
  ASSERT_TRUE(AppendRequestHead(head, &wire));
  AppendChunk(Bytes("wiki"), &wire);
  AppendChunk({}, &wire);
  AppendChunk(Bytes("pedia"), &wire);
  ASSERT_TRUE(AppendLastChunk(first.trailers.at(0), &wire));
  Recorder second;
  H1Parser q(H1Parser::Kind::kRequest, &second);
  FeedResult r = q.Feed(Bytes(wire));
  EXPECT_EQ(r.consumed, wire.size());
  EXPECT_EQ(second.bodies, std::vector<std::string>{"wikipedia"});
  EXPECT_EQ(second.trailers, first.trailers);
  EXPECT_EQ(second.messages_ended, 1u);
}

TEST(H1Stream, ResponsesRoundTripThroughTheWriter) {
  size_t checked = 0;
  for (const std::string& s : ResponseStreams()) {
    Recorder first;
    H1Parser p(H1Parser::Kind::kResponse, &first);
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(p.ExpectResponseTo("GET"));
    }
    (void)p.Feed(Bytes(s));
    for (const ResponseHead& head : first.responses) {
      std::string wire;
      ASSERT_TRUE(AppendResponseHead(head, &wire));
      Recorder second;
      H1Parser q(H1Parser::Kind::kResponse, &second);
      ASSERT_TRUE(q.ExpectResponseTo("GET"));
      (void)q.Feed(Bytes(wire));
      ASSERT_EQ(second.responses.size(), 1u) << wire;
      EXPECT_EQ(second.responses[0], head) << wire;
      ++checked;
    }
  }
  EXPECT_GE(checked, 8u);
}

TEST(H1Stream, SimpleResponseParsesAsAValidResponse) {
  std::string wire = SimpleResponse(421, "Misdirected Request", "authority does not match SNI\n",
                                    {{"X-Msb-Reason", "sni_mismatch"}});
  Recorder rec;
  H1Parser p(H1Parser::Kind::kResponse, &rec);
  ASSERT_TRUE(p.ExpectResponseTo("GET"));
  FeedResult r = p.Feed(Bytes(wire));
  EXPECT_EQ(r.status, FeedStatus::kClosed);
  EXPECT_EQ(r.consumed, wire.size());
  ASSERT_EQ(rec.responses.size(), 1u);
  EXPECT_EQ(rec.responses[0].status, 421);
  EXPECT_EQ(rec.responses[0].reason, "Misdirected Request");
  EXPECT_FALSE(rec.responses[0].keep_alive);
  EXPECT_EQ(rec.bodies.at(0), "authority does not match SNI\n");
  EXPECT_EQ(FindHeader(rec.responses[0].headers, "x-msb-reason")->value, "sni_mismatch");
}

}  // namespace
}  // namespace msb::gateway::http
