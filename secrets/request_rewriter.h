// Substitution and violation detection for the parts of one HTTP request (HTTP/1.1 and HTTP/2
// alike; the relays in gateway/http call these). Sans-I/O: strings and bytes in, strings and
// findings out.
//
// Substitution replaces the raw placeholder of an ELIGIBLE secret (connection_plan.h) by its value
// in the scopes its Injection enables: header values (headers), the decoded user:password of
// `Authorization: Basic` (basic_auth; re-encoded afterwards), the query of the target (query;
// the value inserted as is, never percent-encoded; never the path), request bodies (body,
// body_rewriter.h).
//
// Detection looks for the placeholder of every INELIGIBLE secret whose action is not passthrough,
// in these forms (MatchForm): raw; percent-decoded (%24MSB_X, any byte escaped, either case);
// JSON-unescaped (\u0024MSB_X, any character as \uXXXX, plus \/); inside a decoded Basic
// credential. It scans every header value, the whole target (path and query), and request bodies
// of secrets with the body scope (an inert placeholder of a header-only secret in a body is not a
// violation: an agent's conversation history may hold it, and nothing can leak through it). The
// strictest action found wins; ties go to the first found.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "secrets/connection_plan.h"

namespace msb::secrets {

enum class Location : uint8_t { kHeader, kQuery, kPath, kBasicAuth, kBody };
enum class MatchForm : uint8_t { kRaw, kPercentDecoded, kJsonUnescaped, kBasicAuthDecoded };
// Stable snake_case names for audit events: "header", "query", "path", "authorization_basic",
// "body"; "raw", "percent_decoded", "json_unescaped", "basic_auth_decoded".
std::string_view LocationName(Location location);
std::string_view MatchFormName(MatchForm form);

struct Violation {
  const Secret* secret;  // secret->spec.env_var names it; never print secret->value
  ViolationAction action;
  Location location;
  MatchForm form;
};

// Stricter returns the stricter of two findings (nullopt loses; equal actions keep `a`).
std::optional<Violation> Stricter(std::optional<Violation> a, std::optional<Violation> b);

class RequestRewriter {
 public:
  // `plan` must outlive the rewriter.
  explicit RequestRewriter(const ConnectionPlan& plan) : plan_(plan) {}

  // RewriteHeader substitutes in `*value` (the value of header `name`) and reports a violation
  // found in it (before substitution). `*substituted` is set true when a value was inserted, and
  // the env vars of the secrets inserted are added to `*injected` (when given, once each). A
  // Basic credential that is not valid base64 is left alone (and scanned raw only).
  std::optional<Violation> RewriteHeader(std::string_view name, std::string* value,
                                         bool* substituted,
                                         std::vector<std::string>* injected = nullptr);

  // RewriteTarget substitutes in the query of `*target` (origin-form "/p?q", absolute-form, or an
  // HTTP/2 :path) and reports a violation found anywhere in it.
  std::optional<Violation> RewriteTarget(std::string* target, bool* substituted,
                                         std::vector<std::string>* injected = nullptr);

 private:
  const ConnectionPlan& plan_;
};

}  // namespace msb::secrets
