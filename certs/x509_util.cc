// X.509 read-side helpers (see x509_util.h). PEM is split with PEM_read_bio so every section is
// seen by name: that is how a swapped certificate/key pair, an encrypted key or a bundle with no
// certificate at all gets a message that says exactly that.
#include "certs/x509_util.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <climits>
#include <ctime>

namespace msb::certs {
namespace {

// PemSection is one "-----BEGIN NAME-----" block, decoded.
struct PemSection {
  std::string name;
  std::string header;
  std::string der;
};

UniquePtr<BIO> MemBio(std::string_view data) {
  if (data.size() > INT_MAX) {
    return nullptr;
  }
  return UniquePtr<BIO>(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// ReadSections decodes every PEM block; it stops at the first malformed one (reported as such).
Result<std::vector<PemSection>> ReadSections(std::string_view pem, const std::string& what) {
  UniquePtr<BIO> bio = MemBio(pem);
  if (!bio) {
    return Status::Error("cannot read " + what + ": " + OpenSslErrors());
  }
  std::vector<PemSection> out;
  while (true) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      break;
    }
    UniquePtr<char> name_owner(name);
    UniquePtr<char> header_owner(header);
    UniquePtr<unsigned char> data_owner(data);
    out.push_back(PemSection{name, header,
                             std::string(reinterpret_cast<char*>(data), static_cast<size_t>(len))});
  }
  // The loop ends with PEM_R_NO_START_LINE at the end of the input; anything else is a damaged
  // block (bad base64, no END line).
  unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
    ClearOpenSslErrors();
    return out;
  }
  return Status::Error(what + " has a malformed PEM block after " + std::to_string(out.size()) +
                       " good one(s): " + OpenSslErrors());
}

bool IsKeySection(const std::string& name) {
  return name.ends_with("PRIVATE KEY");
}

}  // namespace

Result<std::vector<UniquePtr<X509>>> ParseCertificatesPem(std::string_view pem,
                                                          const std::string& what) {
  auto sections = ReadSections(pem, what);
  if (!sections.ok()) {
    return sections.status();
  }
  std::vector<UniquePtr<X509>> certs;
  bool saw_key = false;
  for (const PemSection& s : sections.value()) {
    saw_key = saw_key || IsKeySection(s.name);
    if (s.name != "CERTIFICATE") {
      continue;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(s.der.data());
    UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(s.der.size())));
    if (!cert || p != reinterpret_cast<const unsigned char*>(s.der.data()) + s.der.size()) {
      return Status::Error("certificate #" + std::to_string(certs.size() + 1) + " in " + what +
                           " is not valid DER: " + OpenSslErrors());
    }
    certs.push_back(std::move(cert));
  }
  if (certs.empty()) {
    if (saw_key) {
      return Status::Error(what +
                           " contains a private key but no PEM certificate (are the certificate "
                           "and key paths swapped?)");
    }
    return Status::Error(what +
                         " contains no PEM certificate (expected a \"-----BEGIN CERTIFICATE-----\" "
                         "block)");
  }
  return certs;
}

Result<UniquePtr<EVP_PKEY>> ParsePrivateKeyPem(std::string_view pem, const std::string& what) {
  auto sections = ReadSections(pem, what);
  if (!sections.ok()) {
    return sections.status();
  }
  bool saw_cert = false;
  for (const PemSection& s : sections.value()) {
    saw_cert = saw_cert || s.name == "CERTIFICATE";
    if (!IsKeySection(s.name)) {
      continue;
    }
    if (s.name == "ENCRYPTED PRIVATE KEY" || s.header.find("ENCRYPTED") != std::string::npos) {
      return Status::Error(what +
                           " is a passphrase-protected key; msb-gateway needs it unencrypted "
                           "(openssl pkey -in KEY -out PLAIN.key)");
    }
    break;
  }
  UniquePtr<BIO> bio = MemBio(pem);
  if (!bio) {
    return Status::Error("cannot read " + what + ": " + OpenSslErrors());
  }
  // A callback that supplies no passphrase: OpenSSL's default would prompt on the terminal.
  pem_password_cb* no_passphrase = [](char*, int, int, void*) -> int { return 0; };
  UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    std::string detail = OpenSslErrors();
    if (saw_cert) {
      return Status::Error(what +
                           " contains a certificate but no PEM private key (are the certificate "
                           "and key paths swapped?)");
    }
    return Status::Error(what + " contains no usable PEM private key (" + detail + ")");
  }
  return key;
}

Result<std::string> CertificateToPem(X509* cert) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return Status::Error("cannot encode certificate: " + OpenSslErrors());
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Status::Error("cannot encode private key: " + OpenSslErrors());
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<int64_t> Asn1TimeToUnix(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return Status::Error("invalid certificate time: " + OpenSslErrors());
  }
  return static_cast<int64_t>(timegm(&tm));
}

std::string FormatUnixTime(int64_t unix_seconds) {
  auto t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  if (gmtime_r(&t, &tm) == nullptr) {
    return std::to_string(unix_seconds);
  }
  char buf[32];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

std::string Sha256Fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) {
    ClearOpenSslErrors();
    return "";
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    if (i > 0) {
      out += ':';
    }
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xf];
  }
  return out;
}

std::string NameToString(const X509_NAME* name) {
  UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    ClearOpenSslErrors();
    return "";
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string KeyDescription(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC")) {
    char curve[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, curve, sizeof(curve), &len) == 1) {
      std::string name(curve, len);
      if (name == "prime256v1") {
        name = "P-256";
      } else if (name == "secp384r1") {
        name = "P-384";
      } else if (name == "secp521r1") {
        name = "P-521";
      }
      return "EC " + name;
    }
    return "EC";
  }
  const char* type = EVP_PKEY_get0_type_name(key);
  std::string out = type != nullptr ? type : "unknown";
  if (EVP_PKEY_is_a(key, "RSA")) {
    out += " " + std::to_string(EVP_PKEY_get_bits(key));
  }
  return out;
}

}  // namespace msb::certs
