// TempDir: a fresh directory for one test's files (sockets, certificates, state), removed with
// everything in it. Shared by every test binary that needs one.
#pragma once

#include <string>

namespace msb::testing {

// TempDir is a fresh directory under $TMPDIR (or /tmp). Failing to make it or to write into it
// aborts the test binary loudly: a broken fixture must never look like a passing test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // File is the path of `name` inside the directory (nothing is created).
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  // Write creates `name` in the directory with `contents` and returns its path.
  std::string Write(const std::string& name, const std::string& contents) const;

 private:
  std::string path_;
};

}  // namespace msb::testing
