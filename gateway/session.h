// GuestSession: what the Gateway needs from every kind of guest TCP session it owns (a spliced
// upstream connection, a DNS-over-TCP conversation): started once its SYN is held, handed the
// guest stream once the handshake completes, aborted on shutdown.
#pragma once

#include <memory>

#include "stack/guest_tcp.h"

namespace msb::gateway {

class GuestSession : public stack::GuestTcpHandler {
 public:
  ~GuestSession() override = default;
  // Start runs after the guest's SYN is held; the session must eventually resolve it.
  virtual void Start() = 0;
  // accepting: the SYN was resolved with kAccept and the guest's handshake is pending.
  virtual bool accepting() const = 0;
  virtual void OnAccepted(std::unique_ptr<stack::GuestTcp> conn) = 0;
  virtual void OnAcceptFailed() = 0;
  // Abort ends the session now (RST both ways), audited with `reason`.
  virtual void Abort(const char* reason) = 0;
};

}  // namespace msb::gateway
