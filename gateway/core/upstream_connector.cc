// SocketConnector: non-blocking TCP connects through the event loop (see upstream_connector.h).
#include "gateway/core/upstream_connector.h"

#include <unistd.h>

#include <cerrno>

#include "gateway/core/socket_stream.h"

namespace msb::gateway {
namespace {

class SocketAttempt final : public ConnectAttempt, private IoHandler {
 public:
  SocketAttempt(EventLoop* loop, UpstreamConnector::Done done)
      : loop_(loop), done_(std::move(done)) {}

  ~SocketAttempt() override {
    *alive_ = false;
    if (timer_ != 0) {
      loop_->CancelTimer(timer_);
    }
    if (fd_ >= 0) {
      if (watched_) {
        loop_->Unwatch(fd_);
      }
      CloseWithReset(fd_);
    }
  }

  void Start(const SocketAddress& to, Duration timeout) {
    ConnectStart c = ConnectTcp(to);
    if (c.fd < 0) {
      FinishLater(c.error);
      return;
    }
    fd_ = c.fd;
    if (!loop_->Watch(fd_, EPOLLOUT, this).ok()) {
      FinishLater(EMFILE);
      return;
    }
    watched_ = true;
    if (!c.in_progress) {
      FinishLater(0);
      return;
    }
    timer_ = loop_->AddTimer(timeout, [this] {
      timer_ = 0;
      ConnectOutcome out;
      out.failure = ConnectFailure::kTimeout;
      Complete(std::move(out));
    });
  }

 private:
  void OnIo(uint32_t events) override {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
      Finish(SocketError(fd_));
    }
  }

  // FinishLater reports a result found inside Start from a deferred task (never inside Connect).
  void FinishLater(int err) {
    std::weak_ptr<bool> alive = alive_;
    loop_->Defer([this, alive, err] {
      if (!alive.expired() && *alive.lock()) {
        Finish(err);
      }
    });
  }

  void Finish(int err) {
    ConnectOutcome out;
    if (fd_ >= 0 && watched_) {
      loop_->Unwatch(fd_);
      watched_ = false;
    }
    if (err != 0) {
      out.failure = ClassifyConnectError(err);
      out.error = err;
      Complete(std::move(out));
      return;
    }
    auto stream = SocketStream::Create(loop_, fd_);
    fd_ = -1;  // owned by the stream (or closed by its failed Create)
    if (!stream.ok()) {
      out.failure = ConnectFailure::kOther;
      out.error = EMFILE;
      Complete(std::move(out));
      return;
    }
    out.stream = std::move(stream).value();
    Complete(std::move(out));
  }

  void Complete(ConnectOutcome&& out) {
    if (timer_ != 0) {
      loop_->CancelTimer(timer_);
      timer_ = 0;
    }
    if (!done_) {
      return;
    }
    UpstreamConnector::Done done = std::move(done_);
    done_ = nullptr;
    done(std::move(out));  // may destroy this attempt: nothing touches members after
  }

  EventLoop* loop_;
  UpstreamConnector::Done done_;
  int fd_ = -1;
  bool watched_ = false;
  TimerId timer_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<ConnectAttempt> SocketConnector::Connect(const SocketAddress& to, Duration timeout,
                                                         Done done) {
  auto attempt = std::make_unique<SocketAttempt>(loop_, std::move(done));
  attempt->Start(to, timeout);
  return attempt;
}

}  // namespace msb::gateway
