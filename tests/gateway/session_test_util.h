// Fakes for session tests: a SessionContext whose connector hands out in-memory streams, whose
// SYN resolver records outcomes and whose owner records releases, with the audit log in a file the
// test reads back.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/json.h"
#include "gateway/core/memory_stream.h"
#include "gateway/core/session_context.h"
#include "policy/presets.h"

namespace msb::gateway::testing {

// Field renders one member of an audit event as text ("" when absent; numbers in decimal).
inline std::string Field(const JsonValue& event, std::string_view key) {
  const JsonValue* v = event.Find(key);
  if (v == nullptr) {
    return "";
  }
  if (v->is_string()) {
    return v->as_string();
  }
  if (v->as_uint64()) {
    return std::to_string(*v->as_uint64());
  }
  return v->is_null() ? "null" : "?";
}

class FakeConnector final : public UpstreamConnector {
 public:
  explicit FakeConnector(EventLoop* loop) : loop_(loop) {}

  // What the next Connect does: succeed (the test gets the far end in `upstreams`), or fail.
  enum class Mode { kOk, kRefused, kTimeout };
  Mode mode = Mode::kOk;
  std::deque<Mode> script;  // when not empty, each Connect takes its mode from the front
  std::vector<std::unique_ptr<MemoryStream>> upstreams;  // far ends, in connect order
  std::vector<SocketAddress> dialled;
  size_t capacity = 64 * 1024;

  std::unique_ptr<ConnectAttempt> Connect(const SocketAddress& to, Duration timeout,
                                          Done done) override {
    dialled.push_back(to);
    Mode this_mode = mode;
    if (!script.empty()) {
      this_mode = script.front();
      script.pop_front();
    }
    auto attempt = std::make_unique<Attempt>();
    std::weak_ptr<bool> alive = attempt->alive;
    auto finish = [this, alive, this_mode, done = std::move(done)]() mutable {
      if (alive.expired()) {
        return;
      }
      ConnectOutcome out;
      if (this_mode == Mode::kOk) {
        auto [near, far] = MemoryStream::Pair(loop_, capacity);
        out.stream = std::move(near);
        upstreams.push_back(std::move(far));
      } else if (this_mode == Mode::kRefused) {
        out.failure = ConnectFailure::kRefused;
        out.error = ECONNREFUSED;
      } else {
        out.failure = ConnectFailure::kTimeout;
      }
      done(std::move(out));
    };
    if (this_mode == Mode::kTimeout) {
      loop_->AddTimer(timeout, std::move(finish));
    } else {
      loop_->Defer(std::move(finish));
    }
    return attempt;
  }

 private:
  struct Attempt : ConnectAttempt {
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  };
  EventLoop* loop_;
};

class FakeSyns final : public SynResolver {
 public:
  bool ResolveSyn(uint64_t syn_id, stack::SynOutcome outcome) override {
    outcomes[syn_id].push_back(outcome);
    return accept_ok;
  }
  std::map<uint64_t, std::vector<stack::SynOutcome>> outcomes;
  bool accept_ok = true;
};

class FakeOwner final : public SessionOwner {
 public:
  void ReleaseSession(uint64_t flow_id) override { released.push_back(flow_id); }
  uint64_t NextFlowId() override { return next++; }
  std::vector<uint64_t> released;
  uint64_t next = 1000;
};

// SessionWorld: one loop, fakes, a policy and an audit file.
class SessionWorld {
 public:
  SessionWorld()
      : evaluator_(policy::PresetPolicy(policy::Preset::kPublicOnly),
                   policy::HostAddresses{IpAddress::V4(0xac100001), std::nullopt}),
        pins_(clock_) {
    audit_path_ = ::testing::TempDir() + "/session_test." + std::to_string(getpid()) + "." +
                  std::to_string(reinterpret_cast<uintptr_t>(this)) + ".jsonl";
    unlink(audit_path_.c_str());
    audit_ = AuditLog::Open(audit_path_).value();
    ctx_.loop = loop_.get();
    ctx_.audit = audit_.get();
    ctx_.syns = &syns_;
    ctx_.connector = &connector_;
    ctx_.owner = &owner_;
    ctx_.options = &options_;
    ctx_.policy = &evaluator_;
    ctx_.pins = &pins_;
    ctx_.stats = &stats_;
  }
  ~SessionWorld() { unlink(audit_path_.c_str()); }

  // Events reads the audit log back: every line must be a JSON object.
  std::vector<JsonValue> Events(const std::string& name) const {
    std::vector<JsonValue> out;
    std::ifstream in(audit_path_);
    std::string line;
    while (std::getline(in, line)) {
      auto v = ParseJson(line);
      EXPECT_TRUE(v.ok()) << line;
      if (v.ok() && v.value().Find("event") != nullptr &&
          v.value().Find("event")->as_string() == name) {
        out.push_back(std::move(v).value());
      }
    }
    return out;
  }

  FakeClock clock_;
  std::unique_ptr<EventLoop> loop_ = EventLoop::Create(clock_).value();
  FakeConnector connector_{loop_.get()};
  FakeSyns syns_;
  FakeOwner owner_;
  SessionOptions options_;
  policy::Evaluator evaluator_;
  policy::PinSet pins_;
  SessionStats stats_;
  std::string audit_path_;
  std::unique_ptr<AuditLog> audit_;
  SessionContext ctx_;
};

}  // namespace msb::gateway::testing
