// Shadowed-rule detection: a rule that can never match because an earlier rule matches everything
// it would (first match wins). Warnings, never errors.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "policy/classify.h"
#include "policy/types.h"

namespace msb::policy {

struct Shadow {
  size_t earlier = 0;
  size_t later = 0;
  std::string message;  // names both rules (index and RuleToString) and whether actions conflict
};

// FindShadowedRules reports every (earlier, later) pair where the earlier rule covers the later
// one: direction (kAny covers all), protocols (empty covers all, else superset), ports (empty
// covers all, else every later range inside an earlier range), destination (any covers all; equal
// groups; CIDR containing CIDR; a group containing a CIDR that lies wholly inside one of its ranges
// and outside every carve-out; a suffix covering an equal or deeper domain/suffix; equal domains).
// Messages number rules from 1 ("rule #3 (allow@10.1.0.0/16) is shadowed by rule #1 (deny@private)
// ..."), as `policy explain` does; the indices in Shadow stay 0-based.
// The host group's addresses are runtime configuration, so this form assumes they lie outside
// every CIDR it compares with a group; the overload below takes them into account.
std::vector<Shadow> FindShadowedRules(const Policy& policy);
std::vector<Shadow> FindShadowedRules(const Policy& policy, const HostAddresses& host);

}  // namespace msb::policy
