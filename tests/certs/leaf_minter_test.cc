// LeafMinter: leaves verify against the CA for their name (X509_verify_cert, purpose SSL server,
// host and IP checks, strict mode, real handshakes, Python's strict verification), carry the
// profile the header promises, and follow the validity rules including the CA clamps.
#include "certs/leaf_minter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>
#include <vector>

#include "certs/x509_build.h"
#include "certs/x509_util.h"
#include "tests/certs/test_pki.h"

namespace msb::certs {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

constexpr int64_t kNow = 1780000000;
constexpr int64_t kHour = 3600;

ServerName Name(std::string_view text) {
  return ParseServerName(text).value();
}

class LeafMinterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto gen = GenerateCaPem(kNow - 10 * 24 * kHour);  // CA notBefore = kNow - 40 days
    ASSERT_TRUE(gen.ok());
    auto ca =
        InterceptCa::FromPem(gen.value().cert_pem, gen.value().key_pem, "ca", [] { return kNow; });
    ASSERT_TRUE(ca.ok()) << ca.error();
    ca_ = ca.value();
    auto m = LeafMinter::Create(ca_, {}, Clock());
    ASSERT_TRUE(m.ok()) << m.error();
    minter_ = m.value();
  }

  WallClock Clock() {
    return [this] { return now_; };
  }

  std::shared_ptr<const Leaf> Mint(std::string_view name) {
    auto leaf = minter_->Mint(Name(name));
    EXPECT_TRUE(leaf.ok()) << leaf.error();
    return leaf.ok() ? leaf.value() : nullptr;
  }

  // Verify runs X509_verify_cert for `leaf` against a store holding only `ca`, at `at`, for
  // `name` (host or IP), purpose SSL server, optionally in strict mode. Returns the X509_V_* code.
  long Verify(const Leaf& leaf, X509* ca, std::string_view name, int64_t at, bool strict = false) {
    UniquePtr<X509_STORE> store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), ca);
    UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), leaf.cert(), leaf.chain());
    X509_VERIFY_PARAM* p = X509_STORE_CTX_get0_param(ctx.get());
    X509_VERIFY_PARAM_set_purpose(p, X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM_set_time(p, static_cast<time_t>(at));
    if (strict) {
      X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_X509_STRICT);
    }
    auto ip = IpAddress::Parse(name);
    if (ip) {
      X509_VERIFY_PARAM_set1_ip(p, ip->bytes().data(), ip->byte_length());
    } else {
      X509_VERIFY_PARAM_set1_host(p, name.data(), name.size());
    }
    int rc = X509_verify_cert(ctx.get());
    long err = X509_STORE_CTX_get_error(ctx.get());
    EXPECT_EQ(rc == 1, err == X509_V_OK);
    return err;
  }

  int64_t now_ = kNow;
  std::shared_ptr<const InterceptCa> ca_;
  std::shared_ptr<const LeafMinter> minter_;
};

