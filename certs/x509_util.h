// Read-side X.509 helpers shared by the CA loader, the leaf minter and the upstream verifier: PEM
// parsing with precise errors, PEM output, time conversion, fingerprints and display strings.
// `what` arguments name the source in messages (a file path, "the system CA bundle", ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "certs/openssl_ptr.h"

namespace msb::certs {

// ParseCertificatesPem returns every "CERTIFICATE" section of `pem` in order; other sections
// (keys, CRLs, parameters) are skipped. Errors: no CERTIFICATE section ("WHAT contains no PEM
// certificate"; a private key where a certificate was expected gets its own hint), or a section
// that does not decode ("certificate #N in WHAT is not valid DER: ...").
Result<std::vector<UniquePtr<X509>>> ParseCertificatesPem(std::string_view pem,
                                                          const std::string& what);

// ParsePrivateKeyPem reads the first private key (PKCS#8, SEC1 EC or PKCS#1 RSA). Never prompts
// for a passphrase: an encrypted key is an error that says so. A certificate where a key was
// expected gets its own hint.
Result<UniquePtr<EVP_PKEY>> ParsePrivateKeyPem(std::string_view pem, const std::string& what);

// CertificateToPem / PrivateKeyToPem (unencrypted PKCS#8) never fail for well-formed objects;
// the Result covers allocation failure.
Result<std::string> CertificateToPem(X509* cert);
Result<std::string> PrivateKeyToPem(EVP_PKEY* key);

// Asn1TimeToUnix converts an ASN1_TIME (UTCTime or GeneralizedTime) to unix seconds.
Result<int64_t> Asn1TimeToUnix(const ASN1_TIME* t);

// FormatUnixTime gives "2026-11-30T05:45:45Z" (UTC).
std::string FormatUnixTime(int64_t unix_seconds);

// Sha256Fingerprint: the SHA-256 of the DER certificate as uppercase colon hex ("AB:CD:..."), the
// form `openssl x509 -fingerprint -sha256` prints.
std::string Sha256Fingerprint(X509* cert);

// NameToString renders a distinguished name in RFC 2253 form ("CN=x,O=y").
std::string NameToString(const X509_NAME* name);

// KeyDescription: "EC P-256", "RSA 2048", "ED25519", ...
std::string KeyDescription(EVP_PKEY* key);

}  // namespace msb::certs
