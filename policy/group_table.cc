// The destination group table (group_table.h): each group's --net-rule keyword and wire name.
#include "policy/group_table.h"

#include <array>

namespace msb::policy {
namespace {

constexpr std::array<GroupNames, kNumGroups> kGroups = {{
    {Group::kPublic, "public", "public"},
    {Group::kPrivate, "private", "private"},
    {Group::kLoopback, "loopback", "loopback"},
    {Group::kLinkLocal, "link-local", "link_local"},
    {Group::kMetadata, "meta", "metadata"},
    {Group::kMulticast, "multicast", "multicast"},
    {Group::kHost, "host", "host"},
}};

// GroupTable() and GroupSpelling index kGroups by the enum, so it must be in enum order.
static_assert([] {
  for (size_t i = 0; i < kGroups.size(); ++i) {
    if (kGroups[i].group != static_cast<Group>(i)) {
      return false;
    }
  }
  return true;
}());

constexpr size_t CountSpellings() {
  size_t n = 0;
  for (const GroupNames& names : kGroups) {
    n += names.json_name == names.keyword ? 1 : 2;
  }
  return n;
}

// kSpellings is GroupSpellings(), derived from kGroups when compiling.
constexpr std::array<std::string_view, CountSpellings()> kSpellings = [] {
  std::array<std::string_view, CountSpellings()> out{};
  size_t next = 0;
  for (const GroupNames& names : kGroups) {
    out[next++] = names.keyword;
    if (names.json_name != names.keyword) {
      out[next++] = names.json_name;
    }
  }
  return out;
}();

}  // namespace

std::span<const GroupNames> GroupTable() {
  return kGroups;
}

std::string_view GroupSpelling(Group g, GroupNaming naming) {
  const GroupNames& names = kGroups[static_cast<size_t>(g)];
  return naming == GroupNaming::kKeyword ? names.keyword : names.json_name;
}

std::optional<Group> FindGroup(std::string_view name) {
  for (const GroupNames& names : kGroups) {
    if (names.keyword == name || names.json_name == name) {
      return names.group;
    }
  }
  return std::nullopt;
}

std::span<const std::string_view> GroupSpellings() {
  return kSpellings;
}

std::vector<std::string_view> GroupNamesIn(GroupNaming naming) {
  std::vector<std::string_view> out;
  for (const GroupNames& names : kGroups) {
    out.push_back(GroupSpelling(names.group, naming));
  }
  return out;
}

}  // namespace msb::policy
