// CloseReason: why a guest TCP flow ended, as the audit log's flow.close "reason" says, and what
// ending that way does to each side. One table (close_reason.cc) holds all three facts, so a new
// reason cannot be given a name without also saying how it closes.
#pragma once

#include <cstdint>
#include <string_view>

namespace msb::gateway {

enum class CloseReason : uint8_t {
  kClosed,                // both directions ended with FIN
  kGuestReset,            // the guest reset (or vanished); the upstream is reset too
  kUpstreamReset,         // the upstream reset or failed; the guest is reset
  kUpstreamRefused,       // the upstream connect was refused
  kUpstreamUnreachable,   // the upstream connect failed otherwise
  kConnectTimeout,        // the upstream connect took too long
  kIdleTimeout,           // no byte either way for the idle timeout (both sides reset)
  kIdleClosed,            // an idle DNS-over-TCP connection the gateway closed in order
  kGuestHandshakeFailed,  // the guest never completed its TCP handshake
  kProtocolError,         // the guest broke the protocol the gateway speaks with it (DNS over TCP
                          // framing, HTTP/1.1 framing inside a request, HTTP/2)
  kShutdown,              // the gateway stopped with the flow open
  // TLS interception (intercepted ports):
  kNotTls,             // the guest's first bytes are not a TLS ClientHello
  kBadClientHello,     // a malformed, oversized or unsupported ClientHello
  kHelloTimeout,       // no complete ClientHello within the sniff timeout
  kInvalidSni,         // the SNI is not a valid host name (alert unrecognized_name)
  kDenied,             // policy denied the flow once the SNI was known (alert access_denied)
  kUpstreamTlsFailed,  // the upstream handshake or its verification failed (alert to the guest)
  kGuestTlsFailed,     // the guest's handshake with the minted certificate failed
  kTlsError,           // a TLS error after both handshakes (either side); both reset
  kHttpRefused,        // the gateway refused a request (421/400) and closed in order
  kHttpBadResponse,    // the upstream broke HTTP framing or truncated a response; guest reset
  kSecretViolation,    // a request body held a placeholder it may not carry, found after part of
                       // it went upstream (or block-and-terminate): both reset
  // Published ports (ingress: the host peer dialled in, the gateway connects to the guest; the
  // peer is the flow's "upstream" end):
  kGuestRefused,         // nothing listens on the guest port (the guest answered RST): peer reset
  kGuestConnectTimeout,  // the guest did not answer the connect in time: peer reset
};
inline constexpr int kNumCloseReasons = 24;

// How a reason ends each side: in order (FIN after pending data) or with RST.
struct CloseAction {
  std::string_view name;  // the audit log's spelling
  bool reset_upstream;
  bool reset_guest;
};

const CloseAction& CloseActionFor(CloseReason reason);
inline std::string_view CloseReasonName(CloseReason reason) {
  return CloseActionFor(reason).name;
}

}  // namespace msb::gateway
