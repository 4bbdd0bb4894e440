// Which user `msb-gateway run` starts CMD as: the --user flag's grammar (pure, used by the CLI),
// the choice between the flag, sudo's invoking user and root (pure), and the passwd/group look-up
// that turns the choice into IDs (the only part that reads the system's user database).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace msb::gateway {

// UserSpec is a user as given on the command line or by sudo: a name, or a numeric UID with an
// optional GID. Exactly one of `name` and `uid` is set.
struct UserSpec {
  std::string name;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  // origin says where the spec came from, for error messages ("--user", "SUDO_UID").
  std::string origin = "--user";

  bool operator==(const UserSpec&) const = default;
};

// ParseUserSpec parses --user's value: NAME, UID or UID:GID. Errors are complete messages naming
// the flag and the value.
Result<UserSpec> ParseUserSpec(std::string_view value);

// ChooseRunUser picks the user CMD runs as: the flag when given; else, when the gateway runs as
// root (`euid` 0) under sudo, the invoking user from `sudo_uid`/`sudo_gid` (the SUDO_UID and
// SUDO_GID variables, null when unset); else nullopt (CMD stays root, with every capability
// dropped). A SUDO_UID that is not a number is an error rather than a silent fall-back to root.
Result<std::optional<UserSpec>> ChooseRunUser(const std::optional<UserSpec>& flag, uid_t euid,
                                              const char* sudo_uid, const char* sudo_gid);

// RunAs is a resolved unprivileged user: what the sandbox child switches to before exec.
struct RunAs {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups (setgroups)
  std::string name;           // "" for a UID without a passwd entry
  std::string home;           // HOME for CMD ("/" without a passwd entry)
};

// ResolveRunUser looks `spec` up in the user database. UID 0 (or the name root) resolves to
// nullopt: CMD keeps root, capabilities dropped. An unknown name is an error naming it; a numeric
// UID needs no passwd entry (its GID then defaults to the UID).
Result<std::optional<RunAs>> ResolveRunUser(const UserSpec& spec);

}  // namespace msb::gateway
