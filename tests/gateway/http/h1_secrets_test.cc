// Secret injection in H1Relay between in-memory connections, with a real SecretGuard: header,
// Basic and query substitution; refusals (403 + x-msb-blocked, in pipeline order, nothing
// upstream, the connection still serving); Content-Length bodies held and re-lengthed, long ones
// re-chunked, chunked ones re-chunked, fed byte by byte; violations inside bodies (held: refused
// cleanly; streamed: cut short, never completed); compressed bodies; response scrubbing.
#include <gtest/gtest.h>
#include <zlib.h>

#include <memory>
#include <string>
#include <vector>

#include "gateway/http/h1_relay.h"
#include "gateway/http/secret_guard.h"
#include "relay_test_util.h"
#include "tests/secrets/test_util.h"

namespace msb::gateway::http {
namespace {

using gateway::testing::Endpoint;
using gateway::testing::Pattern;
using gateway::testing::RunUntil;
using testing::RelayPipes;
using testing::RelayRecorder;

constexpr char kHost[] = "api.example.test";
constexpr char kValue[] = "sk-live-0123456789abcdef";  // API_KEY, eligible here
constexpr char kOther[] = "other-SECRET-value-42";     // OTHER, bound to another host

class Events final : public SecretEvents {
 public:
  void OnSecretViolation(const secrets::Violation& v, const ViolationSite& site) override {
    reports.push_back(v.secret->spec.env_var + " " +
                      std::string(secrets::LocationName(v.location)) + " " +
                      std::string(secrets::MatchFormName(v.form)) + " " + std::string(site.path));
  }
  std::vector<std::string> reports;
};

std::string Gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(in.size() + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

class H1SecretsTest : public ::testing::Test {
 protected:
  void Make(secrets::Injection injection = {}, size_t capacity = 16 * 1024,
            const std::string& value = kValue) {
    secrets::SecretsConfig config;
    config.specs.push_back(secrets::testing::Spec("API_KEY", value, {kHost}, injection));
    config.specs.push_back(
        secrets::testing::Spec("OTHER", kOther, {"other.example.test"}, injection));
    auto set = secrets::SecretSet::Load(
        config, [](const std::string&) { return std::nullopt; },
        [](const std::string& p) -> Result<std::string> { return Status::Error(p); });
    ASSERT_TRUE(set.ok()) << set.error();
    secrets::ConnectionIdentity id;
    id.host = kHost;
    id.tls_intercepted = true;
    id.pinned_names = {kHost};
    guest_.reset();
    server_.reset();
    relay_.reset();
    guard_ = std::make_unique<SecretGuard>(std::move(set).value(), id, &events_);
    pipes_ = std::make_unique<RelayPipes>(loop_.get(), capacity);
    relay_ = std::make_unique<H1Relay>(pipes_->guest_end.get(), pipes_->up_end.get(), clock_,
                                       &rec_, &rec_, ExpectedAuthority{kHost, 443, false},
                                       guard_.get());
    guest_ = std::make_unique<Endpoint>(pipes_->client.get());
    server_ = std::make_unique<Endpoint>(pipes_->server.get());
    relay_->Start();
  }
  void Run(const std::function<bool()>& done) { ASSERT_TRUE(RunUntil(loop_.get(), done)); }
  void Settle() { RunUntil(loop_.get(), [] { return false; }, 200); }
  // The body of the first request the server got, de-chunked when chunked.
  std::string ServerBody() {
    const std::string& r = server_->received;
    size_t head_end = r.find("\r\n\r\n") + 4;
    std::string head = r.substr(0, head_end);
    if (head.find("Transfer-Encoding: chunked") == std::string::npos) {
      return r.substr(head_end);
    }
    std::string out;
    size_t pos = head_end;
    while (true) {
      size_t eol = r.find("\r\n", pos);
      size_t n = std::stoul(r.substr(pos, eol - pos), nullptr, 16);
      if (n == 0) {
        break;
      }
      out += r.substr(eol + 2, n);
      pos = eol + 2 + n + 2;
    }
    return out;
  }

  FakeClock clock_;
  std::unique_ptr<EventLoop> loop_ = EventLoop::Create(clock_).value();
  RelayRecorder rec_;
  Events events_;
  std::unique_ptr<SecretGuard> guard_;
  std::unique_ptr<RelayPipes> pipes_;
  std::unique_ptr<H1Relay> relay_;
  std::unique_ptr<Endpoint> guest_, server_;
};

TEST_F(H1SecretsTest, HeaderBasicAndQueryScopes) {
  Make(secrets::Injection{true, true, true, false});
  // "user:$MSB_API_KEY" in base64.
  guest_->Send("GET /v1?key=$MSB_API_KEY HTTP/1.1\r\nHost: api.example.test\r\n"
               "X-Key: Bearer $MSB_API_KEY\r\nAuthorization: Basic dXNlcjokTVNCX0FQSV9LRVk=\r\n"
               "\r\n");
  Run([&] { return server_->received.find("\r\n\r\n") != std::string::npos; });
  EXPECT_NE(server_->received.find("GET /v1?key=sk-live-0123456789abcdef HTTP/1.1"),
            std::string::npos);
  EXPECT_NE(server_->received.find("X-Key: Bearer sk-live-0123456789abcdef\r\n"),
            std::string::npos);
  // base64("user:sk-live-0123456789abcdef")
  EXPECT_NE(server_->received.find("Authorization: Basic dXNlcjpzay1saXZlLTAxMjM0NTY3ODlhYmNkZWY="),
            std::string::npos)
      << server_->received;
  server_->Send("HTTP/1.1 204 No Content\r\n\r\n");
  Run([&] { return rec_.exchanges.size() == 1; });
  EXPECT_EQ(rec_.exchanges[0].secrets_injected, std::vector<std::string>{"API_KEY"});
}

TEST_F(H1SecretsTest, PathIsNeverSubstitutedAndHeadersOnlyByDefault) {
  Make();
  guest_->Send("GET /$MSB_API_KEY?q=$MSB_API_KEY HTTP/1.1\r\nHost: api.example.test\r\n\r\n");
  Run([&] { return server_->received.find("\r\n\r\n") != std::string::npos; });
  EXPECT_TRUE(server_->received.starts_with("GET /$MSB_API_KEY?q=$MSB_API_KEY HTTP/1.1"));
}

TEST_F(H1SecretsTest, AnIneligiblePlaceholderIsRefusedInOrderAndTheConnectionStaysUsable) {
  Make();
  guest_->Send("GET /a HTTP/1.1\r\nHost: api.example.test\r\n\r\n"
               "POST /b HTTP/1.1\r\nHost: api.example.test\r\nX-Exfil: %24MSB_OTHER\r\n"
               "Content-Length: 4\r\n\r\nbody"
               "GET /c HTTP/1.1\r\nHost: api.example.test\r\n\r\n");
  Run([&] { return server_->received.find("GET /c") != std::string::npos; });
  EXPECT_EQ(server_->received.find("/b"), std::string::npos);  // nothing of it went upstream
  EXPECT_EQ(server_->received.find("body"), std::string::npos);
  server_->Send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA");
  server_->Send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nC");
  Run([&] { return rec_.exchanges.size() == 3; });
  const std::string& g = guest_->received;
  size_t a = g.find("\r\n\r\nA"), b = g.find("HTTP/1.1 403 Forbidden"), c = g.find("\r\n\r\nC");
  ASSERT_NE(b, std::string::npos) << g;
  EXPECT_LT(a, b);  // the refusal comes in pipeline order
  EXPECT_LT(b, c);
  EXPECT_NE(g.find("x-msb-blocked: secret OTHER not allowed for api.example.test (header, "
                   "percent_decoded)"),
            std::string::npos)
      << g;
  EXPECT_EQ(rec_.exchanges[1].refused, "secret_violation");
  EXPECT_EQ(rec_.exchanges[1].blocked_secret, "OTHER");
  EXPECT_EQ(events_.reports, std::vector<std::string>{"OTHER header percent_decoded /b"});
}

TEST_F(H1SecretsTest, HeldContentLengthBodyGetsItsNewLengthWhateverTheSplit) {
  Make(secrets::Injection{true, true, false, true});
  std::string body = Pattern(100000, 3) + "$MSB_API_KEY" + Pattern(5000, 4) + "$MSB_API_KEY";
  std::string want = Pattern(100000, 3) + kValue + Pattern(5000, 4) + kValue;
  std::string req = "POST /up HTTP/1.1\r\nHost: api.example.test\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n\r\n";
  guest_->Send(req);
  Run([&] { return guest_->received.find("100 Continue") != std::string::npos; });
  EXPECT_EQ(server_->received, "");  // held until the body is whole
  for (size_t i = 0; i < body.size(); i += 997) {
    guest_->Send(body.substr(i, 997));
  }
  Run([&] { return server_->received.size() >= want.size(); });
  EXPECT_NE(server_->received.find("Content-Length: " + std::to_string(want.size()) + "\r\n"),
            std::string::npos);
  EXPECT_EQ(server_->received.find("Expect"), std::string::npos);
  EXPECT_TRUE(ServerBody() == want);
}

TEST_F(H1SecretsTest, ChunkedBodyFedByteByByteIsReChunkedExactly) {
  Make(secrets::Injection{true, true, false, true});
  std::string body = "{\"k\": \"$MSB_API_KEY\", \"bin\": \"" + std::string("\x00\xff\x01", 3) +
                     "\"}";
  std::string wire = "POST /c HTTP/1.1\r\nHost: api.example.test\r\nTransfer-Encoding: chunked"
                     "\r\n\r\n";
  for (size_t i = 0; i < body.size(); i += 5) {
    std::string piece = body.substr(i, 5);
    char size[16];
    snprintf(size, sizeof(size), "%zx\r\n", piece.size());
    wire += size + piece + "\r\n";
  }
  wire += "0\r\n\r\n";
  for (char c : wire) {
    guest_->Send(std::string(1, c));
  }
  Run([&] { return server_->received.ends_with("0\r\n\r\n"); });
  std::string want = "{\"k\": \"" + std::string(kValue) + "\", \"bin\": \"" +
                     std::string("\x00\xff\x01", 3) + "\"}";
  EXPECT_TRUE(ServerBody() == want);
}

TEST_F(H1SecretsTest, ALongContentLengthBodyIsReChunked) {
  Make(secrets::Injection{true, true, false, true}, 8 * 1024);
  std::string part = Pattern(3 << 20, 5);
  std::string body = part + "$MSB_API_KEY" + part;
  guest_->Send("PUT /big HTTP/1.1\r\nHost: api.example.test\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body);
  Run([&] { return server_->received.ends_with("0\r\n\r\n"); });
  EXPECT_NE(server_->received.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_EQ(server_->received.find("Content-Length"), std::string::npos);
  EXPECT_TRUE(ServerBody() == part + kValue + part);
}

TEST_F(H1SecretsTest, AHeldBodyThatGrowsPastTheCapIsReleasedAsChunked) {
  std::string value(2000, 'v');  // 12-byte placeholder -> 2000-byte value
  Make(secrets::Injection{true, true, false, true}, 64 * 1024, value);
  std::string body, want;
  while (body.size() < (200u << 10)) {  // grows to ~30 MiB: past the 8 MiB it may hold
    body += "$MSB_API_KEY;";
    want += value + ";";
  }
  guest_->Send("POST /grow HTTP/1.1\r\nHost: api.example.test\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body);
  Run([&] { return server_->received.ends_with("0\r\n\r\n"); });
  EXPECT_NE(server_->received.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_EQ(server_->received.find("Content-Length"), std::string::npos);
  EXPECT_TRUE(ServerBody() == want);
}

TEST_F(H1SecretsTest, AViolationInAHeldBodyIsRefusedWithNothingUpstream) {
  Make(secrets::Injection{true, true, false, true});
  std::string body = "{\"x\": \"\\u0024MSB_OTHER\"}";
  guest_->Send("POST /j HTTP/1.1\r\nHost: api.example.test\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body +
               "GET /next HTTP/1.1\r\nHost: api.example.test\r\n\r\n");
  Run([&] { return server_->received.find("GET /next") != std::string::npos; });
  EXPECT_EQ(server_->received.find("/j"), std::string::npos);
  EXPECT_NE(guest_->received.find("403 Forbidden"), std::string::npos);
  EXPECT_EQ(events_.reports, std::vector<std::string>{"OTHER body json_unescaped /j"});
}

TEST_F(H1SecretsTest, AViolationInAStreamedBodyCutsItShortAndNeverCompletesIt) {
  Make(secrets::Injection{true, true, false, true});
  guest_->Send("POST /s HTTP/1.1\r\nHost: api.example.test\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n");
  Run([&] { return server_->received.find("hello") != std::string::npos; });
  guest_->Send("a\r\n$MSB_OTHER\r\n0\r\n\r\n");
  Run([&] { return guest_->received.find("403") != std::string::npos; });
  Settle();
  EXPECT_EQ(server_->received.find("MSB_OTHER"), std::string::npos);
  EXPECT_EQ(server_->received.find("0\r\n\r\n"), std::string::npos);  // never completed
  EXPECT_NE(guest_->received.find("x-msb-blocked: secret OTHER"), std::string::npos);
}

TEST_F(H1SecretsTest, CompressedBodies) {
  Make(secrets::Injection{true, true, false, true});
  std::string with = Gzip("{\"k\": \"$MSB_API_KEY\"}");
  guest_->Send("POST /gz HTTP/1.1\r\nHost: api.example.test\r\nContent-Encoding: gzip\r\n"
               "Content-Length: " + std::to_string(with.size()) + "\r\n\r\n" + with);
  Run([&] { return guest_->received.find("403") != std::string::npos; });
  EXPECT_NE(guest_->received.find("compressed body holds a placeholder"), std::string::npos);
  EXPECT_EQ(server_->received, "");
  EXPECT_EQ(rec_.exchanges.back().refused, "placeholder_in_compressed_body");
  // Without a placeholder: byte-exact.
  std::string without = Gzip(Pattern(50000, 8));
  guest_->Send("POST /gz2 HTTP/1.1\r\nHost: api.example.test\r\nContent-Encoding: gzip\r\n"
               "Content-Length: " + std::to_string(without.size()) + "\r\n\r\n" + without);
  Run([&] { return server_->received.size() >= without.size(); });
  EXPECT_TRUE(ServerBody() == without);
  server_->Send("HTTP/1.1 204 No Content\r\n\r\n");
  // A coding that cannot be inspected, with a body-scope secret: refused.
  guest_->Send("POST /br HTTP/1.1\r\nHost: api.example.test\r\nContent-Encoding: br\r\n"
               "Content-Length: 3\r\n\r\nabc");
  Run([&] { return rec_.exchanges.size() == 3; });
  EXPECT_EQ(rec_.exchanges.back().refused, "uninspectable_content_encoding");
}

TEST_F(H1SecretsTest, ResponsesAreScrubbedOfValues) {
  Make();
  guest_->Send("GET /echo HTTP/1.1\r\nHost: api.example.test\r\nX-K: $MSB_API_KEY\r\n\r\n");
  Run([&] { return server_->received.find("\r\n\r\n") != std::string::npos; });
  std::string body = std::string("you sent ") + kValue + " and " + kOther;
  server_->Send("HTTP/1.1 400 Bad\r\nX-Echo: " + std::string(kValue) +
                "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  Run([&] { return rec_.exchanges.size() == 1; });
  std::string want = "you sent $MSB_API_KEY and $MSB_OTHER";
  EXPECT_TRUE(guest_->received.ends_with(want)) << guest_->received;
  EXPECT_NE(guest_->received.find("X-Echo: $MSB_API_KEY\r\n"), std::string::npos);
  EXPECT_NE(guest_->received.find("Content-Length: " + std::to_string(want.size())),
            std::string::npos);
  EXPECT_EQ(guest_->received.find(kValue), std::string::npos);
}

}  // namespace
}  // namespace msb::gateway::http
