// The http.request audit record (http_audit.h).
#include "gateway/http_audit.h"

namespace msb::gateway {

void AuditHttpExchange(AuditLog* audit, const AuditFlow& flow, const http::HttpExchange& e) {
  if (audit == nullptr) {
    return;
  }
  AuditRecord rec("http.request");
  rec.Flow(flow);
  JsonWriter& j = rec.json();
  j.Str("proto", e.proto).Str("method", e.method).Str("authority", e.authority);
  j.Str("path", e.path);
  if (e.status != 0) {
    j.Uint("status", e.status);
  } else {
    j.Null("status");
  }
  j.Uint("bytes_up", e.bytes_up).Uint("bytes_down", e.bytes_down).Int("duration_ms", e.duration_ms);
  j.Str("end", e.end);
  if (!e.refused.empty()) {
    j.Str("refused", e.refused);
  }
  if (!e.secrets_injected.empty()) {
    j.Raw("secrets_injected", JsonStringArray(e.secrets_injected));
  }
  if (!e.blocked_secret.empty()) {
    j.Str("blocked_secret", e.blocked_secret);
  }
  audit->Emit(std::move(rec));
}

}  // namespace msb::gateway
