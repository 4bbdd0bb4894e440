// The persistent CA in a state directory: what LoadOrCreate generates, the files and modes it
// leaves, Load without creation, half states, and concurrent starts (threads and processes)
// agreeing on one CA.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "certs/file_io.h"
#include "certs/intercept_ca.h"
#include "certs/x509_util.h"
#include "tests/certs/test_pki.h"

namespace msb::certs {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

constexpr int64_t kNow = 1780000000;  // 2026-05-28T20:26:40Z

unsigned ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::set<std::string> Listing(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

TEST(CaStateTest, CreatesDirectoriesFilesAndModes) {
  TempDir tmp;
  std::string dir = tmp.path() + "/a/b/state";
  auto ca = InterceptCa::LoadOrCreate(dir, [] { return kNow; });
  ASSERT_TRUE(ca.ok()) << ca.error();
  EXPECT_TRUE(ca.value()->created());
  EXPECT_EQ(ModeOf(tmp.path() + "/a") & 0077, 0U);  // created 0700 (minus umask)
  EXPECT_EQ(ModeOf(dir) & 0077, 0U);
  EXPECT_EQ(ModeOf(dir + "/ca.key"), 0600U);
  EXPECT_EQ(ModeOf(dir + "/ca.pem"), 0644U);
  EXPECT_EQ(Listing(dir), (std::set<std::string>{"ca.key", "ca.lock", "ca.pem"}));
  EXPECT_EQ(ca.value()->cert_path(), dir + "/ca.pem");
  EXPECT_EQ(ca.value()->key_path(), dir + "/ca.key");
  EXPECT_EQ(ReadAll(dir + "/ca.pem"), ca.value()->cert_pem());
  EXPECT_THAT(ReadAll(dir + "/ca.key"), HasSubstr("-----BEGIN PRIVATE KEY-----"));
  EXPECT_TRUE(ca.value()->warnings().empty());

  auto again = InterceptCa::LoadOrCreate(dir, [] { return kNow + 100; });
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_FALSE(again.value()->created());
  EXPECT_EQ(again.value()->fingerprint_sha256(), ca.value()->fingerprint_sha256());
  auto loaded = InterceptCa::Load(dir + "/", [] { return kNow; });
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded.value()->fingerprint_sha256(), ca.value()->fingerprint_sha256());
  EXPECT_EQ(loaded.value()->cert_path(), dir + "/ca.pem");
}

TEST(CaStateTest, GeneratedCaProfile) {
  auto gen = GenerateCaPem(kNow);
  ASSERT_TRUE(gen.ok()) << gen.error();
  auto ca =
      InterceptCa::FromPem(gen.value().cert_pem, gen.value().key_pem, "gen", [] { return kNow; });
  ASSERT_TRUE(ca.ok()) << ca.error();
  X509* x = ca.value()->cert();
  EXPECT_TRUE(std::regex_match(ca.value()->subject(),
                               std::regex("CN=msb-gateway intercept CA [0-9a-f]{8},O=msb-gateway")))
      << ca.value()->subject();
  EXPECT_EQ(X509_get_version(x), X509_VERSION_3);
  const ASN1_INTEGER* serial = X509_get0_serialNumber(x);
  EXPECT_EQ(ASN1_STRING_type(serial), V_ASN1_INTEGER);  // positive
  EXPECT_EQ(ASN1_STRING_length(serial), 16);
  uint32_t flags = X509_get_extension_flags(x);
  EXPECT_NE(flags & EXFLAG_CA, 0U);
  EXPECT_NE(flags & EXFLAG_BCONS_CRITICAL, 0U);
  EXPECT_EQ(X509_get_pathlen(x), 0);
  EXPECT_EQ(X509_get_key_usage(x), uint32_t{KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE});
  int crit = -1;
  UniquePtr<ASN1_BIT_STRING> ku(
      static_cast<ASN1_BIT_STRING*>(X509_get_ext_d2i(x, NID_key_usage, &crit, nullptr)));
  ASSERT_NE(ku, nullptr);
  EXPECT_EQ(crit, 1);
  ASSERT_NE(X509_get0_subject_key_id(x), nullptr);
  ASSERT_NE(X509_get0_authority_key_id(x), nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(x), X509_get0_authority_key_id(x)), 0);
  EXPECT_EQ(ca.value()->not_before(), kNow - 30 * 86400);
  EXPECT_EQ(ca.value()->not_after(), kNow + 3652 * 86400);
  EXPECT_EQ(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
  EXPECT_EQ(KeyDescription(ca.value()->key()), "EC P-256");
  EXPECT_EQ(X509_verify(x, X509_get0_pubkey(x)), 1);
  EXPECT_EQ(X509_check_issued(x, x), X509_V_OK);
  // Two generations differ (random key, serial and id).
  auto other = GenerateCaPem(kNow);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other.value().cert_pem, gen.value().cert_pem);
}

TEST(CaStateTest, LoadNeverCreates) {
  TempDir tmp;
  auto r = InterceptCa::Load(tmp.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "no intercept CA in " + tmp.path() + " (neither " + tmp.path() +
                           "/ca.pem nor " + tmp.path() + "/ca.key exists)");
  EXPECT_TRUE(Listing(tmp.path()).empty());
  auto missing_dir = InterceptCa::Load(tmp.path() + "/nope");
  ASSERT_FALSE(missing_dir.ok());
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/nope"));
}

