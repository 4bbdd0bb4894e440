// Test helpers for the socket frame devices: a private temporary directory for socket paths, and
// bounded waits on descriptors (a test that would hang fails instead).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace msb::testing {

// TempDir is a fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// WaitReadable: `fd` is readable (or at EOF/error) within `timeout_ms`.
bool WaitReadable(int fd, int timeout_ms = 2000);

// ConnectUnix returns a blocking AF_UNIX socket of `type` connected to `path` (-1 on failure).
int ConnectUnix(const std::string& path, int type);
// BindUnix returns a blocking AF_UNIX socket of `type` bound to `path` (-1 on failure).
int BindUnix(const std::string& path, int type);

// ReadExactly reads `n` bytes, waiting at most 2 s for each piece; fewer on EOF or timeout.
std::vector<uint8_t> ReadExactly(int fd, size_t n);
// WriteAll writes every byte (blocking socket); false on error.
bool WriteAll(int fd, const std::vector<uint8_t>& bytes);

}  // namespace msb::testing
