// The audit's view of ingress (published-port) flows: flow.decision with "dir":"ingress", the
// peer as "src" and the guest's address and port as "dst" (docs/audit-log.md).
#pragma once

#include <cstdint>
#include <string_view>

#include "gateway/publish/publish_context.h"
#include "policy/publish_spec.h"

namespace msb::gateway {

// EvaluateIngress asks policy about a peer reaching the guest's port through `port`.
policy::Decision EvaluateIngress(const PublishContext& ctx, const policy::PublishedPort& port,
                                 const IpAddress& peer);

// EmitIngressDecision writes flow.decision for an ingress flow. A non-empty `reason` means the
// gateway decided (a limit), not policy.
void EmitIngressDecision(const PublishContext& ctx, uint64_t flow_id,
                         const policy::PublishedPort& port, const SocketAddress& peer,
                         const policy::Decision& decision, std::string_view reason = {});

}  // namespace msb::gateway
