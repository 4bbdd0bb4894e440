// UpstreamVerifier: in-memory TLS handshakes (BIO pairs, no sockets) against servers with
// certificates generated here. Every bad certificate fails and classifies to the right
// VerifyFailure; extra, scoped and no-verify configuration admit exactly what they should; the
// most specific pattern wins whatever the order; IP upstreams verify by IP SAN and get no SNI.
#include "certs/upstream_verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "tests/certs/test_pki.h"

namespace msb::certs {
namespace {

using testing::CertSpec;
using ::testing::HasSubstr;
using testing::MakeCa;
using testing::MakeCert;
using testing::MakeServerLeaf;
using testing::Now;
using testing::TempDir;
using testing::TestCert;

// EnvGuard sets (or, with nullptr, unsets) an environment variable for its scope.
class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    old_ = had_ ? old : "";
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~EnvGuard() {
    if (had_) {
      setenv(name_, old_.c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

HostPattern P(std::string_view text) {
  return HostPattern::Parse(text, true).value();
}

class UpstreamVerifierTest : public ::testing::Test {
 protected:
  UpstreamVerifierTest() : root_(MakeCa("Test Root")), rogue_(MakeCa("Rogue CA")) {
    TestCert unrelated = MakeCa("Unrelated Root");
    bundle_ = dir_.Write("bundle.pem", unrelated.cert_pem + root_.cert_pem);
    rogue_file_ = dir_.Write("rogue.pem", rogue_.cert_pem);
  }

  UpstreamTrustOptions Options() {
    UpstreamTrustOptions o;
    o.system_bundle = bundle_;
    return o;
  }

  std::shared_ptr<const UpstreamVerifier> Make(const UpstreamTrustOptions& o) {
    auto v = UpstreamVerifier::Create(o);
    EXPECT_TRUE(v.ok()) << v.error();
    return v.ok() ? v.value() : nullptr;
  }

  // Connect runs one handshake: a client configured by `v` for `name` against a server
  // presenting `leaf` (+ `chain`).
  testing::HandshakeResult Connect(const UpstreamVerifier& v, std::string_view name,
                                   const TestCert& leaf, const std::vector<X509*>& chain = {}) {
    auto server_ctx = testing::ServerCtx(leaf, chain);
    UniquePtr<SSL> server(SSL_new(server_ctx.get()));
    UniquePtr<SSL> client(SSL_new(client_ctx_.get()));
    Status st = v.Configure(client.get(), ParseServerName(name).value());
    EXPECT_TRUE(st.ok()) << st.message();
    auto r = testing::Handshake(client.get(), server.get());
    last_failure_ = VerifyFailureOf(client.get());
    return r;
  }

  // Outcome: "ok" when the handshake completed with a clean verify result, else the failure name.
  std::string Outcome(const UpstreamVerifier& v, std::string_view name, const TestCert& leaf) {
    auto r = Connect(v, name, leaf);
    if (r.client_ok && r.verify_result == X509_V_OK) {
      return "ok";
    }
    return std::string(r.client_ok ? "passed-but-" : "") +
           std::string(VerifyFailureName(ClassifyVerifyResult(r.verify_result)));
  }

  TempDir dir_;
  TestCert root_;
  TestCert rogue_;
  std::string bundle_;
  std::string rogue_file_;
  UniquePtr<SSL_CTX> client_ctx_ = testing::ClientCtx();
  VerifyFailure last_failure_ = VerifyFailure::kNone;
};

TEST_F(UpstreamVerifierTest, ValidCertificatePassesAndSniIsSent) {
  auto v = Make(Options());
  auto r = Connect(*v, "good.example", MakeServerLeaf("good.example", root_));
  EXPECT_TRUE(r.client_ok) << r.client_error;
  EXPECT_EQ(r.verify_result, X509_V_OK);
  EXPECT_EQ(r.server_sni, "good.example");
  EXPECT_EQ(last_failure_, VerifyFailure::kNone);
  EXPECT_EQ(v->system_certificate_count(), 2U);
  EXPECT_EQ(v->system_bundle_path(), bundle_);
}

TEST_F(UpstreamVerifierTest, EachBadCertificateFailsWithItsClass) {
  auto v = Make(Options());
  int64_t now = Now();
  CertSpec expired;
  expired.dns_names = {"bad.example"};
  expired.ext_key_usage = {NID_server_auth};
  expired.not_before = now - 2 * 86400;
  expired.not_after = now - 3600;
  CertSpec future = expired;
  future.not_before = now + 86400;
  future.not_after = now + 2 * 86400;
  CertSpec self = expired;
  self.not_before = 0;
  self.not_after = 0;
  CertSpec client_only = self;
  client_only.ext_key_usage = {NID_client_auth};
  CertSpec cn_only;
  cn_only.common_name = "bad.example";  // no SAN: browsers and we never fall back to the CN
  cn_only.ext_key_usage = {NID_server_auth};

  struct Case {
    const char* what;
    TestCert leaf;
    VerifyFailure expected;
  } cases[] = {
      {"expired", MakeCert(expired, &root_), VerifyFailure::kExpired},
      {"not yet valid", MakeCert(future, &root_), VerifyFailure::kNotYetValid},
      {"self-signed", MakeCert(self), VerifyFailure::kSelfSigned},
      {"wrong name", MakeServerLeaf("other.example", root_), VerifyFailure::kWrongName},
      {"CN only", MakeCert(cn_only, &root_), VerifyFailure::kWrongName},
      {"clientAuth only", MakeCert(client_only, &root_), VerifyFailure::kNoServerAuth},
      {"untrusted CA", MakeServerLeaf("bad.example", rogue_), VerifyFailure::kUntrusted},
  };
  for (const Case& c : cases) {
    auto r = Connect(*v, "bad.example", c.leaf);
    EXPECT_FALSE(r.client_ok) << c.what;
    EXPECT_EQ(last_failure_, c.expected)
        << c.what << ": " << X509_verify_cert_error_string(r.verify_result);
  }
}

TEST_F(UpstreamVerifierTest, ExtraCaFileAdmitsItsServers) {
  TestCert leaf = MakeServerLeaf("internal.example", rogue_);
  EXPECT_EQ(Outcome(*Make(Options()), "internal.example", leaf), "untrusted");
  UpstreamTrustOptions o = Options();
  o.extra_ca_files = {rogue_file_};
  auto v = Make(o);
  EXPECT_EQ(Outcome(*v, "internal.example", leaf), "ok");
  EXPECT_EQ(Outcome(*v, "good.example", MakeServerLeaf("good.example", root_)), "ok");
}

TEST_F(UpstreamVerifierTest, ScopedCaAdmitsOnlyMatchingHosts) {
  UpstreamTrustOptions o = Options();
  o.scoped_ca_files = {{P("*.corp.example"), rogue_file_}};
  auto v = Make(o);
  EXPECT_EQ(Outcome(*v, "api.corp.example", MakeServerLeaf("api.corp.example", rogue_)), "ok");
  EXPECT_EQ(Outcome(*v, "corp.example", MakeServerLeaf("corp.example", rogue_)), "ok");
  EXPECT_EQ(Outcome(*v, "api.other.example", MakeServerLeaf("api.other.example", rogue_)),
            "untrusted");
  EXPECT_EQ(Outcome(*v, "evilcorp.example", MakeServerLeaf("evilcorp.example", rogue_)),
            "untrusted");
  // The scoped store still holds the system roots.
  EXPECT_EQ(Outcome(*v, "www.corp.example", MakeServerLeaf("www.corp.example", root_)), "ok");
  auto t = v->For(ParseServerName("x.corp.example").value());
  EXPECT_EQ(t.ca_pattern, "*.corp.example");
  EXPECT_EQ(t.verify_pattern, "");
  EXPECT_TRUE(t.verify);
}

TEST_F(UpstreamVerifierTest, ScopedNoVerifyAdmitsExactlyThatHost) {
  CertSpec expired;
  expired.dns_names = {"legacy.example", "other.example"};
  expired.ext_key_usage = {NID_server_auth};
  expired.not_before = Now() - 10 * 86400;
  expired.not_after = Now() - 86400;
  TestCert leaf = MakeCert(expired, &rogue_);
  UpstreamTrustOptions o = Options();
  o.scoped_verify = {{P("legacy.example"), false}};
  auto v = Make(o);
  auto r = Connect(*v, "legacy.example", leaf);
  EXPECT_TRUE(r.client_ok) << r.client_error;
  EXPECT_NE(r.verify_result, X509_V_OK) << "the result still says what would have failed";
  EXPECT_EQ(Outcome(*v, "other.example", leaf), "untrusted");
  EXPECT_EQ(v->For(ParseServerName("legacy.example").value()).verify_pattern, "legacy.example");
  EXPECT_FALSE(v->For(ParseServerName("legacy.example").value()).verify);
}

TEST_F(UpstreamVerifierTest, GlobalVerifyOffWithScopedOn) {
  TestCert bad = MakeServerLeaf("x.example", rogue_);
  UpstreamTrustOptions o = Options();
  o.verify = false;
  o.scoped_verify = {{P("*.bank.example"), true}};
  auto v = Make(o);
  EXPECT_EQ(Outcome(*v, "x.example", bad), "passed-but-untrusted");
  EXPECT_EQ(Outcome(*v, "www.bank.example", MakeServerLeaf("www.bank.example", rogue_)),
            "untrusted");
}

TEST_F(UpstreamVerifierTest, MostSpecificVerifyPatternWinsInAnyOrder) {
  TestCert bad_api = MakeServerLeaf("api.x.example", rogue_);
  TestCert bad_www = MakeServerLeaf("www.x.example", rogue_);
  TestCert bad_deep = MakeServerLeaf("h.a.x.example", rogue_);
  std::vector<std::pair<HostPattern, bool>> decls = {
      {P("*.x.example"), false}, {P("api.x.example"), true}, {P("*.a.x.example"), true}};
  for (int order = 0; order < 2; ++order) {
    UpstreamTrustOptions o = Options();
    o.scoped_verify = decls;
    if (order == 1) {
      std::reverse(o.scoped_verify.begin(), o.scoped_verify.end());
    }
    auto v = Make(o);
    EXPECT_EQ(Outcome(*v, "api.x.example", bad_api), "untrusted") << order;  // exact beats *.x
    EXPECT_EQ(Outcome(*v, "www.x.example", bad_www), "passed-but-untrusted") << order;
    EXPECT_EQ(Outcome(*v, "h.a.x.example", bad_deep), "untrusted") << order;  // *.a.x beats *.x
    EXPECT_EQ(v->For(ParseServerName("h.a.x.example").value()).verify_pattern, "*.a.x.example");
  }
}

TEST_F(UpstreamVerifierTest, MostSpecificCaPatternWinsInAnyOrder) {
  TestCert ca_b = MakeCa("CA B");
  std::string ca_b_file = dir_.Write("b.pem", ca_b.cert_pem);
  for (int order = 0; order < 2; ++order) {
    UpstreamTrustOptions o = Options();
    o.scoped_ca_files = {{P("*.x.example"), rogue_file_}, {P("*.a.x.example"), ca_b_file}};
    if (order == 1) {
      std::reverse(o.scoped_ca_files.begin(), o.scoped_ca_files.end());
    }
    auto v = Make(o);
    EXPECT_EQ(v->store_count(), 3U);
    EXPECT_EQ(Outcome(*v, "h.x.example", MakeServerLeaf("h.x.example", rogue_)), "ok");
    EXPECT_EQ(Outcome(*v, "h.a.x.example", MakeServerLeaf("h.a.x.example", ca_b)), "ok");
    // Only the most specific pattern's files apply: *.x's CA is not trusted under *.a.x.
    EXPECT_EQ(Outcome(*v, "h.a.x.example", MakeServerLeaf("h.a.x.example", rogue_)), "untrusted");
    EXPECT_EQ(Outcome(*v, "h.x.example", MakeServerLeaf("h.x.example", ca_b)), "untrusted");
  }
}

TEST_F(UpstreamVerifierTest, OneStorePerDistinctTrustSet) {
  TestCert ca_b = MakeCa("CA B");
  std::string ca_b_file = dir_.Write("b.pem", ca_b.cert_pem);
  UpstreamTrustOptions o = Options();
  o.scoped_ca_files = {{P("*.one.example"), rogue_file_},
                       {P("*.two.example"), rogue_file_},
                       {P("*.three.example"), ca_b_file},
                       {P("*.three.example"), rogue_file_}};  // a pattern given twice: both files
  auto v = Make(o);
  EXPECT_EQ(v->store_count(), 3U);  // global, {rogue}, {b, rogue}
  auto one = v->For(ParseServerName("a.one.example").value());
  auto two = v->For(ParseServerName("a.two.example").value());
  auto three = v->For(ParseServerName("a.three.example").value());
  EXPECT_EQ(one.store, two.store);
  EXPECT_NE(one.store, three.store);
  EXPECT_EQ(Outcome(*v, "a.three.example", MakeServerLeaf("a.three.example", rogue_)), "ok");
  EXPECT_EQ(Outcome(*v, "a.three.example", MakeServerLeaf("a.three.example", ca_b)), "ok");
}

TEST_F(UpstreamVerifierTest, IpUpstreamsVerifyByIpSanWithoutSni) {
  auto v = Make(Options());
  CertSpec ip_leaf;
  ip_leaf.ip_names = {"192.0.2.50", "2001:db8::50"};
  ip_leaf.ext_key_usage = {NID_server_auth};
  TestCert leaf = MakeCert(ip_leaf, &root_);
  for (const char* ip : {"192.0.2.50", "2001:db8::50", "[2001:db8::50]"}) {
    auto r = Connect(*v, ip, leaf);
    EXPECT_TRUE(r.client_ok) << ip << ": " << r.client_error;
    EXPECT_EQ(r.verify_result, X509_V_OK) << ip;
    EXPECT_EQ(r.server_sni, "") << "no SNI for an IP literal";
  }
  EXPECT_EQ(Outcome(*v, "192.0.2.51", leaf), "wrong_name");
  // A certificate with the IP only as a dNSName string does not count.
  EXPECT_EQ(Outcome(*v, "192.0.2.50", MakeServerLeaf("192.0.2.50", root_)), "wrong_name");
  UpstreamTrustOptions o = Options();
  o.scoped_verify = {{P("192.0.2.60"), false}};
  auto lenient = Make(o);
  EXPECT_EQ(Outcome(*lenient, "192.0.2.60", MakeServerLeaf("x.example", rogue_)),
            "passed-but-untrusted");
  EXPECT_EQ(Outcome(*lenient, "192.0.2.61", MakeServerLeaf("x.example", rogue_)), "untrusted");
}

TEST_F(UpstreamVerifierTest, NoPartialWildcards) {
  auto v = Make(Options());
  CertSpec wild;
  wild.dns_names = {"*.wild.example", "f*.part.example"};
  wild.ext_key_usage = {NID_server_auth};
  TestCert leaf = MakeCert(wild, &root_);
  EXPECT_EQ(Outcome(*v, "a.wild.example", leaf), "ok");
  EXPECT_EQ(Outcome(*v, "a.b.wild.example", leaf), "wrong_name");
  EXPECT_EQ(Outcome(*v, "foo.part.example", leaf), "wrong_name");
}

TEST_F(UpstreamVerifierTest, CreateErrorsNameTheFile) {
  UpstreamTrustOptions o = Options();
  o.extra_ca_files = {dir_.path() + "/missing.pem"};
  auto r = UpstreamVerifier::Create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "cannot read " + dir_.path() + "/missing.pem: No such file or directory");

  TestCert leaf = MakeServerLeaf("k.example", root_);
  std::string key_only = dir_.Write("key-only.pem", leaf.key_pem);
  o.extra_ca_files = {key_only};
  r = UpstreamVerifier::Create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr(key_only + " contains a private key but no PEM certificate"));

  o = Options();
  std::string empty = dir_.Write("empty.pem", "");
  o.scoped_ca_files = {{P("*.x.example"), empty}};
  r = UpstreamVerifier::Create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr(empty + " contains no PEM certificate"));

  o = Options();
  o.system_bundle = dir_.path() + "/no-bundle.pem";
  r = UpstreamVerifier::Create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "system CA bundle: cannot read " + dir_.path() +
                           "/no-bundle.pem: No such file or directory");
  o.verify = false;  // nothing is ever verified: a missing bundle is fine
  auto lenient = UpstreamVerifier::Create(o);
  ASSERT_TRUE(lenient.ok()) << lenient.error();
  EXPECT_EQ(lenient.value()->system_bundle_path(), "");
  o.scoped_verify = {{P("strict.example"), true}};  // ... unless some host is verified
  EXPECT_FALSE(UpstreamVerifier::Create(o).ok());