TEST_F(LeafMinterTest, HostLeafVerifiesForItsNameOnly) {
  auto leaf = Mint("www.example.com");
  ASSERT_TRUE(leaf);
  EXPECT_EQ(Verify(*leaf, ca_->cert(), "www.example.com", now_), X509_V_OK);
  EXPECT_EQ(Verify(*leaf, ca_->cert(), "www.example.com", now_, true), X509_V_OK);
  EXPECT_EQ(Verify(*leaf, ca_->cert(), "other.example.com", now_), X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(X509_check_host(leaf->cert(), "www.example.com", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(leaf->cert(), "example.com", 0, 0, nullptr), 0);
  // A different CA does not vouch for it.
  auto other = GenerateCaPem(kNow);
  auto other_ca =
      InterceptCa::FromPem(other.value().cert_pem, other.value().key_pem, "o", [] { return kNow; });
  EXPECT_NE(Verify(*leaf, other_ca.value()->cert(), "www.example.com", now_), X509_V_OK);
}

TEST_F(LeafMinterTest, IpLeavesCarryAnIpSan) {
  for (const char* ip : {"192.0.2.7", "2001:db8::7"}) {
    auto leaf = Mint(ip);
    ASSERT_TRUE(leaf);
    EXPECT_EQ(Verify(*leaf, ca_->cert(), ip, now_), X509_V_OK) << ip;
    EXPECT_EQ(Verify(*leaf, ca_->cert(), ip, now_, true), X509_V_OK) << ip;
    EXPECT_EQ(X509_check_ip_asc(leaf->cert(), ip, 0), 1) << ip;
    EXPECT_EQ(X509_check_host(leaf->cert(), ip, 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, nullptr), 0)
        << "no dNSName for an IP";
    UniquePtr<GENERAL_NAMES> sans(static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(leaf->cert(), NID_subject_alt_name, nullptr, nullptr)));
    ASSERT_TRUE(sans);
    ASSERT_EQ(sk_GENERAL_NAME_num(sans.get()), 1);
    EXPECT_EQ(sk_GENERAL_NAME_value(sans.get(), 0)->type, GEN_IPADD);
  }
  EXPECT_EQ(Verify(*Mint("192.0.2.7"), ca_->cert(), "192.0.2.8", now_),
            X509_V_ERR_IP_ADDRESS_MISMATCH);
}

TEST_F(LeafMinterTest, Profile) {
  auto leaf = Mint("api.example.com");
  ASSERT_TRUE(leaf);
  X509* x = leaf->cert();
  EXPECT_EQ(X509_get_version(x), X509_VERSION_3);
  EXPECT_EQ(NameToString(X509_get_subject_name(x)), "CN=api.example.com,O=msb-gateway");
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(ca_->cert())), 0);
  EXPECT_EQ(ASN1_STRING_length(X509_get0_serialNumber(x)), 16);
  EXPECT_EQ(ASN1_STRING_type(X509_get0_serialNumber(x)), V_ASN1_INTEGER);
  EXPECT_EQ(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);

  uint32_t flags = X509_get_extension_flags(x);
  EXPECT_NE(flags & EXFLAG_BCONS, 0U);
  EXPECT_NE(flags & EXFLAG_BCONS_CRITICAL, 0U);
  EXPECT_EQ(flags & EXFLAG_CA, 0U);
  EXPECT_EQ(X509_get_key_usage(x), uint32_t{KU_DIGITAL_SIGNATURE});
  EXPECT_EQ(X509_get_extended_key_usage(x), uint32_t{XKU_SSL_SERVER});
  int crit = -1;
  UniquePtr<ASN1_BIT_STRING> ku(
      static_cast<ASN1_BIT_STRING*>(X509_get_ext_d2i(x, NID_key_usage, &crit, nullptr)));
  EXPECT_EQ(crit, 1);
  UniquePtr<EXTENDED_KEY_USAGE> eku(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x, NID_ext_key_usage, &crit, nullptr)));
  ASSERT_TRUE(eku);
  EXPECT_EQ(crit, 0);
  ASSERT_EQ(sk_ASN1_OBJECT_num(eku.get()), 1);
  EXPECT_EQ(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku.get(), 0)), NID_server_auth);

  UniquePtr<GENERAL_NAMES> sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, &crit, nullptr)));
  ASSERT_TRUE(sans);
  EXPECT_EQ(crit, 0);
  ASSERT_EQ(sk_GENERAL_NAME_num(sans.get()), 1);
  GENERAL_NAME* g = sk_GENERAL_NAME_value(sans.get(), 0);
  ASSERT_EQ(g->type, GEN_DNS);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                        static_cast<size_t>(ASN1_STRING_length(g->d.dNSName))),
            "api.example.com");

  ASSERT_NE(X509_get0_authority_key_id(x), nullptr);
  EXPECT_EQ(
      ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x), X509_get0_subject_key_id(ca_->cert())),
      0);
  ASSERT_NE(X509_get0_subject_key_id(x), nullptr);
  EXPECT_EQ(KeyIdOf(x), SubjectKeyIdOf(x));

  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(x), minter_->leaf_key()), 1);
  EXPECT_EQ(leaf->key(), minter_->leaf_key());
  EXPECT_EQ(leaf->name(), Name("api.example.com"));
  EXPECT_EQ(leaf->ca_fingerprint(), ca_->fingerprint_sha256());
  ASSERT_EQ(sk_X509_num(leaf->chain()), 1);
  EXPECT_EQ(X509_cmp(sk_X509_value(leaf->chain(), 0), ca_->cert()), 0);
}

