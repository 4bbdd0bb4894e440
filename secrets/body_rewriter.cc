// BodyRewriter: streaming substitution and detection for one request body. The output of any split
// of a body into Feed calls equals the one-shot result: substitution withholds only a suffix that
// may still become a placeholder, and detection decodes each form incrementally.
#include "secrets/body_rewriter.h"

#include <algorithm>

namespace msb::secrets {

BodyRewriter::BodyRewriter(const ConnectionPlan& plan) : plan_(plan) {
  std::vector<internal::Pattern> patterns;
  std::vector<std::string_view> needles;
  for (const ConnectionPlan::Entry& e : plan_.entries()) {
    if (!e.secret->spec.injection.body) {
      continue;  // header-only secrets never look at bodies (request_rewriter.h says why)
    }
    if (e.eligible) {
      patterns.push_back({e.secret->spec.placeholder, e.secret->value.Reveal()});
      replaced_secrets_.push_back(e.secret);
    } else if (e.action == ViolationAction::kPassthrough) {
      continue;
    }
    needles_.push_back(&e);
    needles.push_back(e.secret->spec.placeholder);
  }
  replacer_ = internal::Replacer(std::move(patterns));
  hits_.assign(replaced_secrets_.size(), false);
  active_ = !needles_.empty();
  if (active_) {
    for (internal::Decoding d :
         {internal::Decoding::kRaw, internal::Decoding::kPercent, internal::Decoding::kJson}) {
      searchers_.emplace_back(d, needles);
    }
    found_.assign(needles_.size() * searchers_.size(), false);
  }
}

std::optional<Violation> BodyRewriter::Scan(bool finish) {
  (void)finish;
  constexpr MatchForm kForms[] = {MatchForm::kRaw, MatchForm::kPercentDecoded,
                                  MatchForm::kJsonUnescaped};
  std::optional<Violation> best;
  for (size_t f = 0; f < searchers_.size(); ++f) {
    for (size_t k = 0; k < needles_.size(); ++k) {
      if (!found_[f * needles_.size() + k]) {
        continue;
      }
      const ConnectionPlan::Entry& e = *needles_[k];
      if (e.eligible) {
        saw_eligible_ = true;
      } else {
        best = Stricter(best, Violation{e.secret, e.action, Location::kBody, kForms[f]});
      }
    }
  }
  return best;
}

std::optional<Violation> BodyRewriter::Feed(std::span<const uint8_t> in, std::string* out) {
  std::string_view bytes(reinterpret_cast<const char*>(in.data()), in.size());
  if (violation_.has_value()) {
    return violation_;
  }
  if (!active_) {
    out->append(bytes);
    return std::nullopt;
  }
  std::vector<bool> found(needles_.size(), false);
  for (size_t f = 0; f < searchers_.size(); ++f) {
    std::fill(found.begin(), found.end(), false);
    // searchers_[0] is the raw one: the decoded searchers need not search again what decodes
    // to itself.
    searchers_[f].Feed(bytes, &found, /*interior_seen=*/f != 0);
    for (size_t k = 0; k < found.size(); ++k) {
      found_[f * needles_.size() + k] = found[k];
    }
  }
  violation_ = Scan(false);
  if (violation_.has_value()) {
    return violation_;
  }
  if (replacer_.empty()) {
    out->append(bytes);
    return std::nullopt;
  }
  substituted_ = replacer_.Stream(bytes, /*final=*/false, &held_, out, &hits_) > 0 || substituted_;
  return std::nullopt;
}

std::optional<Violation> BodyRewriter::Finish(std::string* out) {
  if (violation_.has_value()) {
    return violation_;
  }
  if (!active_) {
    return std::nullopt;
  }
  std::vector<bool> found(needles_.size(), false);
  for (size_t f = 0; f < searchers_.size(); ++f) {
    std::fill(found.begin(), found.end(), false);
    searchers_[f].Finish(&found);
    for (size_t k = 0; k < found.size(); ++k) {
      found_[f * needles_.size() + k] = found[k];
    }
  }
  violation_ = Scan(true);
  if (violation_.has_value()) {
    return violation_;
  }
  size_t replaced = 0;
  replacer_.Process(held_, /*final=*/true, out, &replaced, &hits_);
  held_.clear();
  substituted_ = substituted_ || replaced > 0;
  return std::nullopt;
}

void BodyRewriter::AddInjected(std::vector<std::string>* names) const {
  for (size_t i = 0; i < replaced_secrets_.size(); ++i) {
    const std::string& name = replaced_secrets_[i]->spec.env_var;
    if (hits_[i] && std::find(names->begin(), names->end(), name) == names->end()) {
      names->push_back(name);
    }
  }
}

}  // namespace msb::secrets
