// Presets and the composition of the policy flags into one Policy (presets.h). Conflicting flags
// are errors rather than "last one wins": a sandbox's network policy should never depend on which
// flag the user happened to type last.
#include "policy/presets.h"

#include <array>

#include "policy/domain_name.h"
#include "policy/net_rule.h"
#include "policy/shadow.h"

namespace msb::policy {
namespace {

constexpr std::array<Preset, 4> kPresets = {Preset::kPublicOnly, Preset::kNone, Preset::kAllowAll,
                                            Preset::kNonLocal};

Rule AllowDns() {
  return {Action::kAllow,
          Direction::kEgress,
          Destination::OfGroup(Group::kHost),
          ProtocolSet::Of({Protocol::kUdp, Protocol::kTcp}),
          {{53, 53}}};
}

Rule AllowGroup(Group g) {
  return {Action::kAllow, Direction::kEgress, Destination::OfGroup(g), {}, {}};
}

Rule DenyName(Destination dest) {
  return {Action::kDeny, Direction::kEgress, std::move(dest), {}, {}};
}

std::string FlagError(std::string_view flag, std::string_view value, const std::string& error) {
  return std::string(flag) + " " + QuoteForMessage(value) + ": " + error;
}

Status CheckConflicts(const PolicyOptions& o) {
  if (!o.no_net) {
    return Status::Ok();
  }
  if (o.preset) {
    return Status::Error("--no-net cannot be combined with --net");
  }
  if (o.default_egress) {
    return Status::Error("--no-net cannot be combined with --net-default-egress");
  }
  if (o.default_ingress) {
    return Status::Error("--no-net cannot be combined with --net-default-ingress");
  }
  return Status::Ok();
}

// UserRules parses every user-supplied rule, in composition order.
Result<std::vector<Rule>> UserRules(const PolicyOptions& o) {
  std::vector<Rule> rules;
  for (const std::string& name : o.deny_domains) {
    auto canonical = CanonicalDomain(name);
    if (!canonical.ok()) {
      return Status::Error(FlagError("--deny-domain", name, canonical.error()));
    }
    rules.push_back(DenyName(Destination::OfDomain(std::move(canonical).value())));
  }
  for (const std::string& suffix : o.deny_domain_suffixes) {
    // Accept the spellings users copy from elsewhere: "*.ads.example" and ".ads.example".
    std::string_view text = suffix;
    if (text.starts_with("*.")) {
      text.remove_prefix(2);
    } else if (text.starts_with('.')) {
      text.remove_prefix(1);
    }
    auto canonical = CanonicalSuffix(text);
    if (!canonical.ok()) {
      return Status::Error(FlagError("--deny-domain-suffix", suffix, canonical.error()));
    }
    rules.push_back(DenyName(Destination::OfSuffix(std::move(canonical).value())));
  }
  for (const std::string& value : o.net_rules) {
    auto parsed = ParseNetRuleFlag(value);
    if (!parsed.ok()) {
      return parsed.status();  // already names --net-rule and the token
    }
    for (Rule& r : parsed.value()) {
      rules.push_back(std::move(r));
    }
  }
  return rules;
}

}  // namespace

std::optional<Preset> ParsePreset(std::string_view name) {
  for (Preset p : kPresets) {
    if (PresetName(p) == name) {
      return p;
    }
  }
  return std::nullopt;
}

std::string_view PresetName(Preset p) {
  switch (p) {
    case Preset::kPublicOnly:
      return "public-only";
    case Preset::kNone:
      return "none";
    case Preset::kAllowAll:
      return "allow-all";
    case Preset::kNonLocal:
      return "non-local";
  }
  return "?";
}

Policy PresetPolicy(Preset p) {
  Policy policy;
  switch (p) {
    case Preset::kPublicOnly:
      policy.rules = {AllowDns(), AllowGroup(Group::kPublic)};
      break;
    case Preset::kNonLocal:
      policy.rules = {AllowDns(), AllowGroup(Group::kPublic), AllowGroup(Group::kPrivate)};
      break;
    case Preset::kNone:
      policy.default_ingress = Action::kDeny;
      break;
    case Preset::kAllowAll:
      policy.default_egress = Action::kAllow;
      break;
  }
  // Marked so DNS rebinding protection can tell a preset's broad grant (non-local's allow@private)
  // from a rule the user wrote for a specific address; BuildPolicy keeps the mark.
  for (Rule& r : policy.rules) {
    r.from_preset = true;
  }
  return policy;
}

Result<BuiltPolicy> BuildPolicy(const PolicyOptions& options) {
  if (Status s = CheckConflicts(options); !s.ok()) {
    return s;
  }
  auto user = UserRules(options);
  if (!user.ok()) {
    return user.status();
  }
  Policy base;  // egress deny, ingress allow, no rules
  if (options.preset) {
    base = PresetPolicy(*options.preset);
  } else if (options.config_policy && !options.no_net) {
    base = *options.config_policy;  // flags apply on top of the config file's policy
  } else if (!options.no_net && !options.default_egress && !options.default_ingress) {
    base = PresetPolicy(Preset::kPublicOnly);
  }
  if (options.default_egress) {
    base.default_egress = *options.default_egress;
  }
  if (options.default_ingress) {
    base.default_ingress = *options.default_ingress;
  }
  if (options.no_net) {
    base.default_egress = Action::kDeny;
    base.default_ingress = Action::kDeny;
  }
  BuiltPolicy built;
  built.policy.default_egress = base.default_egress;
  built.policy.default_ingress = base.default_ingress;
  built.policy.rules = std::move(user).value();
  for (Rule& r : base.rules) {
    built.policy.rules.push_back(std::move(r));
  }
  // The preset's own rules are not the user's doing; only warn about rules the user wrote (on the
  // command line or in the config file).
  for (Shadow& s : FindShadowedRules(built.policy)) {
    if (!built.policy.rules[s.later].from_preset) {
      built.warnings.push_back(std::move(s.message));
    }
  }
  return built;
}

}  // namespace msb::policy
