// Runner: the top level of each command (run, serve, policy explain, ca). Returns the process exit
// status: the command's own status for run; 0 for a clean serve stop; 2 for usage, privilege and
// set-up errors (after printing one line saying what was wrong); 1 for runtime failures.
#pragma once

#include "gateway/cli.h"

namespace msb::gateway {

int RunCommand(const CliConfig& config);
int ServeCommand(const CliConfig& config);
int ExplainCommand(const CliConfig& config);
// CaCommand: `msb-gateway ca init|show|export` (ca_command.cc).
int CaCommand(const CliConfig& config);

}  // namespace msb::gateway
