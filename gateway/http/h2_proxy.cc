// H2Proxy: the public face of the HTTP/2 proxy; everything is done by H2Connection.
#include "gateway/http/h2_proxy.h"

#include "gateway/http/h2_connection.h"

namespace msb::gateway::http {

Result<std::unique_ptr<H2Proxy>> H2Proxy::Create(Delegate* delegate, const H2Limits& limits,
                                                 SecretGuard* secrets) {
  if (delegate == nullptr) {
    return Status::Error("h2: no delegate");
  }
  auto conn = std::make_unique<H2Connection>(delegate, limits, secrets);
  if (Status s = conn->Init(); !s.ok()) {
    return s;
  }
  return std::unique_ptr<H2Proxy>(new H2Proxy(std::move(conn)));
}

H2Proxy::H2Proxy(std::unique_ptr<H2Connection> conn) : conn_(std::move(conn)) {}
H2Proxy::~H2Proxy() = default;

Result<size_t> H2Proxy::FeedFromGuest(std::span<const uint8_t> data) {
  return conn_->FeedFromGuest(data);
}
Result<size_t> H2Proxy::FeedFromUpstream(std::span<const uint8_t> data) {
  return conn_->FeedFromUpstream(data);
}
void H2Proxy::TakeToGuest(std::string* out, size_t max) {
  conn_->TakeToGuest(out, max);
}
void H2Proxy::TakeToUpstream(std::string* out, size_t max) {
  conn_->TakeToUpstream(out, max);
}
bool H2Proxy::WantsWriteToGuest() const {
  return conn_->WantsWriteToGuest();
}
bool H2Proxy::WantsWriteToUpstream() const {
  return conn_->WantsWriteToUpstream();
}
void H2Proxy::OnGuestEof() {
  conn_->OnGuestEof();
}
void H2Proxy::OnUpstreamEof() {
  conn_->OnUpstreamEof();
}
void H2Proxy::Shutdown() {
  conn_->Shutdown();
}
bool H2Proxy::Done() const {
  return conn_->Done();
}
size_t H2Proxy::BufferedBytes() const {
  return conn_->BufferedBytes();
}
size_t H2Proxy::LiveStreams() const {
  return conn_->LiveStreams();
}

}  // namespace msb::gateway::http
