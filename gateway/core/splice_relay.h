// SpliceRelay: bytes both ways between two streams, unmodified, with flow control: a byte is
// consumed from one end only once the other end accepted it, so a slow side closes the fast
// side's window instead of growing a buffer. A FIN is forwarded as a half-close once everything
// before it was passed on; the relay ends in order when both directions are shut, or with the
// reset of either end (mirrored to the other by the session's close table).
#pragma once

#include "gateway/core/byte_stream.h"
#include "gateway/core/relay.h"

namespace msb::gateway {

class SpliceRelay final : public Relay {
 public:
  // `guest` and `upstream` are borrowed and must outlive the relay; the relay installs itself as
  // their handler and removes itself on destruction.
  SpliceRelay(ByteStream* guest, ByteStream* upstream, const Clock& clock, RelayObserver* observer);
  ~SpliceRelay() override;
  SpliceRelay(const SpliceRelay&) = delete;
  SpliceRelay& operator=(const SpliceRelay&) = delete;

  void Start() override;
  uint64_t bytes_up() const override { return bytes_up_; }
  uint64_t bytes_down() const override { return bytes_down_; }
  TimePoint last_activity() const override { return last_activity_; }

 private:
  // One handler per end, so a callback says which end it concerns.
  class End final : public StreamHandler {
   public:
    End(SpliceRelay* relay, bool is_guest) : relay_(relay), is_guest_(is_guest) {}
    void OnStreamReadable() override { relay_->Pump(); }
    void OnStreamWritable() override { relay_->Pump(); }
    void OnStreamGone(bool reset) override { relay_->OnGone(is_guest_, reset); }

   private:
    SpliceRelay* relay_;
    bool is_guest_;
  };

  void Pump();
  // Move copies from `from` to `to`; returns false if the relay finished meanwhile.
  void Move(ByteStream* from, ByteStream* to, uint64_t* counter);
  void OnGone(bool is_guest, bool reset);
  void Done(CloseReason reason);

  ByteStream* guest_;
  ByteStream* upstream_;
  const Clock& clock_;
  RelayObserver* observer_;
  End guest_end_{this, true};
  End upstream_end_{this, false};
  uint64_t bytes_up_ = 0;
  uint64_t bytes_down_ = 0;
  TimePoint last_activity_;
  bool done_ = false;
  bool pumping_ = false;
  bool pump_again_ = false;
};

}  // namespace msb::gateway
