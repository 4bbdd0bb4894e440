// The policy rule model: actions, directions, protocols, port ranges, destinations, rules and the
// policy (two defaults plus an ordered rule list, first match wins per direction). Pure data; the
// semantics live in evaluator.h. Mirrors microsandbox's model (see docs/policy.md).
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip_address.h"

namespace msb::policy {

enum class Action : uint8_t { kAllow, kDeny };
enum class Direction : uint8_t { kEgress, kIngress, kAny };
enum class Protocol : uint8_t { kTcp, kUdp, kIcmpv4, kIcmpv6 };
inline constexpr int kNumProtocols = 4;

// Destination groups. Classification (classify.h) puts every address in at most one group.
enum class Group : uint8_t {
  kPublic,
  kPrivate,
  kLoopback,
  kLinkLocal,
  kMetadata,
  kMulticast,
  kHost
};
inline constexpr int kNumGroups = 7;

// The keyword vocabularies both rule front ends (--net-rule and the JSON config) accept, in enum
// order: one list each, so the names, the parsers and the "expected ..." lists cannot disagree.
inline constexpr std::array<std::string_view, 2> kActionNames = {"allow", "deny"};
inline constexpr std::array<std::string_view, 3> kDirectionNames = {"egress", "ingress", "any"};
inline constexpr std::array<std::string_view, kNumProtocols> kProtocolNames = {"tcp", "udp",
                                                                               "icmpv4", "icmpv6"};

std::string_view ActionName(Action a);        // "allow" | "deny"
std::string_view DirectionName(Direction d);  // "egress" | "ingress" | "any"
std::string_view ProtocolName(Protocol p);    // "tcp" | "udp" | "icmpv4" | "icmpv6"
// GroupName gives the CLI keyword: public private loopback link-local meta multicast host.
std::string_view GroupName(Group g);
// GroupJsonName gives the wire-format name: public private loopback link_local metadata multicast
// host. Both come from the one group table (group_table.h).
std::string_view GroupJsonName(Group g);
// The inverses of the names above: exact and lowercase; nullopt for anything else (the front ends
// then ask rule_check.h for suggestions).
std::optional<Action> ParseAction(std::string_view name);
std::optional<Direction> ParseDirection(std::string_view name);
std::optional<Protocol> ParseProtocol(std::string_view name);

// QuoteForMessage renders user-supplied text in double quotes for an error message, escaping the
// double quote, the backslash and every byte outside printable ASCII (as \xNN), so a message stays
// one readable line whatever bytes the user (or a fuzzer) typed.
std::string QuoteForMessage(std::string_view text);

// ListAlternatives joins keywords for an "expected ..." phrase: "a, b or c", each quoted with
// QuoteForMessage when `quoted` (the JSON config's style) or bare (the --net-rule grammar's).
std::string ListAlternatives(std::span<const std::string_view> words, bool quoted);

// SuggestionNote renders suggestions (base/strings.h Suggestions) for an error message:
// ` (did you mean "allow"?)`, ` (did you mean "icmpv4" or "icmpv6"?)`, or "" when there are none.
std::string SuggestionNote(std::span<const std::string_view> suggestions);

// ProtocolSet is a bit set over Protocol; empty means "any protocol".
class ProtocolSet {
 public:
  ProtocolSet() = default;
  static ProtocolSet Of(std::initializer_list<Protocol> ps) {
    ProtocolSet s;
    for (Protocol p : ps) {
      s.Add(p);
    }
    return s;
  }
  void Add(Protocol p) { bits_ = static_cast<uint8_t>(bits_ | (1u << static_cast<unsigned>(p))); }
  bool Has(Protocol p) const { return (bits_ >> static_cast<unsigned>(p)) & 1u; }
  bool empty() const { return bits_ == 0; }
  // Admits is the matching rule: an empty set admits every protocol.
  bool Admits(Protocol p) const { return empty() || Has(p); }
  uint8_t bits() const { return bits_; }
  friend bool operator==(ProtocolSet, ProtocolSet) = default;

 private:
  uint8_t bits_ = 0;
};

// PortRange is inclusive on both ends; first <= last.
struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
  bool Contains(uint16_t port) const { return port >= first && port <= last; }
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

struct Destination {
  enum class Kind : uint8_t { kAny, kGroup, kCidr, kDomain, kDomainSuffix };
  Kind kind = Kind::kAny;
  Group group = Group::kPublic;  // kGroup only
  IpPrefix cidr;                 // kCidr only (a single IP is a /32 or /128)
  std::string name;              // kDomain / kDomainSuffix: canonical (lowercase, no trailing dot)

  static Destination Any() { return {}; }
  static Destination OfGroup(Group g) {
    Destination d;
    d.kind = Kind::kGroup;
    d.group = g;
    return d;
  }
  static Destination OfCidr(const IpPrefix& p) {
    Destination d;
    d.kind = Kind::kCidr;
    d.cidr = p;
    return d;
  }
  static Destination OfDomain(std::string canonical_name) {
    Destination d;
    d.kind = Kind::kDomain;
    d.name = std::move(canonical_name);
    return d;
  }
  static Destination OfSuffix(std::string canonical_suffix) {
    Destination d;
    d.kind = Kind::kDomainSuffix;
    d.name = std::move(canonical_suffix);
    return d;
  }
  bool is_name() const { return kind == Kind::kDomain || kind == Kind::kDomainSuffix; }
  friend bool operator==(const Destination&, const Destination&) = default;
};

struct Rule {
  Action action = Action::kAllow;
  Direction direction = Direction::kEgress;
  Destination destination;
  ProtocolSet protocols;         // empty = any
  std::vector<PortRange> ports;  // empty = any; for egress the destination port, for ingress the
                                 // guest's listening port
  // from_preset marks rules a preset (PresetPolicy) contributed rather than the user. It never
  // changes what a rule matches; it exists because DNS rebinding protection only lets rules the
  // user wrote on purpose admit a private answer (ExplicitlyAllowsAddress in dns_policy.h).
  bool from_preset = false;
  friend bool operator==(const Rule&, const Rule&) = default;
};

// RuleToString renders a rule in --net-rule grammar, canonical form, e.g.
// "allow@198.51.100.10:tcp:80", "deny:any@private", "allow@suffix=example.com:tcp:443-444".
// Multi-protocol sets (which the grammar cannot express in one token) render as "tcp+udp".
std::string RuleToString(const Rule& rule);

struct Policy {
  Action default_egress = Action::kDeny;
  Action default_ingress = Action::kAllow;
  std::vector<Rule> rules;
  friend bool operator==(const Policy&, const Policy&) = default;
};

}  // namespace msb::policy
