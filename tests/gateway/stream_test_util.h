// Test helpers for ByteStream users: a sink that drains a stream into a string and records how it
// ended, a writer that feeds a string in as space opens, and a loop runner.
#pragma once

#include <algorithm>
#include <string>

#include "gateway/core/byte_stream.h"
#include "gateway/core/event_loop.h"

namespace msb::gateway::testing {

// Endpoint: the test's side of a stream. It reads everything that arrives (unless paused) and
// writes `to_send` as space allows, optionally shutting down after it.
class Endpoint final : public StreamHandler {
 public:
  explicit Endpoint(ByteStream* s) : s_(s) { s_->SetHandler(this); }
  ~Endpoint() override {
    if (s_ != nullptr && !gone) {
      s_->SetHandler(nullptr);
    }
  }

  void Send(std::string data, bool then_shutdown = false) {
    to_send += data;
    shutdown_after = shutdown_after || then_shutdown;
    Pump();
  }
  void Pump() {
    if (gone) {
      return;
    }
    while (sent < to_send.size()) {
      size_t space = s_->WriteSpace();
      if (space == 0) {
        break;
      }
      size_t n = s_->Write({reinterpret_cast<const uint8_t*>(to_send.data()) + sent,
                            std::min(space, to_send.size() - sent)});
      if (n == 0) {
        break;
      }
      sent += n;
    }
    s_->Flush();
    if (sent == to_send.size() && shutdown_after && !s_->write_shut()) {
      s_->ShutdownWrite();
      s_->Flush();
    }
    Read();
  }
  void Read() {
    if (paused || gone) {
      return;
    }
    while (s_->ReadableBytes() > 0) {
      auto chunk = s_->Peek();
      received.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
      s_->Consume(chunk.size());
    }
    eof = s_->ReadEof();
  }

  void OnStreamReadable() override { Read(); }
  void OnStreamWritable() override { Pump(); }
  void OnStreamGone(bool was_reset) override {
    gone = true;
    reset = was_reset;
  }

  ByteStream* s_;
  std::string to_send;
  size_t sent = 0;
  bool shutdown_after = false;
  bool paused = false;
  std::string received;
  bool eof = false;
  bool gone = false;
  bool reset = false;
};

// RunUntil runs the loop (zero waits) until `done()` or `max_rounds` iterations.
template <typename F>
bool RunUntil(EventLoop* loop, F done, int max_rounds = 100000) {
  for (int i = 0; i < max_rounds; ++i) {
    if (done()) {
      return true;
    }
    loop->RunOnce(Duration::zero());
  }
  return done();
}

// Pattern makes `n` deterministic, position-dependent bytes (so a dropped or reordered byte shows).
inline std::string Pattern(size_t n, uint32_t seed = 1) {
  std::string out(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

}  // namespace msb::gateway::testing