TEST_F(LeafMinterTest, AllLeavesShareOneKeyButNotASerial) {
  auto a = Mint("a.example");
  auto b = Mint("b.example");
  auto a2 = Mint("a.example");
  EXPECT_EQ(a->key(), b->key());
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(a->cert()), X509_get0_serialNumber(a2->cert())),
            0);
}

TEST_F(LeafMinterTest, LongNamesGoInTheSanOnly) {
  std::string name = std::string(60, 'a') + ".example.com";  // 72 bytes
  auto leaf = Mint(name);
  ASSERT_TRUE(leaf);
  EXPECT_EQ(NameToString(X509_get_subject_name(leaf->cert())), "O=msb-gateway");
  EXPECT_EQ(Verify(*leaf, ca_->cert(), name, now_, true), X509_V_OK);
}

TEST_F(LeafMinterTest, ValidityBackdatedAndBounded) {
  auto leaf = Mint("t.example");
  EXPECT_EQ(leaf->not_before(), kNow - 48 * kHour);
  EXPECT_EQ(leaf->not_after(), kNow + 24 * kHour);
  EXPECT_EQ(leaf->minted_at(), kNow);
  EXPECT_EQ(Asn1TimeToUnix(X509_get0_notBefore(leaf->cert())).value(), leaf->not_before());
  EXPECT_EQ(Asn1TimeToUnix(X509_get0_notAfter(leaf->cert())).value(), leaf->not_after());
  // A guest whose clock is 40 h behind still accepts it; one 49 h behind does not.
  EXPECT_EQ(Verify(*leaf, ca_->cert(), "t.example", kNow - 40 * kHour), X509_V_OK);
  EXPECT_EQ(Verify(*leaf, ca_->cert(), "t.example", kNow - 49 * kHour),
            X509_V_ERR_CERT_NOT_YET_VALID);
  EXPECT_EQ(Verify(*leaf, ca_->cert(), "t.example", kNow + 25 * kHour),
            X509_V_ERR_CERT_HAS_EXPIRED);

  auto custom = LeafMinter::Create(ca_, LeafOptions{7 * 24 * kHour, kHour}, Clock());
  ASSERT_TRUE(custom.ok());
  auto l2 = custom.value()->Mint(Name("t.example")).value();
  EXPECT_EQ(l2->not_before(), kNow - kHour);
  EXPECT_EQ(l2->not_after(), kNow + 7 * 24 * kHour);
}

TEST_F(LeafMinterTest, NotBeforeNeverPrecedesTheCa) {
  testing::CertSpec spec;
  spec.ca = true;
  spec.common_name = "young CA";
  spec.not_before = kNow - 10 * kHour;
  spec.not_after = kNow + 5 * kHour;
  testing::TestCert young = testing::MakeCert(spec);
  auto ca = InterceptCa::FromPem(young.cert_pem, young.key_pem, "young", [] { return kNow; });
  ASSERT_TRUE(ca.ok()) << ca.error();
  auto m = LeafMinter::Create(ca.value(), {}, Clock()).value();
  auto leaf = m->Mint(Name("x.example")).value();
  EXPECT_EQ(leaf->not_before(), kNow - 10 * kHour);  // CA notBefore, not now - 48 h
  EXPECT_EQ(leaf->not_after(), kNow + 5 * kHour);    // CA notAfter, not now + 24 h
  EXPECT_EQ(Verify(*leaf, young.cert.get(), "x.example", kNow), X509_V_OK);

  now_ = kNow + 5 * kHour;
  auto expired = m->Mint(Name("x.example"));
  ASSERT_FALSE(expired.ok());
  EXPECT_THAT(expired.error(), HasSubstr("the intercept CA expired at"));
  now_ = kNow - 11 * kHour;
  auto early = m->Mint(Name("x.example"));
  ASSERT_FALSE(early.ok());
  EXPECT_THAT(early.error(), HasSubstr("the intercept CA is not valid until"));
}

