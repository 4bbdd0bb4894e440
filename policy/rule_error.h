// The vocabulary of rule errors shared by both rule front ends, the --net-rule grammar
// (net_rule.h) and the JSON config's rules (config.h): which field of a rule is wrong and what is
// wrong with it (RuleErrorKind), a structured finding without any wording (RuleProblem, produced
// by rule_check.h), and a front end's worded rejection that keeps the kind (RuleParseError,
// RuleResult). Keeping the kind next to the message lets callers and tests see that both front
// ends reject a rule for the same reason, whatever each one's words.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/ip_address.h"
#include "base/status.h"
#include "policy/types.h"

namespace msb::policy {

// RuleField is the part of a rule a problem is in.
enum class RuleField : uint8_t { kAction, kDirection, kDestination, kProtocols, kPorts };

// RuleErrorKind says what is wrong with a rule, in terms both front ends share.
enum class RuleErrorKind : uint8_t {
  // The front end's own notation: a token's punctuation and shorthands (brackets, the dns target,
  // whitespace), a JSON value's type or shape, a missing or conflicting JSON field.
  kNotation,
  kUnknownAction,
  kUnknownDirection,
  kUnknownProtocol,
  // A name that is no group (group_table.h). In a --net-rule token, a bare word without a dot can
  // only be a group keyword, so an unknown bare word is this kind too.
  kUnknownGroup,
  kInvalidAddress,       // not an IP address where one is required
  kWrongFamily,          // an IPv4 address where the notation requires IPv6, or the reverse
  kInvalidPrefixLength,  // a CIDR length that is not 0-32 (IPv4) or 0-128 (IPv6), as written
  kHostBitsSet,          // a CIDR whose address has bits set beyond the prefix
  kInvalidDomain,        // a domain name or suffix domain_name.h refuses
  kInvalidPort,          // not a port 1-65535
  kReversedPortRange,    // a range whose low port comes last
  kIcmpNotEgress,        // an ICMP rule that is ingress or any
  kIcmpWithPorts,        // an ICMP rule with ports
};

// RuleErrorKindName is a stable identifier for a kind ("icmp_not_egress"), for test output.
std::string_view RuleErrorKindName(RuleErrorKind kind);

// RuleProblem is a structured finding about a rule: where, what, and the fix when it is clear.
// Only the members the kind names are set.
struct RuleProblem {
  RuleErrorKind kind = RuleErrorKind::kNotation;
  RuleField field = RuleField::kDestination;
  size_t index = 0;                            // kPorts: the range's position in Rule::ports
  std::vector<std::string_view> did_you_mean;  // kUnknown*: the closest accepted spellings
  unsigned max_prefix_length = 0;              // kInvalidPrefixLength: 32 or 128
  std::optional<IpPrefix> fixed_prefix;        // kHostBitsSet: the prefix with host bits cleared
  std::optional<PortRange> fixed_range;        // kReversedPortRange: the range low port first
};

// RuleParseError is one front end's rejection of a rule: the shared kind and the front end's
// message (the whole message, e.g. `invalid --net-rule token "...": ...` or `$.policy.rules[0]:
// ...`).
struct RuleParseError {
  RuleErrorKind kind = RuleErrorKind::kNotation;
  std::string message;
};

// RuleResult is Result<T> (base/status.h) for the rule front ends: the same interface, so callers
// use it the same way, plus error_kind().
template <typename T>
class [[nodiscard]] RuleResult {
 public:
  RuleResult(T value) : v_(std::move(value)) {}               // NOLINT(google-explicit-constructor)
  RuleResult(RuleParseError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  const RuleParseError& parse_error() const {
    assert(!ok());
    return std::get<RuleParseError>(v_);
  }
  const std::string& error() const { return parse_error().message; }
  RuleErrorKind error_kind() const { return parse_error().kind; }
  Status status() const { return ok() ? Status::Ok() : Status::Error(error()); }

 private:
  std::variant<T, RuleParseError> v_;
};

}  // namespace msb::policy
