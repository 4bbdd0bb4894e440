// UnixDgramDevice against real sockets: the vfkit hello, frames both ways to whoever spoke last,
// drops before any peer and for a vanished one, runts and oversize datagrams counted, a
// recvmmsg batch handed out one frame per call, and an adopted connected socket.
#include "stack/unix_dgram_device.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "tests/stack/socket_test_util.h"

namespace msb::stack {
namespace {

using msb::testing::BindUnix;
using msb::testing::TempDir;
using msb::testing::WaitReadable;

const std::vector<uint8_t> kHello = {'V', 'F', 'K', 'T'};

std::vector<uint8_t> Frame(size_t size, uint32_t seq) {
  std::vector<uint8_t> f(size);
  for (size_t i = 0; i < size; ++i) {
    f[i] = static_cast<uint8_t>((seq * 31 + i) & 0xff);
  }
  if (size >= 18) {
    std::memcpy(f.data() + 14, &seq, sizeof(seq));
  }
  return f;
}

// Recv takes one datagram from `fd` within two seconds (empty when none came).
std::vector<uint8_t> Recv(int fd) {
  std::vector<uint8_t> buf(70000);
  if (!WaitReadable(fd)) {
    return {};
  }
  ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
  buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return buf;
}

bool NothingToRecv(int fd) {
  return !WaitReadable(fd, 50);
}

bool Writable(int fd) {
  pollfd p{fd, POLLOUT, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & POLLOUT) != 0;
}

class BoundDgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    path_ = dir_.File("gw.sock");
    auto dev = UnixDgramDevice::Bind(path_, kCap);
    ASSERT_TRUE(dev.ok()) << dev.error();
    dev_ = std::move(dev).value();
    client_ = Client("vm.sock");
  }
  void TearDown() override {
    for (int fd : fds_) {
      close(fd);
    }
  }
  // Client is a socket bound to its own path and connected to the device, as vfkit's is.
  int Client(const std::string& name) {
    int fd = BindUnix(dir_.File(name), SOCK_DGRAM);
    EXPECT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    EXPECT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    fds_.push_back(fd);
    return fd;
  }
  void Send(int fd, const std::vector<uint8_t>& d) {
    ASSERT_EQ(send(fd, d.data(), d.size(), 0), static_cast<ssize_t>(d.size()));
  }
  // Read is ReadFrame with a bounded wait for the datagram to be there.
  ReadResult Read(std::vector<uint8_t>* frame) {
    frame->assign(kCap + 64, 0);
    WaitReadable(dev_->fd(), 1000);
    ReadResult r = dev_->ReadFrame(*frame);
    frame->resize(r.status == IoStatus::kOk ? r.size : 0);
    return r;
  }

  static constexpr size_t kCap = 2000;
  TempDir dir_;
  std::string path_;
  std::unique_ptr<UnixDgramDevice> dev_;
  int client_ = -1;
  std::vector<int> fds_;
};

TEST_F(BoundDgramTest, HelloNamesThePeerAndFramesFlowBothWays) {
  EXPECT_FALSE(dev_->has_peer());
  Send(client_, kHello);
  std::vector<uint8_t> got;
  EXPECT_EQ(Read(&got).status, IoStatus::kWouldBlock);  // a hello is not a frame
  EXPECT_TRUE(dev_->has_peer());
  EXPECT_EQ(dev_->counters().peers_accepted, 1u);
  EXPECT_EQ(dev_->counters().malformed, 0u);

  ASSERT_EQ(dev_->WriteFrame(Frame(60, 1)), IoStatus::kOk);
  EXPECT_EQ(Recv(client_), Frame(60, 1));
  Send(client_, Frame(1514, 2));
  ASSERT_EQ(Read(&got).status, IoStatus::kOk);
  EXPECT_EQ(got, Frame(1514, 2));
  std::vector<uint8_t> a = Frame(20, 3);
  std::vector<uint8_t> b = Frame(40, 4);
  const std::span<const uint8_t> parts[2] = {a, b};
  ASSERT_EQ(dev_->WriteFrameParts(parts, {}), IoStatus::kOk);
  std::vector<uint8_t> joined = a;
  joined.insert(joined.end(), b.begin(), b.end());
  EXPECT_EQ(Recv(client_), joined);
  EXPECT_EQ(dev_->counters().peers_accepted, 1u);  // the same peer all along
}

