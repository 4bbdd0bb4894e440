// Sandbox child set-up (see sandbox.h). Everything between fork() and exec() runs in the child,
// which is single-threaded, reports failures as one line over the control socket and exits.
#include "gateway/sandbox.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "base/errno_message.h"
#include "gateway/guest_interface.h"
#include "gateway/sandbox_init.h"
#include "gateway/sandbox_mounts.h"

namespace msb::gateway {
namespace {

bool SendMessage(int sock, const std::string& msg, int fd) {
  iovec iov{const_cast<char*>(msg.data()), msg.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    mh.msg_control = control;
    mh.msg_controllen = sizeof(control);
    cmsghdr* cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cm), &fd, sizeof(int));
  }
  return sendmsg(sock, &mh, MSG_NOSIGNAL) >= 0;
}

[[noreturn]] void ChildFail(int sock, const std::string& msg) {
  SendMessage(sock, "E" + msg, -1);
  _exit(2);
}

std::string WriteFile(const std::string& path, const std::string& content) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return ErrnoMessage(("create " + path).c_str());
  }
  bool ok = write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
  close(fd);
  return ok ? std::string() : ErrnoMessage(("write " + path).c_str());
}

std::string BindOver(const std::string& source, const char* target) {
  if (mount(source.c_str(), target, nullptr, MS_BIND, nullptr) < 0) {
    return ErrnoMessage((std::string("bind-mount over ") + target).c_str());
  }
  return {};
}

// The system trust bundles, first existing wins (Debian, Fedora, others).
constexpr const char* kSystemBundles[] = {"/etc/ssl/certs/ca-certificates.crt",
                                          "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"};
constexpr const char* kTrustVariables[] = {"SSL_CERT_FILE",  "REQUESTS_CA_BUNDLE",
                                           "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS",
                                           "GIT_SSL_CAINFO", "DENO_CERT"};

std::string SystemBundle() {
  for (const char* path : kSystemBundles) {
    if (access(path, R_OK) == 0) {
      return path;
    }
  }
  return {};
}

std::string ReadSmallFile(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoMessage(("read " + path).c_str());
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    out->append(buf, static_cast<size_t>(n));
    if (out->size() > (16u << 20)) {
      close(fd);
      return path + " is larger than 16 MiB";
    }
  }
  close(fd);
  return n < 0 ? ErrnoMessage(("read " + path).c_str()) : std::string();
}

// ChildMain is the sandbox's PID 1: it builds the namespaces' view, hands the TAP over, waits
// for the gateway's go and becomes init (sandbox_init.h).
[[noreturn]] void ChildMain(const SandboxSpec& spec, int sock, const std::string& tmpdir,
                            const std::string& bundle) {
  // No gateway, no network: never outlive it. (getppid() is 0 in a new PID namespace, so a
  // gateway that died before this line is noticed when the control socket fails instead.)
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
    ChildFail(sock,
              "run needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) to create a network "
              "namespace: unshare: " +
                  std::string(strerror(errno)));
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
    ChildFail(sock, ErrnoMessage("make mounts private"));
  }
  // Planned here, as root and before any of our mounts, so paths resolve as the gateway sees them.
  auto hidden = PlanHiddenMounts(spec.hidden_paths, ProbePath);
  if (!hidden.ok()) {
    ChildFail(sock, hidden.error());
  }
  int tap = -1;
  std::string err = CreateGuestTap(spec.interface_name, spec.net, spec.offload, &tap);
  if (!err.empty()) {
    ChildFail(sock, "configuring the sandbox interface: " + err);
  }
  // A sysfs of the new namespace, so /sys/class/net shows the sandbox's interfaces, not the host's.
  if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, nullptr) < 0) {
    ChildFail(sock, ErrnoMessage("mount sysfs for the sandbox"));
  }
  // A procfs of the new PID namespace: CMD's /proc lists only the sandbox's processes, so the
  // gateway's /proc/PID/{environ,mem} cannot even be named from inside.
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) {
    ChildFail(sock, ErrnoMessage("mount proc for the sandbox"));
  }
  err = BindOver(tmpdir + "/resolv.conf", "/etc/resolv.conf");
  if (err.empty()) {
    err = BindOver(tmpdir + "/hosts", "/etc/hosts");
  }
  if (err.empty() && !bundle.empty()) {
    err = BindOver(tmpdir + "/ca-bundle.crt", bundle.c_str());
    for (const char* var : kTrustVariables) {
      setenv(var, bundle.c_str(), 1);
    }
  }
  // Last, so a hidden directory that happens to hold one of the files above still wins.
  if (err.empty()) {
    err = ApplyHiddenMounts(hidden.value(), tmpdir + "/hidden");
  }
  if (!err.empty()) {
    ChildFail(sock, err);
  }
  if (!SendMessage(sock, "K", tap)) {
    _exit(2);
  }
  close(tap);
  char go = 0;
  if (read(sock, &go, 1) != 1 || go != 'G') {
    _exit(2);  // the gateway failed to start: it already said why
  }
  close(sock);
  RunSandboxInit(spec.argv, spec.run_as);
}

std::string HostsFile(const SandboxSpec& spec) {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::string out =
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
      "127.0.1.1\t" +
      std::string(host) + "\n" + spec.net.gateway_v4.ToString() + "\thost.microsandbox.internal\n";
  if (spec.net.ipv6) {
    out += spec.net.gateway_v6.ToString() + "\thost.microsandbox.internal\n";
  }
  return out;
}

}  // namespace

