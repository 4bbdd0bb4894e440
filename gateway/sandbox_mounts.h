// Hiding the gateway's secret sources from `run`'s command: which private mount covers which
// path (a pure plan, unit-tested), how a path is probed, and applying the plan inside the
// sandbox's own mount namespace (the host's view is never changed).
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace msb::gateway {

// HiddenKind is what covers a hidden path: an empty, unreadable read-only file bound over a
// file (or any other non-directory), an empty, unreadable read-only tmpfs over a directory.
enum class HiddenKind { kFile, kDirectory };

struct HiddenMount {
  std::string path;  // resolved (absolute, no symlinks)
  HiddenKind kind;
  bool operator==(const HiddenMount&) const = default;
};

// ProbedPath is one path as it exists: resolved and of which kind.
struct ProbedPath {
  std::string resolved;
  HiddenKind kind;
};

// PathProbe resolves a path (realpath) and says what it is; nullopt when it does not exist.
using PathProbe = std::function<Result<std::optional<ProbedPath>>(const std::string& path)>;

// ProbePath is the real probe: realpath(3) and stat(2). A missing path (or a missing component)
// is nullopt; any other failure is an error naming the path.
Result<std::optional<ProbedPath>> ProbePath(const std::string& path);

// PlanHiddenMounts turns the paths to hide into mounts: paths that do not exist are skipped
// (there is nothing to hide), symlinks are resolved so the mount covers the file itself,
// duplicates and paths inside an already hidden directory are dropped, and the result is sorted.
// Hiding "/" is an error, as is any probe failure: a path that should be hidden never stays
// visible silently.
Result<std::vector<HiddenMount>> PlanHiddenMounts(std::span<const std::string> paths,
                                                  const PathProbe& probe);

// ApplyHiddenMounts mounts the plan in the calling process's mount namespace, which must be
// private. `empty_file` is the file bound over hidden files (empty, mode 0). Returns "" or a
// one-line error naming the path. Runs in the sandbox child between fork and exec.
std::string ApplyHiddenMounts(const std::vector<HiddenMount>& plan, const std::string& empty_file);

}  // namespace msb::gateway
