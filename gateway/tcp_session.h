// TcpSession: one guest TCP connection spliced to one upstream socket.
//
// States and what each allows:
//   kConnecting  upstream connect in flight; the guest's SYN is held (no guest stream exists yet).
//                Ends in kAccepting (connected) or kDone (refused / unreachable / timeout, which
//                the guest sees as RST or ICMP host-unreachable).
//   kAccepting   the guest's handshake is being completed; the upstream socket is not read.
//   kSplicing    bytes flow both ways. Guest->upstream: queued guest bytes are sent and only then
//                consumed (which reopens the guest's window). Upstream->guest: the socket is read
//                only while the guest has send space. FINs propagate as half-closes each way.
//   kDone        terminal; the Gateway destroys the session at the end of the iteration.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "gateway/audit_log.h"
#include "gateway/event_loop.h"
#include "gateway/session.h"
#include "stack/guest_tcp.h"

namespace msb::gateway {

class Gateway;

class TcpSession final : public IoHandler, public GuestSession {
 public:
  enum class State : uint8_t { kConnecting, kAccepting, kSplicing, kDone };

  TcpSession(Gateway* gateway, uint64_t flow_id, uint64_t syn_id, const stack::FlowTuple& tuple,
             const SocketAddress& upstream);
  ~TcpSession() override;
  TcpSession(const TcpSession&) = delete;
  TcpSession& operator=(const TcpSession&) = delete;

  // Start begins the upstream connect (it may finish, or fail, before returning).
  void Start() override;
  bool accepting() const override { return state_ == State::kAccepting; }
  void OnAccepted(std::unique_ptr<stack::GuestTcp> conn) override;
  void OnAcceptFailed() override;
  // Abort ends the flow now with RST both ways (gateway shutdown).
  void Abort(const char* reason) override;

  State state() const { return state_; }
  static const char* StateName(State s);

  void OnIo(uint32_t events) override;
  void OnGuestReadable() override;
  void OnGuestWritable() override;
  void OnGuestGone(bool reset) override;

 private:
  void OnConnectDone(int err);
  void OnConnectTimeout();
  void PumpUp();
  void PumpDown();
  void UpdateInterest();
  void MaybeFinishOrderly();
  void ArmIdleTimer(Duration delay);
  void OnIdleTimer();
  // Finish ends the session. `reset_upstream` closes the socket with RST; `abort_guest` sends RST
  // to the guest (otherwise the guest side closes in order).
  void Finish(const char* reason, bool reset_upstream, bool abort_guest);
  AuditFlow Flow() const;

  Gateway* gw_;
  uint64_t flow_id_;
  uint64_t syn_id_;
  stack::FlowTuple tuple_;
  SocketAddress upstream_;
  State state_ = State::kConnecting;
  int fd_ = -1;
  std::unique_ptr<stack::GuestTcp> guest_;
  TimePoint started_;
  TimePoint last_activity_;
  TimerId connect_timer_ = 0;
  TimerId idle_timer_ = 0;
  uint64_t bytes_up_ = 0;              // guest -> upstream
  uint64_t bytes_down_ = 0;            // upstream -> guest
  std::vector<uint8_t> down_pending_;  // read from upstream, not yet accepted by the guest
  size_t down_pending_off_ = 0;
  bool up_blocked_ = false;     // upstream send would block: wait for EPOLLOUT
  bool up_write_shut_ = false;  // guest FIN forwarded as shutdown(SHUT_WR)
  bool upstream_eof_ = false;   // upstream FIN seen
  bool hup_seen_ = false;       // EPOLLHUP seen on the upstream socket
  bool watched_ = false;        // fd_ is registered with the loop
  uint32_t interest_ = 0;
};

}  // namespace msb::gateway
