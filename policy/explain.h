// `msb-gateway policy explain`: parse a destination as users type it and explain the decision.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/ip_address.h"
#include "base/status.h"
#include "policy/evaluator.h"

namespace msb::policy {

// ExplainTarget is DEST[:PORT][/PROTO]: DEST is an IPv4 address, a bracketed IPv6 address (a bare
// IPv6 address is accepted when no port is given) or a domain name; PROTO defaults to tcp.
struct ExplainTarget {
  std::optional<IpAddress> ip;   // set for IP destinations
  std::string name;              // canonical domain name for name destinations
  std::optional<uint16_t> port;  // required for tcp/udp to say anything about port rules
  Protocol protocol = Protocol::kTcp;
};

// ParseExplainTarget errors name the argument and say what was expected.
Result<ExplainTarget> ParseExplainTarget(std::string_view text);

// ExplainDecision renders a human explanation: the destination and its group, the decision, and
// the rule that made it (index and canonical text) or "default egress". For name destinations it
// states what applies at DNS and that connections match domain rules only via pinned IPs.
std::string ExplainDecision(const Evaluator& evaluator, const ExplainTarget& target);

}  // namespace msb::policy
