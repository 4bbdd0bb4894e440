// SpliceRelay over in-memory streams: byte-exact both ways under back-pressure, half-closes,
// resets mapped to close reasons, and bounded buffering (a slow side stops the fast one).
#include "gateway/core/splice_relay.h"

#include <gtest/gtest.h>

#include <optional>

#include "../stream_test_util.h"
#include "gateway/core/memory_stream.h"

namespace msb::gateway {
namespace {

using testing::Endpoint;
using testing::Pattern;
using testing::RunUntil;

class Observer : public RelayObserver {
 public:
  void OnRelayDone(CloseReason r) override {
    ASSERT_FALSE(reason.has_value()) << "done twice";
    reason = r;
  }
  std::optional<CloseReason> reason;
};

// Fixture: guest <-> [guest_end | relay | up_end] <-> upstream, each pipe with a small window.
class SpliceRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto g = MemoryStream::Pair(loop_.get(), 4096);
    auto u = MemoryStream::Pair(loop_.get(), 3000);
    guest_ = std::move(g.first);
    guest_end_ = std::move(g.second);
    upstream_ = std::move(u.first);
    up_end_ = std::move(u.second);
    relay_ = std::make_unique<SpliceRelay>(guest_end_.get(), up_end_.get(), clock_, &observer_);
    g_ = std::make_unique<Endpoint>(guest_.get());
    u_ = std::make_unique<Endpoint>(upstream_.get());
    relay_->Start();
  }

  FakeClock clock_;
  std::unique_ptr<EventLoop> loop_ = EventLoop::Create(clock_).value();
  std::unique_ptr<MemoryStream> guest_, guest_end_, upstream_, up_end_;
  Observer observer_;
  std::unique_ptr<SpliceRelay> relay_;
  std::unique_ptr<Endpoint> g_, u_;
};

TEST_F(SpliceRelayTest, CopiesBothWaysExactlyAndClosesInOrder) {
  std::string up = Pattern(1 << 20, 1);
  std::string down = Pattern(3 << 20, 2);
  g_->Send(up, true);
  u_->Send(down, true);
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return observer_.reason.has_value(); }));
  EXPECT_EQ(*observer_.reason, CloseReason::kClosed);
  EXPECT_EQ(u_->received.size(), up.size());
  EXPECT_TRUE(u_->received == up);
  EXPECT_TRUE(g_->received == down);
  EXPECT_TRUE(g_->eof && u_->eof);
  EXPECT_EQ(relay_->bytes_up(), up.size());
  EXPECT_EQ(relay_->bytes_down(), down.size());
}

TEST_F(SpliceRelayTest, HalfCloseStillCarriesTheReply) {
  g_->Send("request", true);
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return u_->eof; }));
  EXPECT_EQ(u_->received, "request");
  EXPECT_FALSE(observer_.reason.has_value());  // the other direction is still open
  u_->Send("reply after the guest's FIN", true);
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return observer_.reason.has_value(); }));
  EXPECT_EQ(g_->received, "reply after the guest's FIN");
  EXPECT_EQ(*observer_.reason, CloseReason::kClosed);
}

TEST_F(SpliceRelayTest, ASlowReaderStopsTheWriterInsteadOfBuffering) {
  u_->paused = true;
  g_->Send(Pattern(1 << 20));
  RunUntil(loop_.get(), [] { return false; }, 200);
  // Only the two small windows (plus what the guest end holds) can be in flight.
  EXPECT_LE(g_->sent, 4096u + 3000u);
  EXPECT_EQ(upstream_->ReadableBytes(), 3000u);
  u_->paused = false;
  u_->Read();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return u_->received.size() == (1u << 20); }));
  EXPECT_EQ(u_->received, Pattern(1 << 20));
}

TEST_F(SpliceRelayTest, ResetsAreReportedBySide) {
  guest_->Abort();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return observer_.reason.has_value(); }));
  EXPECT_EQ(*observer_.reason, CloseReason::kGuestReset);
}

TEST_F(SpliceRelayTest, UpstreamResetIsUpstreamReset) {
  g_->Send("x");
  upstream_->Abort();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return observer_.reason.has_value(); }));
  EXPECT_EQ(*observer_.reason, CloseReason::kUpstreamReset);
}

TEST_F(SpliceRelayTest, ActivityIsStamped) {
  clock_.Advance(std::chrono::seconds(5));
  TimePoint before = relay_->last_activity();
  g_->Send("tick");
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return u_->received == "tick"; }));
  EXPECT_GT(relay_->last_activity(), before);
}

}  // namespace
}  // namespace msb::gateway
