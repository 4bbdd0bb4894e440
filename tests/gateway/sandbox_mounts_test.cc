// Tests for the hidden-path plan: which cover for which kind of path, and what is skipped,
// merged or refused. The probe is a fake map, so no file system is touched.
#include "gateway/sandbox_mounts.h"

#include <gtest/gtest.h>

#include <map>

namespace msb::gateway {
namespace {

// FakeFs maps a path as given to what it resolves to; absent paths do not exist.
struct FakeFs {
  std::map<std::string, ProbedPath> entries;
  std::map<std::string, std::string> errors;

  PathProbe Probe() const {
    return [this](const std::string& path) -> Result<std::optional<ProbedPath>> {
      if (auto e = errors.find(path); e != errors.end()) {
        return Status::Error(e->second);
      }
      auto it = entries.find(path);
      if (it == entries.end()) {
        return std::optional<ProbedPath>();
      }
      return std::optional<ProbedPath>(it->second);
    };
  }
};

Result<std::vector<HiddenMount>> Plan(const FakeFs& fs, std::vector<std::string> paths) {
  return PlanHiddenMounts(paths, fs.Probe());
}

TEST(SandboxMountsTest, FilesGetAFileCoverDirectoriesATmpfs) {
  FakeFs fs;
  fs.entries["/etc/msb/config.json"] = {"/etc/msb/config.json", HiddenKind::kFile};
  fs.entries["/root/.local/state/msb-gateway"] = {"/root/.local/state/msb-gateway",
                                                  HiddenKind::kDirectory};
  auto plan = Plan(fs, {"/root/.local/state/msb-gateway", "/etc/msb/config.json"});
  ASSERT_TRUE(plan.ok()) << plan.error();
  EXPECT_EQ(plan.value(),
            (std::vector<HiddenMount>{{"/etc/msb/config.json", HiddenKind::kFile},
                                      {"/root/.local/state/msb-gateway", HiddenKind::kDirectory}}));
}

TEST(SandboxMountsTest, MissingPathsAreSkipped) {
  FakeFs fs;
  fs.entries["/etc/msb/config.json"] = {"/etc/msb/config.json", HiddenKind::kFile};
  auto plan = Plan(fs, {"/nonexistent/state", "/etc/msb/config.json", ""});
  ASSERT_TRUE(plan.ok()) << plan.error();
  EXPECT_EQ(plan.value(), (std::vector<HiddenMount>{{"/etc/msb/config.json", HiddenKind::kFile}}));
  EXPECT_TRUE(Plan(fs, {"/nonexistent"}).value().empty());
}

TEST(SandboxMountsTest, SymlinksAreCoveredAtTheirTarget) {
  // Covering the link itself would leave the file readable under its real name.
  FakeFs fs;
  fs.entries["cfg.json"] = {"/work/app/cfg.json", HiddenKind::kFile};
  fs.entries["/srv/current-secret"] = {"/srv/secrets/v2/token", HiddenKind::kFile};
  auto plan = Plan(fs, {"cfg.json", "/srv/current-secret"});
  ASSERT_TRUE(plan.ok()) << plan.error();
  EXPECT_EQ(plan.value(), (std::vector<HiddenMount>{{"/srv/secrets/v2/token", HiddenKind::kFile},
                                                    {"/work/app/cfg.json", HiddenKind::kFile}}));
}

TEST(SandboxMountsTest, DuplicatesAndPathsInsideHiddenDirectoriesMerge) {
  // A file inside a covered directory is gone already (and mounting over it would fail: the
  // tmpfs has no such file).
  FakeFs fs;
  fs.entries["/state"] = {"/state", HiddenKind::kDirectory};
  fs.entries["/state/ca.key"] = {"/state/ca.key", HiddenKind::kFile};
  fs.entries["/link-to-key"] = {"/state/ca.key", HiddenKind::kFile};
  fs.entries["/state-other/x"] = {"/state-other/x", HiddenKind::kFile};
  auto plan = Plan(fs, {"/state/ca.key", "/state", "/link-to-key", "/state", "/state-other/x"});
  ASSERT_TRUE(plan.ok()) << plan.error();
  EXPECT_EQ(plan.value(), (std::vector<HiddenMount>{{"/state", HiddenKind::kDirectory},
                                                    {"/state-other/x", HiddenKind::kFile}}));
}

TEST(SandboxMountsTest, NestedDirectoriesKeepTheOuterOne) {
  FakeFs fs;
  fs.entries["/a"] = {"/a", HiddenKind::kDirectory};
  fs.entries["/a/b"] = {"/a/b", HiddenKind::kDirectory};
  auto plan = Plan(fs, {"/a/b", "/a"});
  ASSERT_TRUE(plan.ok()) << plan.error();
  EXPECT_EQ(plan.value(), (std::vector<HiddenMount>{{"/a", HiddenKind::kDirectory}}));
}

TEST(SandboxMountsTest, ProbeFailuresAndTheRootAreErrors) {
  FakeFs fs;
  fs.errors["/secret"] = "resolving /secret: Permission denied";
  EXPECT_EQ(Plan(fs, {"/secret"}).error(),
            "hiding /secret from the sandbox: resolving /secret: Permission denied");
  fs.entries["/x/.."] = {"/", HiddenKind::kDirectory};
  EXPECT_EQ(Plan(fs, {"/x/.."}).error(),
            "hiding /x/.. from the sandbox: it is the root directory; keep the gateway's state "
            "and configuration in their own directory");
}

TEST(SandboxMountsTest, RealProbeResolvesAndClassifies) {
  auto dir = ProbePath("/proc/self/..");
  ASSERT_TRUE(dir.ok()) << dir.error();
  ASSERT_TRUE(dir.value());
  EXPECT_EQ(dir.value()->resolved, "/proc");
  EXPECT_EQ(dir.value()->kind, HiddenKind::kDirectory);
  auto file = ProbePath("/proc/self/status");
  ASSERT_TRUE(file.ok()) << file.error();
  EXPECT_EQ(file.value()->kind, HiddenKind::kFile);
  auto missing = ProbePath("/nonexistent-msb/x");
  ASSERT_TRUE(missing.ok()) << missing.error();
  EXPECT_FALSE(missing.value());
  auto not_dir = ProbePath("/proc/self/status/x");
  ASSERT_TRUE(not_dir.ok()) << not_dir.error();
  EXPECT_FALSE(not_dir.value());
}

}  // namespace
}  // namespace msb::gateway
