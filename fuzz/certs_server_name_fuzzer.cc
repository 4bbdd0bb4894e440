// libFuzzer harness for ParseServerName (SNI / authority host validation). Any bytes must parse
// or fail with a short, printable message; every accepted name must re-parse from its canonical
// text to the same ServerName, and that text must be LDH-only (host names, within the length caps)
// or a canonical IP literal, so nothing else can ever reach certificate code. HostPattern shares
// the validator: a canonical host name is also a valid exact pattern that matches itself.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/host_pattern.h"
#include "base/hostname.h"
#include "certs/server_name.h"

namespace {

constexpr size_t kMaxInput = 1024;
constexpr size_t kMaxMessage = 400;

[[noreturn]] void Violation(std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "invariant broken for %s: %s\n", msb::QuoteUntrusted(input).c_str(),
               detail.c_str());
  std::abort();
}

void CheckHostname(std::string_view input, const msb::certs::ServerName& n) {
  size_t label = 0;  // length of the current label
  for (char c : n.text) {
    bool ldh = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    label = c == '.' ? 0 : label + 1;
    if ((!ldh && c != '.') || label > msb::kMaxHostnameLabelLength) {
      Violation(input, "bad canonical host name " + msb::QuoteUntrusted(n.text, 300));
    }
  }
  if (n.ip || n.text.empty() || n.text.size() > msb::kMaxHostnameLength || n.text.front() == '.' ||
      n.text.back() == '.' || n.text.find("..") != std::string::npos) {
    Violation(input, "bad canonical host name " + msb::QuoteUntrusted(n.text, 300));
  }
  auto pattern = msb::HostPattern::Parse(n.text);
  if (!pattern.ok() || !pattern.value().Matches(n.text) || pattern.value().ToString() != n.text) {
    Violation(input, "host pattern disagrees: " +
                         (pattern.ok() ? pattern.value().ToString() : pattern.error()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);  // libFuzzer's entry

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) {
    return 0;
  }
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = msb::certs::ParseServerName(input);
  if (!parsed.ok()) {
    const std::string& msg = parsed.error();
    if (msg.empty() || msg.size() > kMaxMessage) {
      Violation(input, "error message of " + std::to_string(msg.size()) + " bytes");
    }
    for (char c : msg) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
        Violation(input, "unprintable byte in the error message");
      }
    }
    return 0;
  }
  const msb::certs::ServerName& n = parsed.value();
  if (n.is_ip()) {
    if (!n.ip || n.ip->ToString() != n.text || msb::IpAddress::Parse(n.text) != n.ip) {
      Violation(input, "bad canonical IP " + msb::QuoteUntrusted(n.text));
    }
  } else {
    CheckHostname(input, n);
  }
  auto again = msb::certs::ParseServerName(n.text);
  if (!again.ok() || !(again.value() == n)) {
    Violation(input,
              "canonical text " + msb::QuoteUntrusted(n.text) + " does not re-parse to itself");
  }
  return 0;
}
