// Test PKI builder and in-memory handshakes (see test_pki.h). Failures here abort the test binary
// loudly: a broken fixture must never look like a passing test.
#include "tests/certs/test_pki.h"

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "certs/x509_build.h"
#include "certs/x509_util.h"

namespace msb::certs::testing {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "test_pki: %s: %s\n", what.c_str(), OpenSslErrors().c_str());
  std::abort();
}

void Check(bool ok, const char* what) {
  if (!ok) {
    Die(what);
  }
}

void Check(const Status& st, const char* what) {
  if (!st.ok()) {
    Die(std::string(what) + ": " + st.message());
  }
}

}  // namespace

int64_t Now() {
  return static_cast<int64_t>(std::time(nullptr));
}

TestCert MakeCert(const CertSpec& spec, const TestCert* issuer) {
  TestCert out;
  if (spec.rsa) {
    out.key.reset(EVP_RSA_gen(static_cast<unsigned>(spec.rsa_bits)));
  } else {
    out.key = GenerateP256Key();
  }
  Check(out.key != nullptr, "keygen");
  out.cert.reset(X509_new());
  X509* x = out.cert.get();
  int64_t now = Now();
  Check(X509_set_version(x, X509_VERSION_3) == 1, "version");
  Check(SetRandomSerial(x), "serial");
  Check(SetValidity(x, spec.not_before != 0 ? spec.not_before : now - 3600,
                    spec.not_after != 0 ? spec.not_after : now + 86400),
        "validity");
  X509_NAME* subject = X509_get_subject_name(x);
  Check(X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(spec.common_name.data()),
                                   static_cast<int>(spec.common_name.size()), -1, 0) == 1,
        "subject");
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : x;
  Check(X509_set_issuer_name(x, X509_get_subject_name(issuer_cert)) == 1, "issuer");
  Check(X509_set_pubkey(x, out.key.get()) == 1, "pubkey");
  if (spec.basic_constraints) {
    Check(AddExtension(x, MakeBasicConstraints(spec.ca, -1).get()), "bc");
  }
  if (spec.key_usage) {
    auto ku = spec.ca
                  ? MakeKeyUsage({KeyUsageBit::kKeyCertSign, KeyUsageBit::kCrlSign})
                  : MakeKeyUsage({KeyUsageBit::kDigitalSignature, KeyUsageBit::kKeyEncipherment});
    Check(AddExtension(x, ku.get()), "ku");
  }
  if (!spec.ext_key_usage.empty()) {
    UniquePtr<EXTENDED_KEY_USAGE> eku(sk_ASN1_OBJECT_new_null());
    for (int nid : spec.ext_key_usage) {
      sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(nid));
    }
    UniquePtr<X509_EXTENSION> ext(X509V3_EXT_i2d(NID_ext_key_usage, 0, eku.get()));
    Check(AddExtension(x, ext.get()), "eku");
  }
  Check(AddExtension(x, MakeSubjectKeyId(KeyIdOf(x)).get()), "ski");
  if (issuer != nullptr) {
    Check(AddExtension(x, MakeAuthorityKeyId(SubjectKeyIdOf(issuer->cert.get())).get()), "aki");
  }
  if (!spec.dns_names.empty() || !spec.ip_names.empty()) {
    UniquePtr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
    for (const std::string& dns : spec.dns_names) {
      GENERAL_NAME* g = GENERAL_NAME_new();
      ASN1_IA5STRING* s = ASN1_IA5STRING_new();
      ASN1_STRING_set(s, dns.data(), static_cast<int>(dns.size()));
      GENERAL_NAME_set0_value(g, GEN_DNS, s);
      sk_GENERAL_NAME_push(names.get(), g);
    }
    for (const std::string& ip_text : spec.ip_names) {
      auto ip = IpAddress::Parse(ip_text);
      Check(ip.has_value(), "ip SAN text");
      GENERAL_NAME* g = GENERAL_NAME_new();
      ASN1_OCTET_STRING* s = ASN1_OCTET_STRING_new();
      ASN1_OCTET_STRING_set(s, ip->bytes().data(), static_cast<int>(ip->byte_length()));
      GENERAL_NAME_set0_value(g, GEN_IPADD, s);
      sk_GENERAL_NAME_push(names.get(), g);
    }
    UniquePtr<X509_EXTENSION> ext(X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get()));
    Check(AddExtension(x, ext.get()), "san");
  }
  Check(SignCertificate(x, issuer != nullptr ? issuer->key.get() : out.key.get()), "sign");
  auto cert_pem = CertificateToPem(x);
  auto key_pem = PrivateKeyToPem(out.key.get());
  Check(cert_pem.ok() && key_pem.ok(), "pem");
  out.cert_pem = cert_pem.value();
  out.key_pem = key_pem.value();
  return out;
}

