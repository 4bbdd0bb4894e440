// The sandbox's init: the first process of `run`'s PID namespace, which starts CMD without any
// privilege, relays the gateway's signals to it and ends (taking every process CMD left behind
// with it) with CMD's status. Internal to sandbox.cc.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gateway/sandbox_user.h"

namespace msb::gateway {

// RunSandboxInit forks CMD (`argv`), which drops every capability (bounding set included; a
// root CMD keeps only CAP_NET_RAW and CAP_NET_BIND_SERVICE, which act on its own network
// namespace), takes `run_as`'s IDs when given, sets no_new_privs and execs. Init then reaps every
// child until CMD exits and exits with CMD's status (128+N when a signal N ended it). SIGINT,
// SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to init (by the gateway) are forwarded to CMD;
// the same signals from the terminal are not (they reach CMD directly, as its process group's). The
// caller must be PID 1 of a new PID namespace, with those signals and SIGCHLD blocked.
[[noreturn]] void RunSandboxInit(const std::vector<std::string>& argv,
                                 const std::optional<RunAs>& run_as);

}  // namespace msb::gateway
