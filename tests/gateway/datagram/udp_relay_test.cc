// Tests for the UDP relay over real loopback sockets: datagrams both ways with the destination
// impersonated, only the connected peer's replies, large datagrams, a closed port reported to
// the guest, idle expiry and eviction, and the flow.close records.
#include "gateway/datagram/udp_relay.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "gateway/core/upstream_socket.h"
#include "tests/base/temp_dir.h"
#include "tests/gateway/datagram/recording_guest.h"

namespace msb::gateway {
namespace {

const SocketAddress kGuest{IpAddress::V4(0xac100002), 40000};
const SocketAddress kDest{*IpAddress::Parse("198.51.100.10"), 7};

// Server: a UDP socket on 127.0.0.1 standing for the destination.
struct Server {
  Server() {
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_storage ss;
    socklen_t len = ToSockaddr({IpAddress::V4(0x7f000001), 0}, &ss);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&ss), len), 0);
    len = sizeof(ss);
    getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    addr = *FromSockaddr(ss);
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~Server() { close(fd); }
  // Receive one datagram (2 s at most) and remember who sent it.
  std::string Recv() {
    std::string buf(70000, '\0');
    sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    ssize_t n = recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&ss), &len);
    if (n < 0) {
      return "<nothing>";
    }
    peer = *FromSockaddr(ss);
    buf.resize(static_cast<size_t>(n));
    return buf;
  }
  void Reply(const std::string& s) const {
    sockaddr_storage ss;
    socklen_t len = ToSockaddr(peer, &ss);
    sendto(fd, s.data(), s.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
  }
  int fd;
  SocketAddress addr;
  SocketAddress peer;
};

class UdpRelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    audit_ = AuditLog::Open(dir_.File("audit.jsonl")).value();
    loop_ = EventLoop::Create(clock_).value();
  }
  std::unique_ptr<UdpRelay> MakeRelay(UdpRelayOptions o = {}) {
    return std::make_unique<UdpRelay>(loop_.get(), audit_.get(), &guest_, o);
  }
  stack::FlowTuple Flow(uint16_t guest_port = kGuest.port) const {
    return {stack::Transport::kUdp, {kGuest.ip, guest_port}, kDest};
  }
  // Pump runs the loop until `done` or about 2 s have passed.
  template <typename F>
  void Pump(F done) {
    for (int i = 0; i < 200 && !done(); ++i) {
      loop_->RunOnce(std::chrono::milliseconds(10));
    }
  }
  std::vector<std::string> AuditLines() const {
    std::ifstream f(dir_.File("audit.jsonl"));
    std::vector<std::string> lines;
    for (std::string l; std::getline(f, l);) {
      lines.push_back(l);
    }
    return lines;
  }

  msb::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<EventLoop> loop_;
  RecordingGuest guest_;
};

TEST_F(UdpRelayTest, DatagramsBothWaysAsTheDestination) {
  Server server;
  auto relay = MakeRelay();
  ASSERT_TRUE(relay->Open(5, Flow(), server.addr).ok());
  EXPECT_TRUE(relay->Has(Flow()));
  const uint8_t hello[] = {'h', 'e', 'l', 'l', 'o'};
  relay->Send(Flow(), hello);
  EXPECT_EQ(server.Recv(), "hello");
  server.Reply("olleh");
  Pump([&] { return !guest_.udp.empty(); });
  ASSERT_EQ(guest_.udp.size(), 1u);
  EXPECT_EQ(guest_.udp[0].from, kDest);  // the guest sees its destination answer
  EXPECT_EQ(guest_.udp[0].to, kGuest);
  EXPECT_EQ(std::string(guest_.udp[0].payload.begin(), guest_.udp[0].payload.end()), "olleh");

  // A datagram from anyone else to the relay's socket never reaches the guest.
  Server stranger;
  stranger.peer = server.peer;
  stranger.Reply("intruder");
  server.Reply("second");
  Pump([&] { return guest_.udp.size() >= 2; });
  ASSERT_EQ(guest_.udp.size(), 2u);
  EXPECT_EQ(std::string(guest_.udp[1].payload.begin(), guest_.udp[1].payload.end()), "second");
  EXPECT_EQ(relay->stats().datagrams_up, 1u);
  EXPECT_EQ(relay->stats().datagrams_down, 2u);
}

