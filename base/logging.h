// Logging glue: spdlog to stderr, level from --log-level. Operational logs only: the audit stream
// is separate (gateway/audit_log.h) and never mixed with these lines. Never log secret values.
#pragma once

#include <spdlog/spdlog.h>

#include <optional>
#include <string_view>

namespace msb {

// ParseLogLevel accepts trace, debug, info, warn, error, off.
std::optional<spdlog::level::level_enum> ParseLogLevel(std::string_view name);
// InitLogging installs the stderr logger as spdlog's default with a compact pattern.
void InitLogging(spdlog::level::level_enum level);

}  // namespace msb
