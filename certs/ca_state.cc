// The persistent intercept CA in a state directory: generation, exclusive publication and the
// lock protocol that makes concurrent starts agree on one CA (see intercept_ca.h).
#include <openssl/rand.h>

#include "certs/ca_builder.h"
#include "certs/file_io.h"
#include "certs/intercept_ca.h"
#include "certs/x509_build.h"
#include "certs/x509_util.h"

namespace msb::certs {
namespace {

constexpr int64_t kDay = 24 * 3600;
// Leaves are backdated up to 48 h; 30 days leaves room for a larger backdate and for hosts whose
// clock was behind when the CA was made, without ever having a leaf start before its CA.
constexpr int64_t kCaBackdate = 30 * kDay;
constexpr int64_t kCaLifetime = 3652 * kDay;  // ten years, leap days included
constexpr int kLockTimeoutMs = 10000;

struct StatePaths {
  std::string cert;
  std::string key;
  std::string lock;
};

StatePaths PathsIn(const std::string& dir) {
  std::string base = dir;
  while (base.size() > 1 && base.back() == '/') {
    base.pop_back();
  }
  base += '/';
  return StatePaths{base + std::string(InterceptCa::kCertFile),
                    base + std::string(InterceptCa::kKeyFile),
                    base + std::string(InterceptCa::kLockFile)};
}

Status HalfState(const StatePaths& p) {
  bool have_cert = FileExists(p.cert);
  const std::string& present = have_cert ? p.cert : p.key;
  const std::string& missing = have_cert ? p.key : p.cert;
  return Status::Error("intercept CA is incomplete: " + present + " exists but " + missing +
                       " does not. Restore the missing file, or remove " + present +
                       " to generate a new CA (guests that trusted the old one must then be "
                       "given the new one)");
}

Result<std::string> RandomHex(size_t bytes) {
  unsigned char buf[16];
  if (bytes > sizeof(buf) || RAND_bytes(buf, static_cast<int>(bytes)) != 1) {
    return Status::Error("cannot generate a random id: " + OpenSslErrors());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes; ++i) {
    out += kHex[buf[i] >> 4];
    out += kHex[buf[i] & 0xf];
  }
  return out;
}

Status AddNameEntry(X509_NAME* name, int nid, const std::string& value) {
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return Status::Error("cannot build the CA subject: " + OpenSslErrors());
  }
  return Status::Ok();
}

// CreateIn generates a CA and publishes key then certificate. Caller holds the exclusive lock.
Status CreateIn(const StatePaths& p, int64_t now) {
  auto ca = GenerateCaPem(now);
  if (!ca.ok()) {
    return ca.status();
  }
  auto key_published = PublishExclusive(p.key, ca.value().key_pem, 0600);
  if (!key_published.ok()) {
    return key_published.status();
  }
  if (!key_published.value()) {
    return Status::Error("cannot create " + p.key +
                         ": it appeared while this process held the lock (another program is "
                         "writing the state directory)");
  }
  auto cert_published = PublishExclusive(p.cert, ca.value().cert_pem, 0644);
  if (!cert_published.ok()) {
    return Status::Error(cert_published.error() + " (" + p.key + " was already written)");
  }
  if (!cert_published.value()) {
    return Status::Error("cannot create " + p.cert +
                         ": it appeared while this process held the lock (another program is "
                         "writing the state directory)");
  }
  return Status::Ok();
}

}  // namespace

