// UnixStreamDevice against real sockets: byte-exact frames both ways, many frames from one read,
// output buffered when the peer does not read and flushed later, peers coming and going on a
// listening socket (a second one refused, one with a bogus length dropped, the next one served),
// an adopted socket's end being final, and malformed input counted.
#include "stack/unix_stream_device.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "tests/stack/socket_test_util.h"

namespace msb::stack {
namespace {

using msb::testing::ConnectUnix;
using msb::testing::ReadExactly;
using msb::testing::TempDir;
using msb::testing::WaitReadable;
using msb::testing::WriteAll;

std::vector<uint8_t> Frame(size_t size, uint32_t seq) {
  std::vector<uint8_t> f(size);
  for (size_t i = 0; i < size; ++i) {
    f[i] = static_cast<uint8_t>((seq * 131 + i) & 0xff);
  }
  if (size >= 18) {
    std::memcpy(f.data() + 14, &seq, sizeof(seq));
  }
  return f;
}

std::vector<uint8_t> Encoded(const std::vector<uint8_t>& frame) {
  std::vector<uint8_t> out;
  const std::span<const uint8_t> parts[1] = {frame};
  AppendStreamFrame(parts, &out);
  return out;
}

std::vector<uint8_t> Header(uint32_t len) {
  auto h = StreamFrameHeader(len);
  return {h.begin(), h.end()};
}

// ReadOne polls the device until it yields a frame (or anything but kWouldBlock), for at most
// about two seconds.
ReadResult ReadOne(FrameDevice* dev, std::vector<uint8_t>* frame) {
  frame->assign(kDefaultMaxFrameSize + 64, 0);
  for (int i = 0; i < 200; ++i) {
    ReadResult r = dev->ReadFrame(*frame);
    if (r.status != IoStatus::kWouldBlock) {
      frame->resize(r.size);
      return r;
    }
    WaitReadable(dev->fd(), 10);
  }
  frame->clear();
  return {IoStatus::kWouldBlock, 0, {}};
}

// ReadFrameFromPeer reads one length-prefixed frame from the peer's side of the connection.
std::vector<uint8_t> ReadFrameFromPeer(int fd) {
  std::vector<uint8_t> h = ReadExactly(fd, 4);
  if (h.size() != 4) {
    return {};
  }
  uint32_t len = (uint32_t{h[0]} << 24) | (uint32_t{h[1]} << 16) | (uint32_t{h[2]} << 8) | h[3];
  return ReadExactly(fd, len);
}

// PeerSeesEof: the other end was closed (the device refused or dropped us).
bool PeerSeesEof(int fd) {
  if (!WaitReadable(fd)) {
    return false;
  }
  uint8_t b;
  return recv(fd, &b, 1, MSG_DONTWAIT) == 0;
}

class AdoptedStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    peer_ = sv[1];
    auto dev = UnixStreamDevice::Adopt(sv[0]);
    ASSERT_TRUE(dev.ok()) << dev.error();
    dev_ = std::move(dev).value();
  }
  void TearDown() override {
    if (peer_ >= 0) {
      close(peer_);
    }
  }
  std::unique_ptr<UnixStreamDevice> dev_;
  int peer_ = -1;
};

TEST_F(AdoptedStreamTest, FramesBothWaysByteExact) {
  EXPECT_EQ(dev_->state(), UnixStreamDevice::State::kConnected);
  std::vector<uint8_t> in = Frame(1514, 1);
  ASSERT_TRUE(WriteAll(peer_, Encoded(in)));
  std::vector<uint8_t> got;
  ASSERT_EQ(ReadOne(dev_.get(), &got).status, IoStatus::kOk);
  EXPECT_EQ(got, in);

  std::vector<uint8_t> out = Frame(60, 2);
  ASSERT_EQ(dev_->WriteFrame(out), IoStatus::kOk);
  EXPECT_EQ(ReadFrameFromPeer(peer_), out);
  // Gathered pieces go out as one frame.
  std::vector<uint8_t> a = Frame(20, 3);
  std::vector<uint8_t> b = Frame(30, 4);
  const std::span<const uint8_t> parts[2] = {a, b};
  ASSERT_EQ(dev_->WriteFrameParts(parts, {}), IoStatus::kOk);
  std::vector<uint8_t> joined = a;
  joined.insert(joined.end(), b.begin(), b.end());
  EXPECT_EQ(ReadFrameFromPeer(peer_), joined);
  EXPECT_FALSE(dev_->HasPendingOutput());
  EXPECT_EQ(dev_->fd_generation(), 0u);
  EXPECT_EQ(dev_->secondary_fd(), -1);
}

