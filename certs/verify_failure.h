// VerifyFailure: the coarse reason an upstream certificate failed verification, for audit
// records and error pages ("upstream certificate expired"). OpenSSL's X509_V_ERR_* codes are
// mapped onto a handful of classes a user can act on; the exact code stays available from
// SSL_get_verify_result and X509_verify_cert_error_string.
#pragma once

#include <cstdint>
#include <string_view>

namespace msb::certs {

enum class VerifyFailure : uint8_t {
  kNone,          // X509_V_OK
  kExpired,       // the leaf or a chain certificate is past its notAfter
  kNotYetValid,   // ... before its notBefore
  kSelfSigned,    // a self-signed leaf, or a self-signed root we do not trust
  kWrongName,     // no SAN (or CN) matches the host name or IP
  kUntrusted,     // the chain does not end at a trusted CA (unknown issuer, incomplete chain)
  kNoServerAuth,  // a certificate's (extended) key usage does not allow TLS server auth
  kBadSignature,  // a signature in the chain does not verify
  kOther,         // everything else (malformed, path length, name constraints, ...)
};

// ClassifyVerifyResult maps an X509_V_* code (SSL_get_verify_result) to its class.
VerifyFailure ClassifyVerifyResult(long x509_verify_result);

// VerifyFailureName: "none", "expired", "not_yet_valid", "self_signed", "wrong_name", "untrusted",
// "no_server_auth", "bad_signature", "other" (stable: audit records use them).
std::string_view VerifyFailureName(VerifyFailure failure);

}  // namespace msb::certs
