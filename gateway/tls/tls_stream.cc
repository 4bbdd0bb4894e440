// TlsStream: TLS over a ByteStream through a BIO of our own (see tls_stream.h).
#include "gateway/tls/tls_stream.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace msb::gateway::tls {
namespace {

constexpr size_t kMaxWriteChunk = 64 * 1024;

TlsStream* Self(BIO* bio) {
  return static_cast<TlsStream*>(BIO_get_data(bio));
}

int BioWriteCb(BIO* bio, const char* data, int len) {
  BIO_clear_retry_flags(bio);
  return Self(bio)->BioWrite(data, len);
}

int BioReadCb(BIO* bio, char* out, int len) {
  BIO_clear_retry_flags(bio);
  int n = Self(bio)->BioRead(out, len);
  if (n < 0) {
    BIO_set_retry_read(bio);  // nothing buffered yet: OpenSSL returns SSL_ERROR_WANT_READ
  }
  return n;
}

long BioCtrlCb(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;  // records are handed to the lower stream as they are written
    case BIO_CTRL_EOF:
      return Self(bio)->BioEof() ? 1 : 0;
    default:
      return 0;
  }
}

int BioCreateCb(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* StreamBioMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "msb-byte-stream");
    BIO_meth_set_write(m, BioWriteCb);
    BIO_meth_set_read(m, BioReadCb);
    BIO_meth_set_ctrl(m, BioCtrlCb);
    BIO_meth_set_create(m, BioCreateCb);
    return m;
  }();
  return method;
}

}  // namespace

TlsStream::TlsStream(ByteStream* lower, SslPtr ssl, TlsObserver* observer)
    : lower_(lower), ssl_(std::move(ssl)), observer_(observer) {
  BIO* bio = BIO_new(StreamBioMethod());
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_.get(), bio, bio);  // one BIO both ways; the SSL owns it
  // A peer that ends the TCP connection without close_notify (many HTTP servers) is an end of
  // stream, not an error: message framing, not TLS, says whether a response was complete.
  SSL_set_options(ssl_.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
}

TlsStream::~TlsStream() {
  *alive_ = false;
  if (started_) {
    lower_->SetHandler(nullptr);
  }
}

void TlsStream::StartHandshake() {
  started_ = true;
  lower_->SetHandler(this);
  Drive();
}

std::string TlsStream::alpn() const {
  const unsigned char* p = nullptr;
  unsigned int n = 0;
  SSL_get0_alpn_selected(ssl_.get(), &p, &n);
  return p != nullptr ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

void TlsStream::ReleaseIdleBuffers() {
  if (cipher_out_.empty() && begin_ == end_) {
    SSL_free_buffers(ssl_.get());
    plain_.reset();
    begin_ = end_ = 0;
  }
}

int TlsStream::BioRead(char* out, int len) {
  if (lower_->ReadableBytes() == 0) {
    return lower_->ReadEof() || lower_gone_ ? 0 : -1;
  }
  std::span<const uint8_t> chunk = lower_->Peek();
  size_t n = std::min(chunk.size(), static_cast<size_t>(len));
  std::memcpy(out, chunk.data(), n);
  lower_->Consume(n);
  return static_cast<int>(n);
}

int TlsStream::BioWrite(const char* data, int len) {
  auto bytes = reinterpret_cast<const uint8_t*>(data);
  size_t n = static_cast<size_t>(len);
  size_t taken = 0;
  if (cipher_off_ == cipher_out_.size() && !lower_gone_) {
    taken = lower_->Write({bytes, n});  // the common case: straight into the transport
  }
  if (taken < n) {
    cipher_out_.insert(cipher_out_.end(), bytes + taken, bytes + n);
  }
  return len;  // always accepted: OpenSSL never has to retry a write
}

bool TlsStream::FlushCiphertext() {
  while (cipher_off_ < cipher_out_.size()) {
    size_t n = lower_->Write({cipher_out_.data() + cipher_off_, cipher_out_.size() - cipher_off_});
    if (n == 0) {
      return false;
    }
    cipher_off_ += n;
  }
  cipher_out_.clear();
  cipher_out_.shrink_to_fit();  // an idle connection keeps no record buffer
  cipher_off_ = 0;
  return true;
}

std::span<const uint8_t> TlsStream::Peek() const {
  return {plain_.get() + begin_, end_ - begin_};
}

void TlsStream::Consume(size_t n) {
  begin_ += std::min(n, end_ - begin_);
  if (begin_ == end_) {
    begin_ = end_ = 0;
  }
  Drive();  // room again: decrypt what waits in the lower stream
}

size_t TlsStream::WriteSpace() const {
  if (!handshake_done_ || failed_ || write_shut_ ||
      cipher_out_.size() - cipher_off_ >= kMaxPendingCiphertext) {
    return 0;
  }
  return kMaxWriteChunk;
}

size_t TlsStream::Write(std::span<const uint8_t> data) {
  if (WriteSpace() == 0 || data.empty()) {
    return 0;
  }
  size_t n = std::min(data.size(), kMaxWriteChunk);
  size_t written = 0;
  ERR_clear_error();
  if (SSL_write_ex(ssl_.get(), data.data(), n, &written) != 1) {
    CollectError("write failed");
    Fail(failure_.detail);
    return 0;
  }
  return written;
}

void TlsStream::Flush() {
  FlushCiphertext();
  lower_->Flush();
}

void TlsStream::ShutdownWrite() {
  if (write_shut_) {
    return;
  }
  write_shut_ = true;
  if (handshake_done_ && !failed_) {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());  // queues close_notify; we do not wait for the peer's
  }
  shutdown_pending_ = true;
  MaybeFinishShutdown();
}