TEST_F(AdoptedStreamTest, ManyFramesFromOneRead) {
  std::vector<uint8_t> stream;
  for (uint32_t i = 0; i < 100; ++i) {
    std::vector<uint8_t> e = Encoded(Frame(64 + i, i));
    stream.insert(stream.end(), e.begin(), e.end());
  }
  ASSERT_TRUE(WriteAll(peer_, stream));
  std::vector<uint8_t> got;
  ASSERT_EQ(ReadOne(dev_.get(), &got).status, IoStatus::kOk);
  EXPECT_EQ(got, Frame(64, 0));
  // Everything left the kernel in that one read; the rest comes from the device's buffer.
  int queued = -1;
  ASSERT_EQ(ioctl(dev_->fd(), FIONREAD, &queued), 0);
  EXPECT_EQ(queued, 0);
  std::vector<uint8_t> buf(2048);
  for (uint32_t i = 1; i < 100; ++i) {
    EXPECT_TRUE(dev_->HasPendingInput());
    ReadResult r = dev_->ReadFrame(buf);
    ASSERT_EQ(r.status, IoStatus::kOk) << i;
    EXPECT_EQ(std::vector<uint8_t>(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(r.size)),
              Frame(64 + i, i));
  }
  EXPECT_FALSE(dev_->HasPendingInput());
  EXPECT_EQ(dev_->ReadFrame(buf).status, IoStatus::kWouldBlock);
}

TEST_F(AdoptedStreamTest, FrameLongerThanTheBufferIsCutToIt) {
  ASSERT_TRUE(WriteAll(peer_, Encoded(Frame(300, 1))));
  ASSERT_TRUE(WaitReadable(dev_->fd()));
  std::vector<uint8_t> buf(100);
  ReadResult r = dev_->ReadFrame(buf);
  ASSERT_EQ(r.status, IoStatus::kOk);
  EXPECT_EQ(r.size, buf.size());
}

