// PublishedTcpFlow: connect to the guest, splice, audit (see tcp_flow.h).
#include "gateway/publish/tcp_flow.h"

#include "gateway/core/guest_stream.h"
#include "gateway/core/splice_relay.h"

namespace msb::gateway {
namespace {

// IngressCloseName: the audit's reason. The relay's "upstream" end is the host peer here.
std::string_view IngressCloseName(CloseReason reason) {
  return reason == CloseReason::kUpstreamReset ? "peer_reset" : CloseReasonName(reason);
}

}  // namespace

PublishedTcpFlow::PublishedTcpFlow(const PublishContext& ctx, uint64_t flow_id,
                                   const policy::PublishedPort& port,
                                   const SocketAddress& peer_addr, std::unique_ptr<ByteStream> peer,
                                   std::function<void(uint64_t)> release)
    : ctx_(ctx),
      flow_id_(flow_id),
      port_(port),
      peer_addr_(peer_addr),
      guest_addr_{ctx.guest_v4, port.guest_port},
      release_(std::move(release)),
      peer_(std::move(peer)) {
  started_ = ctx_.clock().Now();
}

PublishedTcpFlow::~PublishedTcpFlow() {
  *alive_ = false;
  if (connect_id_ != 0) {
    ctx_.guest->CancelConnect(connect_id_);
  }
  idle_.Stop();
  relay_.reset();
  if (state_ != State::kDone) {
    for (auto* end : {peer_.get(), guest_.get()}) {
      if (end != nullptr) {
        end->Abort();  // destroyed while open (gateway teardown): never a clean-looking end
      }
    }
  }
  if (peer_ != nullptr) {
    peer_->SetHandler(nullptr);
  }
}

AuditFlow PublishedTcpFlow::Flow() const {
  return {flow_id_, "tcp", peer_addr_, guest_addr_};
}

void PublishedTcpFlow::Start() {
  peer_->SetHandler(this);
  std::weak_ptr<bool> alive = alive_;
  auto id = ctx_.guest->Connect(port_.guest_port, ctx_.options->connect_timeout,
                                [this, alive](stack::GuestConnectResult&& r) {
                                  // Inside lwIP: take the result, act from the loop.
                                  auto shared =
                                      std::make_shared<stack::GuestConnectResult>(std::move(r));
                                  connect_id_ = 0;
                                  ctx_.loop->Defer([this, alive, shared] {
                                    if (!alive.expired()) {
                                      OnGuestConnect(std::move(*shared));
                                    }
                                  });
                                });
  if (!id.ok()) {
    // No local port free toward the guest: as good as a timeout for the peer.
    AuditRecord rec("flow.connect");
    rec.Flow(Flow()).json().Str("result", "error").Str("upstream", guest_addr_.ToString());
    rec.json().Str("error", id.error()).Int("ms", 0);
    ctx_.audit->Emit(std::move(rec));
    Finish(CloseReason::kGuestConnectTimeout);
    return;
  }
  connect_id_ = id.value();
}

void PublishedTcpFlow::OnGuestConnect(stack::GuestConnectResult&& result) {
  if (state_ != State::kConnecting) {
    return;  // the GuestTcp, if any, closes with `result`
  }
  AuditRecord rec("flow.connect");
  rec.Flow(Flow());
  const char* outcome = result.conn != nullptr                                   ? "ok"
                        : result.failure == stack::GuestConnectFailure::kRefused ? "refused"
                                                                                 : "timeout";
  rec.json()
      .Str("result", outcome)
      .Str("upstream", guest_addr_.ToString())
      .Int("ms", ToMillis(ctx_.clock().Now() - started_));
  ctx_.audit->Emit(std::move(rec));
  if (result.conn == nullptr) {
    Finish(result.failure == stack::GuestConnectFailure::kRefused
               ? CloseReason::kGuestRefused
               : CloseReason::kGuestConnectTimeout);
    return;
  }
  guest_ = std::make_unique<GuestStream>(std::move(result.conn));
  StartRelay();
}

void PublishedTcpFlow::StartRelay() {
  state_ = State::kRelaying;
  peer_->SetHandler(nullptr);
  relay_ = std::make_unique<SpliceRelay>(guest_.get(), peer_.get(), ctx_.clock(),
                                         static_cast<RelayObserver*>(this));
  idle_.Start(relay_.get(), ctx_.options->idle_timeout,
              [this] { Finish(CloseReason::kIdleTimeout); });
  relay_->Start();  // the peer may have sent its request already
}

void PublishedTcpFlow::OnStreamGone(bool reset) {
  if (state_ == State::kConnecting) {
    Finish(reset ? CloseReason::kUpstreamReset : CloseReason::kClosed);
  }
}

void PublishedTcpFlow::OnRelayDone(CloseReason reason) {
  Finish(reason);
}

void PublishedTcpFlow::Abort(CloseReason reason) {
  Finish(reason);
}

void PublishedTcpFlow::Finish(CloseReason reason) {
  if (state_ == State::kDone) {
    return;
  }
  state_ = State::kDone;
  if (connect_id_ != 0) {
    ctx_.guest->CancelConnect(connect_id_);
    connect_id_ = 0;
  }
  idle_.Stop();
  const CloseAction& action = CloseActionFor(reason);
  peer_->SetHandler(nullptr);
  if (action.reset_upstream) {
    peer_->Abort();
  }
  if (guest_ != nullptr) {
    guest_->SetHandler(nullptr);
    if (action.reset_guest) {
      guest_->Abort();
    }
  }
  uint64_t up = relay_ != nullptr ? relay_->bytes_up() : 0;
  uint64_t down = relay_ != nullptr ? relay_->bytes_down() : 0;
  AuditRecord rec = FlowCloseRecord(Flow(), IngressCloseName(reason), up, down,
                                    ToMillis(ctx_.clock().Now() - started_));
  rec.json().Str("dir", "ingress");
  ctx_.audit->Emit(std::move(rec));
  release_(flow_id_);
}

}  // namespace msb::gateway
