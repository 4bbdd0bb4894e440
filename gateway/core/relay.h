// Relay: what carries a session's bytes once both of its ends exist. A session picks one (a blind
// splice, or TLS interception with HTTP inspection) and only hears back when it is over, so the
// session's state machine does not grow with each way of relaying.
#pragma once

#include <cstdint>

#include "base/clock.h"
#include "gateway/core/close_reason.h"

namespace msb::gateway {

class RelayObserver {
 public:
  virtual ~RelayObserver() = default;
  // OnRelayDone: the relay finished (once). The observer may not destroy the relay inside it.
  virtual void OnRelayDone(CloseReason reason) = 0;
};

class Relay {
 public:
  virtual ~Relay() = default;
  // Start begins moving bytes (some may already be waiting on either end).
  virtual void Start() = 0;
  // Payload bytes delivered each way, for flow.close.
  virtual uint64_t bytes_up() const = 0;
  virtual uint64_t bytes_down() const = 0;
  // last_activity: when a byte last moved either way (idle timeout).
  virtual TimePoint last_activity() const = 0;
};

}  // namespace msb::gateway