TEST_F(LeafMinterTest, OptionsAreChecked) {
  EXPECT_FALSE(LeafMinter::Create(ca_, LeafOptions{0, 0}).ok());
  EXPECT_FALSE(LeafMinter::Create(ca_, LeafOptions{398 * 24 * kHour, 0}).ok());
  EXPECT_FALSE(LeafMinter::Create(ca_, LeafOptions{kHour, -1}).ok());
  EXPECT_FALSE(LeafMinter::Create(ca_, LeafOptions{kHour, 31 * 24 * kHour}).ok());
  EXPECT_FALSE(LeafMinter::Create(nullptr).ok());
}

TEST_F(LeafMinterTest, InstalledLeafPassesARealHandshake) {
  now_ = testing::Now();  // OpenSSL's handshake verification uses the real clock
  auto gen = GenerateCaPem(now_);
  auto ca = InterceptCa::FromPem(gen.value().cert_pem, gen.value().key_pem, "ca").value();
  auto m = LeafMinter::Create(ca, {}, Clock()).value();
  for (const char* name : {"shop.example", "192.0.2.9"}) {
    auto leaf = m->Mint(Name(name)).value();
    UniquePtr<SSL_CTX> server_ctx(SSL_CTX_new(TLS_server_method()));
    UniquePtr<SSL> server(SSL_new(server_ctx.get()));
    ASSERT_TRUE(leaf->InstallOn(server.get()).ok());
    UniquePtr<SSL_CTX> client_ctx = testing::ClientCtx();
    X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx.get()), ca->cert());
    SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_PEER, nullptr);
    UniquePtr<SSL> client(SSL_new(client_ctx.get()));
    X509_VERIFY_PARAM* p = SSL_get0_param(client.get());
    X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_X509_STRICT);
    auto ip = IpAddress::Parse(name);
    if (ip) {
      X509_VERIFY_PARAM_set1_ip(p, ip->bytes().data(), ip->byte_length());
    } else {
      X509_VERIFY_PARAM_set1_host(p, name, 0);
    }
    auto r = testing::Handshake(client.get(), server.get());
    EXPECT_TRUE(r.client_ok) << name << ": " << r.client_error;
    EXPECT_TRUE(r.server_ok) << name;
    EXPECT_EQ(r.verify_result, X509_V_OK) << X509_verify_cert_error_string(r.verify_result);
  }
}