  o = Options();
  o.scoped_verify = {{P("*.x.example"), false}, {P("*.X.example."), true}};
  r = UpstreamVerifier::Create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            "host pattern \"*.x.example\" is given both upstream verification on and off");
}

TEST_F(UpstreamVerifierTest, SslCertFileEnvironmentIsHonoured) {
  EnvGuard env("SSL_CERT_FILE", bundle_.c_str());
  auto v = UpstreamVerifier::Create(UpstreamTrustOptions{});
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v.value()->system_bundle_path(), bundle_);
  EXPECT_EQ(Outcome(*v.value(), "good.example", MakeServerLeaf("good.example", root_)), "ok");
}

TEST_F(UpstreamVerifierTest, RealSystemBundleLoadsOnce) {
  EnvGuard env("SSL_CERT_FILE", nullptr);
  UpstreamTrustOptions o;
  testing::CostMeter meter;
  auto v = UpstreamVerifier::Create(o);
  testing::Cost cost = meter.Per(1);
  if (!v.ok() && v.error().find("No such file") != std::string::npos) {
    GTEST_SKIP() << v.error();
  }
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v.value()->system_bundle_path(), kDefaultSystemBundle);
  EXPECT_GT(v.value()->system_certificate_count(), 50U);
  std::printf("[ measure  ] system bundle: %zu certificates loaded in %.1f ms wall, %.1f ms CPU\n",
              v.value()->system_certificate_count(), cost.wall_us / 1000, cost.cpu_us / 1000);
  EXPECT_THAT(v.value()->Describe(), HasSubstr("upstream verification on by default"));
}

