// SpliceRelay: an unmodified, flow-controlled copy between two streams (see splice_relay.h).
#include "gateway/core/splice_relay.h"

#include <algorithm>

namespace msb::gateway {

SpliceRelay::SpliceRelay(ByteStream* guest, ByteStream* upstream, const Clock& clock,
                         RelayObserver* observer)
    : guest_(guest), upstream_(upstream), clock_(clock), observer_(observer) {
  last_activity_ = clock_.Now();
}

SpliceRelay::~SpliceRelay() {
  guest_->SetHandler(nullptr);
  upstream_->SetHandler(nullptr);
}

void SpliceRelay::Start() {
  guest_->SetHandler(&guest_end_);
  upstream_->SetHandler(&upstream_end_);
  Pump();
}

void SpliceRelay::Pump() {
  // A write can make the other end call back into us (lwIP acknowledges from inside tcp_output);
  // such nested calls only ask for another round.
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  do {
    pump_again_ = false;
    Move(guest_, upstream_, &bytes_up_);
    if (!done_) {
      Move(upstream_, guest_, &bytes_down_);
    }
  } while (pump_again_ && !done_);
  pumping_ = false;
  // Each direction is over once its source ended and everything before that end was passed on
  // (the FIN forwarded). Each transport delivers what it still holds once the session lets go.
  if (!done_ && guest_->ReadEof() && upstream_->write_shut() && upstream_->ReadEof() &&
      guest_->write_shut()) {
    Done(CloseReason::kClosed);
  }
}

void SpliceRelay::Move(ByteStream* from, ByteStream* to, uint64_t* counter) {
  bool moved = false;
  while (from->ReadableBytes() > 0) {
    size_t space = to->WriteSpace();
    if (space == 0) {
      break;  // `to` calls OnStreamWritable when it has room; `from` keeps its window closed
    }
    std::span<const uint8_t> chunk = from->Peek();
    size_t n = to->Write(chunk.first(std::min(chunk.size(), space)));
    if (n == 0) {
      break;
    }
    from->Consume(n);
    *counter += n;
    moved = true;
  }
  if (moved) {
    to->Flush();
    last_activity_ = clock_.Now();
  }
  if (from->ReadEof() && !to->write_shut()) {
    to->ShutdownWrite();  // FIN after everything before it
    to->Flush();
  }
}

void SpliceRelay::OnGone(bool is_guest, bool reset) {
  if (done_) {
    return;
  }
  if (!reset) {
    // An orderly end of that transport (both FINs exchanged): bytes it received may still wait
    // to be passed on, so the relay ends only when both directions have (Pump decides).
    Pump();
    return;
  }
  Done(is_guest ? CloseReason::kGuestReset : CloseReason::kUpstreamReset);
}

void SpliceRelay::Done(CloseReason reason) {
  if (done_) {
    return;
  }
  done_ = true;
  guest_->SetHandler(nullptr);
  upstream_->SetHandler(nullptr);
  observer_->OnRelayDone(reason);
}

}  // namespace msb::gateway
