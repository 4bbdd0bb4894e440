// DnsForwarder: the per-query pipeline (see dns_forwarder.h).
#include "gateway/dns/forwarder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <variant>

#include "gateway/dns/answer.h"
#include "gateway/dns/message.h"
#include "gateway/dns/nameservers.h"

namespace msb::gateway {
namespace {

constexpr std::string_view kHostAlias = "host.microsandbox.internal";
constexpr uint32_t kHostAliasTtl = 60;
constexpr size_t kMaxDirectResolvers = 16;

std::string_view ProtoName(const DnsRequest& r) {
  return r.over_tls ? "dot" : r.transport == policy::DnsTransport::kUdp ? "udp" : "tcp";
}

uint16_t TypeOf(dns::RType t) {
  return static_cast<uint16_t>(t);
}

}  // namespace

struct DnsForwarder::Pending {
  DnsRequest request;
  dns::Query query;
  DnsReply reply;
  TimePoint started;
  policy::Decision decision;
  std::string upstream;  // who answered, or who was asked last
  std::string reason;
  std::vector<std::string> answers;
  std::vector<std::string> rebind_blocked;
};

Result<std::unique_ptr<DnsForwarder>> DnsForwarder::Create(
    EventLoop* loop, std::shared_ptr<const policy::Evaluator> policy, policy::PinSet* pins,
    AuditLog* audit, const DnsOptions& options) {
  std::unique_ptr<DnsForwarder> f(new DnsForwarder(loop, std::move(policy), pins, audit, options));
  std::vector<SocketAddress> servers = options.nameservers;
  if (servers.empty()) {
    auto host = HostNameservers();
    if (!host.ok()) {
      return host.status();
    }
    servers = std::move(host).value();
  }
  // Each server gets an equal share of the query timeout, so a dead first server still leaves
  // time for the next one within the timeout the guest was promised.
  Duration attempt = std::max<Duration>(options.query_timeout / static_cast<int>(servers.size()),
                                        std::chrono::milliseconds(200));
  auto up = DnsUpstream::Create(loop, std::move(servers), attempt, options.query_timeout);
  if (!up.ok()) {
    return up.status();
  }
  f->upstream_ = std::move(up).value();
  return f;
}

DnsForwarder::~DnsForwarder() = default;

DnsUpstream* DnsForwarder::UpstreamFor(const SocketAddress& target) {
  auto it = direct_.find(target);
  if (it != direct_.end()) {
    return it->second.get();
  }
  if (direct_.size() >= kMaxDirectResolvers) {
    direct_.erase(direct_order_.front());  // its pending queries are dropped; guests retry
    direct_order_.erase(direct_order_.begin());
  }
  auto up = DnsUpstream::Create(loop_, {target}, options_.query_timeout, options_.query_timeout);
  if (!up.ok()) {
    spdlog::warn("dns: resolver {}: {}", target.ToString(), up.error());
    return nullptr;
  }
  DnsUpstream* raw = up.value().get();
  direct_[target] = std::move(up).value();
  direct_order_.push_back(target);
  return raw;
}

void DnsForwarder::Handle(DnsRequest&& request, DnsReply reply) {
  auto parsed = dns::ParseQuery(request.message);
  if (auto* err = std::get_if<dns::QueryError>(&parsed)) {
    AuditRecord rec("dns.query");
    rec.Flow({request.flow_id, ProtoName(request), request.guest, request.dest});
    rec.json().Str("action", "deny").Str("rcode", "FORMERR").Str("reason", err->reason);
    audit_->Emit(std::move(rec));
    reply(err->id ? dns::BuildFormErr(*err->id, err->flags) : std::vector<uint8_t>{});
    return;
  }
  auto p = std::make_shared<Pending>();
  p->request = std::move(request);
  p->query = std::get<dns::Query>(std::move(parsed));
  p->reply = std::move(reply);
  p->started = loop_->clock().Now();
  const dns::Query& q = p->query;
  const policy::Policy& pol = policy_->policy();

  if (q.opcode != 0) {
    p->reason = "opcode not supported";
    Complete(p, dns::BuildError(q, dns::Rcode::kNotImp));
    return;
  }
  p->decision = policy::EvaluateDnsQuery(pol, q.question.name, p->request.transport);
  if (p->decision.action == policy::Action::kDeny) {
    p->reason = "name denied by policy";
    Complete(p, dns::BuildError(q, dns::Rcode::kNxDomain));
    return;
  }
  uint16_t qtype = q.question.qtype;
  if (q.question.name == kHostAlias) {
    p->reason = "host alias";
    std::vector<IpAddress> addrs;
    if (qtype == TypeOf(dns::RType::kA) && policy_->host().v4) {
      addrs.push_back(*policy_->host().v4);
      pins_->Update(q.question.name, IpFamily::kV4, addrs, std::chrono::seconds(kHostAliasTtl));
    } else if (qtype == TypeOf(dns::RType::kAaaa) && policy_->host().v6) {
      addrs.push_back(*policy_->host().v6);
      pins_->Update(q.question.name, IpFamily::kV6, addrs, std::chrono::seconds(kHostAliasTtl));
    }
    Complete(p, dns::BuildAddressAnswer(q, addrs, kHostAliasTtl));
    return;
  }
  if (qtype == TypeOf(dns::RType::kAaaa) && !policy_->host().v6) {
    // The guest has no IPv6 path through the gateway (--no-ipv6): an empty answer makes
    // applications use IPv4 at once instead of trying addresses they cannot reach.
    p->reason = "no IPv6 for the guest";
    pins_->Clear(q.question.name, IpFamily::kV6);
    Complete(p, dns::BuildError(q, dns::Rcode::kNoError));
    return;
  }
  DnsUpstream* upstream = upstream_.get();
  // DNS over TLS is terminated by the gateway whatever address it went to: its queries are the
  // gateway's to answer, as if sent to its own address.
  bool to_gateway = p->request.over_tls ||
                    (policy_->host().v4 && p->request.dest.ip == *policy_->host().v4) ||
                    (policy_->host().v6 && p->request.dest.ip == *policy_->host().v6);
  if (!to_gateway) {
    // `dig @target`: only if the guest may reach that resolver itself.
    policy::FlowQuery fq;
    fq.direction = policy::Direction::kEgress;
    fq.protocol = p->request.transport == policy::DnsTransport::kUdp ? policy::Protocol::kUdp
                                                                     : policy::Protocol::kTcp;
    fq.ip = p->request.dest.ip;
    fq.port = p->request.dest.port;
    policy::Decision d = policy_->Evaluate(fq, pins_);
    if (d.action == policy::Action::kDeny) {
      p->decision = d;
      p->reason = "resolver not allowed by policy";
      // NXDOMAIN, not REFUSED: glibc's stub treats REFUSED as "try the next server" and retries
      // in ways that stall applications (microsandbox changed this for that reason); the denied
      // resolver receives nothing either way.
      Complete(p, dns::BuildError(q, dns::Rcode::kNxDomain));
      return;
    }
    upstream = UpstreamFor(p->request.dest);
    if (upstream == nullptr) {
      p->reason = "resolver unavailable";
      Complete(p, dns::BuildError(q, dns::Rcode::kServFail));
      return;
    }
  }
  if (in_flight_ >= options_.max_in_flight) {
    p->reason = "too many queries in flight";
    Complete(p, dns::BuildError(q, dns::Rcode::kServFail));
    return;
  }
  ++in_flight_;
  upstream->Send(p->request.message,
                 p->request.transport == policy::DnsTransport::kUdp ? DnsUpstreamTransport::kUdp
                                                                    : DnsUpstreamTransport::kTcp,
                 [this, p](DnsUpstreamResult&& r) { OnUpstream(p, std::move(r)); });
}

void DnsForwarder::OnUpstream(std::shared_ptr<Pending> p, DnsUpstreamResult&& result) {
  --in_flight_;
  const dns::Query& q = p->query;
  p->upstream = result.server.ToString();
  if (!result.ok) {
    p->reason = "upstream failed: " + result.error;
    Complete(p, dns::BuildError(q, dns::Rcode::kServFail));
    return;
  }
  auto parsed = dns::ParseResponse(result.response);
  if (!parsed.ok()) {
    p->reason = "unparseable upstream answer: " + parsed.error();
    Complete(p, dns::BuildError(q, dns::Rcode::kServFail));
    return;
  }
  const dns::Response& resp = parsed.value();
  // A CNAME chain that runs through a denied name is refused like the name itself: otherwise an
  // allowed alias would hand the guest a denied service's addresses.
  for (const std::string& alias : dns::ChainNames(resp, q.question.name)) {
    policy::Decision d = policy::EvaluateDnsQuery(policy_->policy(), alias, p->request.transport);
    if (d.action == policy::Action::kDeny) {
      p->decision = d;
      p->reason = "CNAME to denied name " + alias;
      pins_->Clear(q.question.name, IpFamily::kV4);
      pins_->Clear(q.question.name, IpFamily::kV6);
      Complete(p, dns::BuildError(q, dns::Rcode::kNxDomain));
      return;
    }
  }
  // A answers pin IPv4 addresses to the name, AAAA answers IPv6 ones (each family on its own).
  IpFamily family = q.question.qtype == TypeOf(dns::RType::kAaaa) ? IpFamily::kV6 : IpFamily::kV4;
  bool address_query =
      q.question.qtype == TypeOf(dns::RType::kA) || q.question.qtype == TypeOf(dns::RType::kAaaa);
  if (options_.rebind_protection) {
    for (const IpAddress& ip : dns::AllAddresses(resp)) {
      if (policy::IsRebindingTarget(ip, policy_->host()) &&
          !policy::ExplicitlyAllowsAddress(policy_->policy(), policy_->host(), ip)) {
        p->rebind_blocked.push_back(ip.ToString());
      }
    }
    if (!p->rebind_blocked.empty()) {
      p->reason = "rebinding protection";
      if (address_query) {
        pins_->Clear(q.question.name, family);
      }
      Complete(p, dns::BuildError(q, dns::Rcode::kNxDomain));
      return;
    }
  }
  for (const IpAddress& ip : dns::AllAddresses(resp)) {
    p->answers.push_back(ip.ToString());
  }
  if (address_query) {
    dns::AnswerAddresses a = dns::AddressesForName(resp, q.question.name, q.question.qtype);
    if (resp.rcode == dns::Rcode::kNoError && !a.addresses.empty()) {
      pins_->Update(q.question.name, family, a.addresses, std::chrono::seconds(a.ttl));
    } else {
      pins_->Clear(q.question.name, family);
    }
  }
  std::vector<uint8_t> out = std::move(result.response);
  dns::SetId(out, q.id);
  if (p->request.transport == policy::DnsTransport::kUdp) {
    size_t limit = std::max<size_t>(dns::kDefaultUdpPayload,
                                    q.edns_udp_size.value_or(dns::kDefaultUdpPayload));
    if (out.size() > limit) {
      p->reason = "truncated for UDP (" + std::to_string(out.size()) + " > " +
                  std::to_string(limit) + " bytes)";
      out = dns::BuildTruncated(q, resp.flags);
    }
  }
  Complete(p, std::move(out));
}

void DnsForwarder::Complete(std::shared_ptr<Pending> p, std::vector<uint8_t>&& response) {
  const dns::Query& q = p->query;
  AuditRecord rec("dns.query");
  rec.Flow({p->request.flow_id, ProtoName(p->request), p->request.guest, p->request.dest});
  JsonWriter& j = rec.json();
  if (p->request.tcp_flow_id != 0) {
    j.Uint("tcp_flow", p->request.tcp_flow_id);
  }
  j.Str("name", q.question.name).Str("type", dns::TypeName(q.question.qtype));
  j.Str("action", policy::ActionName(p->decision.action));
  AddRuleFields(j, policy_->policy(), p->decision, "default egress");
  if (p->upstream.empty()) {
    j.Null("upstream");
  } else {
    j.Str("upstream", p->upstream);
  }
  uint8_t rcode = response.size() >= 4 ? (response[3] & 0x0f) : 0;
  j.Str("rcode", dns::RcodeName(rcode)).Raw("answers", JsonStringArray(p->answers));
  if (!p->rebind_blocked.empty()) {
    j.Raw("rebind_blocked", JsonStringArray(p->rebind_blocked));
  }
  if (!p->reason.empty()) {
    j.Str("reason", p->reason);
  }
  j.Int("ms", ToMillis(loop_->clock().Now() - p->started));
  audit_->Emit(std::move(rec));
  DnsReply reply = std::move(p->reply);
  reply(std::move(response));
}

}  // namespace msb::gateway
