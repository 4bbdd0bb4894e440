// Tests for the HTTP/2 proxy's request/response semantics, driven by real nghttp2 peers in
// memory: forwarding of heads, bodies and trailers, the Delegate's verdicts, resets and GOAWAY
// in both directions, streaming before END_STREAM, and the one summary per stream.
#include "gateway/http/h2_proxy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/gateway/http/h2_test_peers.h"

namespace msb::gateway::http {
namespace {

using ::testing::ElementsAre;
using testing::H2Harness;
using ::testing::IsEmpty;
using testing::PeerStream;
using testing::TestRequest;
using testing::TestResponse;
using testing::TestUpstream;

bool Has(const std::vector<H2Header>& fields, const std::string& name) {
  for (const H2Header& f : fields) {
    if (f.name == name) {
      return true;
    }
  }
  return false;
}

std::string Value(const std::vector<H2Header>& fields, const std::string& name) {
  for (const H2Header& f : fields) {
    if (f.name == name) {
      return f.value;
    }
  }
  return "<absent>";
}

TEST(H2Proxy, AdvertisesSettingsOnBothLegs) {
  H2Harness h;
  h.Pump();
  EXPECT_EQ(nghttp2_session_get_remote_settings(h.guest.session(),
                                                NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS),
            100u);
  EXPECT_EQ(
      nghttp2_session_get_remote_settings(h.guest.session(), NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE),
      256u * 1024);
  EXPECT_EQ(
      nghttp2_session_get_remote_settings(h.guest.session(), NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE),
      64u * 1024);
  EXPECT_EQ(nghttp2_session_get_remote_settings(h.upstream.session(), NGHTTP2_SETTINGS_ENABLE_PUSH),
            0u);
  EXPECT_EQ(nghttp2_session_get_remote_window_size(h.upstream.session()), 1 << 20);
  EXPECT_FALSE(h.proxy->Done());
  EXPECT_FALSE(h.proxy->WantsWriteToGuest());
  EXPECT_FALSE(h.proxy->WantsWriteToUpstream());
}

TEST(H2Proxy, SimpleGet) {
  H2Harness h;
  h.upstream.default_response.literal = "hello";
  h.upstream.default_response.headers = {{"content-type", "text/plain", false}};
  TestRequest req;
  req.path = "/index.html?q=secret";
  req.headers = {{"accept", "*/*", false}, {"cookie", "a=b", true}};
  int32_t id = h.guest.Submit(req);
  h.Pump();

  ASSERT_EQ(h.delegate.heads.size(), 1u);
  const H2RequestHead& head = h.delegate.heads[0];
  EXPECT_EQ(head.stream_id, id);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.scheme, "https");
  EXPECT_EQ(head.authority, "example.com");
  EXPECT_EQ(head.path, "/index.html?q=secret");
  EXPECT_TRUE(head.end_stream);
  EXPECT_THAT(head.host_headers, IsEmpty());
  ASSERT_EQ(head.headers.size(), 2u);
  EXPECT_EQ(head.headers[0].name, "accept");
  EXPECT_EQ(head.headers[1].name, "cookie");

  ASSERT_EQ(h.upstream.requests, 1);
  const PeerStream& up = h.upstream.streams().begin()->second;
  EXPECT_EQ(up.Get(":method"), "GET");
  EXPECT_EQ(up.Get(":authority"), "example.com");
  EXPECT_EQ(up.Get(":path"), "/index.html?q=secret");
  EXPECT_EQ(up.Get("accept"), "*/*");
  EXPECT_EQ(up.Get("cookie"), "a=b");
  EXPECT_FALSE(Has(up.head, "host"));

  const PeerStream* s = h.guest.Find(id);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->Get(":status"), "200");
  EXPECT_EQ(s->Get("content-type"), "text/plain");
  EXPECT_EQ(s->body, "hello");
  EXPECT_TRUE(s->end_stream);
  EXPECT_TRUE(s->closed);
  EXPECT_EQ(s->close_code, 0u);

