// Tests for secret injection in the HTTP/2 proxy, with real nghttp2 peers in memory and a real
// SecretGuard: header, :path query and Basic substitution forwarded "never indexed" (read back
// from the upstream's HPACK decoder), refusals (403 + x-msb-blocked, nothing upstream, the
// connection still serving), request bodies rewritten across DATA frames and streams, violations
// in bodies, compressed bodies, response scrubbing, and flow control at the default windows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "gateway/http/h2_proxy.h"
#include "gateway/http/secret_guard.h"
#include "tests/gateway/http/h2_test_peers.h"

namespace msb::gateway::http {
namespace {

using ::testing::ElementsAre;
using testing::H2Harness;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::PeerStream;
using testing::TestRequest;
using testing::TestResponse;
using testing::TestUpstream;

constexpr char kHost[] = "api.example.test";
constexpr char kValue[] = "sk-live-0123456789abcdef";    // API_KEY, eligible here
constexpr char kOtherValue[] = "other-SECRET-value-42";  // OTHER, allowed elsewhere only
constexpr uint64_t kTenMiB = 10u << 20;

struct Reported {
  std::string env_var, location, form, proto, method, authority, path;
  int32_t stream_id;
};

class RecordingEvents final : public SecretEvents {
 public:
  void OnSecretViolation(const secrets::Violation& v, const ViolationSite& site) override {
    reports.push_back(Reported{v.secret->spec.env_var,
                               std::string(secrets::LocationName(v.location)),
                               std::string(secrets::MatchFormName(v.form)), std::string(site.proto),
                               std::string(site.method), std::string(site.authority),
                               std::string(site.path), site.stream_id});
  }
  std::vector<Reported> reports;
};

secrets::SecretSpec Spec(const std::string& env, const std::string& host, const std::string& value,
                         secrets::Injection injection) {
  secrets::SecretSpec spec;
  spec.env_var = env;
  spec.placeholder = secrets::DefaultPlaceholder(env);
  spec.allowed_hosts = {HostPattern::Parse(host).value()};
  spec.injection = injection;
  spec.source.kind = secrets::SecretSource::Kind::kInline;
  spec.source.inline_value = secrets::SecretValue::Adopt(std::string(value));
  return spec;
}

std::shared_ptr<const secrets::SecretSet> MakeSet(secrets::Injection injection) {
  secrets::SecretsConfig config;
  config.specs.push_back(Spec("API_KEY", kHost, kValue, injection));
  config.specs.push_back(Spec("OTHER", "other.example.test", kOtherValue, injection));
  auto set = secrets::SecretSet::Load(
      config, [](const std::string&) { return std::nullopt; },
      [](const std::string& p) -> Result<std::string> { return Status::Error("no file " + p); });
  EXPECT_TRUE(set.ok()) << set.error();
  return std::move(set).value();
}

secrets::ConnectionIdentity Identity() {
  secrets::ConnectionIdentity id;
  id.host = kHost;
  id.tls_intercepted = true;
  id.pinned_names = {kHost};
  return id;
}

secrets::Injection Everywhere() {
  return secrets::Injection{.headers = true, .basic_auth = true, .query = true, .body = true};
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

std::string Base64(const std::string& in) {
  static const char* kDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int k = 3; k >= 0; --k) {
      out.push_back(kDigits[(v >> (6 * k)) & 63]);
    }
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {kDigits[v >> 18], kDigits[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kDigits[v >> 18], kDigits[(v >> 12) & 63], kDigits[(v >> 6) & 63], '='};
  }
  return out;
}

const H2Header* Field(const std::vector<H2Header>& fields, const std::string& name) {
  for (const H2Header& f : fields) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

// A proxy with a guard on a connection to kHost.
class H2SecretsTest : public ::testing::Test {
 protected:
  void Start(secrets::Injection injection = Everywhere(), const H2Limits& limits = {}) {
    set_ = MakeSet(injection);
    guard_ = std::make_unique<SecretGuard>(set_, Identity(), &events_);
    h_ = std::make_unique<H2Harness>(limits, testing::PeerOptions{}, testing::PeerOptions{},
                                     guard_.get());
  }
  TestRequest Request(const std::string& path = "/v1") {
    TestRequest r;
    r.authority = kHost;
    r.path = path;
    return r;
  }
  PeerStream& Upstream(size_t i = 0) {
    auto it = h_->upstream.streams().begin();
    std::advance(it, i);
    return it->second;
  }

  RecordingEvents events_;
  std::shared_ptr<const secrets::SecretSet> set_;
  std::unique_ptr<SecretGuard> guard_;
  std::unique_ptr<H2Harness> h_;
};

TEST_F(H2SecretsTest, HeaderPlaceholderIsSubstitutedAndForwardedNeverIndexed) {
  Start();
  TestRequest req = Request();
  req.headers = {{"authorization", "Bearer $MSB_API_KEY", false},
                 {"x-api-key", "$MSB_API_KEY", false},
                 {"accept", "*/*", false}};
  int32_t id = h_->guest.Submit(req);
  h_->Pump();
  ASSERT_EQ(h_->upstream.requests, 1);
  const PeerStream& up = Upstream();
  // What the upstream's HPACK decoder reports: the substituted fields came "never indexed".
  ASSERT_NE(Field(up.head, "authorization"), nullptr);
  EXPECT_EQ(Field(up.head, "authorization")->value, std::string("Bearer ") + kValue);
  EXPECT_TRUE(Field(up.head, "authorization")->never_index);
  EXPECT_EQ(Field(up.head, "x-api-key")->value, kValue);
  EXPECT_TRUE(Field(up.head, "x-api-key")->never_index);
  EXPECT_FALSE(Field(up.head, "accept")->never_index);
  EXPECT_FALSE(Field(up.head, ":path")->never_index);
  EXPECT_EQ(h_->guest.Find(id)->Get(":status"), "200");
  const H2StreamSummary& sum = h_->delegate.summaries.at(id);
  EXPECT_THAT(sum.secrets_injected, ElementsAre("API_KEY"));
  EXPECT_EQ(sum.blocked_secret, "");
  EXPECT_EQ(sum.end, "complete");
  EXPECT_THAT(events_.reports, IsEmpty());
}

TEST_F(H2SecretsTest, QueryIsSubstitutedOnlyWithTheQueryScope) {
  Start();  // query on
  h_->guest.Submit(Request("/$MSB_API_KEY/x?key=$MSB_API_KEY&a=1"));
  h_->Pump();
  ASSERT_EQ(h_->upstream.requests, 1);
  const H2Header* path = Field(Upstream().head, ":path");
  ASSERT_NE(path, nullptr);
  EXPECT_EQ(path->value, std::string("/$MSB_API_KEY/x?key=") + kValue + "&a=1");  // never the path
  EXPECT_TRUE(path->never_index);

  secrets::Injection no_query = Everywhere();
  no_query.query = false;
  Start(no_query);
  int32_t id = h_->guest.Submit(Request("/x?key=$MSB_API_KEY"));
  h_->Pump();
  ASSERT_EQ(h_->upstream.requests, 1);
  path = Field(Upstream().head, ":path");
  EXPECT_EQ(path->value, "/x?key=$MSB_API_KEY");
  EXPECT_FALSE(path->never_index);
  EXPECT_THAT(h_->delegate.summaries.at(id).secrets_injected, IsEmpty());
}

TEST_F(H2SecretsTest, BasicCredentialIsSubstitutedAndReencoded) {
  Start();
  TestRequest req = Request();
  req.headers = {{"authorization", "Basic " + Base64("bot:$MSB_API_KEY"), false}};
  int32_t id = h_->guest.Submit(req);
  h_->Pump();
  ASSERT_EQ(h_->upstream.requests, 1);
  const H2Header* auth = Field(Upstream().head, "authorization");
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(auth->value, "Basic " + Base64(std::string("bot:") + kValue));
  EXPECT_TRUE(auth->never_index);
  EXPECT_THAT(h_->delegate.summaries.at(id).secrets_injected, ElementsAre("API_KEY"));
}

TEST_F(H2SecretsTest, IneligiblePlaceholderIsRefusedWith403AndTheNextStreamWorks) {
  Start();
  TestRequest bad = Request("/v1/items?q=1");
  bad.method = "POST";
  bad.headers = {{"x-token", "$MSB_OTHER", false}};
  bad.literal = "some body";  // still arriving when the 403 goes out
  int32_t b = h_->guest.Submit(bad);
  h_->Pump();
  const PeerStream* s = h_->guest.Find(b);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->Get(":status"), "403");
  EXPECT_EQ(s->Get("x-msb-blocked"), "secret OTHER not allowed for api.example.test (header, raw)");
  EXPECT_THAT(s->body, HasSubstr("secret OTHER not allowed for api.example.test"));
  EXPECT_TRUE(s->end_stream);
  EXPECT_EQ(h_->upstream.requests, 0);  // nothing of it went upstream
  EXPECT_TRUE(h_->upstream.streams().empty());
  ASSERT_EQ(events_.reports.size(), 1u);
  const Reported& r = events_.reports[0];
  EXPECT_EQ(r.env_var, "OTHER");
  EXPECT_EQ(r.location, "header");
  EXPECT_EQ(r.proto, "h2");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.authority, kHost);
  EXPECT_EQ(r.path, "/v1/items");
  EXPECT_EQ(r.stream_id, b);
  const H2StreamSummary& sum = h_->delegate.summaries.at(b);
  EXPECT_EQ(sum.end, "secret_violation");
  EXPECT_EQ(sum.blocked_secret, "OTHER");
  EXPECT_EQ(sum.status, 403);
  EXPECT_EQ(sum.bytes_up, 0u);

