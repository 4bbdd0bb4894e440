// ConnectionPlan: the per-connection eligibility gates and effective violation actions
// (connection_plan.h has the rules; this file only evaluates them).
#include "secrets/connection_plan.h"
#include "base/strings.h"

#include <algorithm>

namespace msb::secrets {
namespace {

bool Pinned(const ConnectionIdentity& id) {
  return std::any_of(id.pinned_names.begin(), id.pinned_names.end(),
                     [&](const std::string& n) { return EqualsIgnoreAsciiCase(n, id.host); });
}

// HostAndPinHold: gates 1 and 2 (the host is allowed, and the destination is tied to it).
bool HostAndPinHold(const Secret& secret, const ConnectionIdentity& id) {
  for (const HostPattern& p : secret.spec.allowed_hosts) {
    if (!p.Matches(id.host)) {
      continue;
    }
    if (p.kind() == HostPattern::Kind::kAny || id.connect_tunnel || id.host_alias || Pinned(id)) {
      return true;
    }
  }
  return false;
}

bool Eligible(const Secret& secret, const ConnectionIdentity& id) {
  // An unknown host (plain HTTP without a usable Host) can be tied to no allowed host, `*`
  // included: nothing is substituted on such a connection.
  if (id.host.empty()) {
    return false;
  }
  if (secret.spec.require_tls_identity && !id.tls_intercepted) {
    return false;
  }
  return HostAndPinHold(secret, id);
}

bool Covers(const std::vector<HostPattern>& hosts, std::string_view host) {
  return hosts.empty() || std::any_of(hosts.begin(), hosts.end(),
                                      [&](const HostPattern& p) { return p.Matches(host); });
}

ViolationAction SetAction(const SecretSet& set, std::string_view host) {
  if (set.default_action() != ViolationAction::kPassthrough) {
    return set.default_action();
  }
  return Covers(set.default_passthrough_hosts(), host) ? ViolationAction::kPassthrough
                                                       : ViolationAction::kBlockAndLog;
}

ViolationAction EffectiveAction(const Secret& secret, const SecretSet& set, std::string_view host) {
  if (!secret.spec.on_violation.has_value()) {
    return SetAction(set, host);
  }
  if (*secret.spec.on_violation != ViolationAction::kPassthrough) {
    return *secret.spec.on_violation;
  }
  return Covers(secret.spec.passthrough_hosts, host) ? ViolationAction::kPassthrough
                                                     : SetAction(set, host);
}

}  // namespace

ConnectionPlan::ConnectionPlan(std::shared_ptr<const SecretSet> set,
                               const ConnectionIdentity& identity)
    : set_(std::move(set)), identity_(identity) {
  for (const Secret& s : set_->secrets()) {
    const bool eligible = Eligible(s, identity_);
    // Plain HTTP to a host the secret is bound to: no TLS, so no value, but no violation either
    // (the placeholder passes unchanged to where it belongs).
    const bool own_host_without_tls = !eligible && !identity_.host.empty() &&
                                      !identity_.tls_intercepted && HostAndPinHold(s, identity_);
    entries_.push_back(Entry{&s, eligible,
                             eligible || own_host_without_tls
                                 ? ViolationAction::kPassthrough
                                 : EffectiveAction(s, *set_, identity_.host)});
  }
  for (Entry& e : entries_) {
    if (e.eligible) {
      continue;
    }
    // The same placeholder belongs to an eligible entry here: it is substituted, not a violation.
    const bool shared = std::any_of(entries_.begin(), entries_.end(), [&](const Entry& o) {
      return o.eligible && o.secret->spec.placeholder == e.secret->spec.placeholder;
    });
    if (shared) {
      e.action = ViolationAction::kPassthrough;
    }
  }
  for (const Entry& e : entries_) {
    if (e.eligible) {
      any_eligible_ = true;
      inert_ = false;
      rewrites_bodies_ = rewrites_bodies_ || e.secret->spec.injection.body;
    } else if (e.action != ViolationAction::kPassthrough) {
      inert_ = false;
    }
  }
}

}  // namespace msb::secrets
