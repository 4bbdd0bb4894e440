// Sandbox: `msb-gateway run`'s child side. Starts CMD in new network, mount and PID namespaces
// whose only link is a TAP configured with the guest address, default route via the gateway and
// MTU, with /etc/resolv.conf pointing at the gateway and /etc/hosts naming
// host.microsandbox.internal (and, with TLS interception, a trust bundle that includes the
// intercepting CA). The TAP's descriptor comes back to the gateway, which serves it from the
// original namespace.
//
// CMD cannot reach what the gateway guards: the gateway's secret sources (hidden_paths) are
// covered by private mounts, its own /proc shows only the sandbox's processes (the gateway is
// neither visible nor signalable), and it runs without any capability (bounding set empty,
// no_new_privs), as run_as when given.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "gateway/sandbox_user.h"
#include "stack/netstack.h"

namespace msb::gateway {

struct SandboxSpec {
  std::string interface_name = "eth0";
  stack::NetstackConfig net;
  // offload: the TAP carries a virtio-net header (the gateway then turns on checksum and
  // segmentation offloads, guest_interface.h).
  bool offload = true;
  std::vector<std::string> argv;
  // ca_pem: with TLS interception, the intercepting CA. The sandbox then sees a trust bundle of
  // the system's roots plus this CA, bind-mounted over the system bundle inside its own mount
  // namespace (the host's file is not touched), and SSL_CERT_FILE, REQUESTS_CA_BUNDLE,
  // CURL_CA_BUNDLE, NODE_EXTRA_CA_CERTS, GIT_SSL_CAINFO and DENO_CERT name it, so curl, python,
  // node, git and deno verify intercepted servers with no flags. The roots stay in it: some
  // clients (rustls) take such a file as a replacement for, not an addition to, the system store.
  std::string ca_pem;
  // hidden_paths: what CMD must not read (the --config file, secret value files, the state
  // directory with the CA key). Inside the sandbox's mount namespace each existing path
  // (symlinks resolved) is covered: a file by an empty mode-0 read-only file, a directory by an
  // empty mode-0 read-only tmpfs. A path that cannot be covered fails the start.
  std::vector<std::string> hidden_paths;
  // run_as: the unprivileged user CMD runs as; nullopt keeps root (every capability dropped).
  std::optional<RunAs> run_as;
};

class SandboxChild {
 public:
  SandboxChild(pid_t pid, int tap_fd, int control_fd)
      : pid_(pid), tap_fd_(tap_fd), control_fd_(control_fd) {}
  ~SandboxChild();
  SandboxChild(const SandboxChild&) = delete;
  SandboxChild& operator=(const SandboxChild&) = delete;

  // pid is the sandbox's init (PID 1 inside); it exits with CMD's status and forwards the
  // signals sent to it (sandbox_init.h).
  pid_t pid() const { return pid_; }
  // TakeTapFd hands over the TAP descriptor (once).
  int TakeTapFd();
  // Release lets the child exec CMD (call once the gateway serves the TAP).
  Status Release();

 private:
  pid_t pid_;
  int tap_fd_;
  int control_fd_;
};

// StartSandbox forks the child and waits until its namespace and TAP are ready. The caller must
// have blocked the signals it wants to handle (the child restores an empty mask before exec).
// Errors (e.g. missing privileges) are one-line messages.
Result<std::unique_ptr<SandboxChild>> StartSandbox(const SandboxSpec& spec);

}  // namespace msb::gateway