  ASSERT_EQ(h.delegate.summaries.size(), 1u);
  const H2StreamSummary& sum = h.delegate.summaries.at(id);
  EXPECT_EQ(sum.method, "GET");
  EXPECT_EQ(sum.authority, "example.com");
  EXPECT_EQ(sum.path_without_query, "/index.html");
  EXPECT_EQ(sum.status, 200);
  EXPECT_EQ(sum.bytes_up, 0u);
  EXPECT_EQ(sum.bytes_down, 5u);
  EXPECT_EQ(sum.end, "complete");
  EXPECT_EQ(h.delegate.duplicate_summaries, 0);
  EXPECT_EQ(h.proxy->LiveStreams(), 0u);
  EXPECT_EQ(h.proxy->BufferedBytes(), 0u);
}

TEST(H2Proxy, PostWithBody) {
  H2Harness h;
  TestRequest req;
  req.method = "POST";
  req.path = "/form";
  req.literal = "name=value&x=1";
  req.headers = {{"content-type", "application/x-www-form-urlencoded", false},
                 {"content-length", "14", false}};
  int32_t id = h.guest.Submit(req);
  h.Pump();
  ASSERT_EQ(h.upstream.requests, 1);
  const PeerStream& up = h.upstream.streams().begin()->second;
  EXPECT_EQ(up.body, "name=value&x=1");
  EXPECT_EQ(up.Get("content-length"), "14");
  EXPECT_TRUE(up.end_stream);
  EXPECT_FALSE(h.delegate.heads[0].end_stream);
  const PeerStream* s = h.guest.Find(id);
  EXPECT_EQ(s->Get("x-request-bytes"), "14");
  EXPECT_EQ(h.delegate.summaries.at(id).bytes_up, 14u);
  EXPECT_EQ(h.delegate.summaries.at(id).end, "complete");
}

TEST(H2Proxy, HeadResponseWithContentLengthAndNoBody) {
  H2Harness h;
  h.upstream.on_head = [](TestUpstream& up, PeerStream& s) {
    TestResponse r;
    r.no_body = true;
    r.headers = {{"content-length", "12345", false}};
    up.Respond(s.id, r);
  };
  TestRequest req;
  req.method = "HEAD";
  int32_t id = h.guest.Submit(req);
  h.Pump();
  const PeerStream* s = h.guest.Find(id);
  EXPECT_EQ(s->Get("content-length"), "12345");
  EXPECT_TRUE(s->end_stream);
  EXPECT_EQ(s->close_code, 0u);
  EXPECT_EQ(h.delegate.summaries.at(id).end, "complete");
  EXPECT_EQ(h.delegate.summaries.at(id).bytes_down, 0u);
}

TEST(H2Proxy, DestroyingTheProxyReportsStreamsInFlight) {
  H2Harness h;
  h.upstream.on_head = [](TestUpstream&, PeerStream&) {};
  int32_t id = h.guest.Submit(TestRequest{});
  h.Pump();
  EXPECT_EQ(h.delegate.summaries.count(id), 0u);
  h.proxy.reset();
  EXPECT_EQ(h.delegate.summaries.at(id).end, "aborted");
}

TEST(H2Proxy, HostHeaderGoesToDelegateNotUpstream) {
  H2Harness h;
  TestRequest with_both;
  with_both.headers = {{"host", "example.com", false}};
  int32_t a = h.guest.Submit(with_both);
  TestRequest host_only;
  host_only.authority = "";
  host_only.headers = {{"host", "other.example", false}};
  int32_t b = h.guest.Submit(host_only);
  h.Pump();
  ASSERT_EQ(h.delegate.heads.size(), 2u);
  EXPECT_THAT(h.delegate.heads[0].host_headers, ElementsAre("example.com"));
  EXPECT_EQ(h.delegate.heads[1].authority, "");
  EXPECT_THAT(h.delegate.heads[1].host_headers, ElementsAre("other.example"));
  ASSERT_EQ(h.upstream.requests, 2);
  for (auto& [id, up] : h.upstream.streams()) {
    EXPECT_FALSE(Has(up.head, "host"));
  }
  EXPECT_EQ(h.upstream.streams().at(1).Get(":authority"), "example.com");
  EXPECT_EQ(h.upstream.streams().at(3).Get(":authority"), "other.example");
  EXPECT_EQ(h.delegate.summaries.at(b).authority, "other.example");
  EXPECT_EQ(h.delegate.summaries.at(a).end, "complete");
  EXPECT_EQ(h.delegate.summaries.at(b).end, "complete");
}

