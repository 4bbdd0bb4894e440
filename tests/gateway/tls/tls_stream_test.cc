// TlsStream client and server over an in-memory connection: handshake with SNI and ALPN, bytes
// both ways under back-pressure, the TLS 1.3 "Finished + first request in one flight" drain,
// close_notify and a bare FIN as end of stream, verification failure reported, not hung.
#include "gateway/tls/tls_stream.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <optional>

#include "../stream_test_util.h"
#include "gateway/core/memory_stream.h"

namespace msb::gateway::tls {
namespace {

using gateway::testing::Endpoint;
using gateway::testing::Pattern;
using gateway::testing::RunUntil;

// A self-signed P-256 certificate for `name`, made once per test binary.
struct TestCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
};

const TestCert& Cert() {
  static TestCert c = [] {
    TestCert t;
    t.key = EVP_EC_gen("P-256");
    t.cert = X509_new();
    X509_set_version(t.cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(t.cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(t.cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(t.cert), 3600);
    X509_NAME* n = X509_get_subject_name(t.cert);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("test.example"), -1, -1, 0);
    X509_set_issuer_name(t.cert, n);
    X509_set_pubkey(t.cert, t.key);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, t.cert, t.cert, nullptr, nullptr, 0);
    X509_EXTENSION* san =
        X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:test.example");
    X509_add_ext(t.cert, san, -1);
    X509_EXTENSION_free(san);
    X509_sign(t.cert, t.key, EVP_sha256());
    return t;
  }();
  return c;
}

int SelectH2(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
             unsigned int inlen, void*) {
  static const unsigned char kH2[] = {2, 'h', '2'};
  unsigned char* o = nullptr;
  if (SSL_select_next_proto(&o, outlen, kH2, sizeof(kH2), in, inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = o;
  return SSL_TLSEXT_ERR_OK;
}

class Observer : public TlsObserver {
 public:
  void OnTlsHandshakeDone() override { done = true; }
  void OnTlsFailed(const TlsFailure& f) override { failure = f; }
  bool done = false;
  std::optional<TlsFailure> failure;
};

class TlsStreamTest : public ::testing::Test {
 protected:
  TlsStreamTest() {
    server_ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(server_ctx_, Cert().cert);
    SSL_CTX_use_PrivateKey(server_ctx_, Cert().key);
    SSL_CTX_set_alpn_select_cb(server_ctx_, SelectH2, nullptr);
    client_ctx_ = SSL_CTX_new(TLS_client_method());
    X509_STORE_add_cert(SSL_CTX_get_cert_store(client_ctx_), Cert().cert);
  }
  ~TlsStreamTest() override {
    SSL_CTX_free(server_ctx_);
    SSL_CTX_free(client_ctx_);
  }

  // Wires client TLS <-> server TLS over one memory connection, with plaintext endpoints.
  void Connect(size_t capacity = 16 * 1024, bool verify = true, const char* host = "test.example",
               int max_version = TLS1_3_VERSION) {
    auto [c, s] = MemoryStream::Pair(loop_.get(), capacity);
    client_lower_ = std::move(c);
    server_lower_ = std::move(s);
    SslPtr cssl(SSL_new(client_ctx_));
    SSL_ctrl(cssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host));  // SSL_set_tlsext_host_name, without its C cast
    SSL_set1_host(cssl.get(), host);
    SSL_set_verify(cssl.get(), verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    SSL_set_max_proto_version(cssl.get(), max_version);
    static const unsigned char kAlpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_set_alpn_protos(cssl.get(), kAlpn, sizeof(kAlpn));
    SSL_set_connect_state(cssl.get());
    SslPtr sssl(SSL_new(server_ctx_));
    SSL_set_accept_state(sssl.get());
    client_ = std::make_unique<TlsStream>(client_lower_.get(), std::move(cssl), &client_obs_);
    server_ = std::make_unique<TlsStream>(server_lower_.get(), std::move(sssl), &server_obs_);
    client_->StartHandshake();
    server_->StartHandshake();
  }
  void Handshake() {
    ASSERT_TRUE(RunUntil(loop_.get(), [&] { return client_obs_.done && server_obs_.done; }));
    ce_ = std::make_unique<Endpoint>(client_.get());
    se_ = std::make_unique<Endpoint>(server_.get());
  }

  FakeClock clock_;
  std::unique_ptr<EventLoop> loop_ = EventLoop::Create(clock_).value();
  SSL_CTX* server_ctx_;
  SSL_CTX* client_ctx_;
  std::unique_ptr<MemoryStream> client_lower_, server_lower_;
  Observer client_obs_, server_obs_;
  std::unique_ptr<TlsStream> client_, server_;
  std::unique_ptr<Endpoint> ce_, se_;
};

TEST_F(TlsStreamTest, HandshakeNegotiatesAlpnAndCarriesBytesBothWays) {
  Connect();
  Handshake();
  EXPECT_EQ(client_->alpn(), "h2");
  EXPECT_EQ(server_->alpn(), "h2");
  std::string up = Pattern(1 << 20, 3);
  std::string down = Pattern(5 << 20, 4);
  ce_->Send(up, true);
  se_->Send(down, true);
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return ce_->eof && se_->eof; }));
  EXPECT_TRUE(se_->received == up);
  EXPECT_TRUE(ce_->received == down);
  EXPECT_FALSE(ce_->reset || se_->reset);
}

