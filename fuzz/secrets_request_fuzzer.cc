// libFuzzer harness for secrets::RequestRewriter. Input: [mode][bytes]. Bit 0 of mode picks a
// header value (bytes up to the first ':' are the name; bit 1 forces "authorization") or a request
// target. The plan has one eligible secret (every scope) and one ineligible one (block).
// Invariants: the ineligible secret's VALUE never appears in an output (raw, or inside a re-encoded
// Basic credential) unless the input held it; a raw ineligible placeholder is always reported;
// outside Authorization the output equals a one-shot reference replace (headers: the whole value;
// targets: the query only, the path unchanged).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "secrets/connection_plan.h"
#include "secrets/match.h"
#include "secrets/request_rewriter.h"
#include "secrets/secret_set.h"
#include "fuzz/secrets_fuzz_plan.h"

namespace {

namespace s = msb::secrets;

using namespace msb::secrets::fuzz;  // NOLINT: the shared plan and checks


bool Holds(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);  // libFuzzer's entry

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 64 * 1024) {
    return 0;
  }
  const uint8_t mode = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  s::RequestRewriter rw(Plan());
  bool substituted = false;
  if ((mode & 1) == 0) {
    const size_t colon = input.find(':');
    std::string name((mode & 2) != 0 ? "authorization"
                                     : std::string(input.substr(0, std::min(colon, input.size()))));
    std::string value(colon == std::string_view::npos ? input : input.substr(colon + 1));
    const std::string original = value;
    auto v = rw.RewriteHeader(name, &value, &substituted);
    Check(!Holds(value, kIneligibleValue) || Holds(original, kIneligibleValue),
          "ineligible value in a rewritten header");
    Check(!Holds(original, kIneligiblePlaceholder) || v.has_value(),
          "raw ineligible placeholder in a header not reported");
    Check(!v.has_value() || v->secret->spec.env_var == "INEL", "violation names the wrong secret");
    std::string cred;
    if (value.size() > 6 && s::internal::Base64Decode(std::string_view(value).substr(6), &cred)) {
      std::string before;
      bool before_ok = original.size() > 6 &&
                       s::internal::Base64Decode(std::string_view(original).substr(6), &before);
      Check(!Holds(cred, kIneligibleValue) || (before_ok && Holds(before, kIneligibleValue)),
            "ineligible value in a re-encoded Basic credential");
    }
    bool is_auth = name.size() == 13;
    for (size_t i = 0; is_auth && i < 13; ++i) {
      is_auth = (name[i] | 0x20) == "authorization"[i];
    }
    if (!is_auth) {
      Check(value == ReplaceAll(original), "header differs from the one-shot reference");
      Check(substituted == Holds(original, kEligiblePlaceholder), "substituted flag");
    }
  } else {
    std::string target(input);
    auto v = rw.RewriteTarget(&target, &substituted);
    const size_t q = input.find('?');
    std::string want = q == std::string_view::npos
                           ? std::string(input)
                           : std::string(input.substr(0, q + 1)) + ReplaceAll(input.substr(q + 1));
    Check(target == want, "target differs from the one-shot reference");
    Check(!Holds(target, kIneligibleValue) || Holds(input, kIneligibleValue),
          "ineligible value in a rewritten target");
    Check(!Holds(input, kIneligiblePlaceholder) || v.has_value(),
          "raw ineligible placeholder in a target not reported");
  }
  return 0;
}
