// The close-reason table (see close_reason.h).
#include "gateway/core/close_reason.h"

#include <array>

namespace msb::gateway {
namespace {

// Indexed by CloseReason. A reset on one side is mirrored to the other: neither may believe a
// truncated stream ended cleanly.
constexpr std::array<CloseAction, kNumCloseReasons> kActions = {{
    {"closed", false, false},
    {"guest_reset", true, false},  // the guest is already gone
    {"upstream_reset", true, true},
    {"upstream_refused", true, false},  // the guest's SYN is answered by the stack
    {"upstream_unreachable", true, false},
    {"connect_timeout", true, false},
    {"idle_timeout", true, true},
    {"idle_closed", false, false},  // RFC 7766 6.2.3: the server may close an idle connection
    {"guest_handshake_failed", true, false},
    {"protocol_error", true, true},
    {"shutdown", true, true},
    {"not_tls", true, false},  // closed in order: nothing was ever said to the guest
    {"bad_client_hello", true, false},
    {"client_hello_timeout", true, false},
    // The next four tell the guest with a TLS alert first, so its side closes in order.
    {"invalid_sni", true, false},
    {"denied", true, false},
    {"upstream_tls_failed", true, false},
    {"guest_tls_failed", true, false},
    {"tls_error", true, true},
    {"http_refused", false, false},
    {"http_bad_response", true, true},
    {"secret_violation", true, true},
    {"guest_refused", true, false},  // the peer learns it as ECONNRESET
    {"guest_connect_timeout", true, false},
}};

}  // namespace

const CloseAction& CloseActionFor(CloseReason reason) {
  return kActions[static_cast<size_t>(reason)];
}

}  // namespace msb::gateway