SandboxChild::~SandboxChild() {
  if (tap_fd_ >= 0) {
    close(tap_fd_);
  }
  if (control_fd_ >= 0) {
    close(control_fd_);
  }
}

int SandboxChild::TakeTapFd() {
  int fd = tap_fd_;
  tap_fd_ = -1;
  return fd;
}

Status SandboxChild::Release() {
  char go = 'G';
  ssize_t n = write(control_fd_, &go, 1);
  close(control_fd_);
  control_fd_ = -1;
  return n == 1 ? Status::Ok() : Status::Error(ErrnoMessage("releasing the sandboxed command"));
}

Result<std::unique_ptr<SandboxChild>> StartSandbox(const SandboxSpec& spec) {
  char tmpl[] = "/tmp/msb-gateway-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    return Status::Error(ErrnoMessage("mkdtemp"));
  }
  std::string tmpdir = tmpl;
  auto cleanup = [&] {
    unlink((tmpdir + "/resolv.conf").c_str());
    unlink((tmpdir + "/hosts").c_str());
    unlink((tmpdir + "/ca-bundle.crt").c_str());
    unlink((tmpdir + "/hidden").c_str());
    rmdir(tmpdir.c_str());
  };
  std::string err =
      WriteFile(tmpdir + "/resolv.conf", "nameserver " + spec.net.gateway_v4.ToString() + "\n");
  if (err.empty()) {
    err = WriteFile(tmpdir + "/hosts", HostsFile(spec));
  }
  std::string bundle;
  if (err.empty() && !spec.ca_pem.empty()) {
    bundle = SystemBundle();
    if (bundle.empty()) {
      err = "TLS interception: no system trust bundle to extend (looked for " +
            std::string(kSystemBundles[0]) + " and others)";
    }
    std::string content;
    if (err.empty()) {
      err = ReadSmallFile(bundle, &content);
    }
    if (err.empty()) {
      if (!content.empty() && content.back() != '\n') {
        content.push_back('\n');
      }
      err = WriteFile(tmpdir + "/ca-bundle.crt", content + spec.ca_pem);
    }
  }
  // The cover for hidden files: empty, and mode 0 so that opening it fails for CMD (another
  // user, or root without CAP_DAC_OVERRIDE) rather than yielding an empty "secret".
  if (err.empty()) {
    err = WriteFile(tmpdir + "/hidden", "");
    if (err.empty() && chmod((tmpdir + "/hidden").c_str(), 0) < 0) {
      err = ErrnoMessage("chmod the hidden-file cover");
    }
  }
  if (!err.empty()) {
    cleanup();
    return Status::Error(err);
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    cleanup();
    return Status::Error(ErrnoMessage("socketpair"));
  }
  // The child is PID 1 of a new PID namespace. unshare(CLONE_NEWPID) applies to the caller's
  // next child only, so the gateway enters it just for this fork and returns to its own
  // namespace right after (or it could never fork again once the sandbox has ended).
  int own_pid_ns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  if (own_pid_ns < 0 || unshare(CLONE_NEWPID) < 0) {
    std::string msg = own_pid_ns < 0 ? ErrnoMessage("open /proc/self/ns/pid")
                                     : "run needs root (CAP_SYS_ADMIN) to create a PID "
                                       "namespace: unshare: " +
                                           std::string(strerror(errno));
    if (own_pid_ns >= 0) {
      close(own_pid_ns);
    }
    cleanup();
    close(sv[0]);
    close(sv[1]);
    return Status::Error(msg);
  }
  pid_t pid = fork();
  int fork_errno = errno;
  bool restored = true;  // the child must stay where it is: its children belong to the new one
  std::string restore_error;
  if (pid != 0 && setns(own_pid_ns, CLONE_NEWPID) < 0) {
    restored = false;
    restore_error = ErrnoMessage("setns back to the gateway's PID namespace");
  }
  close(own_pid_ns);
  if (pid < 0) {
    cleanup();
    close(sv[0]);
    close(sv[1]);
    errno = fork_errno;
    return Status::Error(ErrnoMessage("fork"));
  }
  if (pid == 0) {
    close(sv[0]);
    ChildMain(spec, sv[1], tmpdir, bundle);
  }
  if (!restored) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    cleanup();
    close(sv[0]);
    close(sv[1]);
    return Status::Error(restore_error);
  }
  close(sv[1]);
  char buf[1024];
  iovec iov{buf, sizeof(buf) - 1};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  mh.msg_control = control;
  mh.msg_controllen = sizeof(control);
  ssize_t n = recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC);
  cleanup();  // the child has bind-mounted the files (or failed); the names can go
  int tap = -1;
  for (cmsghdr* cm = CMSG_FIRSTHDR(&mh); cm != nullptr; cm = CMSG_NXTHDR(&mh, cm)) {
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
      std::memcpy(&tap, CMSG_DATA(cm), sizeof(int));
    }
  }
  if (n <= 0 || buf[0] != 'K' || tap < 0) {
    std::string msg = n > 1 && buf[0] == 'E' ? std::string(buf + 1, static_cast<size_t>(n - 1))
                                             : std::string("the sandbox child failed to start");
    if (tap >= 0) {
      close(tap);
    }
    close(sv[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return Status::Error(msg);
  }
  return std::make_unique<SandboxChild>(pid, tap, sv[0]);
}

}  // namespace msb::gateway
