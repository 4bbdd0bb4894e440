// libFuzzer harness for secrets::BodyRewriter and ResponseScrubber. Input: [seed][bytes]. The body
// is fed once in one piece and once in pieces of 1..2^(seed%8) bytes cut by a seeded LCG; the plan
// has one eligible body-scope secret and one ineligible body-scope secret (block).
// Invariants: both runs agree on whether there is a violation; a raw ineligible placeholder is
// always one; without one, both outputs equal the one-shot reference replace; the ineligible
// VALUE never appears in an output the input did not hold; scrubbing the output (split the same
// way) equals scrubbing it at once and leaves no value behind.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "secrets/body_rewriter.h"
#include "secrets/connection_plan.h"
#include "secrets/response_scrubber.h"
#include "secrets/secret_set.h"
#include "fuzz/secrets_fuzz_plan.h"

namespace {

namespace s = msb::secrets;

using namespace msb::secrets::fuzz;  // NOLINT: the shared plan and checks


// NextPiece: the next piece length (the whole rest when seed is 0).
size_t NextPiece(uint32_t* seed, size_t rest) {
  if (*seed == 0) {
    return rest;
  }
  *seed = *seed * 1103515245u + 12345u;
  return std::min(rest, 1 + (*seed >> 16) % (size_t{1} << (*seed % 8)));
}

struct Run {
  std::string out;
  bool violation = false;
};

Run Rewrite(std::string_view body, uint32_t seed) {
  s::BodyRewriter rw(Plan());
  Run r;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t n = NextPiece(&seed, body.size() - pos);
    std::span<const uint8_t> piece(reinterpret_cast<const uint8_t*>(body.data() + pos), n);
    pos += n;
    if (rw.Feed(piece, &r.out).has_value()) {
      r.violation = true;
      return r;
    }
  }
  r.violation = rw.Finish(&r.out).has_value();
  return r;
}

std::string Scrub(std::string_view body, uint32_t seed) {
  s::ResponseScrubber scrubber(Plan().shared_set());
  std::string out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t n = NextPiece(&seed, body.size() - pos);
    scrubber.Feed(std::span(reinterpret_cast<const uint8_t*>(body.data() + pos), n), &out);
    pos += n;
  }
  scrubber.Finish(&out);
  return out;
}

bool Holds(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);  // libFuzzer's entry

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 256 * 1024) {
    return 0;
  }
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const uint32_t seed = data[0] | 0x100u;
  Run one = Rewrite(body, 0);
  Run split = Rewrite(body, seed);
  Check(one.violation == split.violation, "split feeding changed whether there is a violation");
  Check(!Holds(body, kIneligiblePlaceholder) || one.violation,
        "raw ineligible placeholder in a body not reported");
  if (!one.violation) {
    const std::string want = ReplaceAll(body);
    Check(one.out == want, "one-shot output differs from the reference");
    Check(split.out == want, "split output differs from the reference");
  }
  for (const Run* r : {&one, &split}) {
    Check(!Holds(r->out, kIneligibleValue) || Holds(body, kIneligibleValue),
          "ineligible value in a rewritten body");
  }
  const std::string scrubbed = Scrub(one.out, 0);
  Check(Scrub(one.out, seed) == scrubbed, "split scrubbing differs");
  Check(!Holds(scrubbed, kEligibleValue) && !Holds(scrubbed, kIneligibleValue),
        "a value survived scrubbing");
  return 0;
}
