// Presets and the composition of policy flags (--net, --no-net, --net-default-egress,
// --net-default-ingress, --net-rule, --deny-domain, --deny-domain-suffix) into one Policy.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "policy/types.h"

namespace msb::policy {

enum class Preset : uint8_t { kPublicOnly, kNone, kAllowAll, kNonLocal };

std::optional<Preset> ParsePreset(std::string_view name);  // public-only none allow-all non-local
std::string_view PresetName(Preset p);

// PresetPolicy expands a preset:
//   public-only: [allow@dns, allow@public]; egress deny, ingress allow   (the default)
//   non-local:   [allow@dns, allow@public, allow@private]; egress deny, ingress allow
//   none:        []; egress deny, ingress deny
//   allow-all:   []; egress allow, ingress allow
// "allow@dns" is {egress, group host, udp+tcp, port 53, allow}. Every rule it returns has
// from_preset set (preset rules never count as explicit permission, see dns_policy.h).
Policy PresetPolicy(Preset p);

// PolicyOptions collects the policy flags in the order given.
struct PolicyOptions {
  std::optional<Preset> preset;
  bool no_net = false;
  std::optional<Action> default_egress;
  std::optional<Action> default_ingress;
  std::vector<std::string> net_rules;             // one entry per --net-rule flag value
  std::vector<std::string> deny_domains;          // --deny-domain NAME
  std::vector<std::string> deny_domain_suffixes;  // --deny-domain-suffix SUFFIX
  std::optional<Policy> config_policy;            // the --config file's policy, if it has one
};

struct BuiltPolicy {
  Policy policy;
  std::vector<std::string> warnings;  // shadowed-rule warnings naming both rules
};

// BuildPolicy composes, in this order: deny-domain rules, deny-suffix rules, --net-rule rules (argv
// order), then the base rules. Base = the preset if --net was given; else the config file's
// policy if it has one (and --no-net was not given); else an empty rule list when --no-net or a
// --net-default-* flag was given (defaults egress deny, ingress allow); else public-only.
// --net-default-* then override the base defaults; --no-net sets both to deny and conflicts with
// --net and --net-default-*. Errors name the offending flag or token.
Result<BuiltPolicy> BuildPolicy(const PolicyOptions& options);

}  // namespace msb::policy
