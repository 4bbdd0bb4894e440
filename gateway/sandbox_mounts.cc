// Hidden-path planning and mounting (see sandbox_mounts.h). The covers are read-only and owned
// by root with mode 0: a command running as another user cannot open them, and a root command
// without CAP_DAC_OVERRIDE (run drops it) cannot either, so a read fails instead of returning a
// plausible empty value. Without CAP_SYS_ADMIN the command cannot unmount them.
#include "gateway/sandbox_mounts.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace msb::gateway {

Result<std::optional<ProbedPath>> ProbePath(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return std::optional<ProbedPath>();
    }
    return Status::Error("resolving " + path + ": " + strerror(errno));
  }
  struct stat st {};
  if (stat(resolved, &st) < 0) {
    return Status::Error("stat " + std::string(resolved) + ": " + strerror(errno));
  }
  return std::optional<ProbedPath>(
      ProbedPath{resolved, S_ISDIR(st.st_mode) ? HiddenKind::kDirectory : HiddenKind::kFile});
}

Result<std::vector<HiddenMount>> PlanHiddenMounts(std::span<const std::string> paths,
                                                  const PathProbe& probe) {
  std::vector<HiddenMount> found;
  for (const std::string& path : paths) {
    if (path.empty()) {
      continue;
    }
    auto p = probe(path);
    if (!p.ok()) {
      return Status::Error("hiding " + path + " from the sandbox: " + p.error());
    }
    if (!p.value()) {
      continue;
    }
    const ProbedPath& probed = *p.value();
    if (probed.resolved.empty() || probed.resolved[0] != '/') {
      return Status::Error("hiding " + path + " from the sandbox: resolved to a relative path");
    }
    if (probed.resolved == "/") {
      return Status::Error("hiding " + path + " from the sandbox: it is the root directory; " +
                           "keep the gateway's state and configuration in their own directory");
    }
    found.push_back({probed.resolved, probed.kind});
  }
  std::sort(found.begin(), found.end(),
            [](const HiddenMount& a, const HiddenMount& b) { return a.path < b.path; });
  std::vector<HiddenMount> plan;
  for (HiddenMount& m : found) {
    bool covered = std::any_of(plan.begin(), plan.end(), [&](const HiddenMount& dir) {
      return m.path == dir.path ||
             (dir.kind == HiddenKind::kDirectory && m.path.size() > dir.path.size() &&
              m.path.compare(0, dir.path.size(), dir.path) == 0 && m.path[dir.path.size()] == '/');
    });
    if (!covered) {
      plan.push_back(std::move(m));
    }
  }
  return plan;
}

std::string ApplyHiddenMounts(const std::vector<HiddenMount>& plan, const std::string& empty_file) {
  constexpr unsigned long kLocked = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  for (const HiddenMount& m : plan) {
    const char* target = m.path.c_str();
    if (m.kind == HiddenKind::kDirectory) {
      if (mount("msb-hidden", target, "tmpfs", kLocked, "size=4k,nr_inodes=4,mode=000") < 0) {
        return "hiding directory " + m.path + " from the sandbox: mount tmpfs: " + strerror(errno);
      }
      continue;
    }
    // A bind mount takes the source's flags; read-only needs a second, remounting step.
    if (mount(empty_file.c_str(), target, nullptr, MS_BIND, nullptr) < 0 ||
        mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | kLocked, nullptr) < 0) {
      return "hiding file " + m.path + " from the sandbox: bind-mount: " + strerror(errno);
    }
  }
  return {};
}

}  // namespace msb::gateway
