// The one place msb-gateway uses OpenSSL's deprecated EC_KEY API, deliberately and only for a
// public key: a legacy EVP_PKEY is what makes X509_set_pubkey cheap in OpenSSL 3.0 (see
// fast_pubkey.h for the measurements). If a later OpenSSL drops the API, the fallback below keeps
// minting correct.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "certs/fast_pubkey.h"

#include <openssl/ec.h>
#include <openssl/x509.h>

namespace msb::certs {

UniquePtr<EVP_PKEY> FastEncodingPublicKey(EVP_PKEY* key) {
  if (!EVP_PKEY_is_a(key, "EC")) {
    return UpRef(key);
  }
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  UniquePtr<unsigned char> der_owner(der);
  if (len <= 0) {
    ClearOpenSslErrors();
    return UpRef(key);
  }
  const unsigned char* p = der;
  EC_KEY* ec = d2i_EC_PUBKEY(nullptr, &p, len);
  UniquePtr<EVP_PKEY> legacy(EVP_PKEY_new());
  if (ec == nullptr || !legacy || EVP_PKEY_assign_EC_KEY(legacy.get(), ec) != 1) {
    EC_KEY_free(ec);
    ClearOpenSslErrors();
    return UpRef(key);
  }
  return legacy;
}

}  // namespace msb::certs
