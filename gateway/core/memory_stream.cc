// MemoryStream: in-memory connected stream ends (see memory_stream.h).
#include "gateway/core/memory_stream.h"

#include <algorithm>

namespace msb::gateway {

// Link ties the two ends; an end that is destroyed clears its slot, so callbacks already queued
// for it are dropped.
struct MemoryStream::Link {
  MemoryStream* ends[2] = {nullptr, nullptr};
};

std::pair<std::unique_ptr<MemoryStream>, std::unique_ptr<MemoryStream>> MemoryStream::Pair(
    EventLoop* loop, size_t capacity) {
  auto link = std::make_shared<Link>();
  std::unique_ptr<MemoryStream> a(new MemoryStream(loop, link, 0, capacity));
  std::unique_ptr<MemoryStream> b(new MemoryStream(loop, link, 1, capacity));
  link->ends[0] = a.get();
  link->ends[1] = b.get();
  return {std::move(a), std::move(b)};
}

MemoryStream::MemoryStream(EventLoop* loop, std::shared_ptr<Link> link, int side, size_t capacity)
    : loop_(loop), link_(std::move(link)), side_(side), capacity_(capacity) {}

MemoryStream::~MemoryStream() {
  MemoryStream* peer = Peer();
  link_->ends[side_] = nullptr;
  if (peer == nullptr || peer->gone_queued_) {
    return;
  }
  if (!gone_queued_ && ReadableBytes() > 0) {
    peer->NotifyGone(true);  // closing with unread data resets, as TCP does
    return;
  }
  if (!gone_queued_) {
    peer->eof_ = true;
    peer->Notify(&StreamHandler::OnStreamReadable);
    if (peer->write_shut_) {
      peer->NotifyGone(false);
    }
  }
}

MemoryStream* MemoryStream::Peer() const {
  return link_->ends[1 - side_];
}

std::span<const uint8_t> MemoryStream::Peek() const {
  return {in_.data() + in_off_, in_.size() - in_off_};
}

void MemoryStream::Consume(size_t n) {
  in_off_ += std::min(n, ReadableBytes());
  if (in_off_ == in_.size()) {
    in_.clear();
    in_off_ = 0;
  } else if (in_off_ > 64 * 1024 && in_off_ * 2 > in_.size()) {
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(in_off_));
    in_off_ = 0;
  }
  MemoryStream* peer = Peer();
  if (n > 0 && peer != nullptr && peer->blocked_) {
    peer->blocked_ = false;
    peer->Notify(&StreamHandler::OnStreamWritable);
  }
  CheckBothShut();
}

size_t MemoryStream::WriteSpace() const {
  MemoryStream* peer = Peer();
  if (gone_queued_ || write_shut_) {
    return 0;
  }
  if (peer == nullptr) {
    return capacity_;  // the peer closed: bytes are discarded, as a closed socket would
  }
  size_t held = peer->ReadableBytes();
  if (held >= peer->capacity_) {
    blocked_ = true;
    return 0;
  }
  return peer->capacity_ - held;
}

size_t MemoryStream::Write(std::span<const uint8_t> data) {
  size_t space = WriteSpace();
  size_t n = std::min(space, data.size());
  if (n < data.size()) {
    blocked_ = true;
  }
  MemoryStream* peer = Peer();
  if (n == 0) {
    return 0;
  }
  bytes_written_ += n;
  if (peer != nullptr) {
    peer->in_.insert(peer->in_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    peer->Notify(&StreamHandler::OnStreamReadable);
  }
  return n;
}

void MemoryStream::ShutdownWrite() {
  if (write_shut_ || gone_queued_) {
    return;
  }
  write_shut_ = true;
  MemoryStream* peer = Peer();
  if (peer == nullptr) {
    NotifyGone(false);  // both directions are now closed
    return;
  }
  peer->eof_ = true;
  peer->Notify(&StreamHandler::OnStreamReadable);
  CheckBothShut();
}

void MemoryStream::CheckBothShut() {
  MemoryStream* peer = Peer();
  if (peer != nullptr && write_shut_ && peer->write_shut_ && ReadableBytes() == 0 &&
      peer->ReadableBytes() == 0) {
    // Both FINs sent and every byte read: the connection is over; report it as an orderly end
    // to both, after their readable notifications.
    NotifyGone(false);
    peer->NotifyGone(false);
  }
}

void MemoryStream::Abort() {
  if (gone_queued_) {
    return;
  }
  gone_ = gone_queued_ = true;
  handler_ = nullptr;
  MemoryStream* peer = Peer();
  if (peer != nullptr) {
    peer->reset_ = true;
    peer->NotifyGone(true);
  }
}

void MemoryStream::Notify(void (StreamHandler::*fn)()) {
  std::weak_ptr<Link> link = link_;
  int side = side_;
  loop_->Defer([link, side, fn] {
    auto l = link.lock();
    MemoryStream* self = l ? l->ends[side] : nullptr;
    if (self != nullptr && !self->gone_ && self->handler_ != nullptr) {
      (self->handler_->*fn)();
    }
  });
}

void MemoryStream::NotifyGone(bool reset) {
  if (gone_queued_) {
    return;
  }
  gone_queued_ = true;
  if (reset) {
    reset_ = true;
  }
  std::weak_ptr<Link> link = link_;
  int side = side_;
  loop_->Defer([link, side, reset] {
    auto l = link.lock();
    MemoryStream* self = l ? l->ends[side] : nullptr;
    if (self != nullptr) {
      self->gone_ = true;
    }
    if (self != nullptr && self->handler_ != nullptr) {
      StreamHandler* h = self->handler_;
      self->handler_ = nullptr;
      h->OnStreamGone(reset);
    }
  });
}

}  // namespace msb::gateway
