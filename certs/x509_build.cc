// X.509 construction helpers (see x509_build.h).
#include "certs/x509_build.h"

#include <openssl/rand.h>

#include <ctime>

namespace msb::certs {

Status SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return Status::Error("cannot generate a serial number: " + OpenSslErrors());
  }
  bytes[0] &= 0x7f;  // positive
  if (bytes[0] == 0) {
    bytes[0] = 1;  // no leading zero byte: the DER INTEGER keeps all 16 bytes
  }
  UniquePtr<BIGNUM> bn(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return Status::Error("cannot set the serial number: " + OpenSslErrors());
  }
  return Status::Ok();
}

Status SetValidity(X509* cert, int64_t not_before, int64_t not_after) {
  if (ASN1_TIME_set(X509_getm_notBefore(cert), static_cast<time_t>(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert), static_cast<time_t>(not_after)) == nullptr) {
    return Status::Error("cannot set the validity period: " + OpenSslErrors());
  }
  return Status::Ok();
}

Status AddExtension(X509* cert, X509_EXTENSION* ext) {
  if (ext == nullptr || X509_add_ext(cert, ext, -1) != 1) {
    return Status::Error("cannot add a certificate extension: " + OpenSslErrors());
  }
  return Status::Ok();
}

UniquePtr<X509_EXTENSION> MakeBasicConstraints(bool ca, long pathlen) {
  UniquePtr<BASIC_CONSTRAINTS> bc(BASIC_CONSTRAINTS_new());
  if (!bc) {
    return nullptr;
  }
  bc->ca = ca ? 0xff : 0;
  if (pathlen >= 0) {
    bc->pathlen = ASN1_INTEGER_new();
    if (bc->pathlen == nullptr || ASN1_INTEGER_set(bc->pathlen, pathlen) != 1) {
      return nullptr;
    }
  }
  return UniquePtr<X509_EXTENSION>(X509V3_EXT_i2d(NID_basic_constraints, 1, bc.get()));
}

UniquePtr<X509_EXTENSION> MakeKeyUsage(std::initializer_list<KeyUsageBit> bits) {
  UniquePtr<ASN1_BIT_STRING> bs(ASN1_BIT_STRING_new());
  if (!bs) {
    return nullptr;
  }
  for (KeyUsageBit bit : bits) {
    if (ASN1_BIT_STRING_set_bit(bs.get(), static_cast<int>(bit), 1) != 1) {
      return nullptr;
    }
  }
  return UniquePtr<X509_EXTENSION>(X509V3_EXT_i2d(NID_key_usage, 1, bs.get()));
}

UniquePtr<X509_EXTENSION> MakeExtendedKeyUsage(std::initializer_list<int> nids) {
  UniquePtr<EXTENDED_KEY_USAGE> eku(sk_ASN1_OBJECT_new_null());
  if (!eku) {
    return nullptr;
  }
  for (int nid : nids) {
    ASN1_OBJECT* obj = OBJ_nid2obj(nid);  // static object: nothing to free
    if (obj == nullptr || sk_ASN1_OBJECT_push(eku.get(), obj) <= 0) {
      return nullptr;
    }
  }
  return UniquePtr<X509_EXTENSION>(X509V3_EXT_i2d(NID_ext_key_usage, 0, eku.get()));
}

UniquePtr<X509_EXTENSION> MakeSubjectKeyId(const std::vector<uint8_t>& key_id) {
  UniquePtr<ASN1_OCTET_STRING> oct(ASN1_OCTET_STRING_new());
  if (!oct ||
      ASN1_OCTET_STRING_set(oct.get(), key_id.data(), static_cast<int>(key_id.size())) != 1) {
    return nullptr;
  }
  return UniquePtr<X509_EXTENSION>(X509V3_EXT_i2d(NID_subject_key_identifier, 0, oct.get()));
}

UniquePtr<X509_EXTENSION> MakeAuthorityKeyId(const std::vector<uint8_t>& key_id) {
  UniquePtr<AUTHORITY_KEYID> akid(AUTHORITY_KEYID_new());
  if (!akid) {
    return nullptr;
  }
  akid->keyid = ASN1_OCTET_STRING_new();
  if (akid->keyid == nullptr ||
      ASN1_OCTET_STRING_set(akid->keyid, key_id.data(), static_cast<int>(key_id.size())) != 1) {
    return nullptr;
  }
  return UniquePtr<X509_EXTENSION>(X509V3_EXT_i2d(NID_authority_key_identifier, 0, akid.get()));
}

UniquePtr<X509_EXTENSION> MakeSubjectAltName(const ServerName& name, bool critical) {
  UniquePtr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
  UniquePtr<GENERAL_NAME> gen(GENERAL_NAME_new());
  UniquePtr<ASN1_STRING> value(name.is_ip() ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new());
  if (!names || !gen || !value) {
    return nullptr;
  }
  int ok = 0;
  if (name.is_ip()) {
    ok = ASN1_OCTET_STRING_set(value.get(), name.ip->bytes().data(),
                               static_cast<int>(name.ip->byte_length()));
  } else {
    ok = ASN1_STRING_set(value.get(), name.text.data(), static_cast<int>(name.text.size()));
  }
  if (ok != 1) {
    return nullptr;
  }
  GENERAL_NAME_set0_value(gen.get(), name.is_ip() ? GEN_IPADD : GEN_DNS, value.release());
  if (sk_GENERAL_NAME_push(names.get(), gen.get()) <= 0) {
    return nullptr;
  }
  gen.release();  // owned by `names` now
  return UniquePtr<X509_EXTENSION>(
      X509V3_EXT_i2d(NID_subject_alt_name, critical ? 1 : 0, names.get()));
}

std::vector<uint8_t> KeyIdOf(const X509* cert) {
  const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(cert);
  if (bits == nullptr) {
    return {};
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(ASN1_STRING_get0_data(bits), static_cast<size_t>(ASN1_STRING_length(bits)), md,
                 &len, EVP_sha1(), nullptr) != 1) {
    ClearOpenSslErrors();
    return {};
  }
  return std::vector<uint8_t>(md, md + len);
}

std::vector<uint8_t> SubjectKeyIdOf(X509* cert) {
  const ASN1_OCTET_STRING* ski = X509_get0_subject_key_id(cert);
  if (ski != nullptr && ASN1_STRING_length(ski) > 0) {
    const unsigned char* data = ASN1_STRING_get0_data(ski);
    return std::vector<uint8_t>(data, data + ASN1_STRING_length(ski));
  }
  return KeyIdOf(cert);
}

UniquePtr<EVP_PKEY> GenerateP256Key() {
  UniquePtr<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") != 1 ||
      EVP_PKEY_generate(ctx.get(), &key) != 1) {
    return nullptr;
  }
  return UniquePtr<EVP_PKEY>(key);
}

Status SignCertificate(X509* cert, EVP_PKEY* key) {
  bool builtin_hash = EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448");
  if (X509_sign(cert, key, builtin_hash ? nullptr : EVP_sha256()) <= 0) {
    return Status::Error("cannot sign the certificate: " + OpenSslErrors());
  }
  return Status::Ok();
}

}  // namespace msb::certs
