// UpstreamVerifier: how msb-gateway verifies the certificates of the real servers it connects to
// on the guest's behalf. Verification is on by default against the host's trust store; operators
// can add CAs for every host (--tls-upstream-ca-cert FILE), add CAs for some hosts
// (--tls-upstream-ca-cert-for PATTERN=FILE) or turn verification off for some hosts
// (--tls-no-verify-upstream-for PATTERN). For one host the most specific matching pattern wins,
// whatever the declaration order (base/host_pattern.h).
//
// All trust material is read once, at Create: the system bundle (a ~140-certificate PEM file that
// costs ~17 ms to load into a fresh SSL_CTX on this VM) and every extra file. Each distinct trust
// set becomes ONE shared X509_STORE, built once and handed to each connection by reference
// (SSL_set1_verify_cert_store); no hashed-directory lookups happen per connection.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/host_pattern.h"
#include "base/status.h"
#include "certs/openssl_ptr.h"
#include "certs/server_name.h"
#include "certs/verify_failure.h"

namespace msb::certs {

inline constexpr std::string_view kDefaultSystemBundle = "/etc/ssl/certs/ca-certificates.crt";

struct UpstreamTrustOptions {
  // verify: the default for hosts no scoped_verify pattern matches.
  bool verify = true;
  // system_bundle: PEM file of trusted roots. "" = $SSL_CERT_FILE when set, else
  // kDefaultSystemBundle. Read only when some host may be verified (a missing file is then an
  // error); with verification off everywhere it is read if present (so "would have failed"
  // results stay meaningful in audit records) and ignored if not.
  std::string system_bundle;
  // extra_ca_files: trusted for every host, in addition to the system bundle. Every CERTIFICATE
  // section of each file counts; a file with none, or unreadable, is an error naming it.
  std::vector<std::string> extra_ca_files;
  // scoped_ca_files: for hosts whose most specific match is PATTERN, the trust store is system +
  // extra_ca_files + every file given for PATTERN (a pattern given twice gets both files).
  std::vector<std::pair<HostPattern, std::string>> scoped_ca_files;
  // scoped_verify: PATTERN -> verify or not for matching hosts (false: --tls-no-verify-upstream-
  // for). Giving one pattern both values is an error.
  std::vector<std::pair<HostPattern, bool>> scoped_verify;
};

class UpstreamVerifier {
 public:
  // Create loads and parses every file and builds the stores. Errors name the file ("cannot read
  // F: No such file or directory", "F contains no PEM certificate", "certificate #3 in F is not
  // valid DER: ...") or the conflicting pattern.
  static Result<std::shared_ptr<const UpstreamVerifier>> Create(
      const UpstreamTrustOptions& options);

  // HostTrust: what applies to one host. `store` is owned by the verifier (valid for its
  // lifetime); the pattern views name the deciding patterns ("" when the defaults apply) and
  // point into the verifier too.
  struct HostTrust {
    bool verify = true;
    X509_STORE* store = nullptr;
    std::string_view verify_pattern;
    std::string_view ca_pattern;
  };
  HostTrust For(const ServerName& name) const;

  // Configure prepares a client SSL* (before SSL_connect) for `name`: SNI for host names only
  // (never for IP literals, RFC 6066); the name check (X509_VERIFY_PARAM_set1_host with no partial
  // wildcards and no fallback to the subject CN, as browsers do; set1_ip for IP literals); purpose
  // SSL server (a present extendedKeyUsage must allow serverAuth); the host's store; and
  // SSL_VERIFY_PEER, or SSL_VERIFY_NONE when verification is off for the host (the result is still
  // computed: SSL_get_verify_result says what would have failed). Thread-safe (const).
  Status Configure(SSL* ssl, const ServerName& name) const;

  // system_bundle_path: the file actually read ("" when none was); counts for logs.
  const std::string& system_bundle_path() const { return system_bundle_path_; }
  size_t system_certificate_count() const { return system_count_; }
  size_t store_count() const { return stores_.size(); }
  // Describe: a one-paragraph summary for the startup log.
  std::string Describe() const;

 private:
  UpstreamVerifier() = default;

  struct ScopedStore {
    X509_STORE* store = nullptr;
    std::string pattern;  // ToString(), for HostTrust::ca_pattern
  };
  struct ScopedVerify {
    bool verify = true;
    std::string pattern;
  };

  bool verify_default_ = true;
  std::string system_bundle_path_;
  size_t system_count_ = 0;
  size_t extra_count_ = 0;
  std::vector<UniquePtr<X509_STORE>> stores_;  // [0] = system + extras; then one per trust set
  HostPatternMap<ScopedStore> scoped_stores_;
  HostPatternMap<ScopedVerify> scoped_verify_;
};

// VerifyFailureOf classifies SSL_get_verify_result(ssl) after a handshake.
VerifyFailure VerifyFailureOf(const SSL* ssl);

}  // namespace msb::certs