TEST(CaStateTest, HalfStateIsAnErrorNamingBothFiles) {
  for (const char* present : {"ca.key", "ca.pem"}) {
    TempDir tmp;
    std::string only = tmp.Write(present, "keep me\n");
    std::string other = tmp.path() + (std::string(present) == "ca.key" ? "/ca.pem" : "/ca.key");
    for (int load_only = 0; load_only < 2; ++load_only) {
      auto r = load_only ? InterceptCa::Load(tmp.path()) : InterceptCa::LoadOrCreate(tmp.path());
      ASSERT_FALSE(r.ok()) << present;
      EXPECT_THAT(r.error(), HasSubstr("intercept CA is incomplete: " + only + " exists but " +
                                       other + " does not"));
      EXPECT_EQ(ReadAll(only), "keep me\n");
      EXPECT_FALSE(std::filesystem::exists(other));
    }
  }
}

TEST(CaStateTest, DamagedOrExpiredStateNamesTheFile) {
  TempDir tmp;
  ASSERT_TRUE(InterceptCa::LoadOrCreate(tmp.path(), [] { return kNow; }).ok());
  auto expired = InterceptCa::LoadOrCreate(tmp.path(), [] { return kNow + 3653 * 86400; });
  ASSERT_FALSE(expired.ok());
  EXPECT_THAT(expired.error(), HasSubstr(tmp.path() + "/ca.pem expired at "));
  std::filesystem::remove(tmp.path() + "/ca.pem");
  tmp.Write("ca.pem", "garbage\n");
  auto damaged = InterceptCa::Load(tmp.path());
  ASSERT_FALSE(damaged.ok());
  EXPECT_THAT(damaged.error(), HasSubstr(tmp.path() + "/ca.pem contains no PEM certificate"));
}

TEST(CaStateTest, PublishExclusiveNeverOverwrites) {
  TempDir tmp;
  std::string path = tmp.path() + "/f";
  auto first = PublishExclusive(path, "one", 0600);
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_TRUE(first.value());
  auto second = PublishExclusive(path, "two", 0600);
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_FALSE(second.value());
  EXPECT_EQ(ReadAll(path), "one");
  EXPECT_EQ(Listing(tmp.path()), std::set<std::string>{"f"});  // no temporary left behind
  auto bad_dir = PublishExclusive(tmp.path() + "/missing/f", "x", 0600);
  ASSERT_FALSE(bad_dir.ok());
  EXPECT_THAT(bad_dir.error(), HasSubstr("No such file or directory"));
}

TEST(CaStateTest, ConcurrentThreadsAgreeOnOneCa) {
  TempDir tmp;
  std::string dir = tmp.path() + "/state";
  constexpr int kThreads = 8;
  std::atomic<int> ready{0};
  std::vector<std::string> fingerprints(kThreads);
  std::vector<int> created(kThreads, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) {
      }
      auto ca = InterceptCa::LoadOrCreate(dir);
      if (ca.ok()) {
        fingerprints[i] = ca.value()->fingerprint_sha256();
        created[i] = ca.value()->created() ? 1 : 0;
      } else {
        fingerprints[i] = "error: " + ca.error();
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::set<std::string> distinct(fingerprints.begin(), fingerprints.end());
  ASSERT_EQ(distinct.size(), 1U) << *distinct.begin();
  EXPECT_EQ(fingerprints[0].find("error"), std::string::npos) << fingerprints[0];
  EXPECT_EQ(std::count(created.begin(), created.end(), 1), 1);
  EXPECT_EQ(Listing(dir), (std::set<std::string>{"ca.key", "ca.lock", "ca.pem"}));
}

TEST(CaStateTest, ConcurrentProcessesAgreeOnOneCa) {
  TempDir tmp;
  std::string dir = tmp.path() + "/state";
  constexpr int kProcesses = 6;
  int go[2];
  int results[2];
  ASSERT_EQ(pipe(go), 0);
  ASSERT_EQ(pipe(results), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(go[1]);
      char byte = 0;
      if (read(go[0], &byte, 1) != 1) {
        _exit(2);
      }
      auto ca = InterceptCa::LoadOrCreate(dir);
      std::string line = ca.ok() ? std::string(ca.value()->created() ? "C " : "L ") +
                                       ca.value()->fingerprint_sha256()
                                 : "E " + ca.error();
      line.resize(200, ' ');  // fixed-size records: one write() each, atomic on a pipe
      ssize_t n = write(results[1], line.data(), line.size());
      _exit(n == static_cast<ssize_t>(line.size()) ? 0 : 3);
    }
    children.push_back(pid);
  }
  close(go[0]);
  close(results[1]);
  std::string all_go(kProcesses, 'g');
  ASSERT_EQ(write(go[1], all_go.data(), all_go.size()), kProcesses);  // release them together
  close(go[1]);
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  std::string out;
  char buf[4096];
  ssize_t n = 0;
  while ((n = read(results[0], buf, sizeof(buf))) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  close(results[0]);
  ASSERT_EQ(out.size(), 200U * kProcesses);
  std::set<std::string> fingerprints;
  int creators = 0;
  for (int i = 0; i < kProcesses; ++i) {
    std::string rec = out.substr(200 * i, 200);
    ASSERT_NE(rec[0], 'E') << rec;
    creators += rec[0] == 'C' ? 1 : 0;
    fingerprints.insert(rec.substr(2, 95));
  }
  EXPECT_EQ(creators, 1);
  EXPECT_EQ(fingerprints.size(), 1U);
  auto loaded = InterceptCa::Load(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded.value()->fingerprint_sha256(), *fingerprints.begin());
}

}  // namespace
}  // namespace msb::certs
