// PrefixedStream: replayed bytes first, then the wrapped stream (see prefixed_stream.h).
#include "gateway/core/prefixed_stream.h"

#include <algorithm>

namespace msb::gateway {

PrefixedStream::PrefixedStream(ByteStream* inner, std::vector<uint8_t> prefix)
    : inner_(inner), prefix_(std::move(prefix)) {}

PrefixedStream::~PrefixedStream() {
  if (handler_ != nullptr) {
    inner_->SetHandler(nullptr);
  }
}

void PrefixedStream::SetHandler(StreamHandler* handler) {
  handler_ = handler;
  inner_->SetHandler(handler != nullptr ? static_cast<StreamHandler*>(this) : nullptr);
}

size_t PrefixedStream::ReadableBytes() const {
  return (prefix_.size() - prefix_off_) + inner_->ReadableBytes();
}

std::span<const uint8_t> PrefixedStream::Peek() const {
  if (prefix_off_ < prefix_.size()) {
    return {prefix_.data() + prefix_off_, prefix_.size() - prefix_off_};
  }
  return inner_->Peek();
}

void PrefixedStream::Consume(size_t n) {
  size_t from_prefix = std::min(n, prefix_.size() - prefix_off_);
  prefix_off_ += from_prefix;
  if (prefix_off_ == prefix_.size() && !prefix_.empty()) {
    prefix_.clear();  // replayed: release it
    prefix_.shrink_to_fit();
    prefix_off_ = 0;
  }
  if (n > from_prefix) {
    inner_->Consume(n - from_prefix);
  }
}

void PrefixedStream::Abort() {
  handler_ = nullptr;
  inner_->Abort();
}

void PrefixedStream::OnStreamReadable() {
  if (handler_ != nullptr) {
    handler_->OnStreamReadable();
  }
}

void PrefixedStream::OnStreamWritable() {
  if (handler_ != nullptr) {
    handler_->OnStreamWritable();
  }
}

void PrefixedStream::OnStreamGone(bool reset) {
  StreamHandler* h = handler_;
  handler_ = nullptr;
  if (h != nullptr) {
    h->OnStreamGone(reset);
  }
}

}  // namespace msb::gateway
