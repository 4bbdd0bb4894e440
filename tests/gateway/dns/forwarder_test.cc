// Tests for the DNS pipeline against fake upstream resolvers: UDP sockets on 127.0.0.1 served by
// the same event loop, answering with records each test chooses (or never answering).
#include "gateway/dns/forwarder.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "gateway/dns/message.h"
#include "policy/net_rule.h"
#include "policy/presets.h"

namespace msb::gateway {
namespace {

// FakeResolver answers every query, over UDP and TCP on the same 127.0.0.1 port, with `answers`
// (A/AAAA records for the question name, TTL 30), or stays silent when `silent`; `extra_txt`
// appends a TXT record of that many bytes. Over UDP, answers beyond 512 bytes are sent truncated
// (TC, no records), as a real server does for a query without EDNS.
class FakeResolver final : public IoHandler {
 public:
  explicit FakeResolver(EventLoop* loop) : loop_(loop), tcp_(this) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
    socklen_t len = sizeof(sin);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&sin), &len);
    address_ = {IpAddress::V4(0x7f000001), ntohs(sin.sin_port)};
    EXPECT_TRUE(loop_->Watch(fd_, EPOLLIN, this).ok());
    lfd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    bind(lfd_, reinterpret_cast<sockaddr*>(&sin), sizeof(sin));
    listen(lfd_, 8);
    EXPECT_TRUE(loop_->Watch(lfd_, EPOLLIN, &tcp_).ok());
  }
  ~FakeResolver() override {
    for (auto& c : conns_) {
      if (c->fd >= 0) {
        loop_->Unwatch(c->fd);
        close(c->fd);
      }
    }
    loop_->Unwatch(fd_);
    close(fd_);
    loop_->Unwatch(lfd_);
    close(lfd_);
  }
  void OnIo(uint32_t) override {
    uint8_t buf[4096];
    sockaddr_in from{};
    socklen_t len = sizeof(from);
    ssize_t n = recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 12) {
      return;
    }
    ++queries;
    if (silent) {
      return;
    }
    std::vector<uint8_t> r = Answer({buf, static_cast<size_t>(n)});
    if (r.size() > 512) {
      r.resize(question_end(r));
      r[2] = static_cast<uint8_t>(r[2] | 0x02);  // TC
      r[6] = r[7] = 0;
    }
    sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
  }
  // TCP: one query per connection is all c-ares needs here. The connection is read without
  // blocking (the client runs in this same loop), answered once whole, then closed.
  struct Conn final : public IoHandler {
    Conn(FakeResolver* r, int f) : self(r), fd(f) {}
    void OnIo(uint32_t) override {
      uint8_t buf[4096];
      ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) {
        in.insert(in.end(), buf, buf + n);
      }
      size_t need = in.size() >= 2 ? 2u + ((in[0] << 8) | in[1]) : SIZE_MAX;
      if (in.size() >= need) {
        ++self->queries;
        std::vector<uint8_t> r = self->Answer({in.data() + 2, need - 2});
        uint8_t len[2] = {static_cast<uint8_t>(r.size() >> 8), static_cast<uint8_t>(r.size())};
        send(fd, len, 2, MSG_NOSIGNAL);
        send(fd, r.data(), r.size(), MSG_NOSIGNAL);
      }
      if (n == 0 || in.size() >= need || (n < 0 && errno != EAGAIN)) {
        self->loop_->Unwatch(fd);
        close(fd);
        fd = -1;
      }
    }
    FakeResolver* self;
    int fd;
    std::vector<uint8_t> in;
  };
  struct Tcp final : public IoHandler {
    explicit Tcp(FakeResolver* r) : self(r) {}
    void OnIo(uint32_t) override {
      int c = accept4(self->lfd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (c < 0) {
        return;
      }
      self->conns_.push_back(std::make_unique<Conn>(self, c));
      EXPECT_TRUE(self->loop_->Watch(c, EPOLLIN, self->conns_.back().get()).ok());
    }
    FakeResolver* self;
  };
  std::vector<uint8_t> Answer(std::span<const uint8_t> query) {
    std::vector<uint8_t> r(query.begin(), query.end());
    r[2] = static_cast<uint8_t>(r[2] | 0x80);   // QR
    r[3] = static_cast<uint8_t>(0x80 | rcode);  // RA + rcode
    uint16_t count = static_cast<uint16_t>(answers.size() + (extra_txt > 0 ? 1 : 0));
    r[6] = static_cast<uint8_t>(count >> 8);
    r[7] = static_cast<uint8_t>(count);
    r[10] = r[11] = 0;  // drop the query's OPT record count; its bytes are cut below
    r.resize(question_end(r));
    for (const std::string& ip : answers) {
      auto a = IpAddress::Parse(ip);
      uint16_t type = a->is_v4() ? 1 : 28;
      std::vector<uint8_t> rr = {0xc0, 0x0c, 0, static_cast<uint8_t>(type),
                                 0,    1,    0, 0,
                                 0,    30,   0, static_cast<uint8_t>(a->byte_length())};
      rr.insert(rr.end(), a->bytes().begin(), a->bytes().begin() + a->byte_length());
      r.insert(r.end(), rr.begin(), rr.end());
    }
    if (extra_txt > 0) {
      std::vector<uint8_t> rr = {0xc0, 0x0c, 0, 16, 0, 1, 0, 0, 0, 30};
      size_t rdlen = extra_txt + extra_txt / 255 + 1;
      rr.push_back(static_cast<uint8_t>(rdlen >> 8));
      rr.push_back(static_cast<uint8_t>(rdlen));
      for (size_t left = extra_txt; left > 0;) {
        size_t chunk = std::min<size_t>(left, 255);
        rr.push_back(static_cast<uint8_t>(chunk));
        rr.insert(rr.end(), chunk, 'x');
        left -= chunk;
      }
      if (extra_txt % 255 == 0) {
        rr.push_back(0);
      }
      r.insert(r.end(), rr.begin(), rr.end());
    }
    return r;
  }
  static size_t question_end(const std::vector<uint8_t>& m) {
    size_t i = 12;
    while (i < m.size() && m[i] != 0) {
      i += m[i] + 1u;
    }
    return i + 5;
  }

  SocketAddress address_;
  std::vector<std::string> answers;
  uint8_t rcode = 0;
  size_t extra_txt = 0;
  bool silent = false;
  int queries = 0;

 private:
  EventLoop* loop_;
  int fd_ = -1;
  int lfd_ = -1;
  Tcp tcp_;
  std::vector<std::unique_ptr<Conn>> conns_;
};

