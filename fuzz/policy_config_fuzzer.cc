// libFuzzer harness for `--config FILE`: any bytes must parse or fail cleanly through both the
// JSON reader and the config parser. The config parser must never accept text the JSON reader
// rejects, and every config it accepts must hold the rule invariants the evaluator relies on, and
// its published ports must be ones --publish accepts too (the canonical spec parses back to the
// same port), with no two on one host socket.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "base/json.h"
#include "policy/config.h"
#include "policy/publish_spec.h"
#include "policy/types.h"

namespace {

constexpr size_t kMaxInput = size_t{64} * 1024;

[[noreturn]] void Violation(const char* what) {
  static_cast<void>(std::fprintf(stderr, "policy_config_fuzzer: %s\n", what));
  std::abort();
}

void CheckRule(const msb::policy::Rule& rule) {
  using msb::policy::Direction;
  using msb::policy::Protocol;
  for (const msb::policy::PortRange& range : rule.ports) {
    if (range.first > range.last || range.first == 0) {
      Violation("a port range is reversed or starts at 0");
    }
  }
  bool icmp = rule.protocols.Has(Protocol::kIcmpv4) || rule.protocols.Has(Protocol::kIcmpv6);
  if (icmp && rule.direction != Direction::kEgress) {
    Violation("an ICMP rule is not egress-only");
  }
  if (icmp && !rule.ports.empty()) {
    Violation("an ICMP rule has ports");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);  // libFuzzer's entry

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) {
    return 0;
  }
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = msb::ParseJson(text);
  if (!json.ok() && json.error().empty()) {
    Violation("a JSON error without a message");
  }
  auto config = msb::policy::ParseNetworkConfig(text);
  if (!config.ok()) {
    if (config.error().empty()) {
      Violation("a config error without a message");
    }
    return 0;
  }
  if (!json.ok()) {
    Violation("the config parser accepted text the JSON reader rejects");
  }
  if (config.value().policy) {
    for (const msb::policy::Rule& rule : config.value().policy->rules) {
      CheckRule(rule);
    }
  }
  const auto& ports = config.value().ports;
  for (const msb::policy::PublishedPort& port : ports) {
    auto again = msb::policy::ParsePublishSpec(port.ToString());
    if (!again.ok() || !(again.value() == port)) {
      Violation("a published port the config accepts is not the one --publish reads back");
    }
  }
  if (msb::policy::FindPublishConflict(ports)) {
    Violation("two published ports on one host socket were accepted");
  }
  return 0;
}
