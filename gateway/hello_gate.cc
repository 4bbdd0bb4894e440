// HelloGate: parse, validate, judge and audit a guest's ClientHello (see hello_gate.h).
#include "gateway/hello_gate.h"

#include "gateway/tls/intercept_context.h"

namespace msb::gateway {
namespace {

// TLS alert descriptions (RFC 8446 6).
constexpr uint8_t kAlertAccessDenied = 49;
constexpr uint8_t kAlertDecodeError = 50;
constexpr uint8_t kAlertProtocolVersion = 70;
constexpr uint8_t kAlertUnrecognizedName = 112;
constexpr uint8_t kAlertNoApplicationProtocol = 120;

// Printable renders an ALPN name the guest chose for the audit log (printable ASCII, else hex).
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[(static_cast<uint8_t>(c) >> 4) & 0xf]);
      out.push_back(kHex[static_cast<uint8_t>(c) & 0xf]);
    }
  }
  return out;
}

}  // namespace

HelloGate::HelloGate(const SessionContext& ctx, const AuditFlow& flow, const IpAddress& policy_ip,
                     uint16_t port, std::optional<std::string> required_sni)
    : ctx_(ctx),
      flow_(flow),
      policy_ip_(policy_ip),
      port_(port),
      required_sni_(std::move(required_sni)) {}

HelloVerdict HelloGate::Read(ByteStream* guest) {
  // Everything read is kept for replay. The sniffer stops at its cap, so this holds at most that.
  constexpr size_t kCap = tls::kDefaultMaxHelloBytes + 5;
  while (guest->ReadableBytes() > 0 && bytes_.size() < kCap) {
    std::span<const uint8_t> chunk = guest->Peek();
    size_t take = std::min(chunk.size(), kCap - bytes_.size());
    bytes_.insert(bytes_.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(take));
    guest->Consume(take);
  }
  tls::SniffResult r = sniffer_.Sniff(bytes_);
  if (r.status == tls::SniffStatus::kNeedMore) {
    if (guest->ReadEof()) {
      return Refuse(nullptr, bytes_.empty() ? CloseReason::kClosed : CloseReason::kNotTls, 0,
                    bytes_.empty() ? "closed_before_hello" : "not_tls",
                    "the guest closed before a whole ClientHello");
    }
    return {};
  }
  if (r.status == tls::SniffStatus::kError) {
    bool not_tls = r.error == tls::SniffError::kNotTls || r.error == tls::SniffError::kNotHandshake;
    uint8_t alert = not_tls                                           ? 0
                    : r.error == tls::SniffError::kUnsupportedVersion ? kAlertProtocolVersion
                                                                      : kAlertDecodeError;
    return Refuse(nullptr, not_tls ? CloseReason::kNotTls : CloseReason::kBadClientHello, alert,
                  not_tls ? "not_tls" : "bad_client_hello", tls::SniffErrorName(r.error));
  }
  return Decide(r.info);
}

HelloVerdict HelloGate::Timeout() {
  return Refuse(nullptr, CloseReason::kHelloTimeout, 0, "client_hello_timeout", "");
}

HelloVerdict HelloGate::Decide(const tls::ClientHelloInfo& hello) {
  HelloVerdict v;
  v.had_sni = hello.sni.has_value();
  if (v.had_sni) {
    auto parsed = certs::ParseServerName(*hello.sni);
    if (!parsed.ok()) {
      return Refuse(&hello, CloseReason::kInvalidSni, kAlertUnrecognizedName, "invalid_sni",
                    parsed.error());
    }
    v.name = std::move(parsed).value();
  } else {
    v.name = certs::ServerNameFromIp(policy_ip_);  // no SNI (an IP literal): policy by address
  }
  if (required_sni_ && (!v.had_sni || v.name.text != *required_sni_)) {
    // Inside a CONNECT tunnel to a named host the SNI must be that host (an IP target comes
    // without a required name).
    return Refuse(&hello, CloseReason::kDenied, kAlertAccessDenied, "sni_not_connect_target", "");
  }
  policy::FlowQuery q;
  q.direction = policy::Direction::kEgress;
  q.protocol = policy::Protocol::kTcp;
  q.ip = policy_ip_;
  q.port = port_;
  if (v.had_sni) {
    q.sni = v.name.text;
  }
  policy::Decision d = ctx_.policy->Evaluate(q, ctx_.pins);
  if (d.action == policy::Action::kDeny) {
    return Refuse(&hello, CloseReason::kDenied, kAlertAccessDenied, "policy", "", &d);
  }
  if (ctx_.intercept->Bypassed(v.name)) {
    v.kind = HelloVerdict::Kind::kBypass;
  } else {
    v.kind = HelloVerdict::Kind::kIntercept;
    v.alpn = tls::FilterAlpn(hello.alpn);
    if (!hello.alpn.empty() && v.alpn.empty()) {
      return Refuse(&hello, CloseReason::kBadClientHello, kAlertNoApplicationProtocol,
                    "no_inspectable_alpn", "", &d);
    }
  }
  Emit(&hello, v.kind == HelloVerdict::Kind::kBypass ? "bypass" : "intercept",
       v.had_sni ? "" : "no_sni", "", &d);
  return v;
}

HelloVerdict HelloGate::Refuse(const tls::ClientHelloInfo* hello, CloseReason reason, uint8_t alert,
                               std::string_view audit_reason, std::string_view detail,
                               const policy::Decision* decision) {
  HelloVerdict v;
  v.kind = HelloVerdict::Kind::kRefuse;
  v.reason = reason;
  v.alert = alert;
  Emit(hello, "deny", audit_reason, detail, decision);
  return v;
}

void HelloGate::Emit(const tls::ClientHelloInfo* hello, std::string_view action,
                     std::string_view reason, std::string_view detail,
                     const policy::Decision* decision) {
  AuditRecord rec("tls.hello");
  rec.Flow(flow_);
  JsonWriter& j = rec.json();
  // The SNI is recorded once validated; an invalid one only through `detail` (escaped).
  std::optional<std::string> sni;
  if (hello != nullptr && hello->sni && reason != "invalid_sni") {
    auto parsed = certs::ParseServerName(*hello->sni);
    if (parsed.ok()) {
      sni = parsed.value().text;
    }
  }
  if (sni) {
    j.Str("sni", *sni);
  } else {
    j.Null("sni");
  }
  if (hello != nullptr) {
    std::vector<std::string> alpn;
    for (const std::string& p : hello->alpn) {
      alpn.push_back(Printable(p));
    }
    j.Raw("alpn", JsonStringArray(alpn));
    j.Bool("tls13", hello->offers_tls13);
  }
  j.Str("action", action);
  if (!reason.empty()) {
    j.Str("reason", reason);
  }
  if (!detail.empty()) {
    j.Str("detail", detail);
  }
  if (required_sni_) {
    j.Str("connect_target", *required_sni_);
  }
  if (decision != nullptr) {
    AddRuleFields(j, ctx_.policy->policy(), *decision, "default egress");
  }
  ctx_.audit->Emit(std::move(rec));
}

}  // namespace msb::gateway
