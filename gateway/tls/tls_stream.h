// TlsStream: TLS (client or server role) over another ByteStream, presented as a plaintext
// ByteStream, so relays written for plaintext run unchanged inside an intercepted tunnel.
//
// OpenSSL reads ciphertext straight from the lower stream and writes records straight into it
// through a BIO of our own (no memory-BIO copy per record); a record the lower stream cannot take
// yet waits in a bounded buffer, and WriteSpace() says 0 while it is full. Decrypted bytes are
// kept in a bounded buffer (kPlaintextBuffer) and decryption stops while it is full, so a slow
// consumer closes the peer's TCP window instead of growing memory. Every byte decrypted during
// the handshake's last flight (a TLS 1.3 client's Finished and first request in one segment) is
// drained at once.
//
// Life: StartHandshake() -> TlsObserver::OnTlsHandshakeDone() or OnTlsFailed(); afterwards the
// ordinary StreamHandler callbacks. ShutdownWrite() sends close_notify, then ends the lower
// stream's write side. A peer's close_notify, or its TCP FIN without one (common, and harmless
// for length-framed protocols), is ReadEof(). A TLS error after the handshake is OnStreamGone
// (true) with failure() saying what it was.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "gateway/core/byte_stream.h"

namespace msb::gateway::tls {

// TlsFailure describes why a handshake or a TLS connection failed, for the audit log.
struct TlsFailure {
  std::string detail;          // OpenSSL's reason ("certificate verify failed", ...) or ours
  long verify_result = 0;      // X509_V_OK unless peer verification failed (client role)
  bool peer_alert = false;     // the peer sent a fatal alert
  bool lower_closed = false;   // the transport ended (FIN or RST) before the handshake finished
};

class TlsObserver {
 public:
  virtual ~TlsObserver() = default;
  virtual void OnTlsHandshakeDone() = 0;
  virtual void OnTlsFailed(const TlsFailure& failure) = 0;
};

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

class TlsStream final : public ByteStream, private StreamHandler {
 public:
  static constexpr size_t kPlaintextBuffer = 64 * 1024;
  static constexpr size_t kMaxPendingCiphertext = 64 * 1024;

  // `ssl` is configured by the caller (role, certificate or verification, SNI, ALPN) and owned
  // from here on; `lower` and `observer` are borrowed and must outlive the stream.
  TlsStream(ByteStream* lower, SslPtr ssl, TlsObserver* observer);
  ~TlsStream() override;
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  // StartHandshake takes over the lower stream's callbacks and begins (bytes already waiting
  // there, e.g. a replayed ClientHello, are read at once).
  void StartHandshake();
  bool handshake_done() const { return handshake_done_; }
  SSL* ssl() const { return ssl_.get(); }
  // alpn is the protocol negotiated ("" when none).
  std::string alpn() const;
  const TlsFailure& failure() const { return failure_; }
  // ReleaseIdleBuffers frees OpenSSL's read and write buffers when nothing is pending in them
  // (about 34 KiB per connection); they are allocated again on the next record.
  void ReleaseIdleBuffers();

  // ByteStream (plaintext).
  void SetHandler(StreamHandler* handler) override { handler_ = handler; }
  size_t ReadableBytes() const override { return end_ - begin_; }
  std::span<const uint8_t> Peek() const override;
  void Consume(size_t n) override;
  bool ReadEof() const override { return peer_eof_ && begin_ == end_; }
  size_t WriteSpace() const override;
  size_t Write(std::span<const uint8_t> data) override;
  void Flush() override;
  void ShutdownWrite() override;
  bool write_shut() const override { return write_shut_; }
  void Abort() override;

  // Used by the BIO (tls_stream.cc), not by callers.
  int BioRead(char* out, int len);
  int BioWrite(const char* data, int len);
  bool BioEof() const { return lower_->ReadEof(); }

 private:
  void OnStreamReadable() override;
  void OnStreamWritable() override;
  void OnStreamGone(bool reset) override;

  void Drive();
  void DoHandshake();
  void ReadPlaintext();
  bool FlushCiphertext();
  void Fail(std::string detail);
  void CollectError(std::string_view fallback);
  void MaybeFinishShutdown();
  void MaybeReportOrderlyEnd();

  ByteStream* lower_;
  SslPtr ssl_;
  TlsObserver* observer_;
  StreamHandler* handler_ = nullptr;
  TlsFailure failure_;
  std::unique_ptr<uint8_t[]> plain_;  // kPlaintextBuffer bytes while holding plaintext
  size_t begin_ = 0;
  size_t end_ = 0;
  std::vector<uint8_t> cipher_out_;  // records the lower stream has not taken yet
  size_t cipher_off_ = 0;
  bool started_ = false;
  bool handshake_done_ = false;
  bool failed_ = false;
  bool peer_eof_ = false;
  bool write_shut_ = false;
  bool shutdown_pending_ = false;  // close_notify queued; lower ShutdownWrite once flushed
  bool lower_gone_ = false;
  bool gone_reported_ = false;
  bool driving_ = false;
  bool drive_again_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace msb::gateway::tls