TEST_F(AdoptedStreamTest, PartialWritesAreBufferedThenFlushed) {
  int small = 16 * 1024;
  ASSERT_EQ(setsockopt(dev_->fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  // The peer reads nothing: the socket fills, then the device's buffer, then writes block.
  // Frames larger than the socket's buffer make the kernel take them in part.
  std::vector<std::vector<uint8_t>> sent;
  size_t accepted_bytes = 0;
  for (uint32_t i = 0; i < 10000; ++i) {
    std::vector<uint8_t> f = Frame(i % 3 == 0 ? 60000 : 1000 + (i % 7) * 100, i);
    IoStatus st = dev_->WriteFrame(f);
    if (st == IoStatus::kWouldBlock) {
      break;
    }
    ASSERT_EQ(st, IoStatus::kOk);
    accepted_bytes += f.size() + 4;
    sent.push_back(std::move(f));
  }
  ASSERT_LT(sent.size(), 10000u) << "the device never pushed back";
  EXPECT_TRUE(dev_->HasPendingOutput());
  EXPECT_GE(accepted_bytes, size_t{1024 * 1024});           // the buffer took its share
  EXPECT_LE(accepted_bytes, size_t{1024 * 1024 + 400000});  // and stayed bounded
  EXPECT_EQ(dev_->WriteFrame(Frame(100, 0)), IoStatus::kWouldBlock);
  EXPECT_EQ(dev_->Flush(), IoStatus::kWouldBlock);  // the peer still reads nothing

  // Now the peer reads while the owner flushes on writability: every accepted frame, in order.
  int flags = fcntl(peer_, F_GETFL);
  ASSERT_EQ(fcntl(peer_, F_SETFL, flags | O_NONBLOCK), 0);
  std::vector<uint8_t> received;
  std::vector<uint8_t> chunk(65536);
  for (int round = 0; round < 100000 && received.size() < accepted_bytes; ++round) {
    ssize_t n = recv(peer_, chunk.data(), chunk.size(), 0);
    if (n > 0) {
      received.insert(received.end(), chunk.begin(), chunk.begin() + n);
    }
    (void)dev_->Flush();
  }
  EXPECT_FALSE(dev_->HasPendingOutput());
  EXPECT_EQ(dev_->Flush(), IoStatus::kOk);
  ASSERT_EQ(received.size(), accepted_bytes);
  StreamFrameDecoder d(kDefaultMaxFrameSize);
  std::span<const uint8_t> rest(received);
  for (size_t i = 0; i < sent.size(); ++i) {
    StreamFrameDecoder::Step s = d.Decode(rest);
    ASSERT_EQ(s.kind, StreamFrameDecoder::Kind::kFrame) << i;
    ASSERT_EQ(std::vector<uint8_t>(s.record.begin(), s.record.end()), sent[i]) << i;
    rest = rest.subspan(s.consumed);
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(dev_->WriteFrame(Frame(100, 1)), IoStatus::kOk);  // room again
}

TEST_F(AdoptedStreamTest, DisconnectIsFinalAndATruncatedFrameIsCounted) {
  std::vector<uint8_t> stream = Encoded(Frame(100, 1));
  std::vector<uint8_t> cut = Encoded(Frame(100, 2));
  stream.insert(stream.end(), cut.begin(), cut.begin() + 50);
  ASSERT_TRUE(WriteAll(peer_, stream));
  close(peer_);
  peer_ = -1;
  std::vector<uint8_t> got;
  ASSERT_EQ(ReadOne(dev_.get(), &got).status, IoStatus::kOk);
  EXPECT_EQ(got, Frame(100, 1));
  EXPECT_EQ(ReadOne(dev_.get(), &got).status, IoStatus::kClosed);
  EXPECT_EQ(dev_->state(), UnixStreamDevice::State::kClosed);
  EXPECT_EQ(ReadOne(dev_.get(), &got).status, IoStatus::kClosed);
  EXPECT_EQ(dev_->counters().malformed, 1u);
  EXPECT_EQ(dev_->counters().peer_disconnects, 1u);
  EXPECT_EQ(dev_->WriteFrame(Frame(100, 3)), IoStatus::kOk);  // nobody to take it: dropped
  EXPECT_EQ(dev_->counters().dropped_no_peer, 1u);
}

TEST_F(AdoptedStreamTest, RuntRecordsAreCountedAndFramingContinues) {
  std::vector<uint8_t> stream = Encoded(Frame(0, 0));
  for (const auto& e : {Encoded(Frame(13, 1)), Encoded(Frame(14, 2))}) {
    stream.insert(stream.end(), e.begin(), e.end());
  }
  ASSERT_TRUE(WriteAll(peer_, stream));
  std::vector<uint8_t> got;
  ASSERT_EQ(ReadOne(dev_.get(), &got).status, IoStatus::kOk);
  EXPECT_EQ(got, Frame(14, 2));
  EXPECT_EQ(dev_->counters().malformed, 2u);
}

TEST_F(AdoptedStreamTest, OversizeLengthEndsTheAdoptedConnection) {
  ASSERT_TRUE(WriteAll(peer_, Header(kDefaultMaxFrameSize + 1)));
  std::vector<uint8_t> got;
  EXPECT_EQ(ReadOne(dev_.get(), &got).status, IoStatus::kClosed);
  EXPECT_EQ(dev_->counters().framing_errors, 1u);
  EXPECT_TRUE(PeerSeesEof(peer_));
}

TEST_F(AdoptedStreamTest, WritesAfterThePeerStoppedReadingAreDropped) {
  ASSERT_EQ(shutdown(peer_, SHUT_RD), 0);
  EXPECT_EQ(dev_->WriteFrame(Frame(100, 1)), IoStatus::kOk);
  EXPECT_EQ(dev_->counters().dropped_no_peer, 1u);
}

TEST(UnixStreamAdoptTest, RejectsWhatIsNotAConnectedStreamSocket) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  auto not_socket = UnixStreamDevice::Adopt(p[0]);
  ASSERT_FALSE(not_socket.ok());
  EXPECT_NE(not_socket.error().find("not a socket"), std::string::npos) << not_socket.error();
  close(p[0]);
  close(p[1]);
  int dgram = socket(AF_UNIX, SOCK_DGRAM, 0);
  auto wrong_type = UnixStreamDevice::Adopt(dgram);
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.error().find("stream socket expected"), std::string::npos);
  close(dgram);
  int unconnected = socket(AF_UNIX, SOCK_STREAM, 0);
  auto not_connected = UnixStreamDevice::Adopt(unconnected);
  ASSERT_FALSE(not_connected.ok());
  EXPECT_NE(not_connected.error().find("not connected"), std::string::npos);
  close(unconnected);
}

class ListeningStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    path_ = dir_.File("net.sock");
    auto dev = UnixStreamDevice::Listen(path_);
    ASSERT_TRUE(dev.ok()) << dev.error();
    dev_ = std::move(dev).value();
    listener_ = dev_->fd();
  }
  // Connect makes a client and lets the device accept it.
  int Connect() {
    int fd = ConnectUnix(path_, SOCK_STREAM);
    EXPECT_GE(fd, 0);
    std::vector<uint8_t> buf(100);
    EXPECT_EQ(dev_->ReadFrame(buf).status, IoStatus::kWouldBlock);
    return fd;
  }
  TempDir dir_;
  std::string path_;
  std::unique_ptr<UnixStreamDevice> dev_;
  int listener_ = -1;
};