Result<GeneratedCa> GenerateCaPem(int64_t now) {
  UniquePtr<EVP_PKEY> key = GenerateP256Key();
  UniquePtr<X509> cert(X509_new());
  if (!key || !cert) {
    return Status::Error("cannot generate the CA key: " + OpenSslErrors());
  }
  auto id = RandomHex(4);
  if (!id.ok()) {
    return id.status();
  }
  X509* x = cert.get();
  X509_NAME* subject = X509_get_subject_name(x);
  Status st = AddNameEntry(subject, NID_organizationName, "msb-gateway");
  if (st.ok()) {
    st = AddNameEntry(subject, NID_commonName, "msb-gateway intercept CA " + id.value());
  }
  if (st.ok() && (X509_set_version(x, X509_VERSION_3) != 1 ||
                  X509_set_issuer_name(x, subject) != 1 || X509_set_pubkey(x, key.get()) != 1)) {
    st = Status::Error("cannot build the CA certificate: " + OpenSslErrors());
  }
  if (st.ok()) {
    st = SetRandomSerial(x);
  }
  if (st.ok()) {
    st = SetValidity(x, now - kCaBackdate, now + kCaLifetime);
  }
  if (!st.ok()) {
    return st;
  }
  std::vector<uint8_t> key_id = KeyIdOf(x);
  if (key_id.empty()) {
    return Status::Error("cannot compute the CA key identifier: " + OpenSslErrors());
  }
  UniquePtr<X509_EXTENSION> exts[] = {
      MakeBasicConstraints(true, 0),
      MakeKeyUsage(
          {KeyUsageBit::kKeyCertSign, KeyUsageBit::kCrlSign, KeyUsageBit::kDigitalSignature}),
      MakeSubjectKeyId(key_id),
      MakeAuthorityKeyId(key_id),
  };
  for (const auto& ext : exts) {
    st = AddExtension(x, ext.get());
    if (!st.ok()) {
      return st;
    }
  }
  st = SignCertificate(x, key.get());
  if (!st.ok()) {
    return st;
  }
  auto cert_pem = CertificateToPem(x);
  auto key_pem = PrivateKeyToPem(key.get());
  if (!cert_pem.ok() || !key_pem.ok()) {
    return Status::Error("cannot encode the CA: " + OpenSslErrors());
  }
  return GeneratedCa{std::move(cert_pem).value(), std::move(key_pem).value()};
}

Result<std::shared_ptr<const InterceptCa>> InterceptCa::LoadOrCreate(const std::string& state_dir,
                                                                     const WallClock& clock) {
  StatePaths p = PathsIn(state_dir);
  if (FileExists(p.cert) && FileExists(p.key)) {
    return CaBuilder::FromFiles(p.cert, p.key, clock(), false);
  }
  Status st = MakeDirs(state_dir, 0700);
  if (!st.ok()) {
    return st;
  }
  auto lock = FileLock::Acquire(p.lock, FileLock::Mode::kExclusive, true, kLockTimeoutMs);
  if (!lock.ok()) {
    return lock.status();
  }
  bool have_cert = FileExists(p.cert);
  bool have_key = FileExists(p.key);
  if (have_cert && have_key) {
    return CaBuilder::FromFiles(p.cert, p.key, clock(), false);
  }
  if (have_cert || have_key) {
    return HalfState(p);
  }
  int64_t now = clock();
  st = CreateIn(p, now);
  if (!st.ok()) {
    return st;
  }
  return CaBuilder::FromFiles(p.cert, p.key, now, true);
}

Result<std::shared_ptr<const InterceptCa>> InterceptCa::Load(const std::string& state_dir,
                                                             const WallClock& clock) {
  StatePaths p = PathsIn(state_dir);
  bool have_cert = FileExists(p.cert);
  bool have_key = FileExists(p.key);
  if (have_cert != have_key && FileExists(p.lock)) {
    // Perhaps a LoadOrCreate is between its two links right now: wait for it, then look again.
    auto lock = FileLock::Acquire(p.lock, FileLock::Mode::kShared, false, kLockTimeoutMs);
    if (!lock.ok()) {
      return lock.status();
    }
    have_cert = FileExists(p.cert);
    have_key = FileExists(p.key);
  }
  if (!have_cert && !have_key) {
    return Status::Error("no intercept CA in " + state_dir + " (neither " + p.cert + " nor " +
                         p.key + " exists)");
  }
  if (have_cert != have_key) {
    return HalfState(p);
  }
  return CaBuilder::FromFiles(p.cert, p.key, clock(), false);
}

}  // namespace msb::certs
