// Tests for the HTTP/1.1 parser's strict rules: each rule fails with its exact H1Error, and a
// harmless near-miss of it is accepted, so the rules are neither missing nor over-broad. Inputs
// are written by hand (the tests do not use the writer to build what the parser reads).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <set>
#include <string>
#include <string_view>

#include "gateway/http/h1_parser.h"
#include "tests/gateway/http/h1_test_util.h"

namespace msb::gateway::http {
namespace {

using h1test::Bytes;
using h1test::Recorder;
using h1test::RequestError;
using h1test::ResponseError;

struct Case {
  const char* name;
  std::string input;
  H1Error error;
};

std::string Get(std::string_view headers) {
  return "GET / HTTP/1.1\r\nHost: a\r\n" + std::string(headers) + "\r\n";
}
std::string Post(std::string_view headers, std::string_view body = "") {
  return "POST / HTTP/1.1\r\nHost: a\r\n" + std::string(headers) + "\r\n" + std::string(body);
}
std::string Chunked(std::string_view body) {
  return Post("Transfer-Encoding: chunked\r\n", body);
}

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

// ParamName names each parameterised test after its case.
template <typename T>
std::string ParamName(const ::testing::TestParamInfo<T>& p) {
  return p.param.name;
}

class RequestRule : public ::testing::TestWithParam<Case> {};

TEST_P(RequestRule, FailsWithItsError) {
  EXPECT_EQ(H1ErrorName(RequestError(GetParam().input)), H1ErrorName(GetParam().error));
}

const Case kRequestCases[] = {
    // Framing.
    {"cl_then_te", Post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"),
     H1Error::kContentLengthAndTransferEncoding},
    {"te_then_cl", Post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"),
     H1Error::kContentLengthAndTransferEncoding},
    {"cl_equal_twice", Post("Content-Length: 3\r\nContent-Length: 3\r\n", "abc"),
     H1Error::kConflictingContentLength},
    {"cl_differing", Post("Content-Length: 3\r\ncontent-length: 4\r\n", "abcd"),
     H1Error::kConflictingContentLength},
    {"cl_list", Post("Content-Length: 3, 3\r\n", "abc"), H1Error::kBadContentLength},
    {"cl_letters", Post("Content-Length: abc\r\n"), H1Error::kBadContentLength},
    {"cl_sign", Post("Content-Length: +3\r\n", "abc"), H1Error::kBadContentLength},
    {"cl_negative", Post("Content-Length: -1\r\n"), H1Error::kBadContentLength},
    {"cl_leading_zero", Post("Content-Length: 03\r\n", "abc"), H1Error::kBadContentLength},
    {"cl_empty", Post("Content-Length: \r\n"), H1Error::kBadContentLength},
    // llhttp's Content-Length reader takes trailing SP but not HTAB; stricter than RFC, harmless.
    {"cl_trailing_tab", Post("Content-Length: 3\t\r\n", "abc"), H1Error::kBadContentLength},
    {"cl_2_pow_63", Post("Content-Length: 9223372036854775808\r\n"), H1Error::kBadContentLength},
    {"cl_overflow", Post("Content-Length: 99999999999999999999\r\n"), H1Error::kBadContentLength},
    {"te_gzip", Post("Transfer-Encoding: gzip\r\n"), H1Error::kBadTransferEncoding},
    {"te_chunked_gzip", Post("Transfer-Encoding: chunked, gzip\r\n"),
     H1Error::kBadTransferEncoding},
    {"te_gzip_chunked", Post("Transfer-Encoding: gzip, chunked\r\n"),
     H1Error::kBadTransferEncoding},
    {"te_twice", Post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
     H1Error::kBadTransferEncoding},
    {"te_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     H1Error::kBadTransferEncoding},
    // Field lines.
    {"obs_fold_space", Get("X: a\r\n b\r\n"), H1Error::kObsFold},
    {"obs_fold_tab", Get("X: a\r\n\tb\r\n"), H1Error::kObsFold},
    {"obs_fold_after_empty_value", Get("X:\r\n b\r\n"), H1Error::kObsFold},
    {"space_after_start_line", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", H1Error::kObsFold},
    {"space_before_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", H1Error::kSpaceBeforeColon},
    {"spaces_before_colon", Get("Content-Length  : 5\r\n"), H1Error::kSpaceBeforeColon},
    {"cl_space_before_colon", Post("Content-Length : 3\r\n", "abc"), H1Error::kSpaceBeforeColon},
    {"tab_before_colon", Get("X\t: a\r\n"), H1Error::kSpaceBeforeColon},
    {"space_inside_name", Get("X Y: a\r\n"), H1Error::kSpaceBeforeColon},
    {"empty_name", Get(": a\r\n"), H1Error::kEmptyHeaderName},
    {"name_without_colon", Get("X\r\n"), H1Error::kMalformed},
    {"name_bad_char", Get("X(: a\r\n"), H1Error::kInvalidHeaderChar},
    {"value_soh", Get(std::string("X: a\x01z\r\n")), H1Error::kInvalidHeaderChar},
    {"value_nul", Get(std::string("X: a\0z\r\n", 8)), H1Error::kInvalidHeaderChar},
    {"value_del", Get("X: a\x7fz\r\n"), H1Error::kInvalidHeaderChar},
    {"value_bare_cr", Get("X: a\rz\r\n"), H1Error::kMalformed},
    {"value_bare_lf", Get("X: a\nY: b\r\n"), H1Error::kMalformed},
    {"lf_only_lines", "GET / HTTP/1.1\nHost: a\n\n", H1Error::kMalformed},
    {"final_bare_lf", "GET / HTTP/1.1\r\nHost: a\r\n\n", H1Error::kMalformed},
    // Host.
    {"host_twice", Get("Host: a\r\n"), H1Error::kDuplicateHost},
    {"host_twice_case", Get("host: b\r\n"), H1Error::kDuplicateHost},
    {"host_missing_11", "GET / HTTP/1.1\r\nX: a\r\n\r\n", H1Error::kMissingHost},
    {"host_empty", "GET / HTTP/1.1\r\nHost:\r\n\r\n", H1Error::kBadHost},
    {"host_space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", H1Error::kBadHost},
    {"host_list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", H1Error::kBadHost},
    {"host_userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", H1Error::kBadHost},
    {"host_port_zero", "GET / HTTP/1.1\r\nHost: a:0\r\n\r\n", H1Error::kBadHost},
    {"host_port_big", "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", H1Error::kBadHost},
    {"host_port_empty", "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", H1Error::kBadHost},
    {"host_ipv6_open", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", H1Error::kBadHost},
    {"host_path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", H1Error::kBadHost},
    {"absolute_host_mismatch", "GET http://a/x HTTP/1.1\r\nHost: b\r\n\r\n",
     H1Error::kHostMismatch},
    {"absolute_port_mismatch", "GET http://a:8080/ HTTP/1.1\r\nHost: a\r\n\r\n",
     H1Error::kHostMismatch},
    {"absolute_missing_host", "GET http://a/ HTTP/1.1\r\n\r\n", H1Error::kMissingHost},
    {"connect_host_mismatch", "CONNECT a:443 HTTP/1.1\r\nHost: b:443\r\n\r\n",
     H1Error::kHostMismatch},
    // Targets.
    {"asterisk_get", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", H1Error::kBadTarget},
    {"authority_get", "GET a:443 HTTP/1.1\r\nHost: a\r\n\r\n", H1Error::kBadTarget},
    {"connect_origin", "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", H1Error::kBadTarget},
    {"connect_no_port", "CONNECT a HTTP/1.1\r\nHost: a\r\n\r\n", H1Error::kBadTarget},
    {"fragment", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", H1Error::kBadTarget},
    {"double_slash", "GET //a/b HTTP/1.1\r\nHost: a\r\n\r\n", H1Error::kBadTarget},
    {"tab_in_target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", H1Error::kBadTarget},
    {"scheme_ftp", "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", H1Error::kBadTarget},
    {"absolute_userinfo", "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", H1Error::kBadTarget},
    {"absolute_empty_host", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", H1Error::kBadTarget},
    {"connect_with_body", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nContent-Length: 2\r\n\r\nab",
     H1Error::kBodyNotAllowed},
    // Start line and versions.
    {"http_12", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", H1Error::kUnsupportedVersion},
    {"http_20", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", H1Error::kUnsupportedVersion},
    {"http_09", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", H1Error::kUnsupportedVersion},
    {"h2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", H1Error::kUnsupportedVersion},
    {"lowercase_version", "GET / http/1.1\r\nHost: a\r\n\r\n", H1Error::kMalformed},
    {"lowercase_method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", H1Error::kMalformed},
    {"double_space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", H1Error::kMalformed},
    {"space_after_version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", H1Error::kMalformed},
    {"no_version", "GET /\r\nHost: a\r\n\r\n", H1Error::kMalformed},
    {"leading_crlf", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", H1Error::kMalformed},
    {"garbage", "\x16\x03\x01\x02\x00", H1Error::kMalformed},
    // Chunked bodies.
    {"chunk_not_hex", Chunked("zz\r\n"), H1Error::kBadChunk},
    {"chunk_empty_size", Chunked("\r\n"), H1Error::kBadChunk},
    {"chunk_17_digits", Chunked("00000000000000001\r\n"), H1Error::kBadChunk},
    {"chunk_2_pow_63", Chunked("8000000000000000\r\n"), H1Error::kBadChunk},
    {"chunk_negative", Chunked("-1\r\n"), H1Error::kBadChunk},
    {"chunk_data_no_crlf", Chunked("3\r\nabcXX0\r\n\r\n"), H1Error::kBadChunk},
    {"chunk_data_cr_only", Chunked("3\r\nabc\r0\r\n\r\n"), H1Error::kBadChunk},
    {"chunk_too_long_data", Chunked("3\r\nabcd\r\n0\r\n\r\n"), H1Error::kBadChunk},
    {"chunk_size_lf_only", Chunked("3\nabc\r\n0\r\n\r\n"), H1Error::kBadChunk},
    {"chunk_size_space", Chunked("3 \r\nabc\r\n0\r\n\r\n"), H1Error::kBadChunk},
    {"chunk_size_0x", Chunked("0x3\r\nabc\r\n0\r\n\r\n"), H1Error::kBadChunk},
    {"chunk_ext_empty", Chunked("3;\r\nabc\r\n0\r\n\r\n"), H1Error::kBadChunk},
    {"chunk_ext_bare_lf", Chunked("3;a\nabc\r\n0\r\n\r\n"), H1Error::kBadChunk},
    {"chunk_ext_open_quote", Chunked("3;a=\"b\r\nabc\r\n0\r\n\r\n"), H1Error::kBadChunk},
    {"chunk_ext_space_end", Chunked("3;a=b \r\nabc\r\n0\r\n\r\n"), H1Error::kBadChunk},
    {"chunk_ext_too_long", Chunked("3;a=" + std::string(260, 'b') + "\r\nabc\r\n0\r\n\r\n"),
     H1Error::kBadChunk},
    {"trailer_obs_fold", Chunked("0\r\nX: a\r\n b\r\n\r\n"), H1Error::kObsFold},
    {"trailer_space_before_colon", Chunked("0\r\nX : a\r\n\r\n"), H1Error::kSpaceBeforeColon},
    {"trailer_content_length", Chunked("0\r\nContent-Length: 5\r\n\r\n"),
     H1Error::kForbiddenTrailer},
    {"trailer_host", Chunked("0\r\nhost: b\r\n\r\n"), H1Error::kForbiddenTrailer},
    {"trailer_too_large", Chunked("0\r\nX: " + std::string(16 * 1024, 'a') + "\r\n\r\n"),
     H1Error::kTrailersTooLarge},
};

INSTANTIATE_TEST_SUITE_P(H1, RequestRule, ::testing::ValuesIn(kRequestCases), ParamName<Case>);

struct NearMiss {
  const char* name;
  std::string input;
};

void PrintTo(const NearMiss& c, std::ostream* os) {
  *os << c.name;
}

class RequestNearMiss : public ::testing::TestWithParam<NearMiss> {};

TEST_P(RequestNearMiss, IsAccepted) {
  h1test::Outcome out = h1test::Run(H1Parser::Kind::kRequest, GetParam().input);
  EXPECT_EQ(H1ErrorName(out.error), "none");
  EXPECT_NE(out.status, FeedStatus::kError);
  EXPECT_EQ(out.consumed, GetParam().input.size());
  ASSERT_FALSE(out.log.empty());
  EXPECT_EQ(out.log.back(), "end");
}

const NearMiss kNearMisses[] = {
    {"cl_zero", Post("Content-Length: 0\r\n")},
    {"cl_ows", Post("Content-Length:  3  \r\n", "abc")},
    {"te_chunked_case", Post("Transfer-Encoding: Chunked\r\n", "0\r\n\r\n")},
    {"value_inner_space", Get("X: a  b\r\n")},
    {"value_empty", Get("X:\r\nY: \t\r\n")},
    {"value_obs_text", Get("X: caf\xc3\xa9\r\n")},
    {"value_tab_inside", Get("X: a\tb\r\n")},
    {"name_all_tchars", Get("!#$%&'*+-.^_`|~09azAZ: v\r\n")},
    {"host_http10_missing", "GET / HTTP/1.0\r\n\r\n"},
    {"host_port", "GET / HTTP/1.1\r\nHost: Example.COM:8080\r\n\r\n"},
    {"host_ipv6", "GET / HTTP/1.1\r\nHost: [::1]:443\r\n\r\n"},
    {"host_ipv4", "GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n"},
    {"absolute_match", "GET http://a/x?y HTTP/1.1\r\nHost: a\r\n\r\n"},
    {"absolute_https_case", "GET HTTPS://A:8443 HTTP/1.1\r\nHost: a:8443\r\n\r\n"},
    {"options_asterisk", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"},
    {"query_with_slashes", "GET /a?b=//c&d=http://e HTTP/1.1\r\nHost: a\r\n\r\n"},
    {"percent_encoded", "GET /%2F%00?%23 HTTP/1.1\r\nHost: a\r\n\r\n"},
    {"chunk_ext_ok", Chunked("3;a=b;c=\"d\\\"e\" ; f\r\nabc\r\n0\r\n\r\n")},
    {"chunk_size_leading_zeros", Chunked("0000000000000003\r\nabc\r\n0\r\n\r\n")},
    {"chunk_size_upper_hex", Chunked("A\r\n0123456789\r\n0\r\n\r\n")},
    {"chunk_ext_space_before_semicolon", Chunked("3 ;a\r\nabc\r\n0\r\n\r\n")},
    {"chunk_ext_256_bytes", Chunked("3;a=" + std::string(250, 'b') + "\r\nabc\r\n0\r\n\r\n")},
    {"trailer_ok", Chunked("0\r\nX-Checksum: abc\r\n\r\n")},
    {"reserved_looking_header", Get("Content-Lengthx: 5\r\nTransfer-Encodingx: gzip\r\n")},
};

INSTANTIATE_TEST_SUITE_P(H1, RequestNearMiss, ::testing::ValuesIn(kNearMisses),
                         ParamName<NearMiss>);

TEST(H1Request, HeadFieldsAndDerivedFacts) {
  Recorder rec;
  H1Parser p(H1Parser::Kind::kRequest, &rec);
  std::string in =
      "GET /a/b?c=d HTTP/1.1\r\nHost: Example.com\r\nX-Mixed-Case:  v 1 \r\n"
      "Expect: 100-Continue\r\n\r\n";
  FeedResult r = p.Feed(Bytes(in));
  EXPECT_EQ(r.status, FeedStatus::kNeedMore);
  EXPECT_EQ(r.consumed, in.size());
  ASSERT_EQ(rec.requests.size(), 1u);
  const RequestHead& h = rec.requests[0];
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/a/b?c=d");
  EXPECT_EQ(h.version_minor, 1);
  EXPECT_EQ(h.target_form, TargetForm::kOrigin);
  EXPECT_EQ(h.PathWithoutQuery(), "/a/b");
  EXPECT_EQ(h.authority, "example.com");
  ASSERT_EQ(h.headers.size(), 3u);
  EXPECT_EQ(h.headers[0], (Header{"Host", "Example.com"}));
  EXPECT_EQ(h.headers[1], (Header{"X-Mixed-Case", "v 1"}));
  EXPECT_EQ(h.body, BodyKind::kNone);
  EXPECT_TRUE(h.keep_alive);
  EXPECT_TRUE(h.expect_continue);
  EXPECT_FALSE(h.is_connect);
  EXPECT_FALSE(h.is_upgrade);
  EXPECT_EQ(rec.messages_ended, 1u);
}

TEST(H1Request, TargetFormsAndPaths) {
  struct T {
    std::string line;
    TargetForm form;
    std::string path;
    std::string authority;
  };
  const T cases[] = {
      {"GET http://A.b:81/x/y?q HTTP/1.1\r\nHost: a.B:81", TargetForm::kAbsolute, "/x/y", "a.b:81"},
      {"GET https://a?q HTTP/1.1\r\nHost: a", TargetForm::kAbsolute, "/", "a"},
      {"GET https://a HTTP/1.1\r\nHost: a", TargetForm::kAbsolute, "/", "a"},
      {"OPTIONS * HTTP/1.1\r\nHost: a", TargetForm::kAsterisk, "*", "a"},
      {"CONNECT a.b:443 HTTP/1.1\r\nHost: a.b", TargetForm::kAuthority, "", "a.b:443"},
      {"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443", TargetForm::kAuthority, "", "[::1]:443"},
      {"GET /?x HTTP/1.0", TargetForm::kOrigin, "/", ""},
  };
  for (const T& t : cases) {
    Recorder rec;
    H1Parser p(H1Parser::Kind::kRequest, &rec);
    (void)p.Feed(Bytes(t.line + "\r\n\r\n"));
    ASSERT_EQ(rec.requests.size(), 1u) << t.line;
    EXPECT_EQ(rec.requests[0].target_form, t.form) << t.line;
    EXPECT_EQ(rec.requests[0].PathWithoutQuery(), t.path) << t.line;
    EXPECT_EQ(rec.requests[0].authority, t.authority) << t.line;
  }
}

TEST(H1Request, KeepAliveByVersionAndConnection) {
  struct T {
    std::string head;
    bool keep_alive;
  };
  const T cases[] = {
      {"GET / HTTP/1.1\r\nHost: a\r\n", true},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n", false},
      {"GET / HTTP/1.0\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive, close\r\n", false},
  };
  for (const T& t : cases) {
    Recorder rec;
    H1Parser p(H1Parser::Kind::kRequest, &rec);
    FeedResult r = p.Feed(Bytes(t.head + "\r\n"));
    ASSERT_EQ(rec.requests.size(), 1u) << t.head;
    EXPECT_EQ(rec.requests[0].keep_alive, t.keep_alive) << t.head;
    EXPECT_EQ(r.status, t.keep_alive ? FeedStatus::kNeedMore : FeedStatus::kClosed) << t.head;
  }
}

TEST(H1Request, ChunkedBodyWithExtensionsAndTrailers) {
  Recorder rec;
  H1Parser p(H1Parser::Kind::kRequest, &rec);
  std::string in =
      Chunked("5;name=v\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\nX-A: 1\r\nX-B:2 \r\n\r\n");
  FeedResult r = p.Feed(Bytes(in));
  EXPECT_EQ(r.status, FeedStatus::kNeedMore);
  EXPECT_EQ(r.consumed, in.size());
  ASSERT_EQ(rec.requests.size(), 1u);
  EXPECT_EQ(rec.requests[0].body, BodyKind::kChunked);
  ASSERT_EQ(rec.bodies.size(), 1u);
  EXPECT_EQ(rec.bodies[0], "hello world!");
  ASSERT_EQ(rec.trailers.size(), 1u);
  EXPECT_EQ(rec.trailers[0], (std::vector<Header>{{"X-A", "1"}, {"X-B", "2"}}));
  EXPECT_EQ(rec.log.back(), "end");
}

TEST(H1Request, LimitsAtTheBoundary) {
  // A head of exactly max_head_bytes is accepted; one byte more is not.
  std::string prefix = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
  std::string filler(64 * 1024 - prefix.size() - 4, 'v');
  std::string head = prefix + filler + "\r\n\r\n";
  ASSERT_EQ(head.size(), 64u * 1024);
  EXPECT_EQ(RequestError(head), H1Error::kNone);
  EXPECT_EQ(RequestError(prefix + filler + "v\r\n\r\n"), H1Error::kHeadTooLarge);

  std::string fields;
  for (int i = 1; i < 256; ++i) {
    fields += "X" + std::to_string(i) + ": v\r\n";
  }
  EXPECT_EQ(RequestError(Get(fields)), H1Error::kNone);  // Host + 255
  EXPECT_EQ(RequestError(Get(fields + "Y: v\r\n")), H1Error::kTooManyHeaders);

  // Content-Length up to 2^63-1 is accepted (the head only; the body is never sent).
  Recorder rec;
  H1Parser p(H1Parser::Kind::kRequest, &rec);
  EXPECT_EQ(p.Feed(Bytes(Post("Content-Length: 9223372036854775807\r\n"))).status,
            FeedStatus::kNeedMore);
  ASSERT_EQ(rec.requests.size(), 1u);
  EXPECT_EQ(rec.requests[0].content_length, 9223372036854775807u);
  // Likewise the largest chunk size.
  Recorder rec2;
  H1Parser p2(H1Parser::Kind::kRequest, &rec2);
  EXPECT_EQ(p2.Feed(Bytes(Chunked("7fffffffffffffff\r\nabc"))).status, FeedStatus::kNeedMore);
  EXPECT_EQ(rec2.bodies.at(0), "abc");
}

TEST(H1Request, ErrorIsSticky) {
  Recorder rec;
  H1Parser p(H1Parser::Kind::kRequest, &rec);
  FeedResult r = p.Feed(Bytes("GET / HTTP/1.1\r\nHost : a\r\n\r\n"));
  EXPECT_EQ(r.status, FeedStatus::kError);
  EXPECT_EQ(r.error, H1Error::kSpaceBeforeColon);
  EXPECT_FALSE(r.detail.empty());
  r = p.Feed(Bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(r.status, FeedStatus::kError);
  EXPECT_EQ(r.error, H1Error::kSpaceBeforeColon);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_TRUE(rec.requests.empty());
}

TEST(H1Request, FinishInsideAMessageIsTruncated) {
  Recorder rec;
  H1Parser head(H1Parser::Kind::kRequest, &rec);
  (void)head.Feed(Bytes("GET / HTTP/1.1\r\nHo"));
  EXPECT_EQ(head.Finish().error, H1Error::kTruncated);

  H1Parser body(H1Parser::Kind::kRequest, &rec);
  (void)body.Feed(Bytes(Post("Content-Length: 5\r\n", "abc")));
  EXPECT_EQ(body.Finish().error, H1Error::kTruncated);

  H1Parser idle(H1Parser::Kind::kRequest, &rec);
  (void)idle.Feed(Bytes(Get("")));
  EXPECT_TRUE(idle.idle());
  FeedResult r = idle.Finish();
  EXPECT_EQ(r.status, FeedStatus::kClosed);
  EXPECT_EQ(r.error, H1Error::kNone);
}

// Responses.

const Case kResponseCases[] = {
    {"cl_and_te", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
     H1Error::kContentLengthAndTransferEncoding},
    {"cl_twice", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
     H1Error::kConflictingContentLength},
    {"te_chunked_not_last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
     H1Error::kBadTransferEncoding},
    {"te_without_chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
     H1Error::kBadTransferEncoding},
    {"te_chunked_twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
     H1Error::kBadTransferEncoding},
    {"status_099", "HTTP/1.1 099 X\r\n\r\n", H1Error::kBadStatus},
    {"status_600", "HTTP/1.1 600 X\r\n\r\n", H1Error::kBadStatus},
    {"status_2_digits", "HTTP/1.1 20 OK\r\n\r\n", H1Error::kMalformed},
    {"status_4_digits", "HTTP/1.1 2000 OK\r\n\r\n", H1Error::kMalformed},
    {"reason_control", "HTTP/1.1 200 O\x01K\r\n\r\n", H1Error::kMalformed},
    {"http_11_lowercase", "http/1.1 200 OK\r\n\r\n", H1Error::kMalformed},
    {"http_2", "HTTP/2.0 200 OK\r\n\r\n", H1Error::kUnsupportedVersion},
    {"obs_fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", H1Error::kObsFold},
    {"space_before_colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
     H1Error::kSpaceBeforeColon},
    {"switching_unasked", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: ws\r\n\r\n",
     H1Error::kUnexpectedStatus},
    {"bad_chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX",
     H1Error::kBadChunk},
};

class ResponseRule : public ::testing::TestWithParam<Case> {};

TEST_P(ResponseRule, FailsWithItsError) {
  EXPECT_EQ(H1ErrorName(ResponseError(GetParam().input)), H1ErrorName(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(H1, ResponseRule, ::testing::ValuesIn(kResponseCases), ParamName<Case>);

TEST(H1Response, FramingDependsOnStatusAndRequest) {
  struct T {
    std::string method;
    std::string input;
    BodyKind body;
    std::string body_bytes;
    bool keep_alive;
  };
  const T cases[] = {
      {"GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", BodyKind::kContentLength, "ok",
       true},
      {"GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
       BodyKind::kChunked, "ok", true},
      {"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n", BodyKind::kNone, "", true},
      {"HEAD", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", BodyKind::kNone, "", true},
      {"GET", "HTTP/1.1 204 No Content\r\n\r\n", BodyKind::kNone, "", true},
      {"GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 20\r\n\r\n", BodyKind::kNone, "", true},
      {"GET", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", BodyKind::kContentLength, "", true},
      {"CONNECT", "HTTP/1.1 407 Auth\r\nContent-Length: 1\r\n\r\nx", BodyKind::kContentLength, "x",
       true},
      {"GET", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
       BodyKind::kContentLength, "x", false},
  };
  for (const T& t : cases) {
    Recorder rec;
    H1Parser p(H1Parser::Kind::kResponse, &rec);
    ASSERT_TRUE(p.ExpectResponseTo(t.method));
    FeedResult r = p.Feed(Bytes(t.input));
    EXPECT_EQ(r.error, H1Error::kNone) << t.input;
    EXPECT_EQ(r.consumed, t.input.size()) << t.input;
    ASSERT_EQ(rec.responses.size(), 1u) << t.input;
    EXPECT_EQ(rec.responses[0].body, t.body) << t.input;
    EXPECT_EQ(rec.responses[0].keep_alive, t.keep_alive) << t.input;
    EXPECT_EQ(rec.bodies.empty() ? "" : rec.bodies[0], t.body_bytes) << t.input;
    EXPECT_EQ(rec.messages_ended, 1u) << t.input;
  }
}

TEST(H1Response, BodyUntilCloseEndsAtFinish) {
  Recorder rec;
  H1Parser p(H1Parser::Kind::kResponse, &rec);
  ASSERT_TRUE(p.ExpectResponseTo("GET"));
  FeedResult r = p.Feed(Bytes("HTTP/1.0 200 OK\r\nX: y\r\n\r\nsome "));
  EXPECT_EQ(r.status, FeedStatus::kNeedMore);
  r = p.Feed(Bytes("bytes"));
  EXPECT_EQ(r.status, FeedStatus::kNeedMore);
  EXPECT_EQ(rec.messages_ended, 0u);
  ASSERT_EQ(rec.responses.size(), 1u);
  EXPECT_EQ(rec.responses[0].body, BodyKind::kUntilClose);
  EXPECT_FALSE(rec.responses[0].keep_alive);
  r = p.Finish();
  EXPECT_EQ(r.status, FeedStatus::kClosed);
  EXPECT_EQ(rec.messages_ended, 1u);
  EXPECT_EQ(rec.bodies.at(0), "some bytes");
}

TEST(H1Response, InterimResponsesPrecedeTheFinalOne) {
  Recorder rec;
  H1Parser p(H1Parser::Kind::kResponse, &rec);
  ASSERT_TRUE(p.ExpectResponseTo("POST"));
  ASSERT_TRUE(p.ExpectResponseTo("GET"));
  std::string in =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx"
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\ny";
  FeedResult r = p.Feed(Bytes(in));
  EXPECT_EQ(r.status, FeedStatus::kNeedMore);
  ASSERT_EQ(rec.responses.size(), 4u);
  EXPECT_TRUE(rec.responses[0].interim);
  EXPECT_EQ(rec.responses[1].status, 103);
  EXPECT_TRUE(rec.responses[1].interim);
  EXPECT_FALSE(rec.responses[2].interim);
  EXPECT_EQ(rec.messages_ended, 2u);
  EXPECT_EQ(rec.log[0].substr(0, 22), "response 1.1 100 Conti");
  EXPECT_EQ(rec.log[2].substr(0, 16), "response 1.1 201");  // no "end" between interim and final
  // A third response has no request outstanding.
  r = p.Feed(Bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_EQ(r.error, H1Error::kUnexpectedResponse);
}

TEST(H1Response, PendingResponsesAreCapped) {
  Recorder rec;
  H1Limits limits;
  limits.max_pending_responses = 2;
  H1Parser p(H1Parser::Kind::kResponse, &rec, limits);
  EXPECT_TRUE(p.ExpectResponseTo("GET"));
  EXPECT_TRUE(p.ExpectResponseTo("GET"));
  EXPECT_FALSE(p.ExpectResponseTo("GET"));
}

TEST(H1Errors, NamesAreStableAndDistinct) {
  EXPECT_EQ(H1ErrorName(H1Error::kNone), "none");
  EXPECT_EQ(H1ErrorName(H1Error::kObsFold), "obs_fold");
  EXPECT_EQ(H1ErrorName(H1Error::kContentLengthAndTransferEncoding),
            "content_length_and_transfer_encoding");
  EXPECT_EQ(H1ErrorName(H1Error::kTruncated), "truncated");
  std::set<std::string_view> names;
  for (int i = 0; i <= static_cast<int>(H1Error::kTruncated); ++i) {
    std::string_view n = H1ErrorName(static_cast<H1Error>(i));
    EXPECT_NE(n, "unknown");
    EXPECT_TRUE(names.insert(n).second) << n;
  }
  EXPECT_EQ(H1ErrorName(static_cast<H1Error>(200)), "unknown");
}

}  // namespace
}  // namespace msb::gateway::http
