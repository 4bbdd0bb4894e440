// AuditHttpExchange: the audit log's http.request record (docs/audit-log.md) for one exchange an
// HTTP relay reported, intercepted TLS or plain HTTP alike.
#pragma once

#include "gateway/core/audit_log.h"
#include "gateway/http/exchange.h"

namespace msb::gateway {

void AuditHttpExchange(AuditLog* audit, const AuditFlow& flow, const http::HttpExchange& e);

}  // namespace msb::gateway