  // The connection still serves, with substitution.
  TestRequest good = Request();
  good.headers = {{"x-api-key", "$MSB_API_KEY", false}};
  int32_t g = h_->guest.Submit(good);
  h_->Pump();
  EXPECT_EQ(h_->guest.Find(g)->Get(":status"), "200");
  ASSERT_EQ(h_->upstream.requests, 1);
  EXPECT_EQ(Upstream().Get("x-api-key"), kValue);
  EXPECT_EQ(events_.reports.size(), 1u);
  EXPECT_EQ(h_->proxy->LiveStreams(), 0u);
  EXPECT_EQ(h_->proxy->BufferedBytes(), 0u);
  EXPECT_TRUE(h_->guest_error.empty());
}

TEST_F(H2SecretsTest, IneligiblePlaceholderInThePathIsRefused) {
  Start();
  int32_t id = h_->guest.Submit(Request("/x?k=%24MSB_OTHER"));
  h_->Pump();
  EXPECT_EQ(h_->guest.Find(id)->Get(":status"), "403");
  EXPECT_THAT(h_->guest.Find(id)->Get("x-msb-blocked"), HasSubstr("percent_decoded"));
  EXPECT_EQ(h_->upstream.requests, 0);
  EXPECT_EQ(events_.reports.size(), 1u);
}

// A body of `n` bytes with the placeholder every `every` bytes (ASCII filler between).
std::string BodyWithPlaceholders(size_t n, size_t every, const std::string& placeholder) {
  std::string body;
  while (body.size() < n) {
    size_t filler = every - placeholder.size();
    for (size_t i = 0; i < filler; ++i) {
      body.push_back(static_cast<char>('a' + (body.size() % 26)));
    }
    body += placeholder;
  }
  return body;
}

TEST_F(H2SecretsTest, BodySubstitutedAcrossManyDataFramesAndStreams) {
  Start();
  // 1000-byte period against 16 KiB frames: many placeholders straddle a frame boundary.
  std::vector<std::string> bodies = {BodyWithPlaceholders(200000, 1000, "$MSB_API_KEY"),
                                     BodyWithPlaceholders(70001, 333, "$MSB_API_KEY"),
                                     BodyWithPlaceholders(50000, 4099, "$MSB_API_KEY")};
  std::vector<int32_t> ids;
  for (const std::string& body : bodies) {
    TestRequest req = Request("/upload");
    req.method = "POST";
    req.literal = body;
    req.headers = {{"content-length", std::to_string(body.size()), false},
                   {"content-type", "application/json", false}};
    ids.push_back(h_->guest.Submit(req));
  }
  h_->chunk = 5000;  // the proxy sees the frames in odd pieces too
  h_->Pump();
  ASSERT_EQ(h_->upstream.requests, 3);
  for (size_t i = 0; i < bodies.size(); ++i) {
    const PeerStream& up = Upstream(i);
    std::string want = ReplaceAll(bodies[i], "$MSB_API_KEY", kValue);
    EXPECT_EQ(up.body.size(), want.size()) << i;
    EXPECT_TRUE(up.body == want) << i;
    EXPECT_GT(up.data_frames, 1) << i;
    EXPECT_TRUE(up.end_stream);
    EXPECT_EQ(Field(up.head, "content-length"), nullptr) << i;  // the length changed
    EXPECT_EQ(h_->guest.Find(ids[i])->Get(":status"), "200");
    EXPECT_EQ(h_->guest.Find(ids[i])->Get("x-request-bytes"), std::to_string(want.size()));
    const H2StreamSummary& sum = h_->delegate.summaries.at(ids[i]);
    EXPECT_THAT(sum.secrets_injected, ElementsAre("API_KEY"));
    EXPECT_EQ(sum.bytes_up, want.size());
    EXPECT_EQ(sum.end, "complete");
  }
  EXPECT_EQ(h_->proxy->BufferedBytes(), 0u);
  EXPECT_TRUE(h_->guest_error.empty());
  EXPECT_TRUE(h_->upstream_error.empty());
  // Flow control: the guest's connection window came back (all but what nghttp2 batches: a
  // WINDOW_UPDATE goes out once half a window is due).
  EXPECT_GT(nghttp2_session_get_remote_window_size(h_->guest.session()), (1 << 20) / 2);
}

TEST_F(H2SecretsTest, PlaceholderSplitAcrossTwoDataFrames) {
  Start();
  std::string body = std::string("{\"key\":\"") + "$MSB_API_KEY" + "\"}";
  TestRequest req = Request("/split");
  req.method = "POST";
  req.literal = body;
  req.allowed = 12;  // the first DATA frame ends inside the placeholder
  int32_t id = h_->guest.Submit(req);
  h_->Pump();
  ASSERT_EQ(h_->upstream.requests, 1);
  EXPECT_EQ(Upstream().body, "{\"key\":\"");  // "$MSB" is withheld: it may be a placeholder
  h_->guest.Allow(id, UINT64_MAX, true);
  h_->Pump();
  EXPECT_EQ(Upstream().body, std::string("{\"key\":\"") + kValue + "\"}");
  EXPECT_TRUE(Upstream().end_stream);
  EXPECT_GE(h_->guest.Find(id)->data_frames + Upstream().data_frames, 2);
  EXPECT_EQ(h_->guest.Find(id)->Get(":status"), "200");
}

TEST_F(H2SecretsTest, BodyWithoutPlaceholdersKeepsItsContentLengthWhenNothingRewritesBodies) {
  secrets::Injection headers_only;
  Start(headers_only);
  TestRequest req = Request();
  req.method = "POST";
  req.literal = "plain body with $MSB_API_KEY";  // a header-only secret in a body: untouched
  req.headers = {{"content-length", std::to_string(req.literal.size()), false}};
  h_->guest.Submit(req);
  h_->Pump();
  ASSERT_EQ(h_->upstream.requests, 1);
  EXPECT_EQ(Upstream().body, req.literal);
  EXPECT_EQ(Upstream().Get("content-length"), std::to_string(req.literal.size()));
}

TEST_F(H2SecretsTest, ViolationInTheBodyCancelsTheUpstreamStreamAndAnswers403) {
  Start();
  std::string body = BodyWithPlaceholders(100000, 1000, "$MSB_API_KEY");
  body += "and then $MSB_OTHER at the end";
  TestRequest req = Request("/leak?x=1");
  req.method = "PUT";
  req.literal = body;
  int32_t id = h_->guest.Submit(req);
  h_->Pump();
  ASSERT_EQ(h_->upstream.requests, 1);
  const PeerStream& up = Upstream();
  EXPECT_FALSE(up.end_stream);  // the upstream never got the body as complete
  EXPECT_TRUE(up.rst_received);
  EXPECT_EQ(up.rst_code, static_cast<uint32_t>(NGHTTP2_CANCEL));
  EXPECT_EQ(up.body.find(kOtherValue), std::string::npos);
  EXPECT_EQ(up.body.find("$MSB_OTHER"), std::string::npos);
  const PeerStream* s = h_->guest.Find(id);
  EXPECT_EQ(s->Get(":status"), "403");
  EXPECT_EQ(s->Get("x-msb-blocked"), "secret OTHER not allowed for api.example.test (body, raw)");
  ASSERT_EQ(events_.reports.size(), 1u);
  EXPECT_EQ(events_.reports[0].location, "body");
  EXPECT_EQ(events_.reports[0].path, "/leak");
  EXPECT_EQ(h_->delegate.summaries.at(id).end, "secret_violation");
  EXPECT_EQ(h_->delegate.summaries.at(id).blocked_secret, "OTHER");
  EXPECT_EQ(h_->proxy->LiveStreams(), 0u);
  EXPECT_EQ(h_->proxy->BufferedBytes(), 0u);

  // Another stream on the same connection is fine.
  int32_t next = h_->guest.Submit(Request());
  h_->Pump();
  EXPECT_EQ(h_->guest.Find(next)->Get(":status"), "200");
}

TEST_F(H2SecretsTest, ViolationInTheBodyAfterTheResponseHeadResetsTheGuestStream) {
  Start();
  h_->upstream.on_head = [](TestUpstream& u, PeerStream& s) {
    TestResponse r;
    r.literal = "streaming...";
    r.eof = false;
    u.Respond(s.id, r);
  };
  TestRequest req = Request();
  req.method = "POST";
  req.literal = "first part ";
  req.eof = false;
  req.allowed = req.literal.size();
  int32_t id = h_->guest.Submit(req);
  h_->Pump();
  ASSERT_EQ(h_->guest.Find(id)->Get(":status"), "200");
  // More body, now with an ineligible JSON-escaped placeholder.
  h_->guest.streams().at(id).literal += "\\u0024MSB_OTHER";
  h_->guest.Allow(id, UINT64_MAX, true);
  h_->Pump();
  const PeerStream* s = h_->guest.Find(id);
  EXPECT_TRUE(s->rst_received);
  EXPECT_EQ(s->rst_code, static_cast<uint32_t>(NGHTTP2_CANCEL));
  EXPECT_TRUE(Upstream().rst_received);
  EXPECT_FALSE(Upstream().end_stream);
  ASSERT_EQ(events_.reports.size(), 1u);
  EXPECT_EQ(events_.reports[0].form, "json_unescaped");
  EXPECT_EQ(h_->proxy->LiveStreams(), 0u);
}

TEST_F(H2SecretsTest, CompressedBodyWithAnEligiblePlaceholderIsRefused) {
  Start();
  TestRequest req = Request("/gz");
  req.method = "POST";
  req.headers = {{"content-encoding", "gzip", false}};
  req.literal = std::string("\x1f\x8b\x08\x00", 4) + " stored block {\"k\":\"$MSB_API_KEY\"}";
  int32_t id = h_->guest.Submit(req);
  h_->Pump();
  const PeerStream* s = h_->guest.Find(id);
  EXPECT_EQ(s->Get(":status"), "403");
  EXPECT_THAT(s->Get("x-msb-blocked"), HasSubstr("compressed body holds a placeholder"));
  // Never forwarded half-substituted, never complete.
  for (auto& [sid, up] : h_->upstream.streams()) {
    EXPECT_FALSE(up.end_stream);
    EXPECT_EQ(up.body.find(kValue), std::string::npos);
  }
  EXPECT_EQ(h_->delegate.summaries.at(id).end, "secret_violation");
  EXPECT_THAT(events_.reports, IsEmpty());  // no ineligible secret was involved
}

TEST_F(H2SecretsTest, CompressedBodyWithoutPlaceholderPassesByteExact) {
  Start();
  TestRequest req = Request("/gz");
  req.method = "POST";
  req.body_size = 300000;  // binary pattern bytes
  req.headers = {{"content-encoding", "gzip", false}, {"content-length", "300000", false}};
  int32_t id = h_->guest.Submit(req);
  h_->Pump();
  ASSERT_EQ(h_->upstream.requests, 1);
  EXPECT_EQ(Upstream().body_bytes, 300000u);
  EXPECT_TRUE(Upstream().pattern_ok);
  EXPECT_TRUE(Upstream().end_stream);
  EXPECT_EQ(Upstream().Get("content-length"), "300000");  // forwarded as is
  EXPECT_EQ(h_->guest.Find(id)->Get(":status"), "200");
}

TEST_F(H2SecretsTest, ResponsesAreScrubbedOfValuesInHeadersAndBodiesSplitAcrossFrames) {
  Start();
  std::string body(20000, 'x');
  body.replace(16384 - 5, strlen(kValue), kValue);  // straddles the first frame boundary
  body += std::string(" echo: ") + kValue + " end";
  h_->upstream.on_head = [&](TestUpstream& u, PeerStream& s) {
    TestResponse r;
    r.headers = {{"x-echo", std::string("token=") + kValue, false},
                 {"content-length", std::to_string(body.size()), false}};
    r.literal = body;
    r.trailers = {{"x-trailer", kValue, false}};
    u.Respond(s.id, r);
  };
  h_->chunk = 3000;
  int32_t id = h_->guest.Submit(Request());
  h_->Pump();
  const PeerStream* s = h_->guest.Find(id);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->Get(":status"), "200");
  EXPECT_EQ(s->Get("x-echo"), "token=$MSB_API_KEY");
  EXPECT_EQ(s->Get("content-length"), "");  // dropped: scrubbing may change the length
  EXPECT_EQ(s->body, ReplaceAll(body, kValue, "$MSB_API_KEY"));
  ASSERT_EQ(s->trailers.size(), 1u);
  EXPECT_EQ(s->trailers[0].value, "$MSB_API_KEY");
  EXPECT_TRUE(s->end_stream);
  EXPECT_EQ(h_->proxy->BufferedBytes(), 0u);
}

