// msb-gateway entry point: parse the command line and dispatch (see gateway/cli.h, runner.h).
#include <cstdio>
#include <string>
#include <vector>

#include "base/logging.h"
#include "gateway/cli.h"
#include "gateway/runner.h"

#ifndef MSB_VERSION
#define MSB_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = msb::gateway::ParseCommandLine(args);
  if (!parsed.ok()) {
    std::fprintf(stderr, "msb-gateway: %s\n", parsed.error().c_str());
    return 2;
  }
  const msb::gateway::CliConfig& config = parsed.value();
  msb::InitLogging(config.log_level);
  using msb::gateway::Command;
  switch (config.command) {
    case Command::kRun:
      return msb::gateway::RunCommand(config);
    case Command::kServe:
      return msb::gateway::ServeCommand(config);
    case Command::kPolicyExplain:
      return msb::gateway::ExplainCommand(config);
    case Command::kCa:
      return msb::gateway::CaCommand(config);
    case Command::kVersion:
      std::printf("msb-gateway %s\n", MSB_VERSION);
      return 0;
    case Command::kHelp: {
      Command topic = Command::kHelp;
      if (config.help_topic == "run") {
        topic = Command::kRun;
      }
      if (config.help_topic == "serve") {
        topic = Command::kServe;
      }
      if (config.help_topic == "ca") {
        topic = Command::kCa;
      }
      if (config.help_topic == "policy") {
        topic = Command::kPolicyExplain;
      }
      std::fputs(msb::gateway::UsageText(topic).c_str(), stdout);
      return 0;
    }
  }
  return 2;
}
