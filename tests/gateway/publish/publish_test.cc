// The published ports' gateway half without lwIP: PublishedTcpFlow's failure paths over an
// in-memory peer and a fake guest link (refused and timed-out connects reset the peer; a peer that
// leaves cancels the connect; one flow.close each), and UdpNat over real UDP sockets (mapping,
// replies back to the right peer, denials audited once a minute, idle expiry, bounds).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/core/memory_stream.h"
#include "gateway/publish/host_listeners.h"
#include "gateway/publish/tcp_flow.h"
#include "gateway/publish/udp_nat.h"
#include "tests/gateway/session_test_util.h"
#include "tests/gateway/stream_test_util.h"

namespace msb::gateway {
namespace {

using testing::Field;
using testing::RunUntil;

const IpAddress kGuest = IpAddress::V4(0xac100002);
const IpAddress kGateway = IpAddress::V4(0xac100001);

class FakeGuestLink final : public GuestLink {
 public:
  Result<uint64_t> Connect(uint16_t guest_port, Duration, stack::GuestConnectDone done) override {
    ports.push_back(guest_port);
    pending[++next] = std::move(done);
    return next;
  }
  void CancelConnect(uint64_t id) override {
    cancelled.push_back(id);
    pending.erase(id);
  }
  void SendUdp(uint16_t gateway_port, uint16_t guest_port,
               std::span<const uint8_t> payload) override {
    sent.push_back({gateway_port, guest_port, std::string(payload.begin(), payload.end())});
  }
  void Fail(uint64_t id, stack::GuestConnectFailure f) {
    auto done = std::move(pending[id]);
    pending.erase(id);
    done(stack::GuestConnectResult{nullptr, f});
  }
  struct Sent {
    uint16_t gateway_port;
    uint16_t guest_port;
    std::string payload;
  };
  uint64_t next = 0;
  std::vector<uint16_t> ports;
  std::map<uint64_t, stack::GuestConnectDone> pending;
  std::vector<uint64_t> cancelled;
  std::vector<Sent> sent;
};

class PublishTest : public ::testing::Test, protected testing::SessionWorld {
 protected:
  PublishTest() {
    pctx_.loop = loop_.get();
    pctx_.audit = audit_.get();
    pctx_.policy = &evaluator_;
    pctx_.guest = &link_;
    pctx_.options = &options_;
    pctx_.guest_v4 = kGuest;
    pctx_.gateway_v4 = kGateway;
    pctx_.next_flow_id = [this] { return ++flow_ids_; };
    pctx_.has_room = [] { return true; };
  }
  policy::PublishedPort Port(std::string_view spec) {
    return policy::ParsePublishSpec(spec).value();
  }
  // StartFlow starts a flow for a peer whose application end the test holds in `peer_`.
  void StartFlow() {
    auto [near, far] = MemoryStream::Pair(loop_.get());
    peer_ = std::move(far);
    flow_ = std::make_unique<PublishedTcpFlow>(
        pctx_, 42, Port("8080:80"), SocketAddress{IpAddress::V4(0x7f000001), 50000},
        std::move(near), [this](uint64_t id) { released_.push_back(id); });
    flow_->Start();
    ASSERT_EQ(link_.ports, std::vector<uint16_t>{80});
  }

  FakeGuestLink link_;
  PublishContext pctx_;
  uint64_t flow_ids_ = 100;
  std::unique_ptr<MemoryStream> peer_;
  std::unique_ptr<PublishedTcpFlow> flow_;
  std::vector<uint64_t> released_;
};

TEST_F(PublishTest, RefusedGuestResetsThePeer) {
  StartFlow();
  link_.Fail(1, stack::GuestConnectFailure::kRefused);
  EXPECT_TRUE(released_.empty());  // the result is acted on from the loop, not inside lwIP
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return !released_.empty(); }));
  EXPECT_EQ(released_, std::vector<uint64_t>{42});
  EXPECT_TRUE(peer_->reset_received());
  auto connects = Events("flow.connect");
  ASSERT_EQ(connects.size(), 1u);
  EXPECT_EQ(Field(connects[0], "result"), "refused");
  EXPECT_EQ(Field(connects[0], "upstream"), "172.16.0.2:80");
  auto closes = Events("flow.close");
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(Field(closes[0], "reason"), "guest_refused");
  EXPECT_EQ(Field(closes[0], "dir"), "ingress");
  EXPECT_EQ(Field(closes[0], "src"), "127.0.0.1:50000");
  EXPECT_EQ(Field(closes[0], "dst"), "172.16.0.2:80");
}

