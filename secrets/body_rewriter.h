// BodyRewriter: one request body, streaming, with bounded memory. Eligible secrets with the body
// scope have their raw placeholder replaced by the value; ineligible body-scope secrets'
// placeholders are detected in every form request_rewriter.h lists (raw, percent-decoded,
// JSON-unescaped), however the body is split into Feed calls (TCP segments, TLS records, chunks,
// DATA frames). The output is exactly the input with each placeholder occurrence replaced: bytes
// that could be the start of a placeholder are withheld (at most max_placeholder - 1) until the
// next Feed or Finish decides them. Binary bodies pass byte-exact. Memory: O(max placeholder) per
// body.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "secrets/match.h"
#include "secrets/request_rewriter.h"

namespace msb::secrets {

class BodyRewriter {
 public:
  // `plan` must outlive the rewriter.
  explicit BodyRewriter(const ConnectionPlan& plan);

  // active() is false when no secret on this connection is body-scoped: Feed then copies.
  bool active() const { return active_; }

  // Feed appends the rewritten form of `in` (minus what is withheld) to *out. A violation stops
  // the body: the caller refuses the request and must not forward *out's new bytes; later calls
  // return the same violation.
  std::optional<Violation> Feed(std::span<const uint8_t> in, std::string* out);
  // Finish appends what was withheld (the body ended).
  std::optional<Violation> Finish(std::string* out);

  // Some eligible placeholder was replaced so far.
  bool substituted() const { return substituted_; }
  // AddInjected adds the env vars of the secrets replaced so far to *names (once each).
  void AddInjected(std::vector<std::string>* names) const;
  // ContainsEligiblePlaceholder: for bodies the gateway cannot rewrite (a Content-Encoding other
  // than identity): scan only. True once an eligible body-scope placeholder was seen in any form.
  bool saw_eligible() const { return saw_eligible_; }

 private:
  const ConnectionPlan& plan_;
  bool active_ = false;
  bool substituted_ = false;
  bool saw_eligible_ = false;
  std::optional<Violation> violation_;
  std::string held_;             // raw bytes withheld from the output (< longest body placeholder)
  internal::Replacer replacer_;  // eligible body-scope placeholder -> value
  std::vector<const Secret*> replaced_secrets_;  // replacer_'s patterns, in order
  std::vector<bool> hits_;                       // which of them were replaced
  // Needles searched for in every form: ineligible body-scope placeholders (violations) and
  // eligible ones (saw_eligible). Each searcher keeps its own decoded tail (< longest needle), so
  // a match split across Feed calls, even inside an escape, is found.
  std::vector<const ConnectionPlan::Entry*> needles_;
  std::vector<internal::StreamSearcher> searchers_;  // raw, percent-decoded, JSON-unescaped
  std::vector<bool> found_;

  std::optional<Violation> Scan(bool finish);
};

}  // namespace msb::secrets
