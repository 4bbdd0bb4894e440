// MemoryStream: delivery, back-pressure, FIN, RST and close semantics the session and relay tests
// rely on.
#include "gateway/core/memory_stream.h"

#include <gtest/gtest.h>

#include "../stream_test_util.h"

namespace msb::gateway {
namespace {

using testing::Endpoint;
using testing::Pattern;
using testing::RunUntil;

class MemoryStreamTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  std::unique_ptr<EventLoop> loop_ = EventLoop::Create(clock_).value();
};

TEST_F(MemoryStreamTest, BytesArriveInOrderWithBackPressure) {
  auto [a, b] = MemoryStream::Pair(loop_.get(), 1000);
  Endpoint ea(a.get());
  Endpoint eb(b.get());
  eb.paused = true;
  std::string data = Pattern(10000);
  ea.Send(data, true);
  EXPECT_EQ(ea.sent, 1000u);  // the reader's window is full
  EXPECT_EQ(a->WriteSpace(), 0u);
  loop_->RunOnce(Duration::zero());
  EXPECT_EQ(ea.sent, 1000u);  // nothing moves while the reader does not consume
  eb.paused = false;
  eb.Read();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return eb.eof; }));
  EXPECT_EQ(eb.received, data);
  EXPECT_FALSE(eb.gone);
}

TEST_F(MemoryStreamTest, BothFinsEndInOrderAndAbortResets) {
  {
    auto [a, b] = MemoryStream::Pair(loop_.get());
    Endpoint ea(a.get());
    Endpoint eb(b.get());
    ea.Send("ping", true);
    eb.Send("pong", true);
    ASSERT_TRUE(RunUntil(loop_.get(), [&] { return ea.gone && eb.gone; }));
    EXPECT_EQ(ea.received, "pong");
    EXPECT_EQ(eb.received, "ping");
    EXPECT_TRUE(ea.eof && eb.eof);
    EXPECT_FALSE(ea.reset || eb.reset);
  }
  {
    auto [a, b] = MemoryStream::Pair(loop_.get());
    Endpoint eb(b.get());
    a->Abort();
    ASSERT_TRUE(RunUntil(loop_.get(), [&] { return eb.gone; }));
    EXPECT_TRUE(eb.reset);
    EXPECT_EQ(b->WriteSpace(), 0u);
  }
}

TEST_F(MemoryStreamTest, ClosingWithUnreadBytesResetsThePeer) {
  auto [a, b] = MemoryStream::Pair(loop_.get());
  Endpoint eb(b.get());
  eb.Send("unread by a");
  a.reset();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return eb.gone; }));
  EXPECT_TRUE(eb.reset);
  // A clean close (nothing unread) is a FIN.
  auto [c, d] = MemoryStream::Pair(loop_.get());
  Endpoint ed(d.get());
  c.reset();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return ed.eof; }));
  EXPECT_FALSE(ed.reset);
}

}  // namespace
}  // namespace msb::gateway
