// H1Relay between in-memory connections: requests re-serialised, authority enforced (421 and
// nothing upstream), strict framing (400 and nothing upstream), pipelining in order, chunked
// bodies re-chunked, responses streamed as they arrive, 100-continue, upgrades as a splice,
// truncated responses reset the guest, and one exchange per request.
#include "gateway/http/h1_relay.h"

#include <gtest/gtest.h>

#include "relay_test_util.h"

namespace msb::gateway::http {
namespace {

using gateway::testing::Endpoint;
using gateway::testing::Pattern;
using gateway::testing::RunUntil;
using testing::RelayPipes;
using testing::RelayRecorder;

class H1RelayTest : public ::testing::Test {
 protected:
  void Make(size_t capacity = 16 * 1024) {
    guest_.reset();
    server_.reset();
    relay_.reset();  // before the streams it borrows
    pipes_ = std::make_unique<RelayPipes>(loop_.get(), capacity);
    relay_ = std::make_unique<H1Relay>(pipes_->guest_end.get(), pipes_->up_end.get(), clock_,
                                       &rec_, &rec_,
                                       ExpectedAuthority{"api.example.test", 443, false});
    guest_ = std::make_unique<Endpoint>(pipes_->client.get());
    server_ = std::make_unique<Endpoint>(pipes_->server.get());
    relay_->Start();
  }
  void Run(const std::function<bool()>& done) { ASSERT_TRUE(RunUntil(loop_.get(), done)); }
  void Settle() { RunUntil(loop_.get(), [] { return false; }, 200); }