TEST(VerifyFailureTest, ClassificationAndNames) {
  EXPECT_EQ(ClassifyVerifyResult(X509_V_OK), VerifyFailure::kNone);
  EXPECT_EQ(ClassifyVerifyResult(X509_V_ERR_CERT_HAS_EXPIRED), VerifyFailure::kExpired);
  EXPECT_EQ(ClassifyVerifyResult(X509_V_ERR_CERT_NOT_YET_VALID), VerifyFailure::kNotYetValid);
  EXPECT_EQ(ClassifyVerifyResult(X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN), VerifyFailure::kSelfSigned);
  EXPECT_EQ(ClassifyVerifyResult(X509_V_ERR_IP_ADDRESS_MISMATCH), VerifyFailure::kWrongName);
  EXPECT_EQ(ClassifyVerifyResult(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT), VerifyFailure::kUntrusted);
  EXPECT_EQ(ClassifyVerifyResult(X509_V_ERR_INVALID_PURPOSE), VerifyFailure::kNoServerAuth);
  EXPECT_EQ(ClassifyVerifyResult(X509_V_ERR_CERT_SIGNATURE_FAILURE), VerifyFailure::kBadSignature);
  EXPECT_EQ(ClassifyVerifyResult(X509_V_ERR_PATH_LENGTH_EXCEEDED), VerifyFailure::kOther);
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kNone), "none");
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kExpired), "expired");
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kNotYetValid), "not_yet_valid");
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kSelfSigned), "self_signed");
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kWrongName), "wrong_name");
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kUntrusted), "untrusted");
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kNoServerAuth), "no_server_auth");
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kBadSignature), "bad_signature");
  EXPECT_EQ(VerifyFailureName(VerifyFailure::kOther), "other");
}

}  // namespace
}  // namespace msb::certs
