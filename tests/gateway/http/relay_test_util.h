// Fixture pieces for the HTTP relay tests: the relay between two in-memory connections, with
// the test holding the guest client's end and the upstream server's end, and recorders for the
// relay's outcome and its exchanges.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "../stream_test_util.h"
#include "gateway/core/memory_stream.h"
#include "gateway/http/exchange.h"

namespace msb::gateway::http::testing {

class RelayRecorder final : public RelayObserver, public ExchangeObserver {
 public:
  void OnRelayDone(CloseReason r) override {
    EXPECT_FALSE(reason.has_value()) << "done twice";
    reason = r;
  }
  void OnExchange(const HttpExchange& e) override {
    HttpExchange copy = e;
    exchanges.push_back(std::move(copy));
  }
  std::optional<CloseReason> reason;
  std::vector<HttpExchange> exchanges;
};

// Two pipes: guest client <-> guest_end [relay] up_end <-> upstream server.
struct RelayPipes {
  explicit RelayPipes(EventLoop* loop, size_t capacity = 16 * 1024) {
    auto g = MemoryStream::Pair(loop, capacity);
    auto u = MemoryStream::Pair(loop, capacity);
    client = std::move(g.first);
    guest_end = std::move(g.second);
    server = std::move(u.first);
    up_end = std::move(u.second);
  }
  std::unique_ptr<MemoryStream> client, guest_end, server, up_end;
};

}  // namespace msb::gateway::http::testing
