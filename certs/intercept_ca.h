// InterceptCa: the certificate authority that signs the leaf certificates shown to the guest.
// Either operator-supplied (--tls-ca-cert/--tls-ca-key: FromFiles) or the persistent CA that
// msb-gateway creates in its state directory (LoadOrCreate; `ca show`/`ca export` use Load).
//
// State-directory protocol (LoadOrCreate), safe for concurrent starts of several processes:
//   1. If STATE_DIR/ca.pem and STATE_DIR/ca.key both exist, load them (no lock: both files are
//      only ever published complete, under their final names, and never rewritten).
//   2. Otherwise create STATE_DIR (0700, parents too) and take an exclusive flock on
//      STATE_DIR/ca.lock (waiting at most 10 s), then look again:
//        both files -> another process created them meanwhile: load;
//        neither    -> generate, then publish ca.key (0600) and then ca.pem (0644), each written
//                      to a temporary file (O_CREAT|O_EXCL), fsync'ed and linked to its final name
//                      with link(2), which never replaces an existing file;
//        only one   -> "half state" (a crash between the two links, or a hand-deleted file): a
//                      precise error naming both paths. Never silently regenerated: a guest may
//                      already trust the old CA, or the other file may be someone's only copy.
// Every process therefore ends with the same CA or an error.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "certs/openssl_ptr.h"
#include "certs/wall_clock.h"

namespace msb::certs {

class InterceptCa {
 public:
  // The file names inside a state directory.
  static constexpr std::string_view kCertFile = "ca.pem";
  static constexpr std::string_view kKeyFile = "ca.key";
  static constexpr std::string_view kLockFile = "ca.lock";

  // FromFiles loads an operator-supplied CA. The certificate file holds the CA certificate first;
  // any further certificates in it (the CA's own issuers, for an intermediate CA) are sent after
  // it in every leaf chain. Errors, each naming the path (the CLI prefixes the flag name):
  //   cannot read PATH: <errno text>          PATH contains no PEM certificate / private key
  //   PATH is a passphrase-protected key      key KEY does not match certificate CERT
  //   CERT is not a CA certificate: ... (basicConstraints CA:TRUE required; keyUsage, when
  //     present, must include keyCertSign)
  //   CERT expired at T / is not valid until T (checked against `clock`)
  //   key KEY is too weak (under 112-bit security)
  static Result<std::shared_ptr<const InterceptCa>> FromFiles(
      const std::string& cert_path, const std::string& key_path,
      const WallClock& clock = SystemWallClock());

  // FromPem is FromFiles on in-memory PEM; `label` stands in for the paths in messages.
  static Result<std::shared_ptr<const InterceptCa>> FromPem(
      std::string_view cert_pem, std::string_view key_pem, const std::string& label,
      const WallClock& clock = SystemWallClock());

  // LoadOrCreate implements the protocol above. The generated CA: ECDSA P-256; subject
  // "CN=msb-gateway intercept CA <8 hex of a random id>,O=msb-gateway"; random positive 128-bit
  // serial; basicConstraints critical CA:TRUE, pathlen:0; keyUsage critical keyCertSign, cRLSign,
  // digitalSignature; subject and authority key identifiers; notBefore now - 30 days (leaves are
  // backdated up to 48 h and must never start before their CA), notAfter now + 10 years;
  // signed with SHA-256. Loaded CAs get the FromFiles validation.
  static Result<std::shared_ptr<const InterceptCa>> LoadOrCreate(
      const std::string& state_dir, const WallClock& clock = SystemWallClock());

  // Load reads the CA of a state directory without ever creating it. Errors: "no intercept CA in
  // DIR (neither ca.pem nor ca.key exists)", the half-state error, and the FromFiles errors.
  static Result<std::shared_ptr<const InterceptCa>> Load(
      const std::string& state_dir, const WallClock& clock = SystemWallClock());

  // Accessors. The objects are owned by this InterceptCa and immutable; OpenSSL takes them as
  // non-const pointers, and UpRef() gives an owned reference. All are safe from any thread.
  X509* cert() const { return cert_.get(); }
  EVP_PKEY* key() const { return key_.get(); }
  // issuers: the certificates after the CA in its certificate file (usually none).
  const std::vector<UniquePtr<X509>>& issuers() const { return issuers_; }
  const std::string& cert_pem() const { return cert_pem_; }
  const std::string& fingerprint_sha256() const { return fingerprint_; }  // "AB:CD:..."
  const std::string& subject() const { return subject_; }  // RFC 2253: "CN=...,O=msb-gateway"
  int64_t not_before() const { return not_before_; }       // unix seconds
  int64_t not_after() const { return not_after_; }
  const std::vector<uint8_t>& key_id() const { return key_id_; }  // subjectKeyIdentifier
  const std::string& cert_path() const { return cert_path_; }     // "" when from memory
  const std::string& key_path() const { return key_path_; }
  // created: this LoadOrCreate call generated the CA (false for every other constructor).
  bool created() const { return created_; }
  // warnings: properties that strict clients reject (e.g. Python 3.13's VERIFY_X509_STRICT: a
  // non-critical basicConstraints, no keyUsage, no subjectKeyIdentifier). For operator CAs only;
  // the generated CA has none. The caller logs them.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // Describe is the multi-line text of `msb-gateway ca show` (subject, SHA-256 fingerprint,
  // validity, key type, files).
  std::string Describe() const;

 private:
  InterceptCa() = default;

  UniquePtr<X509> cert_;
  UniquePtr<EVP_PKEY> key_;
  std::vector<UniquePtr<X509>> issuers_;
  std::string cert_pem_;
  std::string fingerprint_;
  std::string subject_;
  int64_t not_before_ = 0;
  int64_t not_after_ = 0;
  std::vector<uint8_t> key_id_;
  std::string cert_path_;
  std::string key_path_;
  bool created_ = false;
  std::vector<std::string> warnings_;

  friend class CaBuilder;  // certs/ca_builder.h: validation and construction
};

// GeneratedCa is a freshly generated CA in PEM form (LoadOrCreate publishes it; `ca init` in a
// non-default location and tests may use it directly).
struct GeneratedCa {
  std::string cert_pem;
  std::string key_pem;
};
Result<GeneratedCa> GenerateCaPem(int64_t now);

}  // namespace msb::certs
