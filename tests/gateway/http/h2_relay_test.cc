// H2Relay between in-memory connections with real nghttp2 peers on both ends: requests forwarded
// stream for stream, an authority or host header naming another host answered 421 with nothing
// upstream (the connection still serves other streams), bodies exact both ways through small
// pipes, and one exchange per stream.
#include "gateway/http/h2_relay.h"

#include <gtest/gtest.h>

#include "h2_test_peers.h"
#include "relay_test_util.h"

namespace msb::gateway::http {
namespace {

using gateway::testing::Endpoint;
using gateway::testing::RunUntil;
using testing::RelayPipes;
using testing::RelayRecorder;
using testing::TestGuest;
using testing::TestRequest;
using testing::TestUpstream;

class H2RelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pipes_ = std::make_unique<RelayPipes>(loop_.get(), 8 * 1024);
    relay_ = H2Relay::Create(pipes_->guest_end.get(), pipes_->up_end.get(), clock_, &rec_, &rec_,
                             ExpectedAuthority{"api.example.test", 443, false}, guard_.get())
                 .value();
    client_ = std::make_unique<Endpoint>(pipes_->client.get());
    server_ = std::make_unique<Endpoint>(pipes_->server.get());
    relay_->Start();
  }
  // Step moves bytes between the nghttp2 peers and their ends of the pipes, then runs the loop.
  void Step() {
    for (auto [peer, ep] : {std::pair<testing::Peer*, Endpoint*>{&guest_, client_.get()},
                            std::pair<testing::Peer*, Endpoint*>{&upstream_, server_.get()}}) {
      if (peer == &upstream_) {
        upstream_.ConsumeUpTo(upstream_consume_per_step_);
      }
      peer->Flush();
      if (!peer->out().empty()) {
        ep->Send(peer->out());
        peer->out().clear();
      }
      if (!ep->received.empty()) {
        peer->Recv(ep->received);
        ep->received.clear();
      }
    }
    loop_->RunOnce(Duration::zero());
  }
  bool RunFor(const std::function<bool()>& done, int rounds = 20000) {
    for (int i = 0; i < rounds && !done(); ++i) {
      Step();
    }
    return done();
  }

  std::unique_ptr<SecretGuard> guard_;  // set before SetUp by fixtures that want secrets
  FakeClock clock_;
  std::unique_ptr<EventLoop> loop_ = EventLoop::Create(clock_).value();
  RelayRecorder rec_;
  std::unique_ptr<RelayPipes> pipes_;
  std::unique_ptr<H2Relay> relay_;
  std::unique_ptr<Endpoint> client_, server_;
  TestGuest guest_;
  TestUpstream upstream_{testing::PeerOptions{.auto_consume = false}};
  size_t upstream_consume_per_step_ = SIZE_MAX;
};

TEST_F(H2RelayTest, ForwardsMatchingRequestsAndRecordsThem) {
  TestRequest req;
  req.authority = "api.example.test";
  req.path = "/v1/chat?token=x";
  int32_t id = guest_.Submit(req);
  ASSERT_TRUE(RunFor([&] { return guest_.Find(id) != nullptr && guest_.Find(id)->end_stream; }));
  EXPECT_EQ(upstream_.requests, 1);
  EXPECT_EQ(guest_.Find(id)->Get(":status"), "200");
  ASSERT_TRUE(RunFor([&] { return rec_.exchanges.size() == 1; }));
  EXPECT_EQ(rec_.exchanges[0].proto, "h2");
  EXPECT_EQ(rec_.exchanges[0].path, "/v1/chat");
  EXPECT_EQ(rec_.exchanges[0].status, 200);
  EXPECT_EQ(rec_.exchanges[0].end, "complete");
}

TEST_F(H2RelayTest, AnotherAuthorityOrHostIsMisdirectedWhileOthersProceed) {
  TestRequest bad;
  bad.authority = "other.example.test";
  TestRequest fronted;
  fronted.authority = "api.example.test";
  fronted.headers = {{"host", "other.example.test"}};
  TestRequest good;
  good.authority = "api.example.test:443";
  int32_t b = guest_.Submit(bad);
  int32_t f = guest_.Submit(fronted);
  int32_t g = guest_.Submit(good);
  ASSERT_TRUE(RunFor([&] {
    for (int32_t id : {b, f, g}) {
      if (guest_.Find(id) == nullptr || !guest_.Find(id)->closed) {
        return false;
      }
    }
    return true;
  }));
  EXPECT_EQ(guest_.Find(b)->Get(":status"), "421");
  EXPECT_TRUE(guest_.Find(f)->Get(":status") == "421" || guest_.Find(f)->rst_received);
  EXPECT_EQ(guest_.Find(g)->Get(":status"), "200");
  EXPECT_EQ(upstream_.requests, 1);  // only the good one reached the upstream
  ASSERT_TRUE(RunFor([&] { return rec_.exchanges.size() == 3; }));
  int refused = 0;
  for (const HttpExchange& e : rec_.exchanges) {
    refused += e.refused == "authority_mismatch";
  }
  EXPECT_GE(refused, 1);
}

