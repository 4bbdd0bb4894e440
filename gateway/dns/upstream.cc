// DnsUpstream: c-ares channels in the gateway's event loop (see dns_upstream.h).
#include "gateway/dns/upstream.h"

#include <spdlog/spdlog.h>
#include <sys/time.h>

#include <cstring>

namespace msb::gateway {

// Channel wraps one ares_channel for one server and transport. c-ares reports its sockets through
// the socket-state callback; each gets a small IoHandler registered with the loop.
class DnsUpstream::Channel {
 public:
  using Done = std::function<void(int status, std::span<const uint8_t> answer)>;

  static Result<std::unique_ptr<Channel>> Create(EventLoop* loop, const SocketAddress& server,
                                                 bool tcp, Duration timeout) {
    std::unique_ptr<Channel> ch(new Channel(loop));
    ares_options opts{};
    opts.sock_state_cb = &Channel::SockState;
    opts.sock_state_cb_data = ch.get();
    opts.timeout = static_cast<int>(std::max<int64_t>(1, ToMillis(timeout)));
    opts.tries = 1;
    // NOCHECKRESP: SERVFAIL and REFUSED are answers to return, not reasons to retry elsewhere.
    opts.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH | (tcp ? ARES_FLAG_USEVC : 0);
    int optmask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS;
    int rc = ares_init_options(&ch->channel_, &opts, optmask);
    if (rc != ARES_SUCCESS) {
      return Status::Error(std::string("c-ares init: ") + ares_strerror(rc));
    }
    ch->initialized_ = true;
    std::string csv = server.ToString();
    rc = ares_set_servers_ports_csv(ch->channel_, csv.c_str());
    if (rc != ARES_SUCCESS) {
      return Status::Error("c-ares server " + csv + ": " + ares_strerror(rc));
    }
    return ch;
  }

  ~Channel() {
    destroying_ = true;
    if (initialized_) {
      ares_destroy(channel_);  // pending callbacks run with ARES_EDESTRUCTION
    }
    if (timer_ != 0) {
      loop_->CancelTimer(timer_);
    }
    for (auto& [fd, sock] : sockets_) {
      loop_->Unwatch(fd);
    }
  }

  void Send(std::span<const uint8_t> query, Done done) {
    auto* heap = new Done(std::move(done));
    ares_send(channel_, query.data(), static_cast<int>(query.size()), &Channel::OnAnswer, heap);
    Reschedule();
  }

 private:
  struct Socket final : public IoHandler {
    Socket(Channel* c, int f) : ch(c), fd(f) {}
    void OnIo(uint32_t events) override { ch->Process(fd, events); }
    Channel* ch;
    int fd;
  };

  explicit Channel(EventLoop* loop) : loop_(loop) {}

  static void SockState(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<Channel*>(data);
    uint32_t events =
        (readable != 0 ? uint32_t{EPOLLIN} : 0u) | (writable != 0 ? uint32_t{EPOLLOUT} : 0u);
    auto it = self->sockets_.find(fd);
    if (events == 0) {
      if (it != self->sockets_.end()) {
        self->loop_->Unwatch(fd);
        // We may be inside this socket's own OnIo: free it after the iteration.
        std::shared_ptr<Socket> dead(std::move(it->second));
        self->sockets_.erase(it);
        if (!self->destroying_) {
          self->loop_->Defer([dead] {});
        }
      }
      return;
    }
    if (it == self->sockets_.end()) {
      auto sock = std::make_unique<Socket>(self, fd);
      if (!self->loop_->Watch(fd, events, sock.get()).ok()) {
        spdlog::warn("dns: cannot watch c-ares socket {}", fd);
        return;
      }
      self->sockets_[fd] = std::move(sock);
    } else {
      self->loop_->SetInterest(fd, events);
    }
  }

  static void OnAnswer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
    std::unique_ptr<Done> done(static_cast<Done*>(arg));
    std::span<const uint8_t> answer;
    if (status == ARES_SUCCESS && abuf != nullptr && alen > 0) {
      answer = {abuf, static_cast<size_t>(alen)};
    }
    (*done)(status, answer);
  }