TEST_F(BoundDgramTest, FramesBeforeAnyPeerAreDroppedAndCounted) {
  EXPECT_EQ(dev_->WriteFrame(Frame(60, 1)), IoStatus::kOk);
  EXPECT_EQ(dev_->WriteFrame(Frame(60, 2)), IoStatus::kOk);
  EXPECT_EQ(dev_->counters().dropped_no_peer, 2u);
  EXPECT_TRUE(NothingToRecv(client_));
  // A frame (not only a hello) names the peer too.
  Send(client_, Frame(100, 3));
  std::vector<uint8_t> got;
  ASSERT_EQ(Read(&got).status, IoStatus::kOk);
  ASSERT_EQ(dev_->WriteFrame(Frame(60, 4)), IoStatus::kOk);
  EXPECT_EQ(Recv(client_), Frame(60, 4));
}

TEST_F(BoundDgramTest, ShortAndOversizeDatagramsAreCounted) {
  Send(client_, {});
  Send(client_, Frame(13, 1));
  Send(client_, Frame(kCap + 1, 2));
  Send(client_, {'V', 'F', 'K'});
  Send(client_, Frame(kCap, 3));  // at the cap: a frame
  std::vector<uint8_t> got;
  ASSERT_EQ(Read(&got).status, IoStatus::kOk);
  EXPECT_EQ(got, Frame(kCap, 3));
  EXPECT_EQ(dev_->counters().malformed, 4u);
  EXPECT_EQ(dev_->WriteFrame(Frame(kCap + 1, 4)), IoStatus::kOk);
  EXPECT_EQ(dev_->counters().dropped_oversize, 1u);
  EXPECT_TRUE(NothingToRecv(client_));
}

TEST_F(BoundDgramTest, ManyDatagramsArriveInOrder) {
  // The kernel queues at most net.unix.max_dgram_qlen (+1) datagrams for an unconnected socket
  // such as ours: the sender waits (here: EAGAIN) until the device drains.
  constexpr uint32_t kCount = 100;
  uint32_t sent = 0;
  uint32_t received = 0;
  std::vector<uint8_t> buf(kCap);
  while (received < kCount) {
    while (sent < kCount) {
      std::vector<uint8_t> f = Frame(64 + sent, sent);
      if (send(client_, f.data(), f.size(), MSG_DONTWAIT) < 0) {
        ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << strerror(errno);
        break;
      }
      ++sent;
    }
    ASSERT_GT(sent, received) << "nothing could be sent";
    for (ReadResult r = dev_->ReadFrame(buf); r.status == IoStatus::kOk; r = dev_->ReadFrame(buf)) {
      ASSERT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(r.size)),
                Frame(64 + received, received));
      ++received;
    }
    ASSERT_EQ(received, sent);
  }
}

TEST(UnixDgramAdoptTest, ABatchOfDatagramsIsHandedOutOnePerCall) {
  // A connected pair has no queue-length limit: recvmmsg takes 32 datagrams per call.
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
  auto adopted = UnixDgramDevice::Adopt(sv[0]);
  ASSERT_TRUE(adopted.ok()) << adopted.error();
  UnixDgramDevice* dev = adopted.value().get();
  constexpr uint32_t kCount = 100;
  for (uint32_t i = 0; i < kCount; ++i) {
    std::vector<uint8_t> f = Frame(64 + i, i);
    ASSERT_EQ(send(sv[1], f.data(), f.size(), 0), static_cast<ssize_t>(f.size()));
  }
  std::vector<uint8_t> buf(4096);
  std::vector<bool> pending_after;
  for (uint32_t i = 0; i < kCount; ++i) {
    ReadResult r = dev->ReadFrame(buf);
    ASSERT_EQ(r.status, IoStatus::kOk) << i;
    ASSERT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(r.size)),
              Frame(64 + i, i))
        << i;
    pending_after.push_back(dev->HasPendingInput());
  }
  EXPECT_EQ(dev->ReadFrame(buf).status, IoStatus::kWouldBlock);
  // Only every 32nd read found its batch used up (and the last one, 100 = 3 * 32 + 4).
  for (uint32_t i = 0; i < kCount; ++i) {
    EXPECT_EQ(pending_after[i], i % 32 != 31 && i != kCount - 1) << i;
  }
  close(sv[1]);
}

