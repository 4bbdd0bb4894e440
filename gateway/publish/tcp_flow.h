// PublishedTcpFlow: one connection a host peer opened to a published TCP port, carried to the
// guest. The peer's connection is already accepted (and allowed by ingress policy) when the flow
// starts; the flow connects to the guest, then splices both ways with the relay every spliced
// flow uses (SpliceRelay: the guest's end is the GuestStream, the peer's the SocketStream).
//
// States and what each allows:
//   kConnecting  the connect to the guest is in flight. The peer's bytes wait in its SocketStream
//                (bounded; the kernel's window closes beyond). A guest RST ends the flow at once
//                (guest_refused), silence after the connect timeout too (guest_connect_timeout):
//                either way the peer is reset, so its reads fail with ECONNRESET. A peer that goes
//                away meanwhile cancels the connect.
//   kRelaying    the SpliceRelay moves bytes; it reports how the flow ended. Idle timeout applies.
//   kDone        terminal; the owner destroys the flow at the end of the iteration.
// The guest link's callback comes from inside lwIP: the flow keeps what it was given and moves
// on from a deferred task.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "gateway/core/byte_stream.h"
#include "gateway/core/idle_watch.h"
#include "gateway/core/relay.h"
#include "gateway/publish/publish_context.h"
#include "policy/publish_spec.h"

namespace msb::gateway {

class PublishedTcpFlow final : private RelayObserver, private StreamHandler {
 public:
  enum class State : uint8_t { kConnecting, kRelaying, kDone };

  // `peer` is the accepted host connection from `peer_addr`; `release` is called once the flow
  // is done (the owner destroys it later, never inside it).
  PublishedTcpFlow(const PublishContext& ctx, uint64_t flow_id, const policy::PublishedPort& port,
                   const SocketAddress& peer_addr, std::unique_ptr<ByteStream> peer,
                   std::function<void(uint64_t)> release);
  ~PublishedTcpFlow() override;
  PublishedTcpFlow(const PublishedTcpFlow&) = delete;
  PublishedTcpFlow& operator=(const PublishedTcpFlow&) = delete;

  void Start();
  // Abort ends the flow now (both sides reset), audited with `reason`.
  void Abort(CloseReason reason);
  State state() const { return state_; }

 private:
  void OnGuestConnect(stack::GuestConnectResult&& result);
  void StartRelay();
  void OnRelayDone(CloseReason reason) override;
  // The peer's handler while kConnecting.
  void OnStreamReadable() override {}
  void OnStreamWritable() override {}
  void OnStreamGone(bool reset) override;
  void Finish(CloseReason reason);
  AuditFlow Flow() const;

  PublishContext ctx_;
  uint64_t flow_id_;
  policy::PublishedPort port_;
  SocketAddress peer_addr_;
  SocketAddress guest_addr_;
  std::function<void(uint64_t)> release_;
  State state_ = State::kConnecting;
  TimePoint started_;
  uint64_t connect_id_ = 0;  // while the connect is in flight
  IdleWatch idle_{ctx_.loop};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // The ends are declared before the relay: it borrows them, so it is destroyed first.
  std::unique_ptr<ByteStream> peer_;
  std::unique_ptr<ByteStream> guest_;
  std::unique_ptr<Relay> relay_;
};

}  // namespace msb::gateway
