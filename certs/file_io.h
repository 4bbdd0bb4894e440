// Small POSIX file helpers for the CA state directory and PEM inputs: capped reads with errno
// text, "mkdir -p" with a mode, exclusive publication of a file (temp file + fsync + link(2), so a
// file is either absent or complete and is never overwritten), and an flock(2) lock with a bounded
// wait. Every error names the path.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace msb::certs {

// ReadSmallFile reads a whole regular file of at most `max_bytes`. Errors: "cannot read PATH:
// <strerror>", "PATH is not a regular file", "PATH is larger than N bytes".
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes);

// MakeDirs creates `dir` and any missing parents with `mode` (like mkdir -p; existing directories
// are left as they are). Error when a component exists and is not a directory.
Status MakeDirs(const std::string& dir, mode_t mode);

// PublishExclusive writes `contents` to a fresh temporary file in the directory of `path`
// (O_CREAT|O_EXCL, mode `mode`, fchmod'ed to exactly `mode`), fsyncs it, links it to `path` and
// fsyncs the directory. link(2) fails when `path` exists, so an existing file is never replaced:
// the result is then false ("somebody else published first") and nothing changed. The temporary
// file is always removed.
Result<bool> PublishExclusive(const std::string& path, std::string_view contents, mode_t mode);

// FileLock holds an exclusive or shared flock(2) on a lock file for its lifetime. flock locks
// belong to the open file description, so two threads of one process exclude each other as two
// processes do.
class FileLock {
 public:
  enum class Mode { kExclusive, kShared };
  // Acquire opens `path` (creating it with mode 0600 when `create`) and waits at most
  // `timeout_ms` for the lock. Errors name the path: open failure (errno), timeout.
  static Result<FileLock> Acquire(const std::string& path, Mode mode, bool create, int timeout_ms);

  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// ErrnoText is strerror_r for `err` (thread-safe).
std::string ErrnoText(int err);

// FileExists: lstat succeeds (any file type). Used for the state-directory protocol only.
bool FileExists(const std::string& path);

}  // namespace msb::certs
