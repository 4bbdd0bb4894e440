// TcpSession: one guest TCP connection to an upstream, as an explicit state machine. The bytes
// themselves are moved by a Relay (a blind splice, or TLS interception with HTTP inspection);
// the session owns the two ends, drives the connect, the guest's handshake and (on intercepted
// ports) the ClientHello decision, enforces the idle timeout and audits the outcome.
//
// States and what each allows:
//   kConnecting  upstream connect in flight; the guest's SYN is held (no guest stream exists yet).
//                Ends in kAccepting (connected) or kDone (refused / unreachable / timeout, which
//                the guest sees as RST or ICMP host-unreachable).
//   kAccepting   the guest's handshake is being completed; nothing is read yet. On an intercepted
//                port this comes first (the SYN is accepted at once: the SNI, not yet known,
//                decides whether and where to connect).
//   kSniffing    intercepted port: the guest's first bytes are read (and kept) until they make a
//                whole ClientHello, are proven not to be one, or the hello timeout passes. Then
//                policy decides with the SNI: denied or invalid -> a TLS alert and close; else
//                kConnectingUpstream.
//   kConnectingUpstream  intercepted port: the upstream connect, after the decision. A failure
//                reaches the guest as a TLS alert.
//   kRelaying    the relay moves bytes both ways (for bypassed names a splice that first replays
//                the ClientHello; else InterceptRelay); it reports how the flow ended.
//   kDone        terminal; the owner destroys the session at the end of the iteration.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "base/clock.h"
#include "certs/server_name.h"
#include "gateway/core/audit_log.h"
#include "gateway/core/guest_session.h"
#include "gateway/core/idle_watch.h"
#include "gateway/core/relay.h"
#include "gateway/core/session_context.h"
#include "gateway/hello_gate.h"
#include "stack/flow.h"

namespace msb::gateway {

class TcpSession final : public GuestSession, private RelayObserver, private StreamHandler {
 public:
  enum class State : uint8_t {
    kConnecting,
    kAccepting,
    kSniffing,
    kConnectingUpstream,
    kRelaying,
    kDone
  };

  // `ctx` is copied; what it points to must outlive the session. `upstream` is where to dial (the
  // guest's destination, or loopback for the host alias). `intercept`: the destination port is
  // intercepted (ctx.intercept is set). `fallback`: where to dial when `upstream` refuses or is
  // unreachable (the host alias: the other family's loopback), each attempt audited.
  TcpSession(const SessionContext& ctx, uint64_t flow_id, uint64_t syn_id,
             const stack::FlowTuple& tuple, const SocketAddress& upstream, bool intercept = false,
             std::optional<SocketAddress> fallback = std::nullopt);
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
  void StartRelay();
  void OnRelayDone(CloseReason reason) override;
  // Sniffing (the guest stream's handler while kSniffing).
  void OnStreamReadable() override;
  void OnStreamWritable() override {}
  void OnStreamGone(bool reset) override;
  void ReadHello();
  void OnHelloVerdict(HelloVerdict&& verdict);
  void RefuseHello(CloseReason reason, uint8_t alert);
  void Finish(CloseReason reason);
  AuditFlow Flow() const;

  SessionContext ctx_;
  uint64_t flow_id_;
  uint64_t syn_id_;
  stack::FlowTuple tuple_;
  SocketAddress upstream_addr_;
  bool intercept_;
  std::optional<SocketAddress> fallback_;
  State state_ = State::kConnecting;
  TimePoint started_;
  IdleWatch idle_;
  TimerId hello_timer_ = 0;
  std::unique_ptr<ConnectAttempt> attempt_;
  std::unique_ptr<ConnectAttempt> first_attempt_;  // kept: a fallback starts inside its callback
  // Sniffing: the gate holds the bytes read so far (replayed to whatever comes next).
  std::unique_ptr<HelloGate> gate_;
  HelloVerdict verdict_;
  // The ends are declared before the relay: it borrows them, so it is destroyed first.
  std::unique_ptr<ByteStream> upstream_;
  std::unique_ptr<ByteStream> guest_;
  std::unique_ptr<ByteStream> replayed_;  // guest_ with hello_ in front (intercepted ports)
  std::unique_ptr<Relay> relay_;
};

}  // namespace msb::gateway
