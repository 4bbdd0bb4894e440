// Names of the rule error kinds (rule_error.h).
#include "policy/rule_error.h"

namespace msb::policy {

std::string_view RuleErrorKindName(RuleErrorKind kind) {
  switch (kind) {
    case RuleErrorKind::kNotation:
      return "notation";
    case RuleErrorKind::kUnknownAction:
      return "unknown_action";
    case RuleErrorKind::kUnknownDirection:
      return "unknown_direction";
    case RuleErrorKind::kUnknownProtocol:
      return "unknown_protocol";
    case RuleErrorKind::kUnknownGroup:
      return "unknown_group";
    case RuleErrorKind::kInvalidAddress:
      return "invalid_address";
    case RuleErrorKind::kWrongFamily:
      return "wrong_family";
    case RuleErrorKind::kInvalidPrefixLength:
      return "invalid_prefix_length";
    case RuleErrorKind::kHostBitsSet:
      return "host_bits_set";
    case RuleErrorKind::kInvalidDomain:
      return "invalid_domain";
    case RuleErrorKind::kInvalidPort:
      return "invalid_port";
    case RuleErrorKind::kReversedPortRange:
      return "reversed_port_range";
    case RuleErrorKind::kIcmpNotEgress:
      return "icmp_not_egress";
    case RuleErrorKind::kIcmpWithPorts:
      return "icmp_with_ports";
  }
  return "?";
}

}  // namespace msb::policy