TEST(H2Proxy, TrailersBothWaysGrpcLike) {
  H2Harness h;
  h.upstream.on_end = [](TestUpstream& up, PeerStream& s) {
    TestResponse r;
    r.headers = {{"content-type", "application/grpc", false}};
    r.literal = std::string("\0\0\0\0\2hi", 7);
    r.trailers = {{"grpc-status", "0", false}, {"grpc-message", "ok", false}};
    up.Respond(s.id, r);
  };
  TestRequest req;
  req.method = "POST";
  req.path = "/pkg.Service/Method";
  req.headers = {{"content-type", "application/grpc", false}, {"te", "trailers", false}};
  req.literal = std::string("\0\0\0\0\3abc", 8);
  req.trailers = {{"x-request-checksum", "abc", false}};
  int32_t id = h.guest.Submit(req);
  h.Pump();
  ASSERT_EQ(h.upstream.requests, 1);
  const PeerStream& up = h.upstream.streams().begin()->second;
  EXPECT_EQ(up.Get("te"), "trailers");
  EXPECT_EQ(up.body.size(), 8u);
  EXPECT_EQ(Value(up.trailers, "x-request-checksum"), "abc");
  const PeerStream* s = h.guest.Find(id);
  EXPECT_EQ(s->Get(":status"), "200");
  EXPECT_EQ(s->body.size(), 7u);
  EXPECT_EQ(Value(s->trailers, "grpc-status"), "0");
  EXPECT_EQ(Value(s->trailers, "grpc-message"), "ok");
  EXPECT_TRUE(s->end_stream);
  EXPECT_EQ(h.delegate.summaries.at(id).end, "complete");
  EXPECT_EQ(h.delegate.summaries.at(id).bytes_up, 8u);
  EXPECT_EQ(h.delegate.summaries.at(id).bytes_down, 7u);
}

TEST(H2Proxy, TrailersOnlyResponse) {
  H2Harness h;
  h.upstream.on_end = [](TestUpstream& up, PeerStream& s) {
    TestResponse r;
    r.no_body = true;
    r.headers = {{"content-type", "application/grpc", false}, {"grpc-status", "5", false}};
    up.Respond(s.id, r);
  };
  TestRequest req;
  req.method = "POST";
  req.literal = "x";
  int32_t id = h.guest.Submit(req);
  h.Pump();
  const PeerStream* s = h.guest.Find(id);
  EXPECT_EQ(s->Get("grpc-status"), "5");
  EXPECT_TRUE(s->end_stream);
  EXPECT_EQ(s->data_frames, 0);
  EXPECT_EQ(h.delegate.summaries.at(id).end, "complete");
}