TEST_F(TlsStreamTest, TlsTwelveWorksToo) {
  Connect(16 * 1024, true, "test.example", TLS1_2_VERSION);
  Handshake();
  EXPECT_EQ(SSL_version(client_->ssl()), TLS1_2_VERSION);
  ce_->Send("over tls 1.2", true);
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return se_->eof; }));
  EXPECT_EQ(se_->received, "over tls 1.2");
}

TEST_F(TlsStreamTest, ASlowReaderBoundsWhatIsDecrypted) {
  Connect(8 * 1024);
  Handshake();
  se_->paused = true;
  ce_->Send(Pattern(8 << 20));
  RunUntil(loop_.get(), [] { return false; }, 2000);
  EXPECT_LE(server_->ReadableBytes(), TlsStream::kPlaintextBuffer);
  EXPECT_LT(ce_->sent, 2u << 20);  // the writer was held back, not buffered without bound
  se_->paused = false;
  se_->Read();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return se_->received.size() == (8u << 20); }));
  EXPECT_TRUE(se_->received == Pattern(8 << 20));
}

TEST_F(TlsStreamTest, DataInTheHandshakesLastFlightIsNotLeftBehind) {
  // The client writes its request the moment its side of the handshake is done; the server side
  // must deliver it without waiting for more bytes that will never come.
  Connect();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return client_obs_.done; }));
  ce_ = std::make_unique<Endpoint>(client_.get());
  ce_->Send("GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return server_obs_.done; }));
  se_ = std::make_unique<Endpoint>(server_.get());
  se_->Read();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return se_->received.size() == 18; }));
}

TEST_F(TlsStreamTest, AFinWithoutCloseNotifyIsEndOfStream) {
  Connect();
  Handshake();
  se_->Send("response then TCP FIN");
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return ce_->received.size() == 21; }));
  server_lower_->ShutdownWrite();  // no close_notify
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return ce_->eof; }));
  EXPECT_FALSE(ce_->reset);
}

TEST_F(TlsStreamTest, VerificationFailureIsReportedWithItsReason) {
  Connect(16 * 1024, true, "other.example");
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return client_obs_.failure.has_value(); }));
  EXPECT_EQ(client_obs_.failure->verify_result, X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(client_obs_.failure->detail, "certificate verify failed");
  // The server side hears the client's alert and fails too; nothing hangs.
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return server_obs_.failure.has_value(); }));
  EXPECT_TRUE(server_obs_.failure->peer_alert);
}

TEST_F(TlsStreamTest, NotTlsFailsTheHandshakePromptly) {
  auto [c, s] = MemoryStream::Pair(loop_.get());
  SslPtr sssl(SSL_new(server_ctx_));
  SSL_set_accept_state(sssl.get());
  TlsStream server(s.get(), std::move(sssl), &server_obs_);
  Endpoint raw(c.get());
  server.StartHandshake();
  raw.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return server_obs_.failure.has_value(); }));
  EXPECT_FALSE(server_obs_.done);
}

TEST_F(TlsStreamTest, LowerResetFailsAnOpenStream) {
  Connect();
  Handshake();
  server_lower_->Abort();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return ce_->gone; }));
  EXPECT_TRUE(ce_->reset);
  EXPECT_TRUE(client_->failure().lower_closed);
}

}  // namespace
}  // namespace msb::gateway::tls
