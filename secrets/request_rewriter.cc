// RequestRewriter: placeholder substitution and violation detection for header values, Basic
// credentials and the request target. Detection runs on the text as received, before anything is
// substituted, so an inserted value can never be mistaken for (or hide) a placeholder.
#include "secrets/request_rewriter.h"

#include <algorithm>
#include <vector>

#include "secrets/match.h"
#include "base/strings.h"

namespace msb::secrets {
namespace {

using internal::Decoding;

enum class Scope : uint8_t { kHeaders, kBasicAuth, kQuery };

bool Enabled(const Injection& inj, Scope scope) {
  switch (scope) {
    case Scope::kHeaders:
      return inj.headers;
    case Scope::kBasicAuth:
      return inj.basic_auth;
    case Scope::kQuery:
      return inj.query;
  }
  return false;
}

// Substitute replaces eligible placeholders whose injection enables `scope`, naming the secrets
// it replaced in *injected (no placeholder holds another, so one found is one replaced).
bool Substitute(const ConnectionPlan& plan, Scope scope, std::string* text,
                std::vector<std::string>* injected) {
  std::vector<internal::Pattern> patterns;
  for (const ConnectionPlan::Entry& e : plan.entries()) {
    // Only placeholders the text holds: most header values hold none, and then nothing is built.
    if (e.eligible && Enabled(e.secret->spec.injection, scope) &&
        text->find(e.secret->spec.placeholder) != std::string::npos) {
      patterns.push_back({e.secret->spec.placeholder, e.secret->value.Reveal()});
      if (injected != nullptr && std::find(injected->begin(), injected->end(),
                                           e.secret->spec.env_var) == injected->end()) {
        injected->push_back(e.secret->spec.env_var);
      }
    }
  }
  if (patterns.empty()) {
    return false;
  }
  internal::Replacer replacer(std::move(patterns));
  size_t replaced = 0;
  std::string out = replacer.ReplaceAll(*text, &replaced);
  if (replaced == 0) {
    return false;
  }
  *text = std::move(out);
  return true;
}

// Detect looks for every detectable placeholder in `text` in the raw, percent-decoded and
// JSON-unescaped forms. `form_override` reports every match as that form (Basic credentials).
std::optional<Violation> Detect(const ConnectionPlan& plan, std::string_view text,
                                Location location,
                                std::optional<MatchForm> form_override = std::nullopt) {
  std::optional<Violation> best;
  std::string percent;
  std::string json;
  bool decoded = false;
  for (const ConnectionPlan::Entry& e : plan.entries()) {
    if (e.eligible || e.action == ViolationAction::kPassthrough) {
      continue;
    }
    if (!decoded) {
      // Decoding costs a copy: only when the escape character is there at all.
      decoded = true;
      if (text.find('%') != std::string_view::npos) {
        percent = internal::Decode(Decoding::kPercent, text);
      }
      if (text.find('\\') != std::string_view::npos) {
        json = internal::Decode(Decoding::kJson, text);
      }
    }
    const std::string& p = e.secret->spec.placeholder;
    std::optional<MatchForm> form;
    if (text.find(p) != std::string_view::npos) {
      form = MatchForm::kRaw;
    } else if (!percent.empty() && percent.find(p) != std::string::npos) {
      form = MatchForm::kPercentDecoded;
    } else if (!json.empty() && json.find(p) != std::string::npos) {
      form = MatchForm::kJsonUnescaped;
    }
    if (form.has_value()) {
      best = Stricter(best, Violation{e.secret, e.action, location, form_override.value_or(*form)});
    }
  }
  return best;
}

}  // namespace

std::string_view LocationName(Location location) {
  switch (location) {
    case Location::kHeader:
      return "header";
    case Location::kQuery:
      return "query";
    case Location::kPath:
      return "path";
    case Location::kBasicAuth:
      return "authorization_basic";
    case Location::kBody:
      return "body";
  }
  return "header";
}

std::string_view MatchFormName(MatchForm form) {
  switch (form) {
    case MatchForm::kRaw:
      return "raw";
    case MatchForm::kPercentDecoded:
      return "percent_decoded";
    case MatchForm::kJsonUnescaped:
      return "json_unescaped";
    case MatchForm::kBasicAuthDecoded:
      return "basic_auth_decoded";
  }
  return "raw";
}

std::optional<Violation> Stricter(std::optional<Violation> a, std::optional<Violation> b) {
  if (!a.has_value()) {
    return b;
  }
  if (!b.has_value()) {
    return a;
  }
  return b->action > a->action ? b : a;
}

std::optional<Violation> RequestRewriter::RewriteHeader(std::string_view name, std::string* value,
                                                        bool* substituted,
                                                        std::vector<std::string>* injected) {
  *substituted = false;
  if (plan_.inert()) {
    return std::nullopt;
  }
  std::optional<Violation> violation = Detect(plan_, *value, Location::kHeader);
  constexpr std::string_view kBasic = "basic ";
  if (EqualsIgnoreAsciiCase(name, "authorization") && value->size() > kBasic.size() &&
      EqualsIgnoreAsciiCase(std::string_view(*value).substr(0, kBasic.size()), kBasic)) {
    std::string credential;
    if (!internal::Base64Decode(std::string_view(*value).substr(kBasic.size()), &credential)) {
      return violation;  // not base64: left alone
    }
    violation = Stricter(
        violation, Detect(plan_, credential, Location::kBasicAuth, MatchForm::kBasicAuthDecoded));
    if (Substitute(plan_, Scope::kBasicAuth, &credential, injected)) {
      *value = value->substr(0, kBasic.size()) + internal::Base64Encode(credential);
      *substituted = true;
    }
    std::fill(credential.begin(), credential.end(), '\0');
    return violation;
  }
  *substituted = Substitute(plan_, Scope::kHeaders, value, injected);
  return violation;
}

std::optional<Violation> RequestRewriter::RewriteTarget(std::string* target, bool* substituted,
                                                        std::vector<std::string>* injected) {
  *substituted = false;
  if (plan_.inert()) {
    return std::nullopt;
  }
  const size_t q = target->find('?');
  std::string_view t = *target;
  std::optional<Violation> violation = Detect(plan_, t.substr(0, q), Location::kPath);
  if (q != std::string::npos) {
    violation = Stricter(violation, Detect(plan_, t.substr(q + 1), Location::kQuery));
    if (!violation.has_value()) {
      // A placeholder written across the '?' is still a placeholder.
      violation = Detect(plan_, t, Location::kPath);
    }
    std::string query = target->substr(q + 1);
    if (Substitute(plan_, Scope::kQuery, &query, injected)) {
      target->resize(q + 1);
      target->append(query);
      *substituted = true;
    }
  }
  return violation;
}

}  // namespace msb::secrets
