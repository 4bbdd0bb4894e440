// Names of the policy enums; the canonical --net-rule rendering of a rule (RuleToString), which
// warnings, `policy explain` and audit messages use so users see rules the way they type them; and
// the quoting, "expected ..." and did-you-mean wording every policy error message shares (the
// suggestions themselves come from base/strings.h).
#include "policy/types.h"

#include <string>
#include <vector>

#include "policy/group_table.h"

namespace msb::policy {

namespace {

// Find looks `name` up in a keyword list whose order is the enum's.
template <typename Enum, size_t N>
std::optional<Enum> Find(const std::array<std::string_view, N>& names, std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) {
      return static_cast<Enum>(i);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view ActionName(Action a) {
  return kActionNames[static_cast<size_t>(a)];
}

std::string_view DirectionName(Direction d) {
  return kDirectionNames[static_cast<size_t>(d)];
}

std::string_view ProtocolName(Protocol p) {
  return kProtocolNames[static_cast<size_t>(p)];
}

std::string_view GroupName(Group g) {
  return GroupSpelling(g, GroupNaming::kKeyword);
}

std::string_view GroupJsonName(Group g) {
  return GroupSpelling(g, GroupNaming::kJson);
}

std::optional<Action> ParseAction(std::string_view name) {
  return Find<Action>(kActionNames, name);
}

std::optional<Direction> ParseDirection(std::string_view name) {
  return Find<Direction>(kDirectionNames, name);
}

std::optional<Protocol> ParseProtocol(std::string_view name) {
  return Find<Protocol>(kProtocolNames, name);
}

std::string QuoteForMessage(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string ListAlternatives(std::span<const std::string_view> words, bool quoted) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) {
      out += i + 1 == words.size() ? " or " : ", ";
    }
    out += quoted ? QuoteForMessage(words[i]) : std::string(words[i]);
  }
  return out;
}

std::string SuggestionNote(std::span<const std::string_view> suggestions) {
  if (suggestions.empty()) {
    return "";
  }
  std::string out = " (did you mean ";
  for (size_t i = 0; i < suggestions.size(); ++i) {
    out += (i > 0 ? " or " : "") + QuoteForMessage(suggestions[i]);
  }
  return out + "?)";
}

namespace {

std::string TargetToString(const Destination& d) {
  switch (d.kind) {
    case Destination::Kind::kAny:
      return "any";
    case Destination::Kind::kGroup:
      return std::string(GroupName(d.group));
    case Destination::Kind::kCidr: {
      // The grammar brackets IPv6 because ':' separates the token's fields.
      bool single = d.cidr.length() == (d.cidr.family() == IpFamily::kV4 ? 32U : 128U);
      std::string text = single ? d.cidr.address().ToString() : d.cidr.ToString();
      return d.cidr.family() == IpFamily::kV6 ? "[" + text + "]" : text;
    }
    case Destination::Kind::kDomain:
      // A bare word without a dot is not a domain in the grammar (it would be ambiguous).
      if (d.name.find('.') == std::string::npos) {
        return "domain=" + d.name;
      }
      return d.name;
    case Destination::Kind::kDomainSuffix:
      return "*." + d.name;
  }
  return "?";
}

std::string PortsToString(const std::vector<PortRange>& ports) {
  std::string out;
  for (const PortRange& r : ports) {
    if (!out.empty()) {
      out += ',';  // display only: one token holds one range
    }
    out += std::to_string(r.first);
    if (r.last != r.first) {
      out += '-' + std::to_string(r.last);
    }
  }
  return out;
}

std::string ProtocolsToString(ProtocolSet protocols) {
  if (protocols.empty()) {
    return "any";
  }
  std::string out;
  for (int i = 0; i < kNumProtocols; ++i) {
    auto p = static_cast<Protocol>(i);
    if (protocols.Has(p)) {
      if (!out.empty()) {
        out += '+';
      }
      out += ProtocolName(p);
    }
  }
  return out;
}

}  // namespace

std::string RuleToString(const Rule& rule) {
  std::string out(ActionName(rule.action));
  if (rule.direction != Direction::kEgress) {
    out += ':';
    out += DirectionName(rule.direction);
  }
  out += '@';
  out += TargetToString(rule.destination);
  if (!rule.protocols.empty() || !rule.ports.empty()) {
    out += ':';
    out += ProtocolsToString(rule.protocols);
  }
  if (!rule.ports.empty()) {
    out += ':';
    out += PortsToString(rule.ports);
  }
  return out;
}

}  // namespace msb::policy
