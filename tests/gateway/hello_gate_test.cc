// HelloGate: the ClientHello decision with real policy, a real InterceptContext (its CA in a
// temporary state directory) and hellos written byte by byte: intercept, bypass, deny on the SNI
// alone, allow rules that need the pin, invalid SNI, not TLS, ALPN the gateway cannot inspect, the
// CONNECT target rule, hellos arriving a byte at a time, and one tls.hello record each time.
#include "gateway/hello_gate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "gateway/tls/intercept_context.h"
#include "policy/net_rule.h"
#include "session_test_util.h"
#include "stream_test_util.h"
#include "tls/hello_builder.h"

namespace msb::gateway {
namespace {

using testing::Field;
using Bytes = tls::tls_test::Bytes;
using tls::tls_test::AlpnExt;
using tls::tls_test::Hello;
using tls::tls_test::HelloSpec;
using tls::tls_test::SniExt;
using tls::tls_test::VersionsExt;

Bytes HelloFor(std::optional<std::string> sni, std::vector<std::string> alpn = {"h2",
                                                                              "http/1.1"}) {
  HelloSpec spec;
  spec.extensions.clear();
  if (sni) {
    spec.extensions.push_back(SniExt(*sni));
  }
  if (!alpn.empty()) {
    spec.extensions.push_back(AlpnExt(alpn));
  }
  spec.extensions.push_back(VersionsExt({0x0304, 0x0303}));
  return Hello(spec);
}

class HelloGateTest : public ::testing::Test, protected testing::SessionWorld {
 protected:
  HelloGateTest() {
    state_ = ::testing::TempDir() + "/hello_gate_test." + std::to_string(getpid());
    tls::InterceptOptions o;
    o.enabled = true;
    o.state_dir = state_;
    o.bypass.push_back(HostPattern::Parse("*.pinned.example").value());
    auto ca = tls::LoadInterceptCa(o);
    intercept_ = tls::InterceptContext::Create(o, std::move(ca).value()).value();
    ctx_.intercept = intercept_.get();
  }
  ~HelloGateTest() override {
    std::error_code ec;
    std::filesystem::remove_all(state_, ec);
  }
  void UsePolicy(std::vector<std::string> rules, policy::Action default_egress) {
    policy::Policy p;
    p.default_egress = default_egress;
    for (const std::string& r : rules) {
      p.rules.push_back(policy::ParseNetRuleToken(r).value());
    }
    evaluator_ = policy::Evaluator(std::move(p), policy::HostAddresses{});
  }
  // Decide feeds `bytes` to a fresh gate (in `piece`-sized writes) until it decides.
  HelloVerdict Decide(const Bytes& bytes, size_t piece = SIZE_MAX,
                      std::optional<std::string> connect = std::nullopt) {
    HelloGate gate(ctx_, flow_, IpAddress::V4(0xc633640a), 443, connect);
    auto [guest, near] = MemoryStream::Pair(loop_.get(), 1 << 20);
    HelloVerdict v;
    for (size_t off = 0; off < bytes.size(); off += piece) {
      size_t n = std::min(piece, bytes.size() - off);
      guest->Write({bytes.data() + off, n});
      v = gate.Read(near.get());
      if (v.kind != HelloVerdict::Kind::kNeedMore) {
        EXPECT_EQ(off + n, bytes.size()) << "decided before the hello was complete";
        break;
      }
    }
    replay_ = gate.TakeBytes();
    return v;
  }
  std::string LastHello(std::string_view key) {
    auto e = Events("tls.hello");
    return e.empty() ? "<none>" : Field(e.back(), key);
  }

