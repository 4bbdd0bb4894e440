// errno_message: "WHAT: <strerror(errno)>", the one-line form system-call failures are reported
// in. Reads errno as it is when called, so call it before anything else can change it.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

namespace msb {

inline std::string ErrnoMessage(std::string_view what) {
  const char* reason = std::strerror(errno);
  return std::string(what) + ": " + reason;
}

}  // namespace msb
