// InterceptCa::FromFiles / FromPem: every rejection is precise and names the path; accepted CAs
// expose consistent accessors; strict-verification hazards become warnings.
#include "certs/intercept_ca.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <string>

#include "certs/x509_build.h"
#include "certs/x509_util.h"
#include "tests/certs/test_pki.h"

namespace msb::certs {
namespace {

using testing::CertSpec;
using ::testing::HasSubstr;
using testing::MakeCa;
using testing::MakeCert;
using testing::Now;
using testing::TempDir;
using testing::TestCert;

class InterceptCaTest : public ::testing::Test {
 protected:
  // Load writes `c` to cert_path_/key_path_ (fixed paths, so expectations can name them before
  // the call is evaluated) and returns FromFiles' error, "" on success.
  std::string Load(const TestCert& c) {
    dir_.Write("ca.pem", c.cert_pem);
    dir_.Write("ca.key", c.key_pem);
    auto ca = InterceptCa::FromFiles(cert_path_, key_path_);
    return ca.ok() ? "" : ca.error();
  }
  TempDir dir_;
  std::string cert_path_ = dir_.path() + "/ca.pem";
  std::string key_path_ = dir_.path() + "/ca.key";
};

TEST_F(InterceptCaTest, AcceptsAProperCa) {
  TestCert c = MakeCa("Operator CA");
  cert_path_ = dir_.Write("ca.pem", c.cert_pem);
  key_path_ = dir_.Write("ca.key", c.key_pem);
  auto ca = InterceptCa::FromFiles(cert_path_, key_path_);
  ASSERT_TRUE(ca.ok()) << ca.error();
  const InterceptCa& v = *ca.value();
  EXPECT_EQ(X509_cmp(v.cert(), c.cert.get()), 0);
  EXPECT_EQ(EVP_PKEY_eq(v.key(), c.key.get()), 1);
  EXPECT_EQ(v.subject(), "CN=Operator CA");
  EXPECT_EQ(v.cert_path(), cert_path_);
  EXPECT_EQ(v.key_path(), key_path_);
  EXPECT_FALSE(v.created());
  EXPECT_EQ(v.fingerprint_sha256(), Sha256Fingerprint(c.cert.get()));
  EXPECT_EQ(v.fingerprint_sha256().size(), 32U * 3 - 1);
  EXPECT_EQ(v.not_before(), Asn1TimeToUnix(X509_get0_notBefore(c.cert.get())).value());
  EXPECT_EQ(v.not_after(), Asn1TimeToUnix(X509_get0_notAfter(c.cert.get())).value());
  EXPECT_EQ(v.cert_pem(), c.cert_pem);
  EXPECT_EQ(v.key_id().size(), 20U);
  EXPECT_TRUE(v.issuers().empty());
  std::string d = v.Describe();
  EXPECT_THAT(d, HasSubstr("subject:      CN=Operator CA"));
  EXPECT_THAT(d, HasSubstr("SHA256 " + v.fingerprint_sha256()));
  EXPECT_THAT(d, HasSubstr("EC P-256"));
  EXPECT_THAT(d, HasSubstr(cert_path_));
}

TEST_F(InterceptCaTest, FingerprintMatchesOpensslCli) {
  TestCert c = MakeCa("Fingerprint CA");
  ASSERT_EQ(Load(c), "");
  auto ca = InterceptCa::FromFiles(cert_path_, key_path_).value();
  std::string out;
  int rc = testing::RunCommand("openssl x509 -noout -fingerprint -sha256 -in " + cert_path_, &out);
  if (rc == -1 || out.find("Fingerprint=") == std::string::npos) {
    GTEST_SKIP() << "openssl CLI not available: " << out;
  }
  EXPECT_THAT(out, HasSubstr("Fingerprint=" + ca->fingerprint_sha256()));
}

TEST_F(InterceptCaTest, UnreadableFilesNameThePathAndErrno) {
  auto r = InterceptCa::FromFiles(dir_.path() + "/missing.pem", dir_.path() + "/missing.key");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "cannot read " + dir_.path() + "/missing.pem: No such file or directory");
  TestCert c = MakeCa("x");
  std::string cert = dir_.Write("ok.pem", c.cert_pem);
  r = InterceptCa::FromFiles(cert, dir_.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "cannot read " + dir_.path() + ": not a regular file");
}

TEST_F(InterceptCaTest, NotPem) {
  TestCert c = MakeCa("x");
  std::string junk = dir_.Write("junk.pem", "hello\n");
  std::string key = dir_.Write("ca.key", c.key_pem);
  std::string cert = dir_.Write("ca.pem", c.cert_pem);
  auto r = InterceptCa::FromFiles(junk, key);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), junk +
                           " contains no PEM certificate (expected a \"-----BEGIN "
                           "CERTIFICATE-----\" block)");
  r = InterceptCa::FromFiles(cert, junk);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr(junk + " contains no usable PEM private key"));
  std::string damaged =
      dir_.Write("damaged.pem", "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
  r = InterceptCa::FromFiles(damaged, key);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr(damaged + " has a malformed PEM block"));
}

TEST_F(InterceptCaTest, SwappedCertificateAndKey) {
  TestCert c = MakeCa("x");
  std::string key = dir_.Write("ca.key", c.key_pem);
  std::string cert = dir_.Write("ca.pem", c.cert_pem);
  auto r = InterceptCa::FromFiles(key, cert);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), key +
                           " contains a private key but no PEM certificate (are the certificate "
                           "and key paths swapped?)");
}