TEST_F(UdpRelayTest, LargeDatagramsRoundTrip) {
  Server server;
  auto relay = MakeRelay();
  ASSERT_TRUE(relay->Open(1, Flow(), server.addr).ok());
  for (size_t size : {3000u, 60000u}) {
    std::string big(size, '\0');
    for (size_t i = 0; i < size; ++i) {
      big[i] = static_cast<char>(i * 31 + size);
    }
    relay->Send(Flow(), {reinterpret_cast<const uint8_t*>(big.data()), big.size()});
    EXPECT_EQ(server.Recv(), big);
    server.Reply(big);
    size_t want = guest_.udp.size() + 1;
    Pump([&] { return guest_.udp.size() == want; });
    ASSERT_EQ(guest_.udp.size(), want);
    EXPECT_EQ(std::string(guest_.udp.back().payload.begin(), guest_.udp.back().payload.end()), big);
  }
}

TEST_F(UdpRelayTest, ClosedPortIsReportedToTheGuest) {
  SocketAddress closed;
  {
    Server gone;  // a port that was just free: nothing listens there now
    closed = gone.addr;
  }
  auto relay = MakeRelay();
  ASSERT_TRUE(relay->Open(2, Flow(), closed).ok());
  const uint8_t probe[] = {1, 2, 3};
  relay->Send(Flow(), probe);
  Pump([&] { return !guest_.unreachable.empty(); });
  ASSERT_EQ(guest_.unreachable.size(), 1u);
  EXPECT_EQ(guest_.unreachable[0].first, Flow());
  EXPECT_EQ(guest_.unreachable[0].second, 3u);
  EXPECT_EQ(relay->stats().port_unreachable, 1u);
}

TEST_F(UdpRelayTest, IdleFlowsExpireAndTheOldestIsEvictedWhenFull) {
  Server server;
  UdpRelayOptions o;
  o.idle_timeout = std::chrono::seconds(60);
  o.max_flows = 2;
  auto relay = MakeRelay(o);
  ASSERT_TRUE(relay->Open(1, Flow(1), server.addr).ok());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(relay->Open(2, Flow(2), server.addr).ok());
  clock_.Advance(std::chrono::seconds(1));
  const uint8_t x[] = {'x'};
  relay->Send(Flow(1), x);  // flow 1 is now the more recently used
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(relay->Open(3, Flow(3), server.addr).ok());
  EXPECT_TRUE(relay->Has(Flow(1)));
  EXPECT_FALSE(relay->Has(Flow(2)));
  EXPECT_EQ(relay->stats().flows_evicted, 1u);
  // Sixty seconds without traffic: gone, whatever the sweep's phase.
  clock_.Advance(std::chrono::seconds(66));
  for (int i = 0; i < 20 && relay->size() != 0; ++i) {
    loop_->RunOnce(Duration::zero());
    clock_.Advance(std::chrono::seconds(1));
  }
  EXPECT_EQ(relay->size(), 0u);
  auto lines = AuditLines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("\"flow\":2,"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"reason\":\"evicted\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("\"reason\":\"idle\""), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("\"proto\":\"udp\""), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("\"datagrams_up\":"), std::string::npos) << lines[1];
}

TEST_F(UdpRelayTest, CloseAndShutdownAreAudited) {
  Server server;
  auto relay = MakeRelay();
  ASSERT_TRUE(relay->Open(1, Flow(1), server.addr).ok());
  ASSERT_TRUE(relay->Open(2, Flow(2), server.addr).ok());
  const uint8_t x[] = {'x', 'y'};
  relay->Send(Flow(1), x);
  relay->Close(Flow(1), "policy");
  relay->Send(Flow(1), x);  // a closed flow sends nothing
  EXPECT_EQ(relay->stats().datagrams_up, 1u);
  relay.reset();
  auto lines = AuditLines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("\"reason\":\"policy\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"bytes_up\":2"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("\"reason\":\"shutdown\""), std::string::npos) << lines[1];
}

}  // namespace
}  // namespace msb::gateway
