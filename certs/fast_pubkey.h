// FastEncodingPublicKey: a public-only copy of an EC key that OpenSSL 3.0 can put into a
// certificate cheaply. Measured on this project's 2-vCPU VM (OpenSSL 3.0.19): X509_set_pubkey with
// a provider-native EVP_PKEY runs the generic OSSL_ENCODER and then re-decodes the result (~270 us,
// eight times the ~33 us ECDSA signature), while the same key held as a legacy EC_KEY is encoded
// by its ASN.1 method directly (~6 us). The minter sets this copy on every leaf.
#pragma once

#include "certs/openssl_ptr.h"

namespace msb::certs {

// Returns the legacy copy of `key`'s public half, or an owned reference to `key` itself when it is
// not an EC key or the conversion fails (correct, only slower). Never holds private material.
UniquePtr<EVP_PKEY> FastEncodingPublicKey(EVP_PKEY* key);

}  // namespace msb::certs
