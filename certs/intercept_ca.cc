// InterceptCa loading and validation (see intercept_ca.h). The state-directory protocol and CA
// generation live in ca_state.cc.
#include "certs/intercept_ca.h"

#include "certs/ca_builder.h"
#include "certs/file_io.h"
#include "certs/x509_build.h"
#include "certs/x509_util.h"

namespace msb::certs {

namespace {

// A CA certificate file may hold a chain; 1 MiB is far above any real one.
constexpr size_t kMaxCaFileBytes = 1 << 20;

}  // namespace

Result<std::shared_ptr<const InterceptCa>> CaBuilder::FromPem(
    std::string_view cert_pem, std::string_view key_pem, const std::string& cert_what,
    const std::string& key_what, int64_t now, const std::string& cert_path,
    const std::string& key_path, bool created) {
  auto certs = ParseCertificatesPem(cert_pem, cert_what);
  if (!certs.ok()) {
    return certs.status();
  }
  auto key = ParsePrivateKeyPem(key_pem, key_what);
  if (!key.ok()) {
    return key.status();
  }
  std::shared_ptr<InterceptCa> ca(new InterceptCa());
  ca->cert_ = std::move(certs.value().front());
  for (size_t i = 1; i < certs.value().size(); ++i) {
    ca->issuers_.push_back(std::move(certs.value()[i]));
  }
  ca->key_ = std::move(key).value();
  X509* cert = ca->cert_.get();
  if (X509_check_private_key(cert, ca->key_.get()) != 1) {
    ClearOpenSslErrors();
    return Status::Error("key " + key_what + " does not match certificate " + cert_what);
  }
  Status st = CheckCa(cert, cert_what);
  if (!st.ok()) {
    return st;
  }
  auto not_before = Asn1TimeToUnix(X509_get0_notBefore(cert));
  auto not_after = Asn1TimeToUnix(X509_get0_notAfter(cert));
  if (!not_before.ok() || !not_after.ok()) {
    return Status::Error(cert_what + " has an unreadable validity period");
  }
  ca->not_before_ = not_before.value();
  ca->not_after_ = not_after.value();
  if (now < ca->not_before_) {
    return Status::Error(cert_what + " is not valid until " + FormatUnixTime(ca->not_before_) +
                         " (now " + FormatUnixTime(now) + ")");
  }
  if (now > ca->not_after_) {
    return Status::Error(cert_what + " expired at " + FormatUnixTime(ca->not_after_) + " (now " +
                         FormatUnixTime(now) + ")");
  }
  int bits = EVP_PKEY_get_security_bits(ca->key_.get());
  if (bits < 112) {
    return Status::Error("key " + key_what + " is too weak (" + KeyDescription(ca->key_.get()) +
                         ", " + std::to_string(bits) +
                         "-bit security; clients require at least 112)");
  }
  auto pem = CertificateToPem(cert);
  if (!pem.ok()) {
    return pem.status();
  }
  ca->cert_pem_ = std::move(pem).value();
  ca->fingerprint_ = Sha256Fingerprint(cert);
  ca->subject_ = NameToString(X509_get_subject_name(cert));
  ca->key_id_ = SubjectKeyIdOf(cert);
  ca->warnings_ = StrictWarnings(cert, cert_what);
  ca->cert_path_ = cert_path;
  ca->key_path_ = key_path;
  ca->created_ = created;
  return std::shared_ptr<const InterceptCa>(std::move(ca));
}

Result<std::shared_ptr<const InterceptCa>> CaBuilder::FromFiles(const std::string& cert_path,
                                                                const std::string& key_path,
                                                                int64_t now, bool created) {
  auto cert_pem = ReadSmallFile(cert_path, kMaxCaFileBytes);
  if (!cert_pem.ok()) {
    return cert_pem.status();
  }
  auto key_pem = ReadSmallFile(key_path, kMaxCaFileBytes);
  if (!key_pem.ok()) {
    return key_pem.status();
  }
  return FromPem(cert_pem.value(), key_pem.value(), cert_path, key_path, now, cert_path, key_path,
                 created);
}

// CheckCa: basicConstraints CA:TRUE, and keyCertSign when keyUsage is present.
Status CaBuilder::CheckCa(X509* cert, const std::string& what) {
  uint32_t flags = X509_get_extension_flags(cert);
  if ((flags & EXFLAG_INVALID) != 0) {
    ClearOpenSslErrors();
    return Status::Error(what + " has malformed extensions");
  }
  if ((flags & EXFLAG_BCONS) == 0) {
    return Status::Error(what +
                         " is not a CA certificate: it has no basicConstraints extension "
                         "(CA:TRUE is required)");
  }
  if ((flags & EXFLAG_CA) == 0) {
    return Status::Error(what + " is not a CA certificate: its basicConstraints say CA:FALSE");
  }
  if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) == 0) {
    return Status::Error(what +
                         " is not a CA certificate: its keyUsage does not include keyCertSign");
  }
  return Status::Ok();
}

// StrictWarnings lists what OpenSSL's X509_V_FLAG_X509_STRICT (Python 3.13's default) rejects in
// a CA, although ordinary verification accepts it.
std::vector<std::string> CaBuilder::StrictWarnings(X509* cert, const std::string& what) {
  std::vector<std::string> out;
  uint32_t flags = X509_get_extension_flags(cert);
  const std::string suffix =
      "; clients with strict verification (Python 3.13+) will reject its leaves";
  if ((flags & EXFLAG_BCONS_CRITICAL) == 0) {
    out.push_back(what + ": basicConstraints is not marked critical" + suffix);
  }
  if ((flags & EXFLAG_KUSAGE) == 0) {
    out.push_back(what + ": it has no keyUsage extension" + suffix);
  }
  if (X509_get0_subject_key_id(cert) == nullptr) {
    out.push_back(what + ": it has no subjectKeyIdentifier" + suffix);
  }
  return out;
}

Result<std::shared_ptr<const InterceptCa>> InterceptCa::FromPem(std::string_view cert_pem,
                                                                std::string_view key_pem,
                                                                const std::string& label,
                                                                const WallClock& clock) {
  return CaBuilder::FromPem(cert_pem, key_pem, label + " (certificate)", label + " (key)", clock(),
                            "", "", false);
}

Result<std::shared_ptr<const InterceptCa>> InterceptCa::FromFiles(const std::string& cert_path,
                                                                  const std::string& key_path,
                                                                  const WallClock& clock) {
  return CaBuilder::FromFiles(cert_path, key_path, clock(), false);
}

std::string InterceptCa::Describe() const {
  std::string out = "Intercept CA\n";
  out += "  subject:      " + subject_ + "\n";
  out += "  fingerprint:  SHA256 " + fingerprint_ + "\n";
  out +=
      "  valid:        " + FormatUnixTime(not_before_) + " .. " + FormatUnixTime(not_after_) + "\n";
  out += "  key:          " + KeyDescription(key_.get()) + "\n";
  if (!cert_path_.empty()) {
    out += "  certificate:  " + cert_path_ + "\n";
    out += "  private key:  " + key_path_ + "\n";
  }
  if (!issuers_.empty()) {
    out += "  issuers:      " + std::to_string(issuers_.size()) + " more certificate(s), sent " +
           "after the CA in every chain\n";
  }
  for (const std::string& w : warnings_) {
    out += "  warning:      " + w + "\n";
  }
  return out;
}

}  // namespace msb::certs
