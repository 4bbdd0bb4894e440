// LeafMinter: mints the leaf certificate the guest sees for one server name, signed by the
// intercept CA. Leaf: one minted certificate with everything needed to serve it.
//
// Every leaf of a minter shares ONE ECDSA P-256 key pair, generated at Create (as mitmproxy does):
// a fresh key per name would cost a key generation per mint and buys nothing, since the guest
// trusts the CA, not the leaf key, and the key never leaves the process.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "certs/intercept_ca.h"
#include "certs/openssl_ptr.h"
#include "certs/server_name.h"
#include "certs/wall_clock.h"

namespace msb::certs {

struct LeafOptions {
  // notAfter = now + validity (clamped to the CA's notAfter). At most 397 days (Apple platforms
  // reject longer TLS leaves); a day is plenty because LeafCache renews leaves before they expire.
  int64_t validity_seconds = 24 * 3600;
  // notBefore = max(now - backdate, CA notBefore). A guest restored from a snapshot can run with a
  // clock hours or days behind the host; a leaf that "is not yet valid" for it would break every
  // connection. Never before the CA's own notBefore: a leaf starting before its issuer is rejected
  // by some verifiers (.NET's chain builder did). At most 30 days (the generated CA's backdate).
  int64_t backdate_seconds = 48 * 3600;
};

// Leaf is immutable and shared (std::shared_ptr<const Leaf>) between the cache and every
// connection serving it; all accessors are safe from any thread.
class Leaf {
 public:
  X509* cert() const { return cert_.get(); }
  // key: the minter's leaf private key (the leaf holds its own reference).
  EVP_PKEY* key() const { return key_.get(); }
  // chain: the certificates to send after the leaf: the CA, then the CA's own issuers if any.
  STACK_OF(X509) * chain() const { return chain_.get(); }
  const ServerName& name() const { return name_; }
  int64_t not_before() const { return not_before_; }
  int64_t not_after() const { return not_after_; }
  int64_t minted_at() const { return minted_at_; }  // the minter's clock at Mint
  const std::string& ca_fingerprint() const { return ca_fingerprint_; }

  // InstallOn makes `ssl` (a server-side SSL*) present this leaf, its key and chain
  // (SSL_use_cert_and_key: the SSL takes its own references). Error when OpenSSL refuses.
  Status InstallOn(SSL* ssl) const;

 private:
  friend class LeafMinter;
  Leaf() = default;

  UniquePtr<X509> cert_;
  UniquePtr<EVP_PKEY> key_;
  UniquePtr<STACK_OF(X509)> chain_;
  ServerName name_;
  int64_t not_before_ = 0;
  int64_t not_after_ = 0;
  int64_t minted_at_ = 0;
  std::string ca_fingerprint_;
};

class LeafMinter {
 public:
  // Create generates the leaf key pair and the per-minter constant parts of every leaf. Errors:
  // options out of range (validity 1 s..397 days, backdate 0..30 days), key generation failure.
  static Result<std::shared_ptr<const LeafMinter>> Create(std::shared_ptr<const InterceptCa> ca,
                                                          LeafOptions options = {},
                                                          WallClock clock = SystemWallClock());

  // Mint creates a leaf for `name`: SAN with one dNSName (host names) or iPAddress (IP literals);
  // subject O=msb-gateway plus CN=name when the name fits in 64 bytes; serial random 128-bit;
  // issuer the CA's subject; basicConstraints critical CA:FALSE; keyUsage critical
  // digitalSignature; extendedKeyUsage serverAuth; subject and authority key identifiers; validity
  // per LeafOptions; signed by the CA key with SHA-256. Errors: the CA is expired or not yet valid
  // at the clock's "now", or OpenSSL fails. Thread-safe (const; the CA key is only read).
  Result<std::shared_ptr<const Leaf>> Mint(const ServerName& name) const;

  EVP_PKEY* leaf_key() const { return leaf_key_.get(); }
  const InterceptCa& ca() const { return *ca_; }
  const LeafOptions& options() const { return options_; }
  int64_t Now() const { return clock_(); }

 private:
  LeafMinter() = default;

  std::shared_ptr<const InterceptCa> ca_;
  LeafOptions options_;
  WallClock clock_;
  UniquePtr<EVP_PKEY> leaf_key_;
  UniquePtr<EVP_PKEY> leaf_public_;  // FastEncodingPublicKey(leaf_key_)
  UniquePtr<STACK_OF(X509)> chain_;  // CA + issuers
  // Constant extensions, built once; X509_add_ext copies them into each leaf.
  UniquePtr<X509_EXTENSION> basic_constraints_;
  UniquePtr<X509_EXTENSION> key_usage_;
  UniquePtr<X509_EXTENSION> ext_key_usage_;
  UniquePtr<X509_EXTENSION> subject_key_id_;
  UniquePtr<X509_EXTENSION> authority_key_id_;
};

}  // namespace msb::certs