  std::string state_;
  std::unique_ptr<tls::InterceptContext> intercept_;
  AuditFlow flow_{7, "tcp", {IpAddress::V4(0xac100002), 40000}, {IpAddress::V4(0xc633640a), 443}};
  Bytes replay_;
};

TEST_F(HelloGateTest, InterceptsAndKeepsEveryByteForReplay) {
  Bytes hello = HelloFor("API.Example.Test.", {"h2", "http/1.1", "spdy/3"});
  HelloVerdict v = Decide(hello);
  ASSERT_EQ(v.kind, HelloVerdict::Kind::kIntercept);
  EXPECT_TRUE(v.had_sni);
  EXPECT_EQ(v.name.text, "api.example.test");  // canonical
  EXPECT_EQ(v.alpn, (std::vector<std::string>{"h2", "http/1.1"}));  // only what can be inspected
  EXPECT_EQ(replay_, hello);
  EXPECT_EQ(LastHello("action"), "intercept");
  EXPECT_EQ(LastHello("sni"), "api.example.test");
  EXPECT_EQ(LastHello("rule_text"), "allow@public");
}

TEST_F(HelloGateTest, AByteAtATimeDecidesOnTheLastByte) {
  HelloVerdict v = Decide(HelloFor("api.example.test"), 1);
  EXPECT_EQ(v.kind, HelloVerdict::Kind::kIntercept);
}

TEST_F(HelloGateTest, DenyNameRulesMatchTheSniAlone) {
  UsePolicy({"deny@*.ads.example", "allow@public"}, policy::Action::kDeny);
  HelloVerdict v = Decide(HelloFor("x.ads.example"));
  ASSERT_EQ(v.kind, HelloVerdict::Kind::kRefuse);
  EXPECT_EQ(v.reason, CloseReason::kDenied);
  EXPECT_EQ(v.alert, 49);  // access_denied
  EXPECT_EQ(LastHello("reason"), "policy");
  EXPECT_EQ(LastHello("rule_text"), "deny@*.ads.example");
  EXPECT_EQ(Decide(HelloFor("cdn.example")).kind, HelloVerdict::Kind::kIntercept);
}

TEST_F(HelloGateTest, AllowNameRulesNeedThePin) {
  UsePolicy({"allow@api.example.test"}, policy::Action::kDeny);
  EXPECT_EQ(Decide(HelloFor("api.example.test")).kind, HelloVerdict::Kind::kRefuse);
  IpAddress ip = IpAddress::V4(0xc633640a);
  pins_.Update("api.example.test", IpFamily::kV4, {&ip, 1}, std::chrono::seconds(60));
  EXPECT_EQ(Decide(HelloFor("api.example.test")).kind, HelloVerdict::Kind::kIntercept);
  // The address is pinned to api.example.test; another allowed-looking SNI is not.
  EXPECT_EQ(Decide(HelloFor("other.example.test")).kind, HelloVerdict::Kind::kRefuse);
}

TEST_F(HelloGateTest, BypassedNamesAreSplicedWhateverTheirAlpn) {
  HelloVerdict v = Decide(HelloFor("app.pinned.example", {"imap"}));
  EXPECT_EQ(v.kind, HelloVerdict::Kind::kBypass);
  EXPECT_EQ(LastHello("action"), "bypass");
}

TEST_F(HelloGateTest, InvalidSniNotTlsAndUninspectableAlpn) {
  HelloVerdict bad = Decide(HelloFor("bad_name.example"));
  EXPECT_EQ(bad.kind, HelloVerdict::Kind::kRefuse);
  EXPECT_EQ(bad.reason, CloseReason::kInvalidSni);
  EXPECT_EQ(bad.alert, 112);  // unrecognized_name
  EXPECT_EQ(LastHello("sni"), "null");
  std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  HelloVerdict plain = Decide(Bytes(http.begin(), http.end()));
  EXPECT_EQ(plain.reason, CloseReason::kNotTls);
  EXPECT_EQ(plain.alert, 0);  // not TLS: nothing TLS to say
  EXPECT_EQ(LastHello("reason"), "not_tls");
  HelloVerdict imap = Decide(HelloFor("mail.example", {"imap"}));
  EXPECT_EQ(imap.reason, CloseReason::kBadClientHello);
  EXPECT_EQ(imap.alert, 120);  // no_application_protocol
}

TEST_F(HelloGateTest, NoSniIsDecidedByTheAddress) {
  HelloVerdict v = Decide(HelloFor(std::nullopt));
  ASSERT_EQ(v.kind, HelloVerdict::Kind::kIntercept);
  EXPECT_FALSE(v.had_sni);
  EXPECT_EQ(v.name.text, "198.51.100.10");
  EXPECT_EQ(LastHello("reason"), "no_sni");
}

TEST_F(HelloGateTest, InsideAConnectTunnelTheSniMustBeTheTarget) {
  EXPECT_EQ(Decide(HelloFor("api.example.test"), SIZE_MAX, "api.example.test").kind,
            HelloVerdict::Kind::kIntercept);
  HelloVerdict v = Decide(HelloFor("other.example.test"), SIZE_MAX, "api.example.test");
  EXPECT_EQ(v.kind, HelloVerdict::Kind::kRefuse);
  EXPECT_EQ(LastHello("reason"), "sni_not_connect_target");
  EXPECT_EQ(Decide(HelloFor(std::nullopt), SIZE_MAX, "api.example.test").kind,
            HelloVerdict::Kind::kRefuse);
}

}  // namespace
}  // namespace msb::gateway
