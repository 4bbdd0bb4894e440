// Socket set-up shared by the socket frame devices: an owned descriptor, binding a unix socket at
// a path (replacing a stale socket file, never anything else) and removing it again on exit, and
// checking an inherited descriptor before adopting it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "base/status.h"

namespace msb::stack {

// OwnedFd closes its descriptor on destruction (-1: none).
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() { Reset(); }
  OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// SocketPathOwner removes, on destruction, the socket file this process bound, but only while
// the path still names that same file (another process may have replaced it since).
class SocketPathOwner {
 public:
  SocketPathOwner() = default;
  SocketPathOwner(std::string path, uint64_t dev, uint64_t ino)
      : path_(std::move(path)), dev_(dev), ino_(ino) {}
  ~SocketPathOwner();
  SocketPathOwner(SocketPathOwner&& other) noexcept
      : path_(std::exchange(other.path_, {})), dev_(other.dev_), ino_(other.ino_) {}
  SocketPathOwner& operator=(SocketPathOwner&&) = delete;
  SocketPathOwner(const SocketPathOwner&) = delete;
  SocketPathOwner& operator=(const SocketPathOwner&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  uint64_t dev_ = 0;
  uint64_t ino_ = 0;
};

struct BoundUnixSocket {
  OwnedFd fd;
  SocketPathOwner path;
};

// BindUnixSocket creates a non-blocking, close-on-exec AF_UNIX socket of `type` (SOCK_STREAM or
// SOCK_DGRAM) bound at `path`. A socket file already at `path` is taken to be stale and removed;
// anything else there (a regular file, a directory) is an error, as is a path that does not fit
// a sockaddr_un.
Result<BoundUnixSocket> BindUnixSocket(const std::string& path, int type);

// PrepareAdoptedSocket checks that `fd` is a socket of `type` and makes it non-blocking and
// close-on-exec. `what` names it in errors ("--fd 3").
Status PrepareAdoptedSocket(int fd, int type, const std::string& what);

}  // namespace msb::stack
