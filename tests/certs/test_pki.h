// Test helpers for the certs tests: a temporary directory, a builder for arbitrary (also broken)
// certificates, and an in-memory TLS handshake between a client SSL* and a server SSL* over a BIO
// pair (no sockets).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "certs/openssl_ptr.h"
#include "certs/server_name.h"
#include "tests/base/temp_dir.h"

namespace msb::certs::testing {

using msb::testing::TempDir;  // tests/base/temp_dir.h

struct TestCert {
  UniquePtr<X509> cert;
  UniquePtr<EVP_PKEY> key;
  std::string cert_pem;
  std::string key_pem;
};

struct CertSpec {
  std::string common_name = "test";
  std::vector<std::string> dns_names;  // SAN dNSName entries
  std::vector<std::string> ip_names;   // SAN iPAddress entries (text)
  int64_t not_before = 0;              // unix seconds; 0 = now - 1 h
  int64_t not_after = 0;               // 0 = now + 1 day
  bool ca = false;
  bool basic_constraints = true;
  bool key_usage = true;  // CA: keyCertSign+cRLSign; leaf: digitalSignature+keyEncipherment
  std::vector<int> ext_key_usage = {};  // NIDs; empty = no extendedKeyUsage extension
  bool rsa = false;                     // RSA 2048 instead of EC P-256
  int rsa_bits = 2048;
};

// MakeCert builds and signs a certificate: by `issuer` when given, else self-signed.
TestCert MakeCert(const CertSpec& spec, const TestCert* issuer = nullptr);

// MakeCa is MakeCert for a typical CA (CA:TRUE, keyUsage, SKI) with `cn`.
TestCert MakeCa(const std::string& cn);

// MakeServerLeaf is a typical server leaf for one DNS name with serverAuth, signed by `ca`.
TestCert MakeServerLeaf(const std::string& dns_name, const TestCert& ca);

struct HandshakeResult {
  bool client_ok = false;
  bool server_ok = false;
  long verify_result = 0;  // SSL_get_verify_result(client)
  std::string server_sni;  // the SNI the server received ("" when none)
  std::string client_error;
};

// Handshake pumps a client SSL (connect state) and a server SSL (accept state) against each other
// over a BIO pair until both finish or one fails. Takes ownership of neither.
HandshakeResult Handshake(SSL* client, SSL* server);

// ServerCtx serves `leaf` with `chain` (certificates sent after it).
UniquePtr<SSL_CTX> ServerCtx(const TestCert& leaf, const std::vector<X509*>& chain = {});

// ClientCtx is a bare TLS client context (no trust store of its own).
UniquePtr<SSL_CTX> ClientCtx();

// Now is time(nullptr).
int64_t Now();

// CostMeter measures wall and this-thread CPU time from construction; Per(n) divides by n.
struct Cost {
  double wall_us = 0;
  double cpu_us = 0;
};
class CostMeter {
 public:
  CostMeter();
  Cost Per(int n) const;

 private:
  int64_t wall_start_ns_;
  int64_t cpu_start_ns_;
};

// RunCommand runs a shell command, returning its exit status (-1 when it could not run) and
// putting stdout+stderr into `output`.
int RunCommand(const std::string& command, std::string* output);

}  // namespace msb::certs::testing
