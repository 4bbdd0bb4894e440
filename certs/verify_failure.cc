// X509_V_ERR_* -> VerifyFailure (see verify_failure.h).
#include "certs/verify_failure.h"

#include <openssl/x509_vfy.h>

namespace msb::certs {

VerifyFailure ClassifyVerifyResult(long x509_verify_result) {
  switch (x509_verify_result) {
    case X509_V_OK:
      return VerifyFailure::kNone;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return VerifyFailure::kExpired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return VerifyFailure::kNotYetValid;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return VerifyFailure::kSelfSigned;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return VerifyFailure::kWrongName;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
      return VerifyFailure::kUntrusted;
    case X509_V_ERR_INVALID_PURPOSE:
      return VerifyFailure::kNoServerAuth;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
      return VerifyFailure::kBadSignature;
    default:
      return VerifyFailure::kOther;
  }
}

std::string_view VerifyFailureName(VerifyFailure failure) {
  switch (failure) {
    case VerifyFailure::kNone:
      return "none";
    case VerifyFailure::kExpired:
      return "expired";
    case VerifyFailure::kNotYetValid:
      return "not_yet_valid";
    case VerifyFailure::kSelfSigned:
      return "self_signed";
    case VerifyFailure::kWrongName:
      return "wrong_name";
    case VerifyFailure::kUntrusted:
      return "untrusted";
    case VerifyFailure::kNoServerAuth:
      return "no_server_auth";
    case VerifyFailure::kBadSignature:
      return "bad_signature";
    case VerifyFailure::kOther:
      return "other";
  }
  return "other";
}

}  // namespace msb::certs