TEST_F(InterceptCaTest, EncryptedKeyIsNamedAsSuch) {
  TestCert c = MakeCa("x");
  std::string cert = dir_.Write("ca.pem", c.cert_pem);
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), c.key.get(), EVP_aes_128_cbc(), nullptr, 0,
                                          nullptr, const_cast<char*>("secret")),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  std::string key = dir_.Write("enc.key", std::string(data, static_cast<size_t>(len)));
  auto r = InterceptCa::FromFiles(cert, key);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error(), HasSubstr(key + " is a passphrase-protected key"));
}

TEST_F(InterceptCaTest, KeyMustMatch) {
  TestCert a = MakeCa("a");
  TestCert b = MakeCa("b");
  std::string cert = dir_.Write("a.pem", a.cert_pem);
  std::string key = dir_.Write("b.key", b.key_pem);
  auto r = InterceptCa::FromFiles(cert, key);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "key " + key + " does not match certificate " + cert);
}

TEST_F(InterceptCaTest, MustBeACa) {
  CertSpec no_bc;
  no_bc.basic_constraints = false;
  EXPECT_EQ(Load(MakeCert(no_bc)),
            cert_path_ +
                " is not a CA certificate: it has no basicConstraints extension (CA:TRUE is "
                "required)");
  CertSpec leaf;
  leaf.ca = false;
  EXPECT_EQ(Load(MakeCert(leaf)),
            cert_path_ + " is not a CA certificate: its basicConstraints say CA:FALSE");
}

TEST_F(InterceptCaTest, KeyUsageMustIncludeKeyCertSign) {
  TestCert c = MakeCa("x");
  // Rebuild with keyUsage digitalSignature only.
  CertSpec spec;
  spec.ca = true;
  spec.key_usage = false;
  TestCert no_ku = MakeCert(spec);
  EXPECT_EQ(Load(no_ku), "");  // keyUsage absent is allowed (a warning, see below)
  X509* x = no_ku.cert.get();
  ASSERT_TRUE(AddExtension(x, MakeKeyUsage({KeyUsageBit::kDigitalSignature}).get()).ok());
  ASSERT_TRUE(SignCertificate(x, no_ku.key.get()).ok());
  no_ku.cert_pem = CertificateToPem(x).value();
  EXPECT_EQ(Load(no_ku),
            cert_path_ + " is not a CA certificate: its keyUsage does not include keyCertSign");
}

TEST_F(InterceptCaTest, ValidityIsCheckedAgainstTheInjectedClock) {
  CertSpec spec;
  spec.ca = true;
  spec.not_before = 1700000000;  // 2023-11-14T22:13:20Z
  spec.not_after = 1800000000;   // 2027-01-15T08:00:00Z
  TestCert c = MakeCert(spec);
  std::string cert = dir_.Write("ca.pem", c.cert_pem);
  std::string key = dir_.Write("ca.key", c.key_pem);
  auto early = InterceptCa::FromFiles(cert, key, [] { return int64_t{1600000000}; });
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error(),
            cert + " is not valid until 2023-11-14T22:13:20Z (now 2020-09-13T12:26:40Z)");
  auto late = InterceptCa::FromFiles(cert, key, [] { return int64_t{1900000000}; });
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error(), cert + " expired at 2027-01-15T08:00:00Z (now 2030-03-17T17:46:40Z)");
  EXPECT_TRUE(InterceptCa::FromFiles(cert, key, [] { return int64_t{1750000000}; }).ok());
}

TEST_F(InterceptCaTest, WeakKeysAreRejected) {
  CertSpec spec;
  spec.ca = true;
  spec.rsa = true;
  spec.rsa_bits = 1024;
  TestCert c = MakeCert(spec);
  std::string err = Load(c);
  EXPECT_THAT(err, HasSubstr("key " + key_path_ + " is too weak (RSA 1024, 80-bit security"));
  spec.rsa_bits = 2048;
  EXPECT_EQ(Load(MakeCert(spec)), "");
}

TEST_F(InterceptCaTest, StrictHazardsBecomeWarnings) {
  CertSpec spec;
  spec.ca = true;
  spec.key_usage = false;
  TestCert c = MakeCert(spec);
  cert_path_ = dir_.Write("ca.pem", c.cert_pem);
  key_path_ = dir_.Write("ca.key", c.key_pem);
  auto ca = InterceptCa::FromFiles(cert_path_, key_path_);
  ASSERT_TRUE(ca.ok()) << ca.error();
  ASSERT_EQ(ca.value()->warnings().size(), 1U);
  EXPECT_THAT(ca.value()->warnings()[0], HasSubstr("no keyUsage extension"));
  EXPECT_THAT(ca.value()->Describe(), HasSubstr("warning:"));
  auto good = InterceptCa::FromPem(MakeCa("g").cert_pem, MakeCa("g").key_pem, "mem");
  ASSERT_FALSE(good.ok());  // two different keys
  EXPECT_EQ(good.error(), "key mem (key) does not match certificate mem (certificate)");
}

TEST_F(InterceptCaTest, IssuersAfterTheCaAreKept) {
  TestCert root = MakeCa("Root");
  CertSpec spec;
  spec.ca = true;
  spec.common_name = "Intermediate";
  TestCert inter = MakeCert(spec, &root);
  cert_path_ = dir_.Write("chain.pem", inter.cert_pem + root.cert_pem);
  key_path_ = dir_.Write("inter.key", inter.key_pem);
  auto ca = InterceptCa::FromFiles(cert_path_, key_path_);
  ASSERT_TRUE(ca.ok()) << ca.error();
  EXPECT_EQ(ca.value()->subject(), "CN=Intermediate");
  ASSERT_EQ(ca.value()->issuers().size(), 1U);
  EXPECT_EQ(X509_cmp(ca.value()->issuers()[0].get(), root.cert.get()), 0);
}

}  // namespace
}  // namespace msb::certs