TEST_F(H2SecretsTest, GuestTrailersAreRewrittenAndChecked) {
  Start();
  TestRequest req = Request();
  req.method = "POST";
  req.literal = "body";
  req.trailers = {{"x-sig", "$MSB_API_KEY", false}};
  h_->guest.Submit(req);
  h_->Pump();
  ASSERT_EQ(h_->upstream.requests, 1);
  ASSERT_EQ(Upstream().trailers.size(), 1u);
  EXPECT_EQ(Upstream().trailers[0].value, kValue);
  EXPECT_TRUE(Upstream().trailers[0].never_index);

  TestRequest bad = Request();
  bad.method = "POST";
  bad.literal = "body";
  bad.trailers = {{"x-sig", "$MSB_OTHER", false}};
  int32_t id = h_->guest.Submit(bad);
  h_->Pump();
  EXPECT_EQ(h_->guest.Find(id)->Get(":status"), "403");
  // The whole request arrived in one read: nghttp2 drops the upstream HEADERS it had not sent
  // yet together with the RST_STREAM, so the upstream sees nothing of it.
  EXPECT_EQ(h_->upstream.requests, 1);
  EXPECT_EQ(h_->upstream.streams().size(), 1u);
  EXPECT_EQ(events_.reports.size(), 1u);
  EXPECT_EQ(h_->proxy->LiveStreams(), 0u);
}