void TlsStream::MaybeFinishShutdown() {
  if (shutdown_pending_ && cipher_off_ == cipher_out_.size() && !lower_gone_) {
    shutdown_pending_ = false;
    lower_->ShutdownWrite();
    lower_->Flush();
  }
}

void TlsStream::Abort() {
  handler_ = nullptr;
  observer_ = nullptr;
  failed_ = true;
  lower_->Abort();
}

void TlsStream::OnStreamReadable() {
  Drive();
}

void TlsStream::OnStreamWritable() {
  bool was_full = cipher_out_.size() - cipher_off_ >= kMaxPendingCiphertext;
  FlushCiphertext();
  MaybeFinishShutdown();
  if (handshake_done_ && !failed_ && handler_ != nullptr &&
      (was_full || cipher_off_ == cipher_out_.size())) {
    handler_->OnStreamWritable();
  }
}

void TlsStream::OnStreamGone(bool reset) {
  lower_gone_ = true;
  if (reset) {
    failure_.lower_closed = true;
    Fail("connection reset by peer");
    return;
  }
  Drive();  // an orderly end: decrypt what is left, then report it once it was read
  MaybeReportOrderlyEnd();
}

void TlsStream::MaybeReportOrderlyEnd() {
  if (lower_gone_ && !failed_ && !gone_reported_ && ReadEof() && handler_ != nullptr) {
    gone_reported_ = true;
    StreamHandler* h = handler_;
    handler_ = nullptr;
    h->OnStreamGone(false);
  }
}

void TlsStream::Drive() {
  if (!started_ || failed_) {
    return;
  }
  if (driving_) {
    drive_again_ = true;  // a callback below re-entered us: one more round when it returns
    return;
  }
  driving_ = true;
  std::weak_ptr<bool> alive = alive_;
  do {
    drive_again_ = false;
    if (!handshake_done_) {
      DoHandshake();
      if (alive.expired() || !*alive.lock()) {
        return;
      }
    }
    if (handshake_done_ && !failed_) {
      ReadPlaintext();
      if (alive.expired() || !*alive.lock()) {
        return;
      }
    }
    if (!failed_) {
      FlushCiphertext();
      lower_->Flush();
      MaybeFinishShutdown();
    }
  } while (drive_again_ && !failed_);
  driving_ = false;
  if (!failed_) {
    MaybeReportOrderlyEnd();
  }
}

void TlsStream::DoHandshake() {
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) {
    handshake_done_ = true;
    FlushCiphertext();
    lower_->Flush();
    if (observer_ != nullptr) {
      observer_->OnTlsHandshakeDone();
    }
    return;
  }
  int err = SSL_get_error(ssl_.get(), r);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    if (lower_gone_ || lower_->ReadEof()) {
      failure_.lower_closed = true;
      Fail("connection closed during the handshake");
    }
    return;
  }
  CollectError("handshake failed");
  if (failure_.detail == "unexpected eof while reading") {
    failure_.lower_closed = true;
  }
  Fail(failure_.detail);
}

void TlsStream::ReadPlaintext() {
  bool got = false;
  while (!peer_eof_ && !failed_) {
    if (plain_ == nullptr) {
      plain_.reset(new uint8_t[kPlaintextBuffer]);
      begin_ = end_ = 0;
    }
    if (end_ == kPlaintextBuffer) {
      if (begin_ == 0) {
        break;  // full: stop decrypting, so the lower stream's window closes
      }
      std::memmove(plain_.get(), plain_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    size_t n = 0;
    ERR_clear_error();
    int r = SSL_read_ex(ssl_.get(), plain_.get() + end_, kPlaintextBuffer - end_, &n);
    if (r == 1) {
      end_ += n;
      got = true;
      continue;
    }
    int err = SSL_get_error(ssl_.get(), r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      break;
    }
    if (err == SSL_ERROR_ZERO_RETURN) {
      peer_eof_ = true;  // close_notify, or the transport's FIN
      got = true;
      break;
    }
    CollectError("read failed");
    Fail(failure_.detail);
    return;
  }
  if (begin_ == end_ && plain_ != nullptr && !peer_eof_) {
    plain_.reset();  // nothing held: an idle connection keeps no plaintext buffer
    begin_ = end_ = 0;
  }
  if (got && handler_ != nullptr) {
    handler_->OnStreamReadable();
  }
}

void TlsStream::CollectError(std::string_view fallback) {
  unsigned long e = ERR_peek_error();
  if (e != 0) {
    const char* reason = ERR_reason_error_string(e);
    failure_.detail = reason != nullptr ? reason : std::string(fallback);
    failure_.peer_alert = failure_.detail.find("alert") != std::string::npos;
  } else {
    failure_.detail = std::string(fallback);
  }
  failure_.verify_result = SSL_get_verify_result(ssl_.get());
  ERR_clear_error();
}

void TlsStream::Fail(std::string detail) {
  if (failed_) {
    return;
  }
  failed_ = true;
  if (failure_.detail.empty()) {
    failure_.detail = std::move(detail);
  }
  if (!handshake_done_) {
    TlsObserver* o = observer_;
    observer_ = nullptr;
    if (o != nullptr) {
      o->OnTlsFailed(failure_);
    }
    return;
  }
  StreamHandler* h = handler_;
  handler_ = nullptr;
  if (h != nullptr) {
    h->OnStreamGone(true);
  }
}

}  // namespace msb::gateway::tls
