// The destination groups' names, in the one table both rule front ends read: the --net-rule
// grammar (net_rule.h) and the JSON config's rules (config.h). A spelling the table lists is a
// group in both front ends and one it does not list is a group in neither, so a group name copied
// from one front end to the other means the same thing or fails loudly.
//
// Every group has two spellings, each accepted everywhere: the --net-rule keyword (link-local,
// meta), which RuleToString and CLI messages print, and microsandbox's wire-format name
// (link_local, metadata), which JSON messages print. They differ only for those two groups.
// Accepting both in both front ends follows microsandbox's own string form of destinations, which
// takes link-local, link_local and metadata (docs/policy.md section 5, docs/config.md). What a
// group contains is classify.h's business; this table only names it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "policy/types.h"

namespace msb::policy {

struct GroupNames {
  Group group;
  std::string_view keyword;    // the --net-rule keyword and the canonical display name
  std::string_view json_name;  // the wire format's name
};

// GroupTable lists every group once, in enum order (GroupTable()[i].group == Group(i)).
std::span<const GroupNames> GroupTable();

// GroupNaming picks which of a group's spellings a front end prints.
enum class GroupNaming : uint8_t { kKeyword, kJson };

std::string_view GroupSpelling(Group g, GroupNaming naming);

// FindGroup accepts either spelling of any group, exactly (keywords are lowercase); nullopt for
// anything else.
std::optional<Group> FindGroup(std::string_view name);

// GroupSpellings is every accepted spelling, group by group (keyword, then the wire name where it
// differs): the candidates for suggestions.
std::span<const std::string_view> GroupSpellings();

// GroupNamesIn is every group in `naming`'s spelling, for "expected ..." lists.
std::vector<std::string_view> GroupNamesIn(GroupNaming naming);

}  // namespace msb::policy
