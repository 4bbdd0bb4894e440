// SocketStream over a real loopback TCP connection: reads bounded by its buffer (the kernel's
// window closes instead), writes with back-pressure, EOF, and a peer's RST reported as a reset.
#include "gateway/core/socket_stream.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "../stream_test_util.h"

namespace msb::gateway {
namespace {

using testing::Endpoint;
using testing::Pattern;
using testing::RunUntil;

// Connected loopback TCP pair: {ours (non-blocking), peer (blocking, for the test)}.
std::pair<int, int> TcpPair() {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  EXPECT_EQ(bind(l, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  EXPECT_EQ(listen(l, 1), 0);
  EXPECT_EQ(getsockname(l, reinterpret_cast<sockaddr*>(&a), &len), 0);
  int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int rc = connect(c, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  EXPECT_TRUE(rc == 0 || errno == EINPROGRESS);
  int p = accept(l, nullptr, nullptr);
  close(l);
  return {c, p};
}

class SocketStreamTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  std::unique_ptr<EventLoop> loop_ = EventLoop::Create(clock_).value();
};

TEST_F(SocketStreamTest, ReadsWritesAndEof) {
  auto [ours, peer] = TcpPair();
  auto s = SocketStream::Create(loop_.get(), ours).value();
  Endpoint e(s.get());
  std::string data = Pattern(200000);
  ASSERT_EQ(write(peer, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  shutdown(peer, SHUT_WR);
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return e.eof; }));
  EXPECT_EQ(e.received, data);
  e.Send("answer", true);
  char buf[16] = {};
  ASSERT_EQ(read(peer, buf, sizeof(buf)), 6);
  EXPECT_EQ(std::string(buf, 6), "answer");
  EXPECT_EQ(read(peer, buf, sizeof(buf)), 0);  // our FIN
  close(peer);
}

TEST_F(SocketStreamTest, ConsumingInOddPiecesWhileTheBufferGrowsIsByteExact) {
  // The read buffer grows for bulk transfers and is compacted when a read reaches its end:
  // consuming a little at a time while the peer keeps sending makes both happen with bytes still
  // held; what comes out must be the stream as sent.
  auto [ours, peer] = TcpPair();
  auto s = SocketStream::Create(loop_.get(), ours).value();
  Endpoint e(s.get());
  e.paused = true;  // this test reads by hand
  std::string data = Pattern(8 << 20);
  ASSERT_EQ(fcntl(peer, F_SETFL, O_NONBLOCK), 0);
  size_t written = 0;
  std::string received;
  for (int i = 0; i < 200000 && received.size() < data.size(); ++i) {
    if (written < data.size()) {
      ssize_t n =
          write(peer, data.data() + written, std::min<size_t>(data.size() - written, 100000));
      if (n > 0) {
        written += static_cast<size_t>(n);
      }
    }
    loop_->RunOnce(Duration::zero());
    EXPECT_LE(s->ReadableBytes(), SocketStream::kMaxBuffer);
    size_t budget = 7919 * (1 + i % 5);
    while (budget > 0 && s->ReadableBytes() > 0) {
      auto chunk = s->Peek();
      ASSERT_FALSE(chunk.empty());
      size_t n = std::min(chunk.size(), budget);
      received.append(reinterpret_cast<const char*>(chunk.data()), n);
      s->Consume(n);
      budget -= n;
    }
  }
  ASSERT_EQ(received.size(), data.size());
  EXPECT_TRUE(received == data);
  close(peer);
}

TEST_F(SocketStreamTest, ASlowConsumerBoundsTheBuffer) {
  auto [ours, peer] = TcpPair();
  auto s = SocketStream::Create(loop_.get(), ours).value();
  Endpoint e(s.get());
  e.paused = true;
  std::string data = Pattern(32 << 20);  // far more than loopback socket buffers hold
  int flags = 1;
  setsockopt(peer, IPPROTO_TCP, TCP_NODELAY, &flags, sizeof(flags));
  ASSERT_EQ(fcntl(peer, F_SETFL, O_NONBLOCK), 0);
  size_t written = 0;
  for (int i = 0; i < 2000 && written < data.size(); ++i) {
    ssize_t n = write(peer, data.data() + written, data.size() - written);
    if (n > 0) {
      written += static_cast<size_t>(n);
    }
    loop_->RunOnce(Duration::zero());
  }
  EXPECT_LE(s->ReadableBytes(), SocketStream::kMaxBuffer);  // grown for bulk, and no further
  EXPECT_LT(written, data.size());  // the kernel's window closed: the writer is held back
  e.paused = false;
  e.Read();
  for (int i = 0; i < 100000 && e.received.size() < data.size(); ++i) {
    if (written < data.size()) {
      ssize_t n = write(peer, data.data() + written, data.size() - written);
      if (n > 0) {
        written += static_cast<size_t>(n);
      }
    }
    loop_->RunOnce(Duration::zero());
  }
  EXPECT_TRUE(e.received == data);
  close(peer);
}

TEST_F(SocketStreamTest, PeerResetIsReportedAsReset) {
  auto [ours, peer] = TcpPair();
  auto s = SocketStream::Create(loop_.get(), ours).value();
  Endpoint e(s.get());
  linger lg{1, 0};
  setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(peer);
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return e.gone; }));
  EXPECT_TRUE(e.reset);
}

}  // namespace
}  // namespace msb::gateway