TEST_F(ListeningStreamTest, PeerDisconnectsThenANewPeerIsServed) {
  EXPECT_EQ(dev_->state(), UnixStreamDevice::State::kListening);
  EXPECT_EQ(dev_->secondary_fd(), -1);
  uint64_t gen = dev_->fd_generation();
  EXPECT_EQ(dev_->WriteFrame(Frame(60, 0)), IoStatus::kOk);  // nobody there yet
  EXPECT_EQ(dev_->counters().dropped_no_peer, 1u);

  int first = Connect();
  EXPECT_EQ(dev_->state(), UnixStreamDevice::State::kConnected);
  EXPECT_NE(dev_->fd_generation(), gen);
  EXPECT_NE(dev_->fd(), listener_);
  EXPECT_EQ(dev_->secondary_fd(), listener_);
  ASSERT_TRUE(WriteAll(first, Encoded(Frame(100, 1))));
  std::vector<uint8_t> got;
  ASSERT_EQ(ReadOne(dev_.get(), &got).status, IoStatus::kOk);
  EXPECT_EQ(got, Frame(100, 1));
  ASSERT_EQ(dev_->WriteFrame(Frame(200, 2)), IoStatus::kOk);
  EXPECT_EQ(ReadFrameFromPeer(first), Frame(200, 2));

  gen = dev_->fd_generation();
  close(first);  // the VM reboots
  ASSERT_TRUE(WaitReadable(dev_->fd()));
  EXPECT_EQ(dev_->ReadFrame(got).status, IoStatus::kWouldBlock);
  EXPECT_EQ(dev_->state(), UnixStreamDevice::State::kListening);
  EXPECT_EQ(dev_->fd(), listener_);
  EXPECT_NE(dev_->fd_generation(), gen);
  EXPECT_EQ(dev_->counters().peer_disconnects, 1u);

  int second = Connect();
  ASSERT_EQ(dev_->state(), UnixStreamDevice::State::kConnected);
  ASSERT_TRUE(WriteAll(second, Encoded(Frame(300, 3))));
  ASSERT_EQ(ReadOne(dev_.get(), &got).status, IoStatus::kOk);
  EXPECT_EQ(got, Frame(300, 3));
  ASSERT_EQ(dev_->WriteFrame(Frame(400, 4)), IoStatus::kOk);
  EXPECT_EQ(ReadFrameFromPeer(second), Frame(400, 4));
  EXPECT_EQ(dev_->counters().peers_accepted, 2u);
  close(second);
}

TEST_F(ListeningStreamTest, SecondSimultaneousPeerIsRefused) {
  int first = Connect();
  int second = ConnectUnix(path_, SOCK_STREAM);
  ASSERT_GE(second, 0);
  // The owner watches secondary_fd(): it is readable, and reading the device refuses the peer.
  ASSERT_TRUE(WaitReadable(dev_->secondary_fd(), 1000));
  std::vector<uint8_t> buf(2048);
  EXPECT_EQ(dev_->ReadFrame(buf).status, IoStatus::kWouldBlock);
  EXPECT_TRUE(PeerSeesEof(second));
  EXPECT_EQ(dev_->counters().peers_refused, 1u);
  // The first peer is still served.
  ASSERT_TRUE(WriteAll(first, Encoded(Frame(100, 1))));
  std::vector<uint8_t> got;
  ASSERT_EQ(ReadOne(dev_.get(), &got).status, IoStatus::kOk);
  EXPECT_EQ(got, Frame(100, 1));
  close(first);
  close(second);
}