TEST_F(PublishTest, GuestTimeoutResetsThePeer) {
  StartFlow();
  link_.Fail(1, stack::GuestConnectFailure::kTimeout);
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return !released_.empty(); }));
  EXPECT_TRUE(peer_->reset_received());
  EXPECT_EQ(Field(Events("flow.close").at(0), "reason"), "guest_connect_timeout");
}

TEST_F(PublishTest, PeerLeavingCancelsTheConnect) {
  StartFlow();
  peer_->Abort();
  ASSERT_TRUE(RunUntil(loop_.get(), [&] { return !released_.empty(); }));
  EXPECT_EQ(link_.cancelled, std::vector<uint64_t>{1});
  EXPECT_EQ(Field(Events("flow.close").at(0), "reason"), "peer_reset");
  EXPECT_TRUE(Events("flow.connect").empty());
  flow_.reset();
  EXPECT_EQ(link_.cancelled.size(), 1u);  // not twice
}

TEST_F(PublishTest, DestroyedWhileConnectingCancels) {
  StartFlow();
  flow_.reset();  // gateway teardown
  EXPECT_EQ(link_.cancelled, std::vector<uint64_t>{1});
  EXPECT_TRUE(peer_->reset_received() || peer_->gone());
}

// A bound UDP socket on 127.0.0.1 and its port.
int BoundUdp(uint16_t* port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

TEST_F(PublishTest, UdpPeersAreMappedBothWaysAndExpire) {
  uint16_t listen_port = 0;
  uint16_t peer_port = 0;
  int listener = BoundUdp(&listen_port);
  int peer = BoundUdp(&peer_port);
  SocketAddress peer_addr{IpAddress::V4(0x7f000001), peer_port};
  policy::PublishedPort port = Port("5353:53/udp");
  {
    UdpNat nat(pctx_);
    const uint8_t q[] = {'q'};
    EXPECT_TRUE(nat.OnPeerDatagram(listener, port, peer_addr, q));
    EXPECT_TRUE(nat.OnPeerDatagram(listener, port, peer_addr, q));
    SocketAddress other{IpAddress::V4(0x7f000001), static_cast<uint16_t>(peer_port + 1)};
    EXPECT_TRUE(nat.OnPeerDatagram(listener, port, other, q));
    ASSERT_EQ(link_.sent.size(), 3u);
    EXPECT_EQ(link_.sent[0].gateway_port, UdpNat::kFirstPort);
    EXPECT_EQ(link_.sent[1].gateway_port, UdpNat::kFirstPort);  // one mapping per peer
    EXPECT_EQ(link_.sent[2].gateway_port, UdpNat::kFirstPort + 1);
    EXPECT_EQ(link_.sent[0].guest_port, 53);
    EXPECT_EQ(nat.mappings(), 2u);
    EXPECT_EQ(Events("flow.decision").size(), 2u);  // once per mapping, not per datagram

    // The guest's reply from port 53 to the first mapped port reaches the first peer.
    const uint8_t answer[] = {'a', 'n', 's'};
    stack::FlowTuple reply{stack::Transport::kUdp, {kGuest, 53}, {kGateway, UdpNat::kFirstPort}};
    EXPECT_TRUE(nat.OnGuestDatagram(reply, answer));
    char buf[16];
    ASSERT_EQ(recv(peer, buf, sizeof(buf), 0), 3);
    EXPECT_EQ(std::string(buf, 3), "ans");
    // Not a reply: another source port, another destination port, another address.
    EXPECT_FALSE(nat.OnGuestDatagram({stack::Transport::kUdp, {kGuest, 54}, reply.dest}, answer));
    EXPECT_FALSE(nat.OnGuestDatagram(
        {stack::Transport::kUdp, {kGuest, 53}, {kGateway, UdpNat::kFirstPort + 5}}, answer));
    EXPECT_FALSE(nat.OnGuestDatagram(
        {stack::Transport::kUdp, {kGuest, 53}, {IpAddress::V4(0x01020304), UdpNat::kFirstPort}},
        answer));

    clock_.Advance(std::chrono::seconds(30));
    nat.Expire();
    EXPECT_EQ(nat.mappings(), 2u);
    EXPECT_TRUE(nat.OnGuestDatagram(reply, answer));  // keeps the first one alive
    clock_.Advance(std::chrono::seconds(31));
    nat.Expire();
    EXPECT_EQ(nat.mappings(), 1u);
    auto closes = Events("flow.close");
    ASSERT_EQ(closes.size(), 1u);
    EXPECT_EQ(Field(closes[0], "reason"), "idle_timeout");
  }
  EXPECT_EQ(Events("flow.close").size(), 2u);  // the last one at shutdown
  EXPECT_EQ(Field(Events("flow.close")[1], "reason"), "shutdown");
  close(listener);
  close(peer);
}

TEST_F(PublishTest, DeniedUdpIsDroppedAndAuditedOncePerMinute) {
  policy::Policy deny_all;
  deny_all.default_ingress = policy::Action::kDeny;
  policy::Evaluator denying(deny_all, evaluator_.host());
  pctx_.policy = &denying;
  UdpNat nat(pctx_);
  policy::PublishedPort port = Port("5353:53/udp");
  SocketAddress peer{IpAddress::V4(0x7f000001), 40000};
  const uint8_t q[] = {'q'};
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(nat.OnPeerDatagram(3, port, peer, q));
  }
  EXPECT_TRUE(link_.sent.empty());
  EXPECT_EQ(nat.mappings(), 0u);
  auto decisions = Events("flow.decision");
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(Field(decisions[0], "action"), "deny");
  EXPECT_EQ(Field(decisions[0], "dir"), "ingress");
  EXPECT_EQ(Field(decisions[0], "rule_text"), "default ingress");
  EXPECT_EQ(Field(decisions[0], "published"), "127.0.0.1:5353:53/udp");
  clock_.Advance(std::chrono::seconds(61));
  EXPECT_FALSE(nat.OnPeerDatagram(3, port, peer, q));
  EXPECT_EQ(Events("flow.decision").size(), 2u);
}

