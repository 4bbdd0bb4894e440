// TcpSession with in-memory streams: the connect -> accept -> relay -> close life, each way a
// connect fails, the idle timeout, resets mirrored to the other side, and exactly one flow.close
// with the right reason and byte counts each time.
#include "gateway/tcp_session.h"

#include <gtest/gtest.h>

#include "session_test_util.h"
#include "stream_test_util.h"

namespace msb::gateway {
namespace {

using testing::Endpoint;
using testing::FakeConnector;
using testing::Field;
using testing::Pattern;
using testing::RunUntil;

constexpr uint64_t kFlow = 7;
constexpr uint64_t kSyn = 70;

class TcpSessionTest : public ::testing::Test, protected testing::SessionWorld {
 protected:
  stack::FlowTuple Tuple() const {
    return {stack::Transport::kTcp,
            {IpAddress::V4(0xac100002), 40000},
            {IpAddress::V4(0xc633640a), 80}};
  }
  // Starts a session and runs until the SYN is resolved.
  void StartSession() {
    session_ = std::make_unique<TcpSession>(ctx_, kFlow, kSyn, Tuple(), Tuple().dest);
    session_->Start();
    ASSERT_TRUE(RunUntil(loop_.get(), [&] { return !syns_.outcomes[kSyn].empty(); }));
  }
  // Completes the guest's side: the test holds `guest_` (the guest application's end).
  void Accept() {
    ASSERT_TRUE(session_->accepting());
    auto [near, far] = MemoryStream::Pair(loop_.get(), 8192);
    guest_ = std::move(far);
    session_->OnAccepted(std::move(near));
    g_ = std::make_unique<Endpoint>(guest_.get());
    u_ = std::make_unique<Endpoint>(connector_.upstreams.back().get());
  }
  bool Released() const { return owner_.released.size() == 1 && owner_.released[0] == kFlow; }
  std::string CloseReasonLogged() const {
    auto closes = Events("flow.close");
    EXPECT_EQ(closes.size(), 1u);
    return closes.empty() ? "" : Field(closes[0], "reason");
  }

  std::unique_ptr<TcpSession> session_;
  std::unique_ptr<MemoryStream> guest_;
  std::unique_ptr<Endpoint> g_, u_;
};

TEST_F(TcpSessionTest, ConnectsAcceptsRelaysAndClosesInOrder) {
  StartSession();
  EXPECT_EQ(syns_.outcomes[kSyn], std::vector<stack::SynOutcome>{stack::SynOutcome::kAccept});
  ASSERT_EQ(connector_.dialled.size(), 1u);
  Accept();
  std::string request = "GET / HTTP/1.1\r\n\r\n";
  std::string reply = Pattern(300000);
  g_->Send(request, true);
  u_->Send(reply, true);
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return Released(); }));
  session_.reset();  // what the owner does next; the far ends then see the close
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return g_->eof && u_->eof; }));
  EXPECT_EQ(u_->received, request);
  EXPECT_TRUE(g_->received == reply);
  EXPECT_FALSE(g_->reset || u_->reset);
  auto connects = Events("flow.connect");
  ASSERT_EQ(connects.size(), 1u);
  EXPECT_EQ(Field(connects[0], "result"), "ok");
  auto closes = Events("flow.close");
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(Field(closes[0], "reason"), "closed");
  EXPECT_EQ(Field(closes[0], "bytes_up"), std::to_string(request.size()));
  EXPECT_EQ(Field(closes[0], "bytes_down"), std::to_string(reply.size()));
  EXPECT_EQ(Field(closes[0], "dst"), "198.51.100.10:80");
}

TEST_F(TcpSessionTest, RefusedConnectIsMirroredAsRst) {
  connector_.mode = FakeConnector::Mode::kRefused;
  StartSession();
  EXPECT_EQ(syns_.outcomes[kSyn], std::vector<stack::SynOutcome>{stack::SynOutcome::kRefuse});
  EXPECT_TRUE(Released());
  EXPECT_EQ(CloseReasonLogged(), "upstream_refused");
  EXPECT_EQ(Field(Events("flow.connect")[0], "result"), "refused");
  EXPECT_EQ(stats_.upstream_connect_failures, 1u);
}

TEST_F(TcpSessionTest, ConnectTimeoutIsUnreachable) {
  connector_.mode = FakeConnector::Mode::kTimeout;
  options_.connect_timeout = std::chrono::seconds(3);
  session_ = std::make_unique<TcpSession>(ctx_, kFlow, kSyn, Tuple(), Tuple().dest);
  session_->Start();
  loop_->RunOnce(Duration::zero());
  EXPECT_TRUE(syns_.outcomes[kSyn].empty());
  clock_.Advance(std::chrono::seconds(3));
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return Released(); }));
  EXPECT_EQ(syns_.outcomes[kSyn], std::vector<stack::SynOutcome>{stack::SynOutcome::kUnreachable});
  EXPECT_EQ(CloseReasonLogged(), "connect_timeout");
  EXPECT_EQ(Field(Events("flow.connect")[0], "result"), "timeout");
}

