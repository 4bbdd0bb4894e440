// OpenSSL error-queue draining for Status messages (see openssl_ptr.h).
#include "certs/openssl_ptr.h"

#include <openssl/err.h>

namespace msb::certs {
namespace {

constexpr int kMaxEntries = 3;
constexpr size_t kMaxLength = 300;

}  // namespace

std::string OpenSslErrors() {
  std::string out;
  int shown = 0;
  int dropped = 0;
  const char* data = nullptr;
  int flags = 0;
  unsigned long code = 0;
  while ((code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    if (shown == kMaxEntries || out.size() >= kMaxLength) {
      ++dropped;
      continue;
    }
    if (!out.empty()) {
      out += "; ";
    }
    const char* lib = ERR_lib_error_string(code);
    const char* reason = ERR_reason_error_string(code);
    out += lib != nullptr ? lib : "OpenSSL";
    out += ": ";
    out += reason != nullptr ? reason : "error " + std::to_string(ERR_GET_REASON(code));
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && data[0] != '\0') {
      out += " (";
      out += data;
      out += ")";
    }
    ++shown;
  }
  if (out.size() > kMaxLength) {
    out.resize(kMaxLength);
    out += "...";
  }
  if (dropped > 0) {
    out += " (+" + std::to_string(dropped) + " more)";
  }
  return out.empty() ? "no OpenSSL error detail" : out;
}

void ClearOpenSslErrors() {
  ERR_clear_error();
}

}  // namespace msb::certs