// Strict external verifiers: `openssl verify -x509_strict` and Python's ssl module with
// VERIFY_X509_STRICT (what Python 3.13 turns on by default).
TEST_F(LeafMinterTest, StrictExternalVerifiersAccept) {
  now_ = testing::Now();
  auto gen = GenerateCaPem(now_);
  auto ca = InterceptCa::FromPem(gen.value().cert_pem, gen.value().key_pem, "ca").value();
  auto m = LeafMinter::Create(ca, {}, Clock()).value();
  TempDir dir;
  std::string ca_pem = dir.Write("ca.pem", ca->cert_pem());
  std::string key_pem = dir.Write("leaf.key", PrivateKeyToPem(m->leaf_key()).value());
  int checked = 0;
  for (const char* name : {"strict.example.com", "192.0.2.44", "2001:db8::44"}) {
    auto leaf = m->Mint(Name(name)).value();
    std::string leaf_pem = CertificateToPem(leaf->cert()).value();
    std::string leaf_file = dir.Write("leaf.pem", leaf_pem);
    std::string chain_file = dir.Write("chain.pem", leaf_pem + ca->cert_pem());
    bool is_ip = IpAddress::Parse(name).has_value();
    std::string out;
    int rc = testing::RunCommand("openssl verify -x509_strict -purpose sslserver " +
                                     std::string(is_ip ? "-verify_ip " : "-verify_hostname ") +
                                     name + " -CAfile " + ca_pem + " " + leaf_file,
                                 &out);
    if (rc != -1 && out.find("not found") == std::string::npos) {
      EXPECT_EQ(rc, 0) << name << ": " << out;
      EXPECT_THAT(out, HasSubstr(": OK"));
      ++checked;
    }
    std::string script = std::string(MSB_CERTS_TEST_DIR) + "/strict_verify.py";
    rc = testing::RunCommand(std::string(MSB_PYTHON3) + " " + script + " " + ca_pem + " " +
                                 chain_file + " " + key_pem + " " + name,
                             &out);
    if (rc != -1 && out.find("No such file") == std::string::npos) {
      EXPECT_EQ(rc, 0) << name << ": " << out;
      EXPECT_EQ(out, "ok\n") << name;
      ++checked;
    }
  }
  if (checked == 0) {
    GTEST_SKIP() << "neither openssl nor python3 is available";
  }
}

TEST_F(LeafMinterTest, ConcurrentMintsAreIndependent) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::vector<std::shared_ptr<const Leaf>>> out(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto leaf = minter_->Mint(Name("h" + std::to_string(t) + "-" + std::to_string(i) + ".x"));
        if (leaf.ok()) {
          out[t].push_back(leaf.value());
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(out[t].size(), static_cast<size_t>(kPerThread));
    for (const auto& leaf : out[t]) {
      EXPECT_EQ(Verify(*leaf, ca_->cert(), leaf->name().text, now_), X509_V_OK);
    }
  }
}

// Not a pass/fail benchmark (the VM is shared): prints the mint cost in wall and thread-CPU time
// (CPU time is what other processes on the 2 vCPUs cannot inflate), and what X509_set_pubkey with
// the provider-native key would add per mint (the reason fast_pubkey.cc exists).
TEST_F(LeafMinterTest, MintCost) {
  constexpr int kMints = 300;
  testing::CostMeter meter;
  for (int i = 0; i < kMints; ++i) {
    ASSERT_TRUE(minter_->Mint(Name("bench" + std::to_string(i) + ".example")).ok());
  }
  testing::Cost mint = meter.Per(kMints);
  UniquePtr<X509> scratch(X509_new());
  testing::CostMeter slow_meter;
  for (int i = 0; i < kMints; ++i) {
    ASSERT_EQ(X509_set_pubkey(scratch.get(), minter_->leaf_key()), 1);
  }
  testing::Cost slow = slow_meter.Per(kMints);
  // Calibration on the same machine state: re-signing one leaf (TBS encoding + ECDSA) alone.
  auto leaf = minter_->Mint(Name("calibrate.example")).value();
  UniquePtr<X509> copy(X509_dup(leaf->cert()));
  testing::CostMeter sign_meter;
  for (int i = 0; i < kMints; ++i) {
    ASSERT_TRUE(SignCertificate(copy.get(), ca_->key()).ok());
  }
  testing::Cost sign = sign_meter.Per(kMints);
  std::printf(
      "[ measure  ] leaf mint: %.1f us wall, %.1f us CPU (X509_sign alone: %.1f us CPU); "
      "X509_set_pubkey with the provider key would add %.1f us CPU per mint\n",
      mint.wall_us, mint.cpu_us, sign.cpu_us, slow.cpu_us);
}

}  // namespace
}  // namespace msb::certs
