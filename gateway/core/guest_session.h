// GuestSession: what the Gateway needs from every kind of guest TCP session it owns (a spliced or
// intercepted upstream connection, a DNS-over-TCP conversation): started once its SYN is held,
// handed the guest stream once the handshake completes, aborted on shutdown.
#pragma once

#include <memory>

#include "gateway/core/byte_stream.h"
#include "gateway/core/close_reason.h"

namespace msb::gateway {

class GuestSession {
 public:
  virtual ~GuestSession() = default;
  // Start runs after the guest's SYN is held; the session must eventually resolve it.
  virtual void Start() = 0;
  // accepting: the SYN was resolved with kAccept and the guest's handshake is pending.
  virtual bool accepting() const = 0;
  // OnAccepted hands over the guest's side of the connection, its handshake complete.
  virtual void OnAccepted(std::unique_ptr<ByteStream> guest) = 0;
  virtual void OnAcceptFailed() = 0;
  // Abort ends the session now (RST both ways), audited with `reason`.
  virtual void Abort(CloseReason reason) = 0;
};

}  // namespace msb::gateway
