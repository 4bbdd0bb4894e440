// The ClientHello message body parser behind SniffClientHello (client_hello.h), separate from the
// record layer so each stays small. Internal to msb_gateway_tls.
#pragma once

#include <cstdint>
#include <span>

#include "gateway/tls/client_hello.h"

namespace msb::gateway::tls {

// IsGrease: the 16 reserved GREASE code points of RFC 8701 (0x0A0A, 0x1A1A, ..., 0xFAFA).
constexpr bool IsGrease(uint16_t v) {
  return (v & 0x0F0F) == 0x0A0A && (v >> 8) == (v & 0xFF);
}

// ParseClientHelloBody parses a complete ClientHello body (the bytes after the 4-byte handshake
// header, exactly the declared length) into `info`'s hello fields (not record_version or
// hello_bytes). Returns kNone on success; on failure the error, with `info` partly filled.
[[nodiscard]] SniffError ParseClientHelloBody(std::span<const uint8_t> body, ClientHelloInfo* info);

}  // namespace msb::gateway::tls
