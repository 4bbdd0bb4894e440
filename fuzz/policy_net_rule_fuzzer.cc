// libFuzzer harness for the --net-rule grammar: any bytes must parse or fail cleanly, and every
// rule that one token can express must survive RuleToString -> ParseNetRuleToken unchanged, so
// warnings and `policy explain` never print a rule that means something else when pasted back.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "policy/net_rule.h"
#include "policy/types.h"

namespace {

constexpr size_t kMaxInput = 4096;

// OneToken: the grammar holds one protocol (or any) per token; multi-protocol rules (allow@dns)
// render as "tcp+udp", which is display-only.
bool OneToken(const msb::policy::Rule& rule) {
  unsigned bits = rule.protocols.bits();
  return (bits & (bits - 1)) == 0;
}

[[noreturn]] void Violation(const std::string& text, const std::string& detail) {
  std::fprintf(stderr, "round trip failed for %s: %s\n", text.c_str(), detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);  // libFuzzer's entry

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) {
    return 0;
  }
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto rules = msb::policy::ParseNetRuleFlag(input);
  if (!rules.ok()) {
    if (rules.error().empty()) {
      Violation(msb::policy::QuoteForMessage(input), "an error without a message");
    }
    return 0;
  }
  for (const msb::policy::Rule& rule : rules.value()) {
    std::string text = msb::policy::RuleToString(rule);
    if (!OneToken(rule)) {
      continue;
    }
    auto again = msb::policy::ParseNetRuleToken(text);
    if (!again.ok()) {
      Violation(text, again.error());
    }
    if (!(again.value() == rule)) {
      Violation(text, "re-parses to " + msb::policy::RuleToString(again.value()));
    }
  }
  return 0;
}
