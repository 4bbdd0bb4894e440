// UpstreamConnector: how a session obtains its upstream connection. The production connector
// (SocketConnector) dials a non-blocking TCP socket and hands it over as a SocketStream; tests
// substitute one that returns in-memory streams, so sessions are tested without sockets.
#pragma once

#include <functional>
#include <memory>

#include "base/clock.h"
#include "base/ip_address.h"
#include "gateway/core/byte_stream.h"
#include "gateway/core/event_loop.h"
#include "gateway/core/upstream_socket.h"

namespace msb::gateway {

struct ConnectOutcome {
  std::unique_ptr<ByteStream> stream;  // set on success
  ConnectFailure failure = ConnectFailure::kOther;
  int error = 0;  // errno for failures other than a timeout
};

// ConnectAttempt is an attempt in flight; destroying it cancels the attempt (its callback never
// runs afterwards).
class ConnectAttempt {
 public:
  virtual ~ConnectAttempt() = default;
};

class UpstreamConnector {
 public:
  using Done = std::function<void(ConnectOutcome&&)>;
  virtual ~UpstreamConnector() = default;
  // Connect dials `to`, giving up after `timeout`. `done` runs exactly once, from the event loop
  // and never inside Connect itself, unless the attempt is destroyed first.
  virtual std::unique_ptr<ConnectAttempt> Connect(const SocketAddress& to, Duration timeout,
                                                  Done done) = 0;
};

// SocketConnector dials real TCP sockets (TCP_NODELAY, non-blocking) through the event loop.
class SocketConnector final : public UpstreamConnector {
 public:
  explicit SocketConnector(EventLoop* loop) : loop_(loop) {}
  std::unique_ptr<ConnectAttempt> Connect(const SocketAddress& to, Duration timeout,
                                          Done done) override;

 private:
  EventLoop* loop_;
};

}  // namespace msb::gateway
