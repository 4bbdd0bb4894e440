// Tests for the audit log: the common fields, flow fields, one line per event, file mode.
#include "gateway/core/audit_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace msb::gateway {
namespace {

TEST(AuditRecordTest, CommonAndFlowFields) {
  AuditRecord rec("flow.decision", "2026-11-30T00:00:00.000Z");
  rec.Flow({7,
            "tcp",
            {*IpAddress::Parse("172.16.0.2"), 40000},
            {*IpAddress::Parse("2001:db8::1"), 443}});
  rec.json().Str("action", "deny").Null("rule");
  EXPECT_EQ(std::move(rec).Finish(),
            R"({"v":1,"ts":"2026-11-30T00:00:00.000Z","event":"flow.decision","flow":7,)"
            R"("proto":"tcp","src":"172.16.0.2:40000","dst":"[2001:db8::1]:443",)"
            R"("action":"deny","rule":null})");
}

TEST(AuditRecordTest, TimestampIsUtcIso8601WithMillis) {
  std::string line = AuditRecord("gateway.start").Finish();
  auto pos = line.find("\"ts\":\"");
  ASSERT_NE(pos, std::string::npos);
  std::string ts = line.substr(pos + 6, 24);
  EXPECT_EQ(ts.size(), 24u);
  EXPECT_EQ(ts[4], '-');
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts[19], '.');
  EXPECT_EQ(ts[23], 'Z');
}

TEST(AuditLogTest, WritesOneLinePerEventToA0600File) {
  std::string path = ::testing::TempDir() + "/audit_test." + std::to_string(getpid()) + ".jsonl";
  std::remove(path.c_str());
  {
    auto log = AuditLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.error();
    EXPECT_TRUE(log.value()->enabled());
    log.value()->Emit(AuditRecord("a", "t"));
    log.value()->Emit(AuditRecord("b", "t"));
  }
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::string l1;
  std::string l2;
  std::string l3;
  ASSERT_TRUE(std::getline(in, l1));
  ASSERT_TRUE(std::getline(in, l2));
  EXPECT_FALSE(std::getline(in, l3));
  EXPECT_EQ(l1, R"({"v":1,"ts":"t","event":"a"})");
  EXPECT_EQ(l2, R"({"v":1,"ts":"t","event":"b"})");
}

TEST(AuditLogTest, DisabledAndErrors) {
  auto off = AuditLog::Open("");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off.value()->enabled());
  off.value()->Emit(AuditRecord("x"));  // no-op
  auto bad = AuditLog::Open("/nonexistent-dir/audit.jsonl");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("/nonexistent-dir/audit.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace msb::gateway