TEST_F(TcpSessionTest, HostAliasFallsBackToTheOtherLoopbackOnRefusal) {
  // The gateway's address: 127.0.0.1 refuses, [::1] answers; both attempts are audited.
  connector_.script = {FakeConnector::Mode::kRefused, FakeConnector::Mode::kOk};
  SocketAddress v4{IpAddress::V4(0x7f000001), 80};
  SocketAddress v6{*IpAddress::Parse("::1"), 80};
  session_ = std::make_unique<TcpSession>(ctx_, kFlow, kSyn, Tuple(), v4, false, v6);
  session_->Start();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return !syns_.outcomes[kSyn].empty(); }));
  EXPECT_EQ(syns_.outcomes[kSyn], std::vector<stack::SynOutcome>{stack::SynOutcome::kAccept});
  EXPECT_EQ(connector_.dialled, (std::vector<SocketAddress>{v4, v6}));
  auto connects = Events("flow.connect");
  ASSERT_EQ(connects.size(), 2u);
  EXPECT_EQ(Field(connects[0], "result"), "refused");
  EXPECT_EQ(Field(connects[1], "result"), "ok");
  // Both refuse: the guest is refused once, after the second.
  session_.reset();
  syns_.outcomes.clear();
  connector_.dialled.clear();
  connector_.script = {FakeConnector::Mode::kRefused, FakeConnector::Mode::kRefused};
  session_ = std::make_unique<TcpSession>(ctx_, kFlow, kSyn, Tuple(), v4, false, v6);
  session_->Start();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return !syns_.outcomes[kSyn].empty(); }));
  EXPECT_EQ(syns_.outcomes[kSyn], std::vector<stack::SynOutcome>{stack::SynOutcome::kRefuse});
  EXPECT_EQ(connector_.dialled.size(), 2u);
}

TEST_F(TcpSessionTest, GuestResetResetsTheUpstream) {
  StartSession();
  Accept();
  g_->Send("partial");
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return u_->received == "partial"; }));
  guest_->Abort();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return Released() && u_->gone; }));
  EXPECT_TRUE(u_->reset);
  EXPECT_EQ(CloseReasonLogged(), "guest_reset");
}

TEST_F(TcpSessionTest, UpstreamResetResetsTheGuest) {
  StartSession();
  Accept();
  connector_.upstreams.back()->Abort();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return Released() && g_->gone; }));
  EXPECT_TRUE(g_->reset);
  EXPECT_EQ(CloseReasonLogged(), "upstream_reset");
}

TEST_F(TcpSessionTest, IdleTimeoutResetsBothSides) {
  options_.idle_timeout = std::chrono::seconds(60);
  StartSession();
  Accept();
  g_->Send("hello");
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return u_->received == "hello"; }));
  clock_.Advance(std::chrono::seconds(40));
  u_->Send("activity pushes the deadline");
  RunUntil(
      loop_.get(), [] { return false; }, 50);
  clock_.Advance(std::chrono::seconds(40));  // 80 s since the start, 40 s since activity
  RunUntil(
      loop_.get(), [] { return false; }, 50);
  EXPECT_FALSE(Released());
  clock_.Advance(std::chrono::seconds(21));
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return Released() && g_->gone && u_->gone; }));
  EXPECT_TRUE(g_->reset && u_->reset);
  EXPECT_EQ(CloseReasonLogged(), "idle_timeout");
}

TEST_F(TcpSessionTest, ShutdownAbortsAtEveryStage) {
  // While connecting: the held SYN is refused.
  connector_.mode = FakeConnector::Mode::kTimeout;
  session_ = std::make_unique<TcpSession>(ctx_, kFlow, kSyn, Tuple(), Tuple().dest);
  session_->Start();
  session_->Abort(CloseReason::kShutdown);
  EXPECT_EQ(syns_.outcomes[kSyn], std::vector<stack::SynOutcome>{stack::SynOutcome::kRefuse});
  EXPECT_EQ(CloseReasonLogged(), "shutdown");
  session_->Abort(CloseReason::kShutdown);  // idempotent: still one flow.close
  EXPECT_EQ(Events("flow.close").size(), 1u);
}

TEST_F(TcpSessionTest, FailedGuestHandshakeIsAudited) {
  StartSession();
  session_->OnAcceptFailed();
  EXPECT_TRUE(Released());
  EXPECT_EQ(CloseReasonLogged(), "guest_handshake_failed");
}

}  // namespace
}  // namespace msb::gateway
