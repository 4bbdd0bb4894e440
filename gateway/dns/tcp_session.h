// DnsTcpSession: DNS over TCP (RFC 7766) from the guest, to any address on port 53, answered by the
// DnsForwarder. Messages are framed by a 2-byte length; queries may be pipelined and are answered
// as their answers arrive (each keeps its own id). At most kMaxPending queries are in flight per
// connection: beyond that the session stops reading, so the guest's window closes. The connection
// closes after kIdleTimeout with nothing pending, or in order after the guest's FIN once every
// answer has been written.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "base/clock.h"
#include "gateway/core/guest_session.h"
#include "gateway/core/session_context.h"
#include "gateway/tls/tls_stream.h"
#include "stack/flow.h"

namespace msb::gateway {

class DnsTcpSession final : public GuestSession, private StreamHandler, private tls::TlsObserver {
 public:
  static constexpr size_t kMaxPending = 16;
  static constexpr Duration kIdleTimeout = std::chrono::seconds(30);

  // `ctx` is copied (ctx.dns must be set); what it points to must outlive the session.
  // `over_tls`: DNS over TLS (port 853): the gateway terminates TLS with a leaf for the guest's SNI
  // (or the dialled address) and answers the queries inside; ctx.intercept must be set.
  DnsTcpSession(const SessionContext& ctx, uint64_t flow_id, uint64_t syn_id,
                const stack::FlowTuple& tuple, bool over_tls = false);
  ~DnsTcpSession() override;

  void Start() override;
  bool accepting() const override { return raw_ == nullptr && !done_; }
  void OnAccepted(std::unique_ptr<ByteStream> guest) override;
  void OnAcceptFailed() override;
  void Abort(CloseReason reason) override;

 private:
  void OnStreamReadable() override;
  void OnStreamWritable() override;
  void OnStreamGone(bool reset) override;
  void OnTlsHandshakeDone() override;
  void OnTlsFailed(const tls::TlsFailure& failure) override;
  void Serve();
  void ReadQueries();
  void OnAnswer(std::vector<uint8_t>&& answer);
  void Flush();
  void MaybeClose();
  void ArmIdle();
  void Finish(CloseReason reason);

  SessionContext ctx_;
  uint64_t flow_id_;
  uint64_t syn_id_;
  stack::FlowTuple tuple_;
  bool over_tls_;
  std::unique_ptr<ByteStream> raw_;       // the guest's TCP connection
  std::unique_ptr<tls::TlsStream> tls_;   // over raw_, for DNS over TLS
  ByteStream* guest_ = nullptr;           // where queries are read: raw_ or tls_ (once up)
  TimerId handshake_timer_ = 0;
  std::vector<uint8_t> in_;   // bytes of the message being assembled
  std::vector<uint8_t> out_;  // framed answers not yet taken by the guest
  size_t out_off_ = 0;
  size_t pending_ = 0;
  uint64_t queries_ = 0;
  uint64_t bytes_up_ = 0;
  uint64_t bytes_down_ = 0;
  TimePoint started_;
  TimePoint last_activity_;
  TimerId idle_timer_ = 0;
  bool done_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace msb::gateway
