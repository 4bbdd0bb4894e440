// SocketStream: a non-blocking socket as a ByteStream (see socket_stream.h).
#include "gateway/core/socket_stream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "gateway/core/upstream_socket.h"

namespace msb::gateway {

Result<std::unique_ptr<SocketStream>> SocketStream::Create(EventLoop* loop, int fd) {
  std::unique_ptr<SocketStream> s(new SocketStream(loop, fd));
  Status st = loop->Watch(fd, EPOLLIN, s.get());
  if (!st.ok()) {
    return st;  // the destructor closes fd
  }
  s->watched_ = true;
  s->interest_ = EPOLLIN;
  return s;
}

SocketStream::~SocketStream() {
  *alive_ = false;
  if (fd_ >= 0) {
    if (watched_) {
      loop_->Unwatch(fd_);
    }
    close(fd_);
  }
}

std::span<const uint8_t> SocketStream::Peek() const {
  return {buf_.get() + begin_, end_ - begin_};
}

void SocketStream::Consume(size_t n) {
  begin_ += std::min(n, end_ - begin_);
  if (begin_ == end_) {
    buf_.reset();  // an idle connection holds no buffer
    begin_ = end_ = 0;
  }
  UpdateInterest();
}

size_t SocketStream::WriteSpace() const {
  if (fd_ < 0 || failed_ || write_shut_ || write_blocked_) {
    return 0;
  }
  return kMaxBuffer;  // the kernel decides; Write reports what it took
}

size_t SocketStream::Write(std::span<const uint8_t> data) {
  if (WriteSpace() == 0 || data.empty()) {
    return 0;
  }
  for (;;) {
    ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      if (static_cast<size_t>(n) < data.size()) {
        write_blocked_ = true;  // the rest waits for EPOLLOUT
        UpdateInterest();
      }
      return static_cast<size_t>(n);
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      write_blocked_ = true;
      UpdateInterest();
      return 0;
    }
    Fail();
    return 0;
  }
}

void SocketStream::ShutdownWrite() {
  if (write_shut_ || fd_ < 0) {
    return;
  }
  write_shut_ = true;
  (void)shutdown(fd_, SHUT_WR);  // half-close: the peer can still answer
}

void SocketStream::Abort() {
  handler_ = nullptr;
  if (fd_ >= 0) {
    if (watched_) {
      loop_->Unwatch(fd_);
      watched_ = false;
    }
    CloseWithReset(fd_);
    fd_ = -1;
  }
}

void SocketStream::Fail() {
  if (failed_) {
    return;
  }
  failed_ = true;
  if (watched_) {
    loop_->Unwatch(fd_);
    watched_ = false;
  }
  // Reported from a deferred task: the failure may be found inside Write, whose caller is in the
  // middle of its own bookkeeping.
  std::weak_ptr<bool> alive = alive_;
  loop_->Defer([this, alive] {
    if (alive.expired() || !*alive.lock()) {
      return;
    }
    StreamHandler* h = handler_;
    handler_ = nullptr;
    if (h != nullptr) {
      h->OnStreamGone(true);
    }
  });
}

void SocketStream::OnIo(uint32_t events) {
  if (failed_) {
    return;
  }
  if ((events & EPOLLHUP) != 0) {
    hup_ = true;
  }
  size_t before = end_ - begin_;
  bool eof_before = eof_;
  std::weak_ptr<bool> alive = alive_;
  auto gone = [&alive] { return alive.expired() || !*alive.lock(); };
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
    // Bytes that arrived before a reset are still readable: read (and hand over) them first; the
    // reset surfaces as the read error after them (a server that closes right after its response
    // often resets, and the response must not be lost).
    ReadSome();
    if (failed_) {
      if (handler_ != nullptr && end_ - begin_ > before) {
        handler_->OnStreamReadable();
      }
      return;
    }
  }
  if ((events & EPOLLERR) != 0 && SocketError(fd_) != 0) {
    Fail();
    return;
  }
  if ((events & (EPOLLOUT | EPOLLHUP)) != 0 && write_blocked_) {
    write_blocked_ = false;
    if (handler_ != nullptr) {
      handler_->OnStreamWritable();  // a Write to a hung-up socket then fails and says so
    }
    if (gone() || failed_) {
      return;
    }
  }
  if (handler_ != nullptr && (end_ - begin_ > before || eof_ != eof_before)) {
    handler_->OnStreamReadable();
    if (gone()) {
      return;
    }
  }
  UpdateInterest();
}

void SocketStream::ReadSome() {
  while (!eof_) {
    if (buf_ == nullptr) {
      buf_.reset(new uint8_t[cap_]);
      begin_ = end_ = 0;
    }
    if (end_ == cap_) {
      if (begin_ == 0 && cap_ < kMaxBuffer) {
        // A read filled the buffer: a bulk transfer. Read it in larger batches from now on.
        size_t bigger = std::min(cap_ * 4, kMaxBuffer);
        std::unique_ptr<uint8_t[]> grown(new uint8_t[bigger]);
        std::memcpy(grown.get(), buf_.get(), end_);
        buf_ = std::move(grown);
        cap_ = bigger;
      } else if (begin_ == 0) {
        break;  // full: the kernel's window closes until the consumer catches up
      } else {
        std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
    }
    ssize_t n = recv(fd_, buf_.get() + end_, cap_ - end_, MSG_DONTWAIT);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      eof_ = true;
      break;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      Fail();
    }
    break;
  }
  if (begin_ == end_ && buf_ != nullptr) {
    buf_.reset();
    begin_ = end_ = 0;
  }
}

void SocketStream::UpdateInterest() {
  if (fd_ < 0 || failed_) {
    return;
  }
  uint32_t want = 0;
  if (!eof_ && end_ - begin_ < kMaxBuffer) {
    want |= EPOLLIN;
  }
  if (write_blocked_) {
    want |= EPOLLOUT;
  }
  if (hup_ && (want & EPOLLIN) == 0) {
    // Nothing to read for now and the peer hung up: park outside epoll (see the header).
    if (watched_) {
      loop_->Unwatch(fd_);
      watched_ = false;
    }
    return;
  }
  if (!watched_) {
    if (loop_->Watch(fd_, want, this).ok()) {
      watched_ = true;
      interest_ = want;
    }
    return;
  }
  if (want != interest_) {
    loop_->SetInterest(fd_, want);
    interest_ = want;
  }
}

}  // namespace msb::gateway
