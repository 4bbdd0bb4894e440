// Write-side X.509 helpers for the CA generator and the leaf minter (tests build their odd
// certificates with them too). Extensions are built from typed OpenSSL structures, never from
// nconf strings, so no name or value is ever re-parsed by OpenSSL's config language.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "base/status.h"
#include "certs/openssl_ptr.h"
#include "certs/server_name.h"

namespace msb::certs {

// Key-usage bits by their RFC 5280 position (not OpenSSL's KU_* flag values).
enum class KeyUsageBit : int {
  kDigitalSignature = 0,
  kKeyEncipherment = 2,
  kKeyCertSign = 5,
  kCrlSign = 6,
};

// SetRandomSerial gives `cert` a random positive 128-bit serial number (top bit clear, first byte
// non-zero, so it always encodes as 16 bytes).
Status SetRandomSerial(X509* cert);

// SetValidity sets notBefore/notAfter from unix seconds (UTCTime before 2050, GeneralizedTime
// after, as RFC 5280 requires).
Status SetValidity(X509* cert, int64_t not_before, int64_t not_after);

// AddExtension appends a copy of `ext` to `cert`.
Status AddExtension(X509* cert, X509_EXTENSION* ext);

// Extension builders; each returns nullptr only on allocation failure.
// basicConstraints, critical. pathlen < 0 means no pathLenConstraint.
UniquePtr<X509_EXTENSION> MakeBasicConstraints(bool ca, long pathlen);
// keyUsage, critical, with the given RFC 5280 bit positions set.
UniquePtr<X509_EXTENSION> MakeKeyUsage(std::initializer_list<KeyUsageBit> bits);
// extendedKeyUsage (non-critical) with the given NIDs (NID_server_auth, NID_client_auth...).
UniquePtr<X509_EXTENSION> MakeExtendedKeyUsage(std::initializer_list<int> nids);
// subjectKeyIdentifier / authorityKeyIdentifier (keyid only), non-critical.
UniquePtr<X509_EXTENSION> MakeSubjectKeyId(const std::vector<uint8_t>& key_id);
UniquePtr<X509_EXTENSION> MakeAuthorityKeyId(const std::vector<uint8_t>& key_id);
// subjectAltName with one dNSName (host names) or iPAddress (IP literals) entry.
UniquePtr<X509_EXTENSION> MakeSubjectAltName(const ServerName& name, bool critical);

// KeyIdOf is RFC 5280 section 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING of
// `cert`'s public key (which must be set). Empty on failure.
std::vector<uint8_t> KeyIdOf(const X509* cert);

// SubjectKeyIdOf returns the certificate's subjectKeyIdentifier, or KeyIdOf(cert) when it has
// none (what an authorityKeyIdentifier pointing at it must carry).
std::vector<uint8_t> SubjectKeyIdOf(X509* cert);

// GenerateP256Key makes a fresh ECDSA P-256 key pair (nullptr on failure; OpenSslErrors() says
// why). EVP_EC_gen would do, but its macro casts away const, which -Wcast-qual rejects.
UniquePtr<EVP_PKEY> GenerateP256Key();

// SignCertificate signs with `key`: SHA-256 for RSA and EC keys, the built-in hash for Ed25519 and
// Ed448.
Status SignCertificate(X509* cert, EVP_PKEY* key);

}  // namespace msb::certs