TEST_F(H2SecretsTest, TenMiBThroughDefaultWindowsWithRewritingAndScrubbingCompletes) {
  H2Limits limits;
  limits.initial_window_size = 65535;
  limits.connection_window_size = 65535;
  Start(Everywhere(), limits);
  h_->upstream.on_head = [](TestUpstream& u, PeerStream& s) {
    TestResponse r;
    r.body_size = kTenMiB;
    u.Respond(s.id, r);
  };
  TestRequest req = Request("/big");
  req.method = "POST";
  req.body_size = kTenMiB;
  int32_t id = h_->guest.Submit(req);
  h_->Pump();
  const PeerStream& up = Upstream();
  EXPECT_EQ(up.body_bytes, kTenMiB);
  EXPECT_TRUE(up.pattern_ok);
  EXPECT_TRUE(up.end_stream);
  const PeerStream* s = h_->guest.Find(id);
  EXPECT_EQ(s->body_bytes, kTenMiB);
  EXPECT_TRUE(s->pattern_ok);
  EXPECT_TRUE(s->end_stream);
  EXPECT_EQ(h_->delegate.summaries.at(id).end, "complete");
  // Windows plus output budgets plus the engines' hold-back, nothing like the body.
  EXPECT_LE(h_->max_buffered, 2 * (65535 + 2 * limits.output_budget + 4 * 16393));
  EXPECT_EQ(h_->proxy->BufferedBytes(), 0u);
}

