// --user parsing, the run-as choice and the user database look-up (see sandbox_user.h).
#include "gateway/sandbox_user.h"

#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <cstring>

#include "base/strings.h"

namespace msb::gateway {
namespace {

// The largest ID we accept: (uid_t)-1 means "unchanged" to the set*id calls.
constexpr uint64_t kMaxId = 0xfffffffeu;

// A portable user name (POSIX plus the usual '-' and '.'); it keeps odd bytes out of messages.
bool ValidUserName(std::string_view v) {
  if (v.empty() || v.size() > 64 || v[0] == '-') {
    return false;
  }
  for (char ch : v) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.' || ch == '$';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool AllDigits(std::string_view v) {
  return !v.empty() && v.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

Result<UserSpec> ParseUserSpec(std::string_view value) {
  auto bad = [&] {
    return Status::Error("--user: invalid value \"" + std::string(value) +
                         "\": expected a user name, UID or UID:GID");
  };
  UserSpec spec;
  size_t colon = value.find(':');
  std::string_view user = value.substr(0, colon);
  if (colon != std::string_view::npos) {
    auto gid = ParseUint(value.substr(colon + 1), 0, kMaxId);
    if (!gid || !AllDigits(user)) {
      return bad();  // a group goes only with a numeric UID: NAME already has its own group
    }
    spec.gid = static_cast<gid_t>(*gid);
  }
  if (AllDigits(user)) {
    auto uid = ParseUint(user, 0, kMaxId);
    if (!uid) {
      return bad();
    }
    spec.uid = static_cast<uid_t>(*uid);
    return spec;
  }
  if (!ValidUserName(user)) {
    return bad();
  }
  spec.name = std::string(user);
  return spec;
}

Result<std::optional<UserSpec>> ChooseRunUser(const std::optional<UserSpec>& flag, uid_t euid,
                                              const char* sudo_uid, const char* sudo_gid) {
  if (flag) {
    return flag;
  }
  if (euid != 0 || sudo_uid == nullptr || *sudo_uid == '\0') {
    return std::optional<UserSpec>();
  }
  UserSpec spec;
  spec.origin = "SUDO_UID";
  auto uid = ParseUint(sudo_uid, 0, kMaxId);
  if (!uid) {
    return Status::Error("SUDO_UID=" + std::string(sudo_uid) +
                         " is not a numeric UID; say who runs the command with --user");
  }
  spec.uid = static_cast<uid_t>(*uid);
  if (sudo_gid != nullptr && *sudo_gid != '\0') {
    auto gid = ParseUint(sudo_gid, 0, kMaxId);
    if (!gid) {
      return Status::Error("SUDO_GID=" + std::string(sudo_gid) +
                           " is not a numeric GID; say who runs the command with --user");
    }
    spec.gid = static_cast<gid_t>(*gid);
  }
  return std::optional<UserSpec>(spec);
}

Result<std::optional<RunAs>> ResolveRunUser(const UserSpec& spec) {
  std::string label = spec.origin + " " + (spec.uid ? std::to_string(*spec.uid) : spec.name);
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  errno = 0;
  int rc = spec.uid ? getpwuid_r(*spec.uid, &pw, buf.data(), buf.size(), &found)
                    : getpwnam_r(spec.name.c_str(), &pw, buf.data(), buf.size(), &found);
  if (found == nullptr && rc != 0 && rc != ENOENT && rc != ESRCH) {
    return Status::Error(label + ": looking up the user: " + std::string(strerror(rc)));
  }
  if (found == nullptr && !spec.uid) {
    return Status::Error(label + ": no such user");
  }
  RunAs as;
  as.uid = found != nullptr ? found->pw_uid : *spec.uid;
  if (as.uid == 0) {
    return std::optional<RunAs>();  // root stays root; its capabilities are dropped in any case
  }
  as.gid = spec.gid ? *spec.gid : found != nullptr ? found->pw_gid : static_cast<gid_t>(as.uid);
  as.home =
      found != nullptr && found->pw_dir != nullptr && *found->pw_dir != '\0' ? found->pw_dir : "/";
  if (found != nullptr) {
    as.name = found->pw_name;
    int n = 64;
    std::vector<gid_t> groups(static_cast<size_t>(n));
    if (getgrouplist(as.name.c_str(), as.gid, groups.data(), &n) < 0) {
      groups.resize(static_cast<size_t>(n));
      if (getgrouplist(as.name.c_str(), as.gid, groups.data(), &n) < 0) {
        return Status::Error(label + ": cannot list its groups");
      }
    }
    groups.resize(static_cast<size_t>(n));
    as.groups = std::move(groups);
  } else {
    as.groups = {as.gid};
  }
  return std::optional<RunAs>(std::move(as));
}

}  // namespace msb::gateway
