// Tests for who `run` starts CMD as: --user's grammar, the flag/sudo/root choice, and the
// look-up of users every Linux system has (root, nobody).
#include "gateway/sandbox_user.h"

#include <gtest/gtest.h>

#include "gateway/cli.h"

namespace msb::gateway {
namespace {

TEST(SandboxUserTest, ParsesNamesUidsAndUidGid) {
  auto name = ParseUserSpec("nobody");
  ASSERT_TRUE(name.ok()) << name.error();
  EXPECT_EQ(name.value().name, "nobody");
  EXPECT_FALSE(name.value().uid);
  EXPECT_FALSE(name.value().gid);
  auto uid = ParseUserSpec("1000");
  ASSERT_TRUE(uid.ok()) << uid.error();
  EXPECT_EQ(uid.value().uid, 1000u);
  EXPECT_FALSE(uid.value().gid);
  EXPECT_TRUE(uid.value().name.empty());
  auto both = ParseUserSpec("65534:100");
  ASSERT_TRUE(both.ok()) << both.error();
  EXPECT_EQ(both.value().uid, 65534u);
  EXPECT_EQ(both.value().gid, 100u);
  EXPECT_EQ(ParseUserSpec("0").value().uid, 0u);
  EXPECT_EQ(ParseUserSpec("www-data").value().name, "www-data");
}

TEST(SandboxUserTest, RejectsMalformedValuesNamingThem) {
  for (const char* bad : {"", ":", "1000:", ":100", "nobody:100", "1x:2", "-rf", "a b",
                          "4294967295", "99999999999999999999", "1000:4294967295", "x/y"}) {
    auto r = ParseUserSpec(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error(), "--user: invalid value \"" + std::string(bad) +
                             "\": expected a user name, UID or UID:GID");
  }
}

TEST(SandboxUserTest, CliTakesUserOnceAndOnlyForRun) {
  std::vector<std::string> args = {"run", "--user", "nobody", "--", "id"};
  auto c = ParseCommandLine(args);
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_TRUE(c.value().run_user);
  EXPECT_EQ(c.value().run_user->name, "nobody");
  args = {"run", "--user=1000:1000", "--", "id"};
  c = ParseCommandLine(args);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.value().run_user->uid, 1000u);
  args = {"run", "--", "id"};
  EXPECT_FALSE(ParseCommandLine(args).value().run_user);
  args = {"run", "--user", "a", "--user", "b", "--", "id"};
  EXPECT_EQ(ParseCommandLine(args).error(), "--user given twice");
  args = {"run", "--user", "a:b", "--", "id"};
  EXPECT_EQ(ParseCommandLine(args).error(),
            "--user: invalid value \"a:b\": expected a user name, UID or UID:GID");
  args = {"serve", "--tap", "t0", "--user", "nobody"};
  EXPECT_EQ(ParseCommandLine(args).error(),
            "flag \"--user\" does not apply to this command (did you mean \"--net\"?); see "
            "msb-gateway help");
  args = {"run", "--user"};
  EXPECT_EQ(ParseCommandLine(args).error(), "--user needs a value");
}

TEST(SandboxUserTest, FlagWinsOverSudo) {
  UserSpec flag = ParseUserSpec("root").value();
  auto r = ChooseRunUser(flag, 0, "1000", "1000");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value(), flag);
}

TEST(SandboxUserTest, SudoInvokerIsTheDefaultForRoot) {
  auto r = ChooseRunUser(std::nullopt, 0, "1000", "1001");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(r.value());
  EXPECT_EQ(r.value()->uid, 1000u);
  EXPECT_EQ(r.value()->gid, 1001u);
  EXPECT_EQ(r.value()->origin, "SUDO_UID");
  r = ChooseRunUser(std::nullopt, 0, "1000", nullptr);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value()->uid, 1000u);
  EXPECT_FALSE(r.value()->gid);  // from the passwd entry
}

TEST(SandboxUserTest, WithoutSudoOrRootCmdStaysAsIs) {
  EXPECT_FALSE(ChooseRunUser(std::nullopt, 0, nullptr, nullptr).value());
  EXPECT_FALSE(ChooseRunUser(std::nullopt, 0, "", "").value());
  // Not root: there is nobody to switch to (run then fails on its namespaces anyway).
  EXPECT_FALSE(ChooseRunUser(std::nullopt, 1000, "1000", "1000").value());
}

TEST(SandboxUserTest, GarbledSudoVariablesAreErrorsNotRoot) {
  EXPECT_EQ(ChooseRunUser(std::nullopt, 0, "abc", nullptr).error(),
            "SUDO_UID=abc is not a numeric UID; say who runs the command with --user");
  EXPECT_EQ(ChooseRunUser(std::nullopt, 0, "1000", "-1").error(),
            "SUDO_GID=-1 is not a numeric GID; say who runs the command with --user");
}

TEST(SandboxUserTest, ResolvesRootToNoSwitch) {
  auto r = ResolveRunUser(ParseUserSpec("root").value());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE(r.value());
  r = ResolveRunUser(ParseUserSpec("0").value());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE(r.value());
}

TEST(SandboxUserTest, ResolvesNobody) {
  auto r = ResolveRunUser(ParseUserSpec("nobody").value());
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(r.value());
  EXPECT_EQ(r.value()->uid, 65534u);
  EXPECT_EQ(r.value()->name, "nobody");
  EXPECT_FALSE(r.value()->home.empty());
  EXPECT_FALSE(r.value()->groups.empty());
}

TEST(SandboxUserTest, NumericUidNeedsNoPasswdEntry) {
  auto r = ResolveRunUser(ParseUserSpec("4000000123").value());
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(r.value());
  EXPECT_EQ(r.value()->uid, 4000000123u);
  EXPECT_EQ(r.value()->gid, 4000000123u);
  EXPECT_EQ(r.value()->home, "/");
  EXPECT_EQ(r.value()->groups, std::vector<gid_t>{4000000123u});
  r = ResolveRunUser(ParseUserSpec("4000000123:5").value());
  EXPECT_EQ(r.value()->gid, 5u);
}

TEST(SandboxUserTest, UnknownNameIsNamed) {
  EXPECT_EQ(ResolveRunUser(ParseUserSpec("nosuchuser-msb").value()).error(),
            "--user nosuchuser-msb: no such user");
}

}  // namespace
}  // namespace msb::gateway