TEST_F(PublishTest, HostListenersNameTheSpecOnFailure) {
  uint16_t port = 0;
  int busy = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(busy, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(busy, 1), 0);
  socklen_t len = sizeof(a);
  getsockname(busy, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  std::vector<policy::PublishedPort> ports = {Port(std::to_string(port) + ":80")};
  auto l = HostListeners::Open(ports);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error(), "published port \"127.0.0.1:" + std::to_string(port) +
                           ":80/tcp\": cannot bind 127.0.0.1:" + std::to_string(port) +
                           ": Address already in use");
  close(busy);
  // Free again, TCP and UDP on the same port (loopback only: a unit test binds nothing wider).
  ports = {Port(std::to_string(port) + ":80"), Port(std::to_string(port) + ":81/udp")};
  l = HostListeners::Open(ports);
  ASSERT_TRUE(l.ok()) << l.error();
  EXPECT_EQ(l.value()->listeners().size(), 2u);
  EXPECT_TRUE(l.value()->Warnings().empty());
  ports.push_back(Port("0.0.0.0:" + std::to_string(port) + ":82"));
  EXPECT_EQ(HostListeners::Open(ports).error(), "\"0.0.0.0:" + std::to_string(port) +
                                                    ":82/tcp\" listens on the same host port as "
                                                    "\"127.0.0.1:" +
                                                    std::to_string(port) + ":80/tcp\" (" +
                                                    std::to_string(port) + "/tcp)");
}

}  // namespace
}  // namespace msb::gateway