  void Process(int fd, uint32_t events) {
    ares_socket_t rfd = (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0 ? fd : ARES_SOCKET_BAD;
    ares_socket_t wfd = (events & EPOLLOUT) != 0 ? fd : ARES_SOCKET_BAD;
    ares_process_fd(channel_, rfd, wfd);
    Reschedule();
  }

  void Reschedule() {
    if (timer_ != 0) {
      loop_->CancelTimer(timer_);
      timer_ = 0;
    }
    timeval tv{};
    timeval* next = ares_timeout(channel_, nullptr, &tv);
    if (next == nullptr) {
      return;  // nothing pending
    }
    Duration delay = std::chrono::seconds(next->tv_sec) + std::chrono::microseconds(next->tv_usec);
    timer_ = loop_->AddTimer(delay, [this] {
      timer_ = 0;
      ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // handles timeouts
      Reschedule();
    });
  }

  EventLoop* loop_;
  ares_channel channel_ = nullptr;
  bool initialized_ = false;
  bool destroying_ = false;
  std::unordered_map<int, std::unique_ptr<Socket>> sockets_;
  TimerId timer_ = 0;
};

struct DnsUpstream::Query {
  std::vector<uint8_t> bytes;
  DnsUpstreamTransport transport = DnsUpstreamTransport::kUdp;
  size_t index = 0;
  TimePoint deadline;
  DnsUpstreamCallback done;
  TimerId deadline_timer = 0;
  bool finished = false;
  std::string last_error;
};

DnsUpstream::DnsUpstream(EventLoop* loop, std::vector<SocketAddress> servers,
                         Duration attempt_timeout, Duration deadline)
    : loop_(loop),
      servers_(std::move(servers)),
      attempt_timeout_(attempt_timeout),
      deadline_(deadline) {}

Result<std::unique_ptr<DnsUpstream>> DnsUpstream::Create(EventLoop* loop,
                                                         std::vector<SocketAddress> servers,
                                                         Duration attempt_timeout,
                                                         Duration deadline) {
  if (servers.empty()) {
    return Status::Error("no upstream nameservers");
  }
  std::unique_ptr<DnsUpstream> up(
      new DnsUpstream(loop, std::move(servers), attempt_timeout, deadline));
  for (const SocketAddress& s : up->servers_) {
    auto udp = Channel::Create(loop, s, false, attempt_timeout);
    if (!udp.ok()) {
      return udp.status();
    }
    auto tcp = Channel::Create(loop, s, true, attempt_timeout);
    if (!tcp.ok()) {
      return tcp.status();
    }
    up->udp_.push_back(std::move(udp).value());
    up->tcp_.push_back(std::move(tcp).value());
  }
  return up;
}

DnsUpstream::~DnsUpstream() {
  *alive_ = false;  // late c-ares callbacks (ARES_EDESTRUCTION) must not touch us
  udp_.clear();
  tcp_.clear();
}

void DnsUpstream::Send(std::span<const uint8_t> query, DnsUpstreamTransport transport,
                       DnsUpstreamCallback done) {
  auto q = std::make_shared<Query>();
  q->bytes.assign(query.begin(), query.end());
  q->transport = transport;
  q->deadline = loop_->clock().Now() + deadline_;
  q->done = std::move(done);
  ++in_flight_;
  std::weak_ptr<bool> alive = alive_;
  q->deadline_timer = loop_->AddTimer(deadline_, [this, q, alive] {
    if (alive.expired() || !*alive.lock()) {
      return;
    }
    q->deadline_timer = 0;
    DnsUpstreamResult r;
    r.server = servers_[std::min(q->index, servers_.size() - 1)];
    r.error = "no answer within " + std::to_string(ToMillis(deadline_)) + " ms";
    Finish(q, std::move(r));
  });
  loop_->Defer([this, q, alive] {
    if (alive.expired() || !*alive.lock()) {
      return;
    }
    Attempt(q);
  });
}

void DnsUpstream::Attempt(std::shared_ptr<Query> q) {
  if (q->finished) {
    return;
  }
  if (q->index >= servers_.size() || loop_->clock().Now() >= q->deadline) {
    DnsUpstreamResult r;
    r.server = servers_[q->index == 0 ? 0 : std::min(q->index, servers_.size()) - 1];
    r.error = q->last_error.empty() ? "no nameserver answered" : q->last_error;
    Finish(q, std::move(r));
    return;
  }
  auto& channels = q->transport == DnsUpstreamTransport::kUdp ? udp_ : tcp_;
  std::weak_ptr<bool> alive = alive_;
  size_t index = q->index;
  channels[index]->Send(
      q->bytes, [this, q, alive, index](int status, std::span<const uint8_t> answer) {
        if (alive.expired() || !*alive.lock() || status == ARES_EDESTRUCTION || q->finished) {
          return;
        }
        if (status == ARES_SUCCESS && !answer.empty()) {
          DnsUpstreamResult r;
          r.ok = true;
          r.response.assign(answer.begin(), answer.end());
          r.server = servers_[index];
          Finish(q, std::move(r));
          return;
        }
        q->last_error = servers_[index].ToString() + ": " + ares_strerror(status);
        q->index = index + 1;  // a timeout or transport error: the next server
        Attempt(q);
      });
}

void DnsUpstream::Finish(std::shared_ptr<Query> q, DnsUpstreamResult&& r) {
  if (q->finished) {
    return;
  }
  q->finished = true;
  --in_flight_;
  if (q->deadline_timer != 0) {
    loop_->CancelTimer(q->deadline_timer);
    q->deadline_timer = 0;
  }
  DnsUpstreamCallback done = std::move(q->done);
  done(std::move(r));
}

}  // namespace msb::gateway