TEST_F(BoundDgramTest, RepliesFollowTheLatestSender) {
  Send(client_, kHello);
  std::vector<uint8_t> got;
  Read(&got);
  int other = Client("vm2.sock");
  Send(other, Frame(100, 1));
  ASSERT_EQ(Read(&got).status, IoStatus::kOk);
  ASSERT_EQ(dev_->WriteFrame(Frame(60, 2)), IoStatus::kOk);
  EXPECT_EQ(Recv(other), Frame(60, 2));
  EXPECT_TRUE(NothingToRecv(client_));
  EXPECT_EQ(dev_->counters().peers_accepted, 2u);
}

TEST_F(BoundDgramTest, AnUnboundSenderIsHeardButCannotBecomeThePeer) {
  int anon = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  fds_.push_back(anon);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  std::vector<uint8_t> f = Frame(100, 1);
  ASSERT_EQ(
      sendto(anon, f.data(), f.size(), 0, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)),
      static_cast<ssize_t>(f.size()));
  std::vector<uint8_t> got;
  ASSERT_EQ(Read(&got).status, IoStatus::kOk);
  EXPECT_EQ(got, f);
  EXPECT_FALSE(dev_->has_peer());
}

TEST_F(BoundDgramTest, APeerThatIsGoneIsNotAnError) {
  Send(client_, kHello);
  std::vector<uint8_t> got;
  Read(&got);
  close(client_);
  fds_.erase(std::find(fds_.begin(), fds_.end(), client_));
  EXPECT_EQ(dev_->WriteFrame(Frame(60, 1)), IoStatus::kOk);  // its file is there: ECONNREFUSED
  ASSERT_EQ(unlink(dir_.File("vm.sock").c_str()), 0);
  EXPECT_EQ(dev_->WriteFrame(Frame(60, 2)), IoStatus::kOk);  // and now ENOENT
  EXPECT_EQ(dev_->counters().dropped_peer_gone, 2u);
  // The VM comes back at the same path and is heard again.
  client_ = Client("vm.sock");
  Send(client_, kHello);
  EXPECT_EQ(Read(&got).status, IoStatus::kWouldBlock);
  ASSERT_EQ(dev_->WriteFrame(Frame(60, 3)), IoStatus::kOk);
  EXPECT_EQ(Recv(client_), Frame(60, 3));
}

TEST_F(BoundDgramTest, AConnectedPeerThatDoesNotReadPushesBack) {
  // vfkit's socket is connected to ours: the kernel then limits us by our own send buffer only,
  // which EPOLLOUT waits for, so kWouldBlock is right and writability ends it.
  Send(client_, kHello);
  std::vector<uint8_t> got;
  Read(&got);
  int accepted = 0;
  IoStatus st = IoStatus::kOk;
  for (; accepted < 100000; ++accepted) {
    st = dev_->WriteFrame(Frame(1000, static_cast<uint32_t>(accepted)));
    if (st != IoStatus::kOk) {
      break;
    }
  }
  ASSERT_EQ(st, IoStatus::kWouldBlock);
  EXPECT_FALSE(Writable(dev_->fd()));
  EXPECT_EQ(dev_->counters().dropped_peer_busy, 0u);
  for (int i = 0; i < accepted; ++i) {
    ASSERT_EQ(Recv(client_), Frame(1000, static_cast<uint32_t>(i))) << i;
  }
  EXPECT_TRUE(Writable(dev_->fd()));
  EXPECT_EQ(dev_->WriteFrame(Frame(1000, 0)), IoStatus::kOk);
}

