// GuestStream: stack::GuestTcp as a ByteStream (see guest_stream.h).
#include "gateway/core/guest_stream.h"

namespace msb::gateway {

GuestStream::GuestStream(std::unique_ptr<stack::GuestTcp> conn) : conn_(std::move(conn)) {
  conn_->SetHandler(this);
}

GuestStream::~GuestStream() {
  conn_->SetHandler(nullptr);
}

void GuestStream::Abort() {
  handler_ = nullptr;
  conn_->Abort();
}

void GuestStream::OnGuestReadable() {
  if (handler_ != nullptr) {
    handler_->OnStreamReadable();
  }
}

void GuestStream::OnGuestWritable() {
  if (handler_ != nullptr) {
    handler_->OnStreamWritable();
  }
}

void GuestStream::OnGuestGone(bool reset) {
  StreamHandler* h = handler_;
  handler_ = nullptr;  // nothing follows a gone connection
  if (h != nullptr) {
    h->OnStreamGone(reset);
  }
}

}  // namespace msb::gateway
