// POSIX file helpers (see file_io.h). The exclusive-publish dance (temp, fsync, link, fsync dir)
// is what makes the CA files safe against crashes and concurrent starts: readers only ever see a
// complete file under the final name, and no process can replace a file another one published.
#include "certs/file_io.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace msb::certs {
namespace {

// Fd closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string RandomSuffix() {
  unsigned char bytes[6] = {};
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // Uniqueness comes from O_EXCL, not from the name; fall back to the pid and the time.
    return std::to_string(getpid()) + "." +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Status::Error("cannot write " + path + ": " + ErrnoText(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

}  // namespace

std::string ErrnoText(int err) {
  char buf[256];
  // GNU strerror_r returns the message pointer (which may not be buf).
  return strerror_r(err, buf, sizeof(buf));
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) {
    return Status::Error("cannot read " + path + ": " + ErrnoText(errno));
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    return Status::Error("cannot read " + path + ": " + ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::Error("cannot read " + path + ": not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return Status::Error(path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string out;
  char buf[16384];
  while (true) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Status::Error("cannot read " + path + ": " + ErrnoText(errno));
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {  // the file grew after fstat
      return Status::Error(path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  return out;
}

Status MakeDirs(const std::string& dir, mode_t mode) {
  if (dir.empty()) {
    return Status::Error("directory path is empty");
  }
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    std::string prefix = dir.substr(0, pos);
    if (prefix.empty() || prefix == "/") {
      continue;
    }
    if (mkdir(prefix.c_str(), mode) == 0) {
      continue;
    }
    int err = errno;
    struct stat st {};
    if (err == EEXIST && stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      continue;
    }
    if (err == EEXIST) {
      return Status::Error("cannot create directory " + dir + ": " + prefix +
                           " exists and is not a directory");
    }
    return Status::Error("cannot create directory " + prefix + ": " + ErrnoText(err));
  }
  return Status::Ok();
}

Result<bool> PublishExclusive(const std::string& path, std::string_view contents, mode_t mode) {
  std::string dir = DirName(path);
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  std::string tmp = dir + "/." + base + ".tmp." + RandomSuffix();
  Fd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (fd.get() < 0) {
    return Status::Error("cannot create " + tmp + ": " + ErrnoText(errno));
  }
  Status st = WriteAll(fd.get(), contents, tmp);
  if (st.ok() && fchmod(fd.get(), mode) != 0) {
    st = Status::Error("cannot chmod " + tmp + ": " + ErrnoText(errno));
  }
  if (st.ok() && fsync(fd.get()) != 0) {
    st = Status::Error("cannot fsync " + tmp + ": " + ErrnoText(errno));
  }
  bool published = false;
  if (st.ok()) {
    if (link(tmp.c_str(), path.c_str()) == 0) {
      published = true;
    } else if (errno != EEXIST) {
      st = Status::Error("cannot create " + path + ": " + ErrnoText(errno));
    }
  }
  unlink(tmp.c_str());
  if (!st.ok()) {
    return st;
  }
  if (published) {
    Fd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd.get() >= 0) {
      fsync(dir_fd.get());  // best effort: the file itself is already durable
    }
  }
  return published;
}

Result<FileLock> FileLock::Acquire(const std::string& path, Mode mode, bool create,
                                   int timeout_ms) {
  int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0);
  Fd fd(open(path.c_str(), flags, 0600));
  if (fd.get() < 0) {
    return Status::Error("cannot open lock file " + path + ": " + ErrnoText(errno));
  }
  int op = (mode == Mode::kExclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (flock(fd.get(), op) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      return Status::Error("cannot lock " + path + ": " + ErrnoText(errno));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Error("timed out after " + std::to_string(timeout_ms) +
                           " ms waiting for the lock on " + path +
                           " (another msb-gateway is creating the CA?)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return FileLock(fd.release());
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    close(fd_);  // releases the flock
  }
}

}  // namespace msb::certs
