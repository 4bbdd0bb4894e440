// The sandbox's init and CMD's privilege drop (see sandbox_init.h).
//
// Why an init at all: CMD must not see or signal the gateway, so it runs in its own PID
// namespace. The namespace's first process is special (the kernel drops signals it has no
// handler for, orphans are re-parented to it, and its exit kills the namespace), so that role is
// played by this small loop rather than by CMD: CMD keeps ordinary signal semantics, zombies are
// reaped, and background processes CMD leaves behind end when CMD does, instead of outliving the
// sandbox's network.
//
// Init keeps the gateway's privileges and memory image (it is a fork of the gateway). CMD cannot
// use that: the gateway made itself non-dumpable before forking, so /proc/1/mem, environ, fd and
// ptrace need CAP_SYS_PTRACE, which CMD never has.
#include "gateway/sandbox_init.h"

#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/errno_message.h"

namespace msb::gateway {
namespace {

constexpr int kRelayedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

void IgnoreSignal(int) {}

// The only capabilities a root CMD keeps. Both act on the sandbox's own network namespace only,
// whose one way out is the gateway's TAP: raw and packet sockets let CMD craft any frame, which
// is no more than a VM guest can do and what the gateway is built to withstand (the e2e suites
// send such frames), and binding ports below 1024 serves ingress the policy has allowed.
constexpr int kRootKeptCaps[] = {CAP_NET_RAW, CAP_NET_BIND_SERVICE};

bool KeptByRoot(int cap) {
  for (int kept : kRootKeptCaps) {
    if (cap == kept) {
      return true;
    }
  }
  return false;
}

// DropPrivileges leaves CMD with no capability it could ever regain (a root CMD: none but
// kRootKeptCaps): the bounding and ambient sets are emptied while we still hold CAP_SETPCAP, then
// the IDs change (a non-root UID clears the permitted set by itself), then the remaining sets are
// cleared, and no_new_privs keeps setuid binaries and file capabilities from granting anything.
std::string DropPrivileges(const std::optional<RunAs>& run_as) {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
    return ErrnoMessage("clearing ambient capabilities");
  }
  bool root = !run_as.has_value();
  for (int cap = 0; cap < 64; ++cap) {
    if (root && KeptByRoot(cap)) {
      continue;
    }
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) {
        break;  // past the kernel's last capability
      }
      return ErrnoMessage("PR_CAPBSET_DROP");
    }
  }
  if (run_as) {
    if (setgroups(run_as->groups.size(), run_as->groups.data()) < 0) {
      return ErrnoMessage("setgroups");
    }
    if (setresgid(run_as->gid, run_as->gid, run_as->gid) < 0) {
      return ErrnoMessage("setgid");
    }
    if (setresuid(run_as->uid, run_as->uid, run_as->uid) < 0) {
      return ErrnoMessage("setuid");
    }
    if (getuid() != run_as->uid || geteuid() != run_as->uid || getegid() != run_as->gid) {
      return "the user switch did not take effect";
    }
  }
  // Root's exec recomputes permitted as the bounding set, so the kept ones survive it; the
  // inheritable set stays empty.
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (root) {
    for (int cap : kRootKeptCaps) {
      data[cap / 32].effective |= 1u << (cap % 32);
      data[cap / 32].permitted |= 1u << (cap % 32);
    }
  }
  if (syscall(SYS_capset, &hdr, data) < 0) {
    return ErrnoMessage("capset");
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    return ErrnoMessage("PR_SET_NO_NEW_PRIVS");
  }
  return {};
}

[[noreturn]] void ExecCommand(const std::vector<std::string>& args,
                              const std::optional<RunAs>& run_as) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : kRelayedSignals) {
    sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  std::string err = DropPrivileges(run_as);
  if (!err.empty()) {
    std::fprintf(stderr, "msb-gateway: dropping privileges for the command: %s\n", err.c_str());
    _exit(126);
  }
  if (run_as) {
    setenv("HOME", run_as->home.c_str(), 1);
    if (!run_as->name.empty()) {
      setenv("USER", run_as->name.c_str(), 1);
      setenv("LOGNAME", run_as->name.c_str(), 1);
    }
  }
  std::vector<char*> argv;
  for (const std::string& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  std::fprintf(stderr, "msb-gateway: cannot run \"%s\": %s\n", argv[0], strerror(errno));
  _exit(errno == ENOENT ? 127 : 126);
}

int ExitCodeOf(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

[[noreturn]] void RunSandboxInit(const std::vector<std::string>& argv,
                                 const std::optional<RunAs>& run_as) {
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGCHLD);
  // PID 1 drops signals it has no handler for; the handlers are never run (the signals stay
  // blocked and are taken by sigwaitinfo) but make the kernel queue them.
  struct sigaction noop {};
  noop.sa_handler = IgnoreSignal;
  for (int sig : kRelayedSignals) {
    sigaddset(&waited, sig);
    sigaction(sig, &noop, nullptr);
  }
  sigprocmask(SIG_BLOCK, &waited, nullptr);
  pid_t cmd = fork();
  if (cmd < 0) {
    std::fprintf(stderr, "msb-gateway: starting the command: fork: %s\n", strerror(errno));
    _exit(126);
  }
  if (cmd == 0) {
    ExecCommand(argv, run_as);
  }
  for (;;) {
    siginfo_t si{};
    int sig = sigwaitinfo(&waited, &si);
    if (sig < 0) {
      continue;  // EINTR
    }
    if (sig != SIGCHLD) {
      // The terminal's signals already reached CMD's process group; relay only sent ones.
      if (si.si_code != SI_KERNEL) {
        kill(cmd, sig);
      }
      continue;
    }
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid == cmd) {
        // Leaving kills whatever CMD left running in the namespace (the kernel's doing).
        _exit(ExitCodeOf(status));
      }
    }
  }
}

}  // namespace msb::gateway
