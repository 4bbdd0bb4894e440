// Owning smart pointers for OpenSSL objects: msb::certs::UniquePtr<T> frees with the right
// OpenSSL function through a per-type deleter trait, and UpRef(p) turns a borrowed pointer into an
// owned one by taking a reference. Also OpenSslErrors(), which drains the thread's OpenSSL error
// queue into a short string for Status messages.
//
// ASN1_INTEGER, ASN1_TIME, ASN1_OCTET_STRING, ASN1_IA5STRING and ASN1_BIT_STRING are all
// `struct asn1_string_st` in OpenSSL, so UniquePtr of any of them frees with ASN1_STRING_free.
// GENERAL_NAMES is STACK_OF(GENERAL_NAME); its UniquePtr frees the stack and every name in it.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace msb::certs {

template <typename T>
struct OpenSslDeleter;  // specialised below for every type UniquePtr supports

#define MSB_CERTS_DELETER(Type, expr)           \
  template <>                                   \
  struct OpenSslDeleter<Type> {                 \
    void operator()(Type* p) const { expr(p); } \
  }

MSB_CERTS_DELETER(X509, X509_free);
MSB_CERTS_DELETER(X509_NAME, X509_NAME_free);
MSB_CERTS_DELETER(X509_EXTENSION, X509_EXTENSION_free);
MSB_CERTS_DELETER(X509_STORE, X509_STORE_free);
MSB_CERTS_DELETER(X509_STORE_CTX, X509_STORE_CTX_free);
MSB_CERTS_DELETER(X509_VERIFY_PARAM, X509_VERIFY_PARAM_free);
MSB_CERTS_DELETER(X509_PUBKEY, X509_PUBKEY_free);
MSB_CERTS_DELETER(EVP_PKEY, EVP_PKEY_free);
MSB_CERTS_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free);
MSB_CERTS_DELETER(EVP_MD_CTX, EVP_MD_CTX_free);
MSB_CERTS_DELETER(BIO, BIO_free_all);
MSB_CERTS_DELETER(BIGNUM, BN_free);
MSB_CERTS_DELETER(ASN1_STRING, ASN1_STRING_free);
MSB_CERTS_DELETER(ASN1_OBJECT, ASN1_OBJECT_free);
MSB_CERTS_DELETER(GENERAL_NAME, GENERAL_NAME_free);
MSB_CERTS_DELETER(GENERAL_NAMES, GENERAL_NAMES_free);
MSB_CERTS_DELETER(BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free);
MSB_CERTS_DELETER(AUTHORITY_KEYID, AUTHORITY_KEYID_free);
MSB_CERTS_DELETER(EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free);
MSB_CERTS_DELETER(SSL_CTX, SSL_CTX_free);
MSB_CERTS_DELETER(SSL, SSL_free);
MSB_CERTS_DELETER(STACK_OF(X509), [](STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); });
MSB_CERTS_DELETER(char, [](char* s) { OPENSSL_free(s); });  // OpenSSL-allocated text
MSB_CERTS_DELETER(unsigned char, [](unsigned char* s) { OPENSSL_free(s); });  // i2d output

#undef MSB_CERTS_DELETER

template <typename T>
using UniquePtr = std::unique_ptr<T, OpenSslDeleter<T>>;

// UpRef returns a new owning reference to `p` (nullptr stays nullptr). The object is shared, not
// copied: OpenSSL reference counts are atomic, so the references may live on different threads.
inline UniquePtr<X509> UpRef(X509* p) {
  return UniquePtr<X509>(p != nullptr && X509_up_ref(p) == 1 ? p : nullptr);
}
inline UniquePtr<EVP_PKEY> UpRef(EVP_PKEY* p) {
  return UniquePtr<EVP_PKEY>(p != nullptr && EVP_PKEY_up_ref(p) == 1 ? p : nullptr);
}
inline UniquePtr<X509_STORE> UpRef(X509_STORE* p) {
  return UniquePtr<X509_STORE>(p != nullptr && X509_STORE_up_ref(p) == 1 ? p : nullptr);
}
inline UniquePtr<SSL_CTX> UpRef(SSL_CTX* p) {
  return UniquePtr<SSL_CTX>(p != nullptr && SSL_CTX_up_ref(p) == 1 ? p : nullptr);
}
inline UniquePtr<SSL> UpRef(SSL* p) {
  return UniquePtr<SSL>(p != nullptr && SSL_up_ref(p) == 1 ? p : nullptr);
}
// UpRefChain returns a new stack holding a reference to every certificate of `chain`.
inline UniquePtr<STACK_OF(X509)> UpRefChain(STACK_OF(X509) * chain) {
  return UniquePtr<STACK_OF(X509)>(chain != nullptr ? X509_chain_up_ref(chain) : nullptr);
}

// OpenSslErrors empties this thread's OpenSSL error queue and returns its entries as
// "library: reason (detail)" joined by "; " (at most 3 entries, at most ~300 bytes), or
// "no OpenSSL error detail" when the queue was empty. Call it right after the failing call.
std::string OpenSslErrors();

// ClearOpenSslErrors discards this thread's queue (before a call whose failure is expected and
// handled, so stale entries never leak into a later message).
void ClearOpenSslErrors();

}  // namespace msb::certs
