// Tests for the HTTP/1.1 writers: exact bytes, and refusal of every field that could not be
// parsed back (the guard against header injection once values are rewritten).
#include "gateway/http/h1_writer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/gateway/http/h1_test_util.h"

namespace msb::gateway::http {
namespace {

using h1test::Bytes;

RequestHead Request() {
  RequestHead h;
  h.method = "POST";
  h.target = "/v1/chat?stream=1";
  h.version_minor = 1;
  h.headers = {{"Host", "api.example.com"}, {"content-type", "application/json"}};
  return h;
}

TEST(H1Writer, RequestHeadBytes) {
  std::string out = "prefix|";
  ASSERT_TRUE(AppendRequestHead(Request(), &out));
  EXPECT_EQ(out,
            "prefix|POST /v1/chat?stream=1 HTTP/1.1\r\nHost: api.example.com\r\n"
            "content-type: application/json\r\n\r\n");
  RequestHead h10 = Request();
  h10.version_minor = 0;
  h10.headers.clear();
  out.clear();
  ASSERT_TRUE(AppendRequestHead(h10, &out));
  EXPECT_EQ(out, "POST /v1/chat?stream=1 HTTP/1.0\r\n\r\n");
}

TEST(H1Writer, ResponseHeadBytes) {
  ResponseHead h;
  h.status = 204;
  h.reason = "";
  h.headers = {{"X", "a b"}};
  std::string out;
  ASSERT_TRUE(AppendResponseHead(h, &out));
  EXPECT_EQ(out, "HTTP/1.1 204 \r\nX: a b\r\n\r\n");
}

TEST(H1Writer, RefusesWhatWouldNotParseBack) {
  std::vector<RequestHead> bad(9, Request());
  bad[0].headers[1].value = "x\r\nTransfer-Encoding: chunked";
  bad[1].headers[1].value = "x\ny";
  bad[2].headers[1].value = std::string("x\0y", 3);
  bad[3].headers[1].value = " leading";
  bad[4].headers[1].name = "Bad Name";
  bad[5].headers[1].name = "";
  bad[6].target = "/a b";
  bad[7].method = "GET /x HTTP/1.1\r\n";
  bad[8].version_minor = 2;
  for (const RequestHead& h : bad) {
    std::string out = "unchanged";
    EXPECT_FALSE(AppendRequestHead(h, &out)) << h1test::Dump(h);
    EXPECT_EQ(out, "unchanged");
  }
  ResponseHead r;
  r.reason = "OK\r\nSet-Cookie: a=b";
  std::string out;
  EXPECT_FALSE(AppendResponseHead(r, &out));
  r.reason = "OK";
  r.status = 99;
  EXPECT_FALSE(AppendResponseHead(r, &out));
  EXPECT_FALSE(AppendLastChunk({{"X", "a\r\n"}}, &out));
  EXPECT_TRUE(out.empty());
}

TEST(H1Writer, Chunks) {
  std::string out;
  AppendChunk({}, &out);
  EXPECT_EQ(out, "");
  AppendChunk(Bytes("hello"), &out);
  AppendChunk(Bytes(std::string(300, 'z')), &out);
  ASSERT_TRUE(AppendLastChunk({}, &out));
  EXPECT_EQ(out, "5\r\nhello\r\n12c\r\n" + std::string(300, 'z') + "\r\n0\r\n\r\n");
  out.clear();
  ASSERT_TRUE(AppendLastChunk({{"X-Sum", "1"}}, &out));
  EXPECT_EQ(out, "0\r\nX-Sum: 1\r\n\r\n");
}

TEST(H1Writer, SimpleResponseBytes) {
  EXPECT_EQ(SimpleResponse(403, "Forbidden", "blocked\n"),
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 8\r\nConnection: close\r\n\r\nblocked\n");
  EXPECT_EQ(SimpleResponse(200, "OK", "", {}, /*close=*/false),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 0\r\n\r\n");
  // Invalid inputs are neutralised, never emitted.
  EXPECT_EQ(SimpleResponse(1000, "Bad\r\nX: y", "",
                           {{"Content-Length", "5"}, {"X-Ok", "1"}, {"X-Bad", "a\r\nb"}}, false),
            "HTTP/1.1 500 \r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 0\r\nX-Ok: 1\r\n\r\n");
}

}  // namespace
}  // namespace msb::gateway::http