TestCert MakeCa(const std::string& cn) {
  CertSpec spec;
  spec.common_name = cn;
  spec.ca = true;
  spec.not_before = Now() - 30 * 86400;
  spec.not_after = Now() + 365 * 86400;
  return MakeCert(spec);
}

TestCert MakeServerLeaf(const std::string& dns_name, const TestCert& ca) {
  CertSpec spec;
  spec.common_name = dns_name;
  spec.dns_names = {dns_name};
  spec.ext_key_usage = {NID_server_auth};
  return MakeCert(spec, &ca);
}

UniquePtr<SSL_CTX> ServerCtx(const TestCert& leaf, const std::vector<X509*>& chain) {
  UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()));
  Check(ctx != nullptr, "server ctx");
  Check(SSL_CTX_use_certificate(ctx.get(), leaf.cert.get()) == 1, "server cert");
  Check(SSL_CTX_use_PrivateKey(ctx.get(), leaf.key.get()) == 1, "server key");
  for (X509* c : chain) {
    Check(SSL_CTX_add1_chain_cert(ctx.get(), c) == 1, "server chain");
  }
  return ctx;
}

UniquePtr<SSL_CTX> ClientCtx() {
  UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  Check(ctx != nullptr, "client ctx");
  return ctx;
}

HandshakeResult Handshake(SSL* client, SSL* server) {
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  Check(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) == 1, "bio pair");
  SSL_set_bio(client, client_bio, client_bio);
  SSL_set_bio(server, server_bio, server_bio);
  SSL_set_connect_state(client);
  SSL_set_accept_state(server);
  HandshakeResult r;
  bool client_failed = false;
  bool server_failed = false;
  for (int round = 0; round < 100 && !(r.client_ok && r.server_ok); ++round) {
    if (!r.client_ok && !client_failed) {
      int rc = SSL_do_handshake(client);
      if (rc == 1) {
        r.client_ok = true;
      } else if (SSL_get_error(client, rc) != SSL_ERROR_WANT_READ) {
        client_failed = true;
        r.client_error = OpenSslErrors();
      }
    }
    if (!r.server_ok && !server_failed) {
      int rc = SSL_do_handshake(server);
      if (rc == 1) {
        r.server_ok = true;
      } else if (SSL_get_error(server, rc) != SSL_ERROR_WANT_READ) {
        server_failed = true;
        ClearOpenSslErrors();
      }
    }
    if (client_failed && (server_failed || r.server_ok)) {
      break;
    }
    if (client_failed && round > 4) {
      break;
    }
  }
  r.verify_result = SSL_get_verify_result(client);
  const char* sni = SSL_get_servername(server, TLSEXT_NAMETYPE_host_name);
  r.server_sni = sni != nullptr ? sni : "";
  return r;
}

namespace {

int64_t ClockNs(clockid_t id) {
  struct timespec ts {};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

CostMeter::CostMeter()
    : wall_start_ns_(ClockNs(CLOCK_MONOTONIC)), cpu_start_ns_(ClockNs(CLOCK_THREAD_CPUTIME_ID)) {}

Cost CostMeter::Per(int n) const {
  Cost c;
  c.wall_us = static_cast<double>(ClockNs(CLOCK_MONOTONIC) - wall_start_ns_) / 1000.0 / n;
  c.cpu_us = static_cast<double>(ClockNs(CLOCK_THREAD_CPUTIME_ID) - cpu_start_ns_) / 1000.0 / n;
  return c;
}

int RunCommand(const std::string& command, std::string* output) {
  output->clear();
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return -1;
  }
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) {
    output->append(buf, n);
  }
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace msb::certs::testing