std::vector<uint8_t> QueryBytes(const std::string& name, uint16_t qtype, uint16_t id = 0x4242,
                                bool edns = false) {
  std::vector<uint8_t> q = {
      static_cast<uint8_t>(id >> 8),     static_cast<uint8_t>(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0,
      static_cast<uint8_t>(edns ? 1 : 0)};
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) {
      dot = name.size();
    }
    q.push_back(static_cast<uint8_t>(dot - start));
    q.insert(q.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
             name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  q.push_back(0);
  q.insert(q.end(), {static_cast<uint8_t>(qtype >> 8), static_cast<uint8_t>(qtype), 0, 1});
  if (edns) {
    q.insert(q.end(), {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0});  // OPT, payload 1232
  }
  return q;
}

class DnsForwarderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    loop_ = EventLoop::Create(SystemClock::Instance()).value();
    primary_ = std::make_unique<FakeResolver>(loop_.get());
    // One file per test and process: ctest runs the cases of this binary in parallel.
    audit_path_ = ::testing::TempDir() + "/dns_forwarder_test." +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name() + "." +
                  std::to_string(getpid()) + ".jsonl";
    std::remove(audit_path_.c_str());
    audit_ = AuditLog::Open(audit_path_).value();
    pins_ = std::make_unique<policy::PinSet>(SystemClock::Instance());
  }
  void TearDown() override { std::remove(audit_path_.c_str()); }
  void Make(std::vector<std::string> rules, std::vector<SocketAddress> servers = {},
            bool rebind = true) {
    policy::PolicyOptions opts;
    opts.net_rules = std::move(rules);
    auto built = policy::BuildPolicy(opts);
    ASSERT_TRUE(built.ok()) << built.error();
    policy::HostAddresses host;
    host.v4 = IpAddress::V4(0xac100001);
    policy_ = std::make_shared<const policy::Evaluator>(built.value().policy, host);
    DnsOptions o;
    o.nameservers = servers.empty() ? std::vector<SocketAddress>{primary_->address_} : servers;
    o.query_timeout = std::chrono::milliseconds(600);
    o.rebind_protection = rebind;
    auto f = DnsForwarder::Create(loop_.get(), policy_, pins_.get(), audit_.get(), o);
    ASSERT_TRUE(f.ok()) << f.error();
    fwd_ = std::move(f).value();
  }
  // Ask runs one query to completion and returns the parsed reply.
  dns::Response Ask(std::vector<uint8_t> message,
                    policy::DnsTransport t = policy::DnsTransport::kUdp,
                    SocketAddress dest = {IpAddress::V4(0xac100001), 53}) {
    DnsRequest req;
    req.flow_id = 1;
    req.transport = t;
    req.guest = {IpAddress::V4(0xac100002), 40000};
    req.dest = dest;
    req.message = std::move(message);
    bool done = false;
    std::vector<uint8_t> reply;
    fwd_->Handle(std::move(req), [&](std::vector<uint8_t>&& r) {
      reply = std::move(r);
      done = true;
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done && std::chrono::steady_clock::now() < deadline) {
      loop_->RunOnce(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(done);
    last_size_ = reply.size();
    auto parsed = dns::ParseResponse(reply);
    EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error());
    return parsed.ok() ? parsed.value() : dns::Response{};
  }
  std::vector<std::string> Pins(const std::string& name) {
    std::vector<std::string> out;
    for (const auto& ip : pins_->AddressesFor(name, IpFamily::kV4)) {
      out.push_back(ip.ToString());
    }
    return out;
  }
  std::string AuditText() {
    std::ifstream in(audit_path_);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<FakeResolver> primary_;
  std::string audit_path_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<policy::PinSet> pins_;
  std::shared_ptr<const policy::Evaluator> policy_;
  std::unique_ptr<DnsForwarder> fwd_;
  size_t last_size_ = 0;
};

TEST_F(DnsForwarderTest, ForwardsRestoresIdAndPins) {
  Make({});
  primary_->answers = {"198.51.100.10", "198.51.100.11"};
  dns::Response r = Ask(QueryBytes("API.Example.test", 1, 0x1234));
  EXPECT_EQ(r.id, 0x1234);
  EXPECT_EQ(r.rcode, dns::Rcode::kNoError);
  ASSERT_EQ(r.answers.size(), 2u);
  EXPECT_EQ(Pins("api.example.test"), (std::vector<std::string>{"198.51.100.10", "198.51.100.11"}));
  EXPECT_NE(AuditText().find(R"("name":"api.example.test","type":"A","action":"allow")"),
            std::string::npos);
}

TEST_F(DnsForwarderTest, DeniedNamesNeverGoUpstream) {
  Make({"deny@*.ads.test"});
  dns::Response r = Ask(QueryBytes("x.ads.test", 1));
  EXPECT_EQ(r.rcode, dns::Rcode::kNxDomain);
  EXPECT_EQ(primary_->queries, 0);
}

TEST_F(DnsForwarderTest, RebindingAnswersBecomeNxdomainUnlessExplicitlyAllowed) {
  Make({});
  primary_->answers = {"198.51.100.1", "10.0.0.1"};
  pins_->Update("r.test", IpFamily::kV4, std::vector<IpAddress>{*IpAddress::Parse("198.51.100.99")},
                std::chrono::seconds(60));
  EXPECT_EQ(Ask(QueryBytes("r.test", 1)).rcode, dns::Rcode::kNxDomain);
  EXPECT_TRUE(Pins("r.test").empty());  // the old pin is cleared, not kept
  EXPECT_NE(AuditText().find(R"("rebind_blocked":["10.0.0.1"])"), std::string::npos);
  Make({"allow@10.0.0.0/8"});
  EXPECT_EQ(Ask(QueryBytes("r.test", 1)).rcode, dns::Rcode::kNoError);
  Make({}, {}, /*rebind=*/false);
  EXPECT_EQ(Ask(QueryBytes("r.test", 1)).rcode, dns::Rcode::kNoError);
}

TEST_F(DnsForwarderTest, ErrorAnswersClearPins) {
  Make({});
  primary_->answers = {"198.51.100.1"};
  Ask(QueryBytes("n.test", 1));
  EXPECT_EQ(Pins("n.test").size(), 1u);
  primary_->answers = {};
  primary_->rcode = 3;
  EXPECT_EQ(Ask(QueryBytes("n.test", 1)).rcode, dns::Rcode::kNxDomain);
  EXPECT_TRUE(Pins("n.test").empty());
}

TEST_F(DnsForwarderTest, LargeUdpAnswersAreTruncatedForTheGuestOnly) {
  Make({});
  primary_->extra_txt = 700;
  // The upstream truncates over UDP; c-ares fetches the whole answer over TCP; the guest's UDP
  // query still gets TC (its buffer is 512) and no records.
  dns::Response udp = Ask(QueryBytes("big.test", 16));
  EXPECT_TRUE(udp.truncated);
  EXPECT_TRUE(udp.answers.empty());
  EXPECT_EQ(udp.questions.size(), 1u);
  EXPECT_LE(last_size_, 512u);
  dns::Response tcp = Ask(QueryBytes("big.test", 16), policy::DnsTransport::kTcp);
  EXPECT_FALSE(tcp.truncated);
  EXPECT_EQ(tcp.answers.size(), 1u);
  EXPECT_GT(last_size_, 700u);
}

TEST_F(DnsForwarderTest, FailsOverPastASilentServerAndServfailsWhenAllFail) {
  FakeResolver dead(loop_.get());
  dead.silent = true;
  Make({}, {dead.address_, primary_->address_});
  primary_->answers = {"198.51.100.5"};
  auto start = std::chrono::steady_clock::now();
  dns::Response r = Ask(QueryBytes("f.test", 1));
  EXPECT_EQ(r.rcode, dns::Rcode::kNoError);
  EXPECT_EQ(dead.queries, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(600));
  Make({}, {dead.address_});
  EXPECT_EQ(Ask(QueryBytes("f.test", 1)).rcode, dns::Rcode::kServFail);
  primary_->rcode = 2;  // an upstream SERVFAIL is an answer: returned as is, no failover
  primary_->answers = {};
  FakeResolver second(loop_.get());
  Make({}, {primary_->address_, second.address_});
  EXPECT_EQ(Ask(QueryBytes("f.test", 1)).rcode, dns::Rcode::kServFail);
  EXPECT_EQ(second.queries, 0);
}

TEST_F(DnsForwarderTest, LocalAnswersAndDirectResolvers) {
  Make({"deny@198.51.100.66"});
  dns::Response alias = Ask(QueryBytes("host.microsandbox.internal", 1));
  ASSERT_EQ(alias.answers.size(), 1u);
  EXPECT_EQ(alias.answers[0].address->ToString(), "172.16.0.1");
  EXPECT_EQ(alias.answers[0].ttl, 60u);
  EXPECT_EQ(Ask(QueryBytes("v6.test", 28)).answers.size(), 0u);  // no IPv6 for the guest yet
  EXPECT_EQ(primary_->queries, 0);
  // @target: allowed public resolver is asked directly; a denied one gets NXDOMAIN (never
  // REFUSED, which glibc's stub mishandles) and receives nothing.
  FakeResolver direct(loop_.get());
  direct.answers = {"203.0.113.77"};
  // The fake lives on loopback, which policy (rightly) refuses: allow it for this case.
  Make({"allow@127.0.0.1:udp:" + std::to_string(direct.address_.port), "deny@198.51.100.66"});
  dns::Response d = Ask(QueryBytes("d.test", 1), policy::DnsTransport::kUdp, direct.address_);
  ASSERT_EQ(d.answers.size(), 1u);
  EXPECT_EQ(d.answers[0].address->ToString(), "203.0.113.77");
  EXPECT_EQ(direct.queries, 1);
  dns::Response denied = Ask(QueryBytes("d.test", 1), policy::DnsTransport::kUdp,
                             {*IpAddress::Parse("198.51.100.66"), 53});
  EXPECT_EQ(denied.rcode, dns::Rcode::kNxDomain);
  EXPECT_EQ(direct.queries, 1);
}

}  // namespace
}  // namespace msb::gateway
