// Ingress decisions: policy for a peer and their audit record (see ingress_audit.h).
#include "gateway/publish/ingress_audit.h"

#include "policy/classify.h"

namespace msb::gateway {

policy::Decision EvaluateIngress(const PublishContext& ctx, const policy::PublishedPort& port,
                                 const IpAddress& peer) {
  policy::FlowQuery q;
  q.direction = policy::Direction::kIngress;
  q.protocol = port.protocol == policy::PublishProtocol::kTcp ? policy::Protocol::kTcp
                                                              : policy::Protocol::kUdp;
  q.ip = peer;
  q.port = port.guest_port;
  return ctx.policy->Evaluate(q, nullptr);  // ingress rules name addresses, never domains
}

void EmitIngressDecision(const PublishContext& ctx, uint64_t flow_id,
                         const policy::PublishedPort& port, const SocketAddress& peer,
                         const policy::Decision& decision, std::string_view reason) {
  AuditRecord rec("flow.decision");
  rec.Flow({flow_id, policy::PublishProtocolName(port.protocol), peer,
            SocketAddress{ctx.guest_v4, port.guest_port}});
  JsonWriter& j = rec.json();
  j.Str("dir", "ingress").Str("action", policy::ActionName(decision.action));
  if (auto group = policy::Classify(peer.ip, ctx.policy->host())) {
    j.Str("group", policy::GroupName(*group));
  } else {
    j.Null("group");
  }
  AddRuleFields(j, ctx.policy->policy(), decision, reason.empty() ? "default ingress" : "gateway");
  j.Str("published", port.ToString());
  if (!reason.empty()) {
    j.Str("reason", reason);
  }
  ctx.audit->Emit(std::move(rec));
}

}  // namespace msb::gateway