TEST_F(H2RelayTest, BodiesCrossExactlyThroughSmallPipes) {
  upstream_.default_response.body_size = 2 << 20;
  TestRequest req;
  req.method = "POST";
  req.authority = "api.example.test";
  req.body_size = 3 << 20;
  req.has_body = true;
  int32_t id = guest_.Submit(req);
  ASSERT_TRUE(
      RunFor([&] { return guest_.Find(id) != nullptr && guest_.Find(id)->end_stream; }, 200000));
  const auto& up = upstream_.streams().begin()->second;
  EXPECT_EQ(up.body_bytes, 3u << 20);
  EXPECT_TRUE(up.pattern_ok);
  EXPECT_EQ(guest_.Find(id)->body_bytes, 2u << 20);
  EXPECT_TRUE(guest_.Find(id)->pattern_ok);
  ASSERT_TRUE(RunFor([&] { return rec_.exchanges.size() == 1; }));
  EXPECT_EQ(rec_.exchanges[0].bytes_up, 3u << 20);
  EXPECT_EQ(rec_.exchanges[0].bytes_down, 2u << 20);
}

TEST_F(H2RelayTest, ASlowUpstreamReaderStallsNothing) {
  // The upstream stalls, then reopens its window a little at a time: every WINDOW_UPDATE it
  // sends must be read and acted on while the proxy holds a full backlog toward it.
  upstream_consume_per_step_ = 0;  // a stalled reader first: every window toward it fills
  TestRequest req;
  req.method = "PUT";
  req.authority = "api.example.test";
  req.body_size = 4 << 20;
  req.has_body = true;
  int32_t id = guest_.Submit(req);
  RunFor([] { return false; }, 3000);
  upstream_consume_per_step_ = 4096;
  ASSERT_TRUE(
      RunFor([&] { return guest_.Find(id) != nullptr && guest_.Find(id)->end_stream; }, 400000));
  EXPECT_EQ(upstream_.streams().begin()->second.body_bytes, 4u << 20);
  EXPECT_TRUE(upstream_.streams().begin()->second.pattern_ok);
}

// The relay with a SecretGuard: exchanges name the secrets substituted, and the one that
// refused a stream.
class H2RelaySecretsTest : public H2RelayTest, private SecretEvents {
 protected:
  void SetUp() override {
    secrets::SecretsConfig config;
    for (auto [env, host] :
         {std::pair{"API_KEY", "api.example.test"}, std::pair{"OTHER", "other.example.test"}}) {
      secrets::SecretSpec spec;
      spec.env_var = env;
      spec.placeholder = secrets::DefaultPlaceholder(env);
      spec.allowed_hosts = {HostPattern::Parse(host).value()};
      spec.source.kind = secrets::SecretSource::Kind::kInline;
      spec.source.inline_value = secrets::SecretValue::Adopt(std::string("value-of-") + env);
      config.specs.push_back(std::move(spec));
    }
    auto set = secrets::SecretSet::Load(
                   config, [](const std::string&) { return std::nullopt; },
                   [](const std::string&) -> Result<std::string> { return Status::Error("no"); })
                   .value();
    secrets::ConnectionIdentity id;
    id.host = "api.example.test";
    id.tls_intercepted = true;
    id.pinned_names = {id.host};
    guard_ = std::make_unique<SecretGuard>(set, id, static_cast<SecretEvents*>(this));
    H2RelayTest::SetUp();
  }
  void OnSecretViolation(const secrets::Violation& v, const ViolationSite& site) override {
    violations_.push_back(v.secret->spec.env_var + " " + std::string(site.path));
  }
  std::vector<std::string> violations_;
};

TEST_F(H2RelaySecretsTest, ExchangesNameInjectedAndBlockedSecrets) {
  TestRequest good;
  good.authority = "api.example.test";
  good.headers = {{"authorization", "Bearer $MSB_API_KEY"}};
  TestRequest bad;
  bad.authority = "api.example.test";
  bad.path = "/x?q=1";
  bad.headers = {{"x-token", "$MSB_OTHER"}};
  int32_t g = guest_.Submit(good);
  int32_t b = guest_.Submit(bad);
  ASSERT_TRUE(RunFor([&] {
    return guest_.Find(g) != nullptr && guest_.Find(g)->closed && guest_.Find(b) != nullptr &&
           guest_.Find(b)->closed && rec_.exchanges.size() == 2;
  }));
  EXPECT_EQ(upstream_.requests, 1);
  EXPECT_EQ(upstream_.streams().begin()->second.Get("authorization"), "Bearer value-of-API_KEY");
  EXPECT_EQ(guest_.Find(b)->Get(":status"), "403");
  for (const HttpExchange& e : rec_.exchanges) {
    if (e.path == "/x") {
      EXPECT_EQ(e.refused, "secret_violation");
      EXPECT_EQ(e.end, "refused");
      EXPECT_EQ(e.blocked_secret, "OTHER");
      EXPECT_EQ(e.status, 403);
      EXPECT_TRUE(e.secrets_injected.empty());
    } else {
      EXPECT_EQ(e.refused, "");
      EXPECT_EQ(e.blocked_secret, "");
      EXPECT_EQ(e.secrets_injected, std::vector<std::string>{"API_KEY"});
    }
  }
  EXPECT_EQ(violations_, std::vector<std::string>{"OTHER /x"});
}

}  // namespace
}  // namespace msb::gateway::http
