// IcmpRelay: see icmp_relay.h.
#include "gateway/datagram/icmp_relay.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "gateway/core/upstream_socket.h"

namespace msb::gateway {
namespace {

constexpr size_t kIcmpHeader = 8;
constexpr size_t kMaxMessage = 65535;
uint8_t EchoRequestType(const IpAddress& to) {
  return to.is_v6() ? 128 : 8;
}
uint8_t EchoReplyType(const IpAddress& from) {
  return from.is_v6() ? 129 : 0;
}
int EchoProtocol(const IpAddress& to) {
  return to.is_v6() ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP};
}
constexpr int kMaxReadsPerWakeup = 16;

std::string PingGroupRange() {
  std::ifstream f("/proc/sys/net/ipv4/ping_group_range");
  std::string lo, hi;
  if (!(f >> lo >> hi)) {
    return "unreadable";
  }
  return lo + " " + hi;
}

}  // namespace

struct IcmpRelay::Flow final : IoHandler {
  IcmpRelay* relay = nullptr;
  stack::FlowTuple ping;  // guest address + identifier, destination
  int fd = -1;
  TimePoint last_active;
  void OnIo(uint32_t /*events*/) override { relay->OnReadable(this); }
};

IcmpRelay::IcmpRelay(EventLoop* loop, GuestDatagrams* guest, const IcmpRelayOptions& options)
    : loop_(loop),
      guest_(guest),
      options_(options),
      v4_(ProbeFamily(IpFamily::kV4)),
      v6_(ProbeFamily(IpFamily::kV6)) {}

IcmpRelay::Probe IcmpRelay::ProbeFamily(IpFamily family) {
  bool v6 = family == IpFamily::kV6;
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC,
                  v6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP});
  if (fd >= 0) {
    close(fd);
    return {true, {}};
  }
  int err = errno;
  return {false, err == EACCES || err == EPERM
                     ? "this host does not allow unprivileged ICMP echo sockets for group " +
                           std::to_string(getegid()) + " (net.ipv4.ping_group_range is \"" +
                           PingGroupRange() + "\")"
                     : std::string("ICMP echo sockets are not available: ") + std::strerror(err)};
}

IcmpRelay::~IcmpRelay() {
  while (!flows_.empty()) {
    End(flows_.begin());
  }
  if (sweep_timer_ != 0) {
    loop_->CancelTimer(sweep_timer_);
  }
}

bool IcmpRelay::Send(const stack::IcmpEcho& echo) {
  if (!available(echo.flow.dest.ip.family()) || echo.data.size() > kMaxMessage - 40 - kIcmpHeader) {
    ++stats_.dropped;
    return false;
  }
  auto it = flows_.find(echo.flow);
  if (it == flows_.end()) {
    if (flows_.size() >= options_.max_flows) {
      End(std::min_element(flows_.begin(), flows_.end(), [](const auto& a, const auto& b) {
        return a.second->last_active < b.second->last_active;
      }));
    }
    auto fd = ConnectDatagram({echo.flow.dest.ip, 0}, EchoProtocol(echo.flow.dest.ip));
    if (!fd.ok()) {
      ++stats_.dropped;
      return false;
    }
    auto f = std::make_unique<Flow>();
    f->relay = this;
    f->ping = echo.flow;
    f->fd = fd.value();
    if (!loop_->Watch(f->fd, EPOLLIN, f.get()).ok()) {
      close(f->fd);
      ++stats_.dropped;
      return false;
    }
    it = flows_.emplace(echo.flow, std::move(f)).first;
    ArmSweep();
  }
  Flow* f = it->second.get();
  f->last_active = loop_->clock().Now();
  // The kernel sets the identifier (the socket's) and the checksum.
  std::vector<uint8_t> msg(kIcmpHeader + echo.data.size());
  msg[0] = EchoRequestType(echo.flow.dest.ip);
  msg[6] = static_cast<uint8_t>(echo.sequence >> 8);
  msg[7] = static_cast<uint8_t>(echo.sequence);
  std::copy(echo.data.begin(), echo.data.end(), msg.begin() + kIcmpHeader);
  if (send(f->fd, msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
    ++stats_.dropped;
    return false;
  }
  ++stats_.requests;
  return true;
}

void IcmpRelay::OnReadable(Flow* f) {
  static uint8_t buf[kMaxMessage];
  for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
    ssize_t n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      }
      continue;  // an ICMP error for this ping (unreachable): read and cleared, not relayed
    }
    if (static_cast<size_t>(n) < kIcmpHeader || buf[0] != EchoReplyType(f->ping.dest.ip)) {
      continue;
    }
    f->last_active = loop_->clock().Now();
    ++stats_.replies;
    uint16_t seq = static_cast<uint16_t>((buf[6] << 8) | buf[7]);
    guest_->SendEchoReply(f->ping.dest.ip, f->ping.guest.ip, f->ping.guest.port, seq,
                          {buf + kIcmpHeader, static_cast<size_t>(n) - kIcmpHeader});
  }
}

void IcmpRelay::End(std::map<stack::FlowTuple, std::unique_ptr<Flow>>::iterator it) {
  loop_->Unwatch(it->second->fd);
  close(it->second->fd);
  flows_.erase(it);
}

void IcmpRelay::ArmSweep() {
  if (sweep_timer_ != 0 || flows_.empty()) {
    return;
  }
  sweep_timer_ = loop_->AddTimer(std::chrono::seconds(1), [this] {
    sweep_timer_ = 0;
    TimePoint now = loop_->clock().Now();
    for (auto it = flows_.begin(); it != flows_.end();) {
      auto next = std::next(it);
      if (now - it->second->last_active >= options_.idle_timeout) {
        End(it);
      }
      it = next;
    }
    ArmSweep();
  });
}

}  // namespace msb::gateway