TEST_F(BoundDgramTest, AnUnconnectedPeerThatDoesNotReadMakesWritesDropNotSpin) {
  // A peer that only uses sendto is limited by its receive queue, which EPOLLOUT on our socket
  // does not wait for: blocking would spin the loop, so frames are dropped instead.
  int big = 8 * 1024 * 1024;
  if (setsockopt(dev_->fd(), SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) != 0) {
    (void)setsockopt(dev_->fd(), SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
  }
  int actual = 0;
  socklen_t len = sizeof(actual);
  ASSERT_EQ(getsockopt(dev_->fd(), SOL_SOCKET, SO_SNDBUF, &actual, &len), 0);
  if (actual < 2 * 1024 * 1024) {
    GTEST_SKIP() << "send buffer stuck at " << actual << " bytes; the peer queue never fills first";
  }
  int deaf = BindUnix(dir_.File("deaf.sock"), SOCK_DGRAM);
  fds_.push_back(deaf);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  std::vector<uint8_t> f = Frame(100, 1);
  ASSERT_GT(
      sendto(deaf, f.data(), f.size(), 0, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)),
      0);
  std::vector<uint8_t> got;
  ASSERT_EQ(Read(&got).status, IoStatus::kOk);
  for (int i = 0; i < 2000; ++i) {
    IoStatus st = dev_->WriteFrame(Frame(14, static_cast<uint32_t>(i)));
    ASSERT_TRUE(st == IoStatus::kOk || (st == IoStatus::kWouldBlock && !Writable(dev_->fd()))) << i;
  }
  EXPECT_GT(dev_->counters().dropped_peer_busy, 0u);
  EXPECT_EQ(Recv(deaf), Frame(14, 0));  // what fitted in its queue arrived, in order
}

TEST(UnixDgramAdoptTest, ConnectedSocketPairCarriesFramesAndIgnoresHellos) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
  auto dev = UnixDgramDevice::Adopt(sv[0]);
  ASSERT_TRUE(dev.ok()) << dev.error();
  EXPECT_TRUE(dev.value()->has_peer());
  ASSERT_EQ(dev.value()->WriteFrame(Frame(60, 1)), IoStatus::kOk);
  EXPECT_EQ(Recv(sv[1]), Frame(60, 1));
  ASSERT_EQ(send(sv[1], kHello.data(), kHello.size(), 0), 4);
  std::vector<uint8_t> f = Frame(200, 2);
  ASSERT_EQ(send(sv[1], f.data(), f.size(), 0), static_cast<ssize_t>(f.size()));
  std::vector<uint8_t> buf(4096);
  ReadResult r = dev.value()->ReadFrame(buf);
  ASSERT_EQ(r.status, IoStatus::kOk);
  EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(r.size)), f);
  EXPECT_EQ(dev.value()->counters().malformed, 0u);
  close(sv[1]);
  EXPECT_EQ(dev.value()->WriteFrame(Frame(60, 3)), IoStatus::kOk);  // the peer is gone
  EXPECT_EQ(dev.value()->counters().dropped_peer_gone, 1u);
  EXPECT_NE(dev.value()->ReadFrame(buf).status, IoStatus::kError);
}

TEST(UnixDgramAdoptTest, RejectsAStreamSocket) {
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  auto dev = UnixDgramDevice::Adopt(s);
  ASSERT_FALSE(dev.ok());
  EXPECT_NE(dev.error().find("datagram socket expected"), std::string::npos) << dev.error();
  close(s);
}

TEST(UnixDgramBindTest, ReplacesOnlyAStaleSocketAndCleansUp) {
  TempDir dir;
  std::string path = dir.File("d");
  ASSERT_EQ(mkdir(path.c_str(), 0700), 0);
  auto refused = UnixDgramDevice::Bind(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("not a socket"), std::string::npos) << refused.error();
  ASSERT_EQ(rmdir(path.c_str()), 0);
  int stale = BindUnix(path, SOCK_DGRAM);
  ASSERT_GE(stale, 0);
  close(stale);
  {
    auto dev = UnixDgramDevice::Bind(path);
    ASSERT_TRUE(dev.ok()) << dev.error();
  }
  struct stat st {};
  EXPECT_NE(stat(path.c_str(), &st), 0);
}

}  // namespace
}  // namespace msb::stack
