// TcpSession: one guest TCP connection to an upstream, as an explicit state machine. The bytes
// themselves are moved by a Relay (a splice today); the session owns the two ends, drives the
// connect and the guest's handshake, enforces the idle timeout and audits the outcome.
//
// States and what each allows:
//   kConnecting  upstream connect in flight; the guest's SYN is held (no guest stream exists yet).
//                Ends in kAccepting (connected) or kDone (refused / unreachable / timeout, which
//                the guest sees as RST or ICMP host-unreachable).
//   kAccepting   the guest's handshake is being completed; nothing is read yet.
//   kRelaying    the relay moves bytes both ways; it reports how the flow ended.
//   kDone        terminal; the owner destroys the session at the end of the iteration.
#pragma once

#include <cstdint>
#include <memory>

#include "base/clock.h"
#include "gateway/core/audit_log.h"
#include "gateway/core/guest_session.h"
#include "gateway/core/relay.h"
#include "gateway/core/session_context.h"
#include "stack/flow.h"

namespace msb::gateway {

class TcpSession final : public GuestSession, private RelayObserver {
 public:
  enum class State : uint8_t { kConnecting, kAccepting, kRelaying, kDone };

  // `ctx` is copied; what it points to must outlive the session. `upstream` is where to dial (the
  // guest's destination, or loopback for the host alias).
  TcpSession(const SessionContext& ctx, uint64_t flow_id, uint64_t syn_id,
             const stack::FlowTuple& tuple, const SocketAddress& upstream);
  ~TcpSession() override;
  TcpSession(const TcpSession&) = delete;
  TcpSession& operator=(const TcpSession&) = delete;

  void Start() override;
  bool accepting() const override { return state_ == State::kAccepting; }
  void OnAccepted(std::unique_ptr<ByteStream> guest) override;
  void OnAcceptFailed() override;
  void Abort(CloseReason reason) override;

  State state() const { return state_; }
  static const char* StateName(State s);

 private:
  void OnConnected(ConnectOutcome&& outcome);
  void OnRelayDone(CloseReason reason) override;
  void ArmIdleTimer(Duration delay);
  void OnIdleTimer();
  void Finish(CloseReason reason);
  AuditFlow Flow() const;

  SessionContext ctx_;
  uint64_t flow_id_;
  uint64_t syn_id_;
  stack::FlowTuple tuple_;
  SocketAddress upstream_addr_;
  State state_ = State::kConnecting;
  TimePoint started_;
  TimerId idle_timer_ = 0;
  std::unique_ptr<ConnectAttempt> attempt_;
  // The ends are declared before the relay: it borrows them, so it is destroyed first.
  std::unique_ptr<ByteStream> upstream_;
  std::unique_ptr<ByteStream> guest_;
  std::unique_ptr<Relay> relay_;
};

}  // namespace msb::gateway
