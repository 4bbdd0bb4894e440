// The rule-validation layer (rule_check.h): rule invariants, keyword suggestions and CIDR parsing,
// answered as structured RuleProblems for the front ends to word.
#include "policy/rule_check.h"

#include <algorithm>
#include <string>
#include <vector>

#include "base/strings.h"

namespace msb::policy {
namespace {

RuleProblem Problem(RuleErrorKind kind, RuleField field) {
  RuleProblem p;
  p.kind = kind;
  p.field = field;
  return p;
}

bool HasIcmp(ProtocolSet protocols) {
  return protocols.Has(Protocol::kIcmpv4) || protocols.Has(Protocol::kIcmpv6);
}

std::span<const std::string_view> Vocabulary(RuleField field) {
  switch (field) {
    case RuleField::kAction:
      return kActionNames;
    case RuleField::kDirection:
      return kDirectionNames;
    case RuleField::kProtocols:
      return kProtocolNames;
    case RuleField::kDestination:
      return GroupSpellings();
    case RuleField::kPorts:
      break;
  }
  return {};
}

RuleErrorKind UnknownKind(RuleField field) {
  switch (field) {
    case RuleField::kAction:
      return RuleErrorKind::kUnknownAction;
    case RuleField::kDirection:
      return RuleErrorKind::kUnknownDirection;
    case RuleField::kProtocols:
      return RuleErrorKind::kUnknownProtocol;
    case RuleField::kDestination:
    case RuleField::kPorts:
      break;
  }
  return RuleErrorKind::kUnknownGroup;
}

// PreferSpelling replaces a suggested group spelling with the front end's own spelling of that
// group when both spellings were equally close ("linklocal" is one edit from link-local and from
// link_local), and drops the repeat, so a message never offers two names for one group.
std::vector<std::string_view> PreferSpelling(std::vector<std::string_view> suggestions,
                                             GroupNaming naming) {
  std::vector<std::string_view> out;
  for (std::string_view s : suggestions) {
    std::optional<Group> g = FindGroup(s);
    if (g) {
      std::string_view preferred = GroupSpelling(*g, naming);
      if (std::find(suggestions.begin(), suggestions.end(), preferred) != suggestions.end()) {
        s = preferred;
      }
    }
    if (std::find(out.begin(), out.end(), s) == out.end()) {
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace

std::optional<RuleProblem> FindRuleProblem(const Rule& rule) {
  for (size_t i = 0; i < rule.ports.size(); ++i) {
    const PortRange& r = rule.ports[i];
    if (r.first == 0 || r.last == 0) {
      RuleProblem p = Problem(RuleErrorKind::kInvalidPort, RuleField::kPorts);
      p.index = i;
      return p;
    }
    if (r.first > r.last) {
      RuleProblem p = Problem(RuleErrorKind::kReversedPortRange, RuleField::kPorts);
      p.index = i;
      p.fixed_range = PortRange{r.last, r.first};
      return p;
    }
  }
  if (HasIcmp(rule.protocols) && rule.direction != Direction::kEgress) {
    return Problem(RuleErrorKind::kIcmpNotEgress, RuleField::kDirection);
  }
  if (HasIcmp(rule.protocols) && !rule.ports.empty()) {
    return Problem(RuleErrorKind::kIcmpWithPorts, RuleField::kPorts);
  }
  return std::nullopt;
}

RuleProblem UnknownKeyword(RuleField field, std::string_view word, GroupNaming naming,
                           std::span<const std::string_view> extra) {
  std::span<const std::string_view> vocabulary = Vocabulary(field);
  std::vector<std::string_view> candidates(extra.begin(), extra.end());
  candidates.insert(candidates.end(), vocabulary.begin(), vocabulary.end());
  RuleProblem p = Problem(UnknownKind(field), field);
  p.did_you_mean = Suggestions(word, candidates);
  if (field == RuleField::kDestination) {
    p.did_you_mean = PreferSpelling(std::move(p.did_you_mean), naming);
  }
  return p;
}

std::variant<IpPrefix, RuleProblem> ParseCidr(std::string_view text,
                                              std::optional<IpFamily> family) {
  size_t slash = text.find('/');
  auto address = IpAddress::Parse(text.substr(0, slash));
  if (!address) {
    return Problem(RuleErrorKind::kInvalidAddress, RuleField::kDestination);
  }
  if (family && address->family() != *family) {
    return Problem(RuleErrorKind::kWrongFamily, RuleField::kDestination);
  }
  unsigned width = address->is_v4() ? 32 : 128;
  if (slash == std::string_view::npos) {
    return *IpPrefix::Make(*address, width);
  }
  auto length = ParseUint(text.substr(slash + 1), 0, width);
  if (!length) {
    RuleProblem p = Problem(RuleErrorKind::kInvalidPrefixLength, RuleField::kDestination);
    p.max_prefix_length = width;
    return p;
  }
  auto prefix = IpPrefix::Make(*address, static_cast<unsigned>(*length));
  if (prefix->address() != *address) {
    RuleProblem p = Problem(RuleErrorKind::kHostBitsSet, RuleField::kDestination);
    p.fixed_prefix = *prefix;
    return p;
  }
  return *prefix;
}

}  // namespace msb::policy
