// Socket set-up for the socket frame devices: binding at a path and checking inherited fds.
#include "stack/socket_setup.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/errno_message.h"

namespace msb::stack {

OwnedFd& OwnedFd::operator=(OwnedFd&& other) noexcept {
  if (this != &other) {
    Reset(std::exchange(other.fd_, -1));
  }
  return *this;
}

void OwnedFd::Reset(int fd) {
  if (fd_ >= 0) {
    close(fd_);
  }
  fd_ = fd;
}

SocketPathOwner::~SocketPathOwner() {
  struct stat st {};
  if (!path_.empty() && lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
      st.st_dev == dev_ && st.st_ino == ino_) {
    (void)unlink(path_.c_str());
  }
}

Result<BoundUnixSocket> BindUnixSocket(const std::string& path, int type) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return Status::Error("socket path \"" + path + "\": 1 to " +
                         std::to_string(sizeof(addr.sun_path) - 1) + " bytes expected");
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::Error("\"" + path + "\" exists and is not a socket; not replacing it");
    }
    // A socket file outlives the process that bound it; binding fails with EADDRINUSE until it is
    // gone, so a restart must remove what its predecessor left.
    if (unlink(path.c_str()) < 0 && errno != ENOENT) {
      return Status::Error(ErrnoMessage("cannot remove stale socket \"" + path + "\""));
    }
  } else if (errno != ENOENT) {
    return Status::Error(ErrnoMessage("cannot inspect \"" + path + "\""));
  }
  OwnedFd fd(socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return Status::Error(ErrnoMessage("socket(AF_UNIX)"));
  }
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) < 0) {
    return Status::Error(ErrnoMessage("cannot bind \"" + path + "\""));
  }
  if (lstat(path.c_str(), &st) < 0) {
    return Status::Error(ErrnoMessage("cannot inspect bound socket \"" + path + "\""));
  }
  return BoundUnixSocket{std::move(fd), SocketPathOwner(path, st.st_dev, st.st_ino)};
}

Status PrepareAdoptedSocket(int fd, int type, const std::string& what) {
  int actual = 0;
  socklen_t len = sizeof(actual);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &actual, &len) < 0) {
    return Status::Error(ErrnoMessage(what + ": not a socket"));
  }
  if (actual != type) {
    return Status::Error(what + ": a " + std::string(type == SOCK_STREAM ? "stream" : "datagram") +
                         " socket expected");
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return Status::Error(ErrnoMessage(what + ": cannot make it non-blocking"));
  }
  int fd_flags = fcntl(fd, F_GETFD);
  if (fd_flags >= 0) {
    (void)fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC);
  }
  return Status::Ok();
}

}  // namespace msb::stack