TEST_F(H2SecretsTest, LongValuesForShortPlaceholdersStayBounded) {
  // A 1000-byte value behind a 9-byte placeholder: the output is ~100x the input, and the
  // proxy still holds no more than its windows' worth of input plus the output budget.
  secrets::SecretsConfig config;
  config.specs.push_back(Spec("K", kHost, std::string(1000, 'v'), Everywhere()));
  set_ = secrets::SecretSet::Load(
             config, [](const std::string&) { return std::nullopt; },
             [](const std::string&) -> Result<std::string> { return Status::Error("none"); })
             .value();
  guard_ = std::make_unique<SecretGuard>(set_, Identity(), &events_);
  H2Limits limits;
  limits.initial_window_size = 65535;
  limits.connection_window_size = 65535;
  h_ = std::make_unique<H2Harness>(limits, testing::PeerOptions{}, testing::PeerOptions{},
                                   guard_.get());
  std::string body;
  for (int i = 0; i < 20000; ++i) {
    body += "$MSB_K";
  }
  TestRequest req = Request();
  req.method = "POST";
  req.literal = body;
  int32_t id = h_->guest.Submit(req);
  h_->Pump();
  EXPECT_EQ(Upstream().body_bytes, 20000u * 1000);
  EXPECT_TRUE(Upstream().end_stream);
  EXPECT_EQ(h_->guest.Find(id)->Get(":status"), "200");
  EXPECT_LE(h_->max_buffered, 65535 + 2 * limits.output_budget + 4 * 16393 + 4096 * 200);
  // The guest got its window back (nghttp2 batches WINDOW_UPDATE until half a window is due).
  EXPECT_GT(nghttp2_session_get_remote_window_size(h_->guest.session()), 65535 / 2);
}

