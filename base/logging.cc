// spdlog set-up: one colourless stderr sink, "msb-gateway: LEVEL: message" lines.
#include "base/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace msb {

std::optional<spdlog::level::level_enum> ParseLogLevel(std::string_view name) {
  if (name == "trace") {
    return spdlog::level::trace;
  }
  if (name == "debug") {
    return spdlog::level::debug;
  }
  if (name == "info") {
    return spdlog::level::info;
  }
  if (name == "warn") {
    return spdlog::level::warn;
  }
  if (name == "error") {
    return spdlog::level::err;
  }
  if (name == "off") {
    return spdlog::level::off;
  }
  return std::nullopt;
}

void InitLogging(spdlog::level::level_enum level) {
  auto logger = spdlog::stderr_logger_st("msb");
  logger->set_pattern("msb-gateway: %l: %v");
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

}  // namespace msb
