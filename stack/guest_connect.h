// Active opens toward the guest: what Netstack::ConnectToGuest reports. A published port (the
// host dials in) needs the gateway to open a TCP connection to the guest, the opposite of every
// other flow, which the guest opens. The connection leaves from the gateway's own address and an
// ephemeral port (49152-65535, taken in turn and wrapping, skipping ports in use), and is handed
// over as the same GuestTcp the accepted connections use, so relays cannot tell the two apart.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "stack/guest_tcp.h"

namespace msb::stack {

enum class GuestConnectFailure : uint8_t {
  kNone,
  kRefused,  // the guest answered RST: nothing listens on that port (at once, not a timeout)
  kTimeout,  // no answer within the timeout (or lwIP gave up retransmitting the SYN)
};

struct GuestConnectResult {
  std::unique_ptr<GuestTcp> conn;  // set on success, the handshake complete
  GuestConnectFailure failure = GuestConnectFailure::kNone;
};

// GuestConnectDone runs exactly once per attempt that was not cancelled, never inside
// ConnectToGuest itself. It runs from inside lwIP processing (the guest's SYN-ACK or RST, or
// lwIP's timers): it must not destroy or abort the GuestTcp there, nor call the Netstack's TCP
// functions; defer that work to the event loop.
using GuestConnectDone = std::function<void(GuestConnectResult&&)>;

// The ephemeral range for connections to the guest (IANA's dynamic ports).
inline constexpr uint16_t kGuestConnectFirstPort = 49152;
inline constexpr uint16_t kGuestConnectLastPort = 65535;

}  // namespace msb::stack