TEST_F(H2SecretsTest, AnInertPlanChangesNothing) {
  // Only a secret for another host, whose placeholder may pass: nothing to do here.
  secrets::SecretsConfig config;
  secrets::SecretSpec spec = Spec("OTHER", "other.example.test", kOtherValue, Everywhere());
  spec.on_violation = secrets::ViolationAction::kPassthrough;
  config.specs.push_back(std::move(spec));
  set_ = secrets::SecretSet::Load(
             config, [](const std::string&) { return std::nullopt; },
             [](const std::string&) -> Result<std::string> { return Status::Error("none"); })
             .value();
  guard_ = std::make_unique<SecretGuard>(set_, Identity(), &events_);
  ASSERT_TRUE(guard_->plan().inert());
  h_ = std::make_unique<H2Harness>(H2Limits{}, testing::PeerOptions{}, testing::PeerOptions{},
                                   guard_.get());
  TestRequest req = Request("/?k=$MSB_OTHER");
  req.method = "POST";
  req.headers = {{"x-k", "$MSB_OTHER", false}, {"content-length", "10", false}};
  req.literal = "$MSB_OTHER";
  h_->guest.Submit(req);
  h_->Pump();
  ASSERT_EQ(h_->upstream.requests, 1);
  EXPECT_EQ(Upstream().Get("x-k"), "$MSB_OTHER");
  EXPECT_EQ(Upstream().Get("content-length"), "10");
  EXPECT_EQ(Upstream().body, "$MSB_OTHER");
}

}  // namespace
}  // namespace msb::gateway::http
