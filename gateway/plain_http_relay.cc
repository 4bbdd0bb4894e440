// PlainHttpRelay: secrets on plain HTTP (see plain_http_relay.h).
#include "gateway/plain_http_relay.h"

#include <string_view>

#include "gateway/http_audit.h"
#include "gateway/secrets_runtime.h"

namespace msb::gateway {

PlainHttpRelay::PlainHttpRelay(const SessionContext& ctx, const AuditFlow& flow, ByteStream* guest,
                               ByteStream* upstream, RelayObserver* observer)
    : ctx_(ctx), flow_(flow), observer_(observer) {
  http_ = http::H1Relay::Plain(
      guest, upstream, ctx_.clock(), static_cast<RelayObserver*>(this),
      static_cast<http::ExchangeObserver*>(this), [this](std::string_view host) {
        return MakeSecretGuard(ctx_, flow_, std::string(host), /*tls_intercepted=*/false,
                               /*via_connect=*/false, static_cast<http::SecretEvents*>(this));
      });
}

std::optional<bool> PlainHttpRelay::LooksLikeHttpRequest(std::span<const uint8_t> prefix) {
  static constexpr std::string_view kMethods[] = {"GET ",    "POST ", "PUT ",    "PATCH ",
                                                  "DELETE ", "HEAD ", "OPTIONS "};
  std::string_view got(reinterpret_cast<const char*>(prefix.data()), prefix.size());
  bool undecided = false;
  for (std::string_view m : kMethods) {
    if (got.size() >= m.size()) {
      if (got.substr(0, m.size()) == m) {
        return true;
      }
    } else if (m.substr(0, got.size()) == got) {
      undecided = true;
    }
  }
  if (undecided) {
    return std::nullopt;
  }
  return false;
}

void PlainHttpRelay::OnExchange(const http::HttpExchange& exchange) {
  AuditHttpExchange(ctx_.audit, flow_, exchange);
}

void PlainHttpRelay::OnSecretViolation(const secrets::Violation& violation,
                                       const http::ViolationSite& site) {
  ctx_.secrets->OnViolation(violation, site, "", flow_);
}

}  // namespace msb::gateway
