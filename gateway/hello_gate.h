// HelloGate: the decision on an intercepted connection's ClientHello, shared by every path that
// meets one (a guest dialling an intercepted port; the TLS inside a guest's CONNECT tunnel). It
// keeps the guest's first bytes (they are replayed to whatever comes next), parses them as they
// arrive, validates the SNI, judges it with policy (deny name rules on the SNI alone, allow name
// rules on the SNI and a pin), applies --tls-bypass and the ALPN filter, and writes the
// tls.hello audit record. It does no I/O of its own beyond reading the guest stream it is given.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "certs/server_name.h"
#include "gateway/core/audit_log.h"
#include "gateway/core/byte_stream.h"
#include "gateway/core/close_reason.h"
#include "gateway/core/session_context.h"
#include "gateway/tls/client_hello.h"

namespace msb::gateway {

struct HelloVerdict {
  enum class Kind : uint8_t { kNeedMore, kRefuse, kIntercept, kBypass };
  Kind kind = Kind::kNeedMore;
  // kRefuse: how the flow ends, and the TLS alert to send first (0: none, the bytes were not TLS).
  CloseReason reason = CloseReason::kNotTls;
  uint8_t alert = 0;
  // kIntercept / kBypass:
  certs::ServerName name;  // the SNI, or the dialled address when there was none
  bool had_sni = false;
  std::vector<std::string> alpn;  // the guest's offer, filtered to what can be inspected
};

class HelloGate {
 public:
  // Policy judges (`policy_ip`, `port`) with the SNI. `required_sni`: inside a CONNECT tunnel, the
  // host the guest asked the proxy for (unset for an IP target); the SNI must name it.
  HelloGate(const SessionContext& ctx, const AuditFlow& flow, const IpAddress& policy_ip,
            uint16_t port, std::optional<std::string> required_sni = std::nullopt);

  // Read takes the guest's readable bytes and decides once they make (or cannot make) a
  // ClientHello; kNeedMore until then.
  HelloVerdict Read(ByteStream* guest);
  // Timeout is the verdict when the hello timeout passed first.
  HelloVerdict Timeout();
  // TakeBytes hands over everything read (the ClientHello and whatever followed it).
  std::vector<uint8_t> TakeBytes() { return std::move(bytes_); }

 private:
  HelloVerdict Decide(const tls::ClientHelloInfo& hello);
  HelloVerdict Refuse(const tls::ClientHelloInfo* hello, CloseReason reason, uint8_t alert,
                      std::string_view audit_reason, std::string_view detail,
                      const policy::Decision* decision = nullptr);
  void Emit(const tls::ClientHelloInfo* hello, std::string_view action, std::string_view reason,
            std::string_view detail, const policy::Decision* decision);

  SessionContext ctx_;
  AuditFlow flow_;
  IpAddress policy_ip_;
  uint16_t port_;
  std::optional<std::string> required_sni_;
  std::vector<uint8_t> bytes_;
  tls::ClientHelloSniffer sniffer_;
};

}  // namespace msb::gateway