TEST_F(ListeningStreamTest, OversizeLengthDropsTheConnectionAndTheNextPeerWorks) {
  int first = Connect();
  std::vector<uint8_t> bogus = Encoded(Frame(100, 1));
  std::vector<uint8_t> h = Header(kDefaultMaxFrameSize + 1);
  bogus.insert(bogus.end(), h.begin(), h.end());
  bogus.resize(bogus.size() + 500, 0xab);
  ASSERT_TRUE(WriteAll(first, bogus));
  std::vector<uint8_t> got;
  ASSERT_EQ(ReadOne(dev_.get(), &got).status, IoStatus::kOk);  // what came before is served
  EXPECT_EQ(got, Frame(100, 1));
  got.resize(2048);
  EXPECT_EQ(dev_->ReadFrame(got).status, IoStatus::kWouldBlock);
  EXPECT_EQ(dev_->counters().framing_errors, 1u);
  EXPECT_EQ(dev_->state(), UnixStreamDevice::State::kListening);
  EXPECT_TRUE(PeerSeesEof(first));
  close(first);

  int second = Connect();
  ASSERT_TRUE(WriteAll(second, Encoded(Frame(100, 2))));
  ASSERT_EQ(ReadOne(dev_.get(), &got).status, IoStatus::kOk);
  EXPECT_EQ(got, Frame(100, 2));
  close(second);
}

TEST_F(ListeningStreamTest, OutputForAPeerThatLeftIsNotSentToTheNext) {
  int first = Connect();
  int small = 8 * 1024;
  ASSERT_EQ(setsockopt(dev_->fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  for (uint32_t i = 0; i < 100 && !dev_->HasPendingOutput(); ++i) {
    ASSERT_EQ(dev_->WriteFrame(Frame(1000, i)), IoStatus::kOk);
  }
  ASSERT_TRUE(dev_->HasPendingOutput());
  close(first);
  ASSERT_TRUE(WaitReadable(dev_->fd()));
  std::vector<uint8_t> got(2048);
  EXPECT_EQ(dev_->ReadFrame(got).status, IoStatus::kWouldBlock);
  EXPECT_EQ(dev_->state(), UnixStreamDevice::State::kListening);
  EXPECT_FALSE(dev_->HasPendingOutput());
  int second = Connect();
  ASSERT_EQ(dev_->WriteFrame(Frame(64, 7)), IoStatus::kOk);
  EXPECT_EQ(ReadFrameFromPeer(second), Frame(64, 7));  // first thing the new peer sees
  close(second);
}

TEST(UnixStreamListenTest, ReplacesAStaleSocketButNothingElseAndCleansUp) {
  TempDir dir;
  std::string path = dir.File("s");
  { std::ofstream(path) << "not a socket"; }
  auto refused = UnixStreamDevice::Listen(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("not a socket"), std::string::npos) << refused.error();
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));  // left alone
  ASSERT_EQ(unlink(path.c_str()), 0);

  int stale = msb::testing::BindUnix(path, SOCK_STREAM);
  ASSERT_GE(stale, 0);
  close(stale);  // its file stays behind, as after a crash
  {
    auto dev = UnixStreamDevice::Listen(path);
    ASSERT_TRUE(dev.ok()) << dev.error();
    EXPECT_EQ(dev.value()->path(), path);
    int c = ConnectUnix(path, SOCK_STREAM);
    EXPECT_GE(c, 0);
    close(c);
  }
  EXPECT_NE(stat(path.c_str(), &st), 0);  // removed with the device

  auto too_long = UnixStreamDevice::Listen(dir.File(std::string(200, 'x')));
  EXPECT_FALSE(too_long.ok());
  auto bad_cap = UnixStreamDevice::Listen(path, 10);
  EXPECT_FALSE(bad_cap.ok());
}

}  // namespace
}  // namespace msb::stack