  FakeClock clock_;
  std::unique_ptr<EventLoop> loop_ = EventLoop::Create(clock_).value();
  RelayRecorder rec_;
  std::unique_ptr<RelayPipes> pipes_;
  std::unique_ptr<H1Relay> relay_;
  std::unique_ptr<Endpoint> guest_, server_;
};

TEST_F(H1RelayTest, RequestsAreReSerialisedAndAnswered) {
  Make();
  guest_->Send("GET /v1/models?key=secret HTTP/1.1\r\nHost: API.Example.Test:443\r\n"
               "Accept:   */*\r\n\r\n");
  Run([&] { return server_->received.find("\r\n\r\n") != std::string::npos; });
  EXPECT_EQ(server_->received,
            "GET /v1/models?key=secret HTTP/1.1\r\nHost: API.Example.Test:443\r\nAccept: */*\r\n"
            "\r\n");
  server_->Send("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  Run([&] { return guest_->received.ends_with("hello"); });
  EXPECT_EQ(guest_->received, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_EQ(rec_.exchanges.size(), 1u);
  const HttpExchange& ex = rec_.exchanges[0];
  EXPECT_EQ(ex.proto, "h1");
  EXPECT_EQ(ex.method, "GET");
  EXPECT_EQ(ex.path, "/v1/models");  // never the query
  EXPECT_EQ(ex.status, 200);
  EXPECT_EQ(ex.bytes_down, 5u);
  EXPECT_EQ(ex.end, "complete");
  EXPECT_EQ(ex.refused, "");
}

TEST_F(H1RelayTest, AnotherHostIsMisdirectedAndNothingGoesUpstream) {
  Make();
  for (const char* host : {"other.example.test", "api.example.test:8443", "api.example.test.evil",
                           "198.51.100.10"}) {
    SCOPED_TRACE(host);
    rec_ = RelayRecorder();
    Make();
    guest_->Send(std::string("GET / HTTP/1.1\r\nHost: ") + host + "\r\n\r\n");
    Run([&] { return rec_.reason.has_value(); });
    EXPECT_TRUE(guest_->received.starts_with("HTTP/1.1 421 Misdirected Request\r\n"));
    EXPECT_NE(guest_->received.find("this TLS connection is for api.example.test"),
              std::string::npos);
    EXPECT_TRUE(guest_->eof);
    EXPECT_EQ(server_->received, "");
    EXPECT_EQ(*rec_.reason, CloseReason::kHttpRefused);
    ASSERT_EQ(rec_.exchanges.size(), 1u);
    EXPECT_EQ(rec_.exchanges[0].refused, "authority_mismatch");
    EXPECT_EQ(rec_.exchanges[0].status, 421);
  }
}

TEST_F(H1RelayTest, AbsoluteFormIsHeldToTheTunnelToo) {
  Make();
  guest_->Send("GET https://other.example.test/ HTTP/1.1\r\nHost: other.example.test\r\n\r\n");
  Run([&] { return rec_.reason.has_value(); });
  EXPECT_TRUE(guest_->received.starts_with("HTTP/1.1 421"));
  EXPECT_EQ(server_->received, "");
}

TEST_F(H1RelayTest, SmugglingShapesAreRefusedWithNothingUpstream) {
  const char* cases[] = {
      "POST / HTTP/1.1\r\nHost: api.example.test\r\nContent-Length: 3\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: api.example.test\r\nContent-Length: 3\r\nContent-Length: 4\r\n"
      "\r\nabcd",
      "GET / HTTP/1.1\r\nHost: api.example.test\r\nX-A: 1\r\n continued\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: api.example.test\r\nHost: other.example.test\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : api.example.test\r\n\r\n",
      "CONNECT api.example.test:443 HTTP/1.1\r\nHost: api.example.test:443\r\n\r\n",
  };
  for (const char* c : cases) {
    SCOPED_TRACE(c);
    rec_ = RelayRecorder();
    Make();
    guest_->Send(c);
    Run([&] { return rec_.reason.has_value(); });
    EXPECT_TRUE(guest_->received.starts_with("HTTP/1.1 400 Bad Request\r\n")) << guest_->received;
    EXPECT_EQ(server_->received, "");
    ASSERT_EQ(rec_.exchanges.size(), 1u);
    EXPECT_NE(rec_.exchanges[0].refused, "");
  }
}

TEST_F(H1RelayTest, ABadChunkInAForwardedBodyResetsBothSides) {
  // The head was valid and went upstream; the body then breaks chunked framing. The upstream must
  // not see a request that looks complete, so both connections are reset.
  Make();
  guest_->Send("POST / HTTP/1.1\r\nHost: api.example.test\r\nTransfer-Encoding: chunked\r\n\r\n"
               "4\r\nabcd\r\nzz\r\n");
  Run([&] { return rec_.reason.has_value(); });
  EXPECT_EQ(*rec_.reason, CloseReason::kProtocolError);
  EXPECT_EQ(server_->received.find("0\r\n\r\n"), std::string::npos);  // never a last chunk
  EXPECT_EQ(CloseActionFor(*rec_.reason).reset_upstream, true);
  ASSERT_EQ(rec_.exchanges.size(), 1u);
  EXPECT_EQ(rec_.exchanges[0].refused, "bad_chunk");
}

TEST_F(H1RelayTest, PipelinedRequestsGetTheirResponsesInOrder) {
  Make();
  guest_->Send("GET /a HTTP/1.1\r\nHost: api.example.test\r\n\r\n"
               "GET /b HTTP/1.1\r\nHost: api.example.test\r\n\r\n"
               "HEAD /c HTTP/1.1\r\nHost: api.example.test\r\n\r\n");
  Run([&] { return server_->received.find("HEAD /c") != std::string::npos; });
  server_->Send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
                "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nB"
                "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");  // HEAD: no body follows
  Run([&] { return rec_.exchanges.size() == 3; });
  EXPECT_EQ(rec_.exchanges[0].path, "/a");
  EXPECT_EQ(rec_.exchanges[1].path, "/b");
  EXPECT_EQ(rec_.exchanges[1].status, 404);
  EXPECT_EQ(rec_.exchanges[2].method, "HEAD");
  EXPECT_TRUE(guest_->received.ends_with("Content-Length: 1000\r\n\r\n"));
}

TEST_F(H1RelayTest, PipelinedRequestAfterAMisdirectedOneIsNotForwarded) {
  Make();
  guest_->Send("GET /a HTTP/1.1\r\nHost: api.example.test\r\n\r\n"
               "GET /b HTTP/1.1\r\nHost: other.example.test\r\n\r\n"
               "GET /c HTTP/1.1\r\nHost: api.example.test\r\n\r\n");
  Run([&] { return server_->received.find("\r\n\r\n") != std::string::npos; });
  Settle();
  EXPECT_EQ(server_->received.find("/b"), std::string::npos);
  EXPECT_EQ(server_->received.find("/c"), std::string::npos);
  server_->Send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA");
  Run([&] { return rec_.reason.has_value(); });
  // The first request's answer, then the refusal, in that order.
  EXPECT_TRUE(guest_->received.starts_with("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
                                           "HTTP/1.1 421"));
  ASSERT_EQ(rec_.exchanges.size(), 2u);
  EXPECT_EQ(rec_.exchanges[0].status, 200);
  EXPECT_EQ(rec_.exchanges[1].refused, "authority_mismatch");
}

TEST_F(H1RelayTest, LargeBodiesStreamExactlyThroughBoundedBuffers) {
  Make(8 * 1024);
  std::string body = Pattern(3 << 20, 9);
  guest_->Send("PUT /up HTTP/1.1\r\nHost: api.example.test\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body);
  server_->paused = true;
  Settle();
  EXPECT_LT(guest_->sent, 200u * 1024);  // held back by the server, not buffered by the relay
  server_->paused = false;
  server_->Read();
  Run([&] { return server_->received.size() >= body.size(); });
  size_t head_end = server_->received.find("\r\n\r\n") + 4;
  EXPECT_TRUE(server_->received.substr(head_end) == body);
  std::string down = Pattern(5 << 20, 10);
  server_->Send("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(down.size()) + "\r\n\r\n" +
                down);
  Run([&] { return rec_.exchanges.size() == 1; });
  size_t d = guest_->received.find("\r\n\r\n") + 4;
  EXPECT_TRUE(guest_->received.substr(d) == down);
  EXPECT_EQ(rec_.exchanges[0].bytes_up, body.size());
  EXPECT_EQ(rec_.exchanges[0].bytes_down, down.size());
}

TEST_F(H1RelayTest, ChunkedBodiesAreReChunkedAndStreamPieceByPiece) {
  Make();
  guest_->Send("POST /x HTTP/1.1\r\nHost: api.example.test\r\nTransfer-Encoding: chunked\r\n\r\n"
               "3;ext=1\r\nabc\r\n0\r\n\r\n");
  Run([&] { return server_->received.ends_with("0\r\n\r\n"); });
  EXPECT_TRUE(server_->received.ends_with("\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));  // no extension
  // A server-sent-events response: each event reaches the guest before the next is written.
  server_->Send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                "Transfer-Encoding: chunked\r\n\r\n");
  for (int i = 0; i < 3; ++i) {
    std::string event = "data: " + std::to_string(i) + "\n\n";
    char size[8];
    snprintf(size, sizeof(size), "%zx", event.size());
    server_->Send(std::string(size) + "\r\n" + event + "\r\n");
    Run([&] { return guest_->received.find(event) != std::string::npos; });
  }
  EXPECT_TRUE(rec_.exchanges.empty());  // still streaming
  server_->Send("0\r\ngrpc-status: 0\r\n\r\n");
  Run([&] { return rec_.exchanges.size() == 1; });
  EXPECT_TRUE(guest_->received.ends_with("0\r\ngrpc-status: 0\r\n\r\n"));  // trailers kept
}

TEST_F(H1RelayTest, ExpectContinueWaitsForTheUpstreamsInterimResponse) {
  Make();
  guest_->Send("PUT /f HTTP/1.1\r\nHost: api.example.test\r\nContent-Length: 4\r\n"
               "Expect: 100-continue\r\n\r\n");
  Run([&] { return server_->received.find("Expect: 100-continue") != std::string::npos; });
  server_->Send("HTTP/1.1 100 Continue\r\n\r\n");
  Run([&] { return guest_->received == "HTTP/1.1 100 Continue\r\n\r\n"; });
  guest_->Send("data");
  Run([&] { return server_->received.ends_with("data"); });
  server_->Send("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  Run([&] { return rec_.exchanges.size() == 1; });
  EXPECT_EQ(rec_.exchanges[0].status, 201);
}

TEST_F(H1RelayTest, AWebSocketUpgradeBecomesASplice) {
  Make();
  guest_->Send("GET /ws HTTP/1.1\r\nHost: api.example.test\r\nConnection: Upgrade\r\n"
               "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  Run([&] { return server_->received.find("\r\n\r\n") != std::string::npos; });
  server_->Send("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x02hi");
  Run([&] { return guest_->received.ends_with("\x81\x02hi"); });
  guest_->Send("\x81\x83\x01\x02\x03\x04raw frame bytes");
  Run([&] { return server_->received.ends_with("raw frame bytes"); });
}

TEST_F(H1RelayTest, ATruncatedResponseResetsTheGuest) {
  Make();
  guest_->Send("GET / HTTP/1.1\r\nHost: api.example.test\r\n\r\n");
  Run([&] { return server_->received.ends_with("\r\n\r\n"); });
  server_->Send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part", true);
  Run([&] { return rec_.reason.has_value(); });
  EXPECT_EQ(*rec_.reason, CloseReason::kHttpBadResponse);
  ASSERT_EQ(rec_.exchanges.size(), 1u);
  EXPECT_EQ(rec_.exchanges[0].end, "closed");
}

TEST_F(H1RelayTest, ConnectionCloseEndsInOrder) {
  Make();
  guest_->Send("GET / HTTP/1.1\r\nHost: api.example.test\r\nConnection: close\r\n\r\n");
  Run([&] { return server_->received.ends_with("\r\n\r\n"); });
  Settle();
  // No early FIN (or close_notify) upstream: the server closes by itself after a "close"
  // request, and some servers drop the response when the client half-closes first.
  EXPECT_FALSE(server_->eof);
  server_->Send("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close", true);
  Run([&] { return rec_.reason.has_value(); });
  EXPECT_EQ(*rec_.reason, CloseReason::kClosed);
  EXPECT_TRUE(guest_->received.ends_with("until close"));
  EXPECT_TRUE(guest_->eof);
  ASSERT_EQ(rec_.exchanges.size(), 1u);
  EXPECT_EQ(rec_.exchanges[0].end, "complete");
}

}  // namespace
}  // namespace msb::gateway::http