TEST(H2Proxy, RefusedStreamResetsGuestAndSendsNothingUpstream) {
  H2Limits limits;
  limits.connection_window_size = 65535;
  limits.initial_window_size = 65535;
  H2Harness h(limits);
  h.delegate.verdict = [](const H2RequestHead& head) {
    return head.authority == "evil.example" ? H2Verdict::kRefuse : H2Verdict::kForward;
  };
  TestRequest evil;
  evil.method = "POST";
  evil.authority = "evil.example";
  evil.body_size = 60000;  // fills most of the connection window before the RST lands
  int32_t bad = h.guest.Submit(evil);
  TestRequest good;
  int32_t ok = h.guest.Submit(good);
  h.Pump();
  const PeerStream* b = h.guest.Find(bad);
  EXPECT_TRUE(b->rst_received);
  EXPECT_EQ(b->rst_code, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_EQ(h.guest.Find(ok)->Get(":status"), "200");
  ASSERT_EQ(h.upstream.requests, 1);
  EXPECT_EQ(h.upstream.streams().size(), 1u);
  EXPECT_EQ(h.upstream.streams().begin()->second.Get(":authority"), "example.com");
  EXPECT_EQ(h.delegate.summaries.at(bad).end, "refused");
  EXPECT_EQ(h.delegate.summaries.at(bad).bytes_up, 0u);
  EXPECT_EQ(h.delegate.summaries.at(ok).end, "complete");

  // The refused stream's DATA was acknowledged, so the connection window did not leak: a large
  // upload on the same connection still completes.
  TestRequest big;
  big.method = "POST";
  big.body_size = 300000;
  int32_t later = h.guest.Submit(big);
  h.Pump();
  EXPECT_EQ(h.guest.Find(later)->Get("x-request-bytes"), "300000");
  EXPECT_EQ(h.delegate.summaries.at(later).end, "complete");
  EXPECT_EQ(h.delegate.duplicate_summaries, 0);
}

TEST(H2Proxy, MisdirectedAnswers421) {
  H2Harness h;
  h.delegate.verdict = [](const H2RequestHead&) { return H2Verdict::kMisdirected; };
  TestRequest req;
  req.method = "POST";
  req.body_size = 1000;
  int32_t id = h.guest.Submit(req);
  h.Pump();
  const PeerStream* s = h.guest.Find(id);
  EXPECT_EQ(s->Get(":status"), "421");
  EXPECT_TRUE(s->end_stream);
  EXPECT_EQ(h.upstream.requests, 0);
  EXPECT_EQ(h.delegate.summaries.at(id).status, 421);
  EXPECT_EQ(h.delegate.summaries.at(id).end, "refused");
}

TEST(H2Proxy, ConnectIsAnswered405) {
  H2Harness h;
  TestRequest req;
  req.method = "CONNECT";
  req.scheme = "";
  req.path = "";
  req.authority = "example.com:443";
  req.has_body = true;
  req.eof = false;
  int32_t id = h.guest.Submit(req);
  h.Pump();
  EXPECT_TRUE(h.delegate.heads.empty());
  EXPECT_EQ(h.upstream.requests, 0);
  EXPECT_EQ(h.guest.Find(id)->Get(":status"), "405");
  EXPECT_EQ(h.delegate.summaries.at(id).end, "rejected");
  EXPECT_EQ(h.delegate.summaries.at(id).method, "CONNECT");
}

TEST(H2Proxy, ConnectionSpecificHeaderIsRejectedBeforeTheDelegate) {
  H2Harness h;
  TestRequest req;
  req.headers = {{"connection", "keep-alive", false}};
  int32_t id = h.guest.Submit(req);
  TestRequest good;
  int32_t ok = h.guest.Submit(good);
  h.Pump();
  EXPECT_TRUE(h.guest.Find(id)->rst_received);
  EXPECT_EQ(h.guest.Find(id)->rst_code, static_cast<uint32_t>(NGHTTP2_PROTOCOL_ERROR));
  EXPECT_EQ(h.delegate.heads.size(), 1u);
  EXPECT_EQ(h.upstream.requests, 1);
  EXPECT_EQ(h.delegate.summaries.at(id).end, "protocol_error");
  EXPECT_EQ(h.delegate.summaries.at(ok).end, "complete");
}

TEST(H2Proxy, InformationalResponsesAreForwarded) {
  H2Harness h;
  h.upstream.on_end = [](TestUpstream& up, PeerStream& s) {
    up.Informational(s.id, 103);
    TestResponse r;
    r.literal = "ok";
    up.Respond(s.id, r);
  };
  int32_t id = h.guest.Submit(TestRequest{});
  h.Pump();
  const PeerStream* s = h.guest.Find(id);
  ASSERT_EQ(s->informational.size(), 1u);
  EXPECT_EQ(Value(s->informational[0], ":status"), "103");
  EXPECT_EQ(s->Get(":status"), "200");
  EXPECT_EQ(s->body, "ok");
  EXPECT_EQ(h.delegate.summaries.at(id).status, 200);
}

TEST(H2Proxy, ResetFromGuestReachesUpstream) {
  H2Harness h;
  h.upstream.on_head = [](TestUpstream&, PeerStream&) {};  // never answers
  TestRequest req;
  req.method = "POST";
  req.body_size = 5000;
  req.allowed = 1000;
  req.eof = false;
  int32_t id = h.guest.Submit(req);
  h.Pump();
  ASSERT_EQ(h.upstream.requests, 1);
  PeerStream& up = h.upstream.streams().begin()->second;
  EXPECT_EQ(up.body_bytes, 1000u);
  EXPECT_FALSE(up.closed);
  h.guest.Reset(id, NGHTTP2_CANCEL);
  h.Pump();
  EXPECT_TRUE(up.rst_received);
  EXPECT_EQ(up.rst_code, static_cast<uint32_t>(NGHTTP2_CANCEL));
  EXPECT_EQ(h.delegate.summaries.at(id).end, "reset_by_guest");
  EXPECT_EQ(h.delegate.summaries.at(id).bytes_up, 1000u);
  EXPECT_EQ(h.proxy->LiveStreams(), 0u);
}

TEST(H2Proxy, ResetFromUpstreamReachesGuest) {
  H2Harness h;
  h.upstream.on_head = [](TestUpstream& up, PeerStream& s) {
    if (s.Get(":path") == "/refused") {
      up.Reset(s.id, NGHTTP2_REFUSED_STREAM);
      return;
    }
    TestResponse r;
    r.body_size = 100000;
    r.allowed = 3000;
    r.eof = false;
    up.Respond(s.id, r);
  };
  TestRequest req;
  int32_t id = h.guest.Submit(req);
  TestRequest refused;
  refused.path = "/refused";
  int32_t rid = h.guest.Submit(refused);
  h.Pump();
  EXPECT_EQ(h.guest.Find(id)->body_bytes, 3000u);
  h.upstream.Reset(1, NGHTTP2_INTERNAL_ERROR);
  h.Pump();
  const PeerStream* s = h.guest.Find(id);
  EXPECT_TRUE(s->rst_received);
  EXPECT_EQ(s->rst_code, static_cast<uint32_t>(NGHTTP2_INTERNAL_ERROR));
  EXPECT_FALSE(s->end_stream);
  EXPECT_EQ(h.guest.Find(rid)->rst_code, static_cast<uint32_t>(NGHTTP2_REFUSED_STREAM));
  EXPECT_EQ(h.delegate.summaries.at(id).end, "reset_by_upstream");
  EXPECT_EQ(h.delegate.summaries.at(id).status, 200);
  EXPECT_EQ(h.delegate.summaries.at(id).bytes_down, 3000u);
  EXPECT_EQ(h.delegate.summaries.at(rid).end, "reset_by_upstream");
}

TEST(H2Proxy, EarlyResponseThenResetNoErrorCompletes) {
  H2Harness h;
  h.upstream.on_head = [](TestUpstream& up, PeerStream& s) {
    TestResponse r;
    r.status = 413;
    r.literal = "too big";
    up.Respond(s.id, r);
  };
  TestRequest req;
  req.method = "POST";
  req.body_size = 10 << 20;
  req.allowed = 2000;
  req.eof = false;
  int32_t id = h.guest.Submit(req);
  h.Pump();
  const PeerStream* s = h.guest.Find(id);
  EXPECT_TRUE(s->end_stream);
  EXPECT_FALSE(s->closed);  // the guest may still upload: the upstream did not say stop yet
  h.upstream.Reset(1, NGHTTP2_NO_ERROR);
  h.Pump();
  EXPECT_EQ(s->Get(":status"), "413");
  EXPECT_EQ(s->body, "too big");
  EXPECT_TRUE(s->end_stream);
  EXPECT_TRUE(s->rst_received);  // "stop sending the body" after the complete response
  EXPECT_EQ(s->rst_code, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_EQ(h.delegate.summaries.at(id).end, "complete");
  EXPECT_EQ(h.delegate.summaries.at(id).status, 413);
}

TEST(H2Proxy, UpstreamGoawayRefusesUnprocessedStreamsAndDrains) {
  H2Harness h;
  h.upstream.on_head = [](TestUpstream&, PeerStream&) {};
  int32_t first = h.guest.Submit(TestRequest{});
  int32_t second = h.guest.Submit(TestRequest{});
  h.Pump();
  ASSERT_EQ(h.upstream.requests, 2);
  h.upstream.Goaway(1, NGHTTP2_NO_ERROR);
  h.Pump();
  EXPECT_TRUE(h.guest.goaway_received);
  EXPECT_EQ(h.guest.goaway_code, 0u);
  EXPECT_EQ(h.guest.Find(second)->rst_code, static_cast<uint32_t>(NGHTTP2_REFUSED_STREAM));
  EXPECT_EQ(h.delegate.summaries.at(second).end, "goaway");
  EXPECT_FALSE(h.proxy->Done());
  TestResponse r;
  r.literal = "last";
  h.upstream.Respond(1, r);
  h.Pump();
  EXPECT_EQ(h.guest.Find(first)->body, "last");
  EXPECT_EQ(h.delegate.summaries.at(first).end, "complete");
  EXPECT_TRUE(h.proxy->Done());
}

TEST(H2Proxy, StreamingResponseReachesGuestBeforeEndStream) {
  H2Harness h;
  h.upstream.on_head = [](TestUpstream& up, PeerStream& s) {
    TestResponse r;
    r.headers = {{"content-type", "text/event-stream", false}};
    r.body_size = 50000;
    r.allowed = 1000;
    r.eof = false;
    up.Respond(s.id, r);
  };
  int32_t id = h.guest.Submit(TestRequest{});
  h.Pump();
  const PeerStream* s = h.guest.Find(id);
  EXPECT_EQ(s->body_bytes, 1000u);
  EXPECT_TRUE(s->pattern_ok);
  EXPECT_FALSE(s->end_stream);
  h.upstream.Allow(1, 20000, false);
  h.Pump();
  EXPECT_EQ(s->body_bytes, 20000u);
  EXPECT_FALSE(s->end_stream);
  h.upstream.Allow(1, UINT64_MAX, true);
  h.Pump();
  EXPECT_EQ(s->body_bytes, 50000u);
  EXPECT_TRUE(s->pattern_ok);
  EXPECT_TRUE(s->end_stream);
  EXPECT_EQ(h.delegate.summaries.at(id).bytes_down, 50000u);
}

TEST(H2Proxy, StreamingRequestReachesUpstreamBeforeEndStream) {
  H2Harness h;
  TestRequest req;
  req.method = "POST";
  req.body_size = 30000;
  req.allowed = 700;
  req.eof = false;
  int32_t id = h.guest.Submit(req);
  h.Pump();
  ASSERT_EQ(h.upstream.requests, 1);
  const PeerStream& up = h.upstream.streams().begin()->second;
  EXPECT_EQ(up.body_bytes, 700u);
  EXPECT_FALSE(up.end_stream);
  h.guest.Allow(id, UINT64_MAX, true);
  h.Pump();
  EXPECT_EQ(up.body_bytes, 30000u);
  EXPECT_TRUE(up.pattern_ok);
  EXPECT_TRUE(up.end_stream);
  EXPECT_EQ(h.guest.Find(id)->Get("x-request-bytes"), "30000");
}

TEST(H2Proxy, ShutdownFinishesInFlightStreams) {
  H2Harness h;
  h.upstream.on_head = [](TestUpstream&, PeerStream&) {};
  int32_t id = h.guest.Submit(TestRequest{});
  h.Pump();
  h.proxy->Shutdown();
  h.Pump();
  EXPECT_TRUE(h.guest.goaway_received);
  EXPECT_EQ(h.guest.goaway_last_id, id);
  EXPECT_FALSE(h.proxy->Done());
  TestResponse r;
  r.literal = "bye";
  h.upstream.Respond(1, r);
  h.Pump();
  EXPECT_EQ(h.guest.Find(id)->body, "bye");
  EXPECT_TRUE(h.upstream.goaway_received);  // the upstream session was terminated
  EXPECT_TRUE(h.proxy->Done());
  EXPECT_EQ(h.delegate.summaries.at(id).end, "complete");
}

TEST(H2Proxy, GuestEofResetsUpstream) {
  H2Harness h;
  h.upstream.on_head = [](TestUpstream&, PeerStream&) {};
  int32_t id = h.guest.Submit(TestRequest{});
  h.Pump();
  h.proxy->OnGuestEof();
  EXPECT_EQ(h.delegate.summaries.at(id).end, "guest_closed");
  EXPECT_EQ(h.proxy->LiveStreams(), 0u);
  h.Pump();
  EXPECT_TRUE(h.upstream.goaway_received);
  EXPECT_TRUE(h.proxy->Done());
  EXPECT_FALSE(h.proxy->FeedFromGuest({}).ok());
}

TEST(H2Proxy, UpstreamEofResetsGuestStreams) {
  H2Harness h;
  h.upstream.on_head = [](TestUpstream&, PeerStream&) {};
  int32_t id = h.guest.Submit(TestRequest{});
  h.Pump();
  h.proxy->OnUpstreamEof();
  h.upstream_paused = true;
  h.Pump();
  EXPECT_EQ(h.guest.Find(id)->rst_code, static_cast<uint32_t>(NGHTTP2_INTERNAL_ERROR));
  EXPECT_TRUE(h.guest.goaway_received);
  EXPECT_EQ(h.delegate.summaries.at(id).end, "upstream_closed");
  EXPECT_TRUE(h.proxy->Done());
}

}  // namespace
}  // namespace msb::gateway::http
