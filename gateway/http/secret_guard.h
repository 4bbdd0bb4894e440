// SecretGuard: what an HTTP relay needs to inject secrets on one connection, behind one small
// seam: the connection's plan (secrets/connection_plan.h), the request rewriter, the response
// scrubber, and where violations are reported (the session turns them into secret.violation audit
// events and, for block-and-terminate, ends the sandbox). Owned by the session; the relay borrows
// it (nullptr: no secrets configured, the relay does no secret work at all).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "secrets/body_rewriter.h"
#include "secrets/connection_plan.h"
#include "secrets/request_rewriter.h"
#include "secrets/response_scrubber.h"

namespace msb::gateway::http {

// The request a violation was found in (path without the query; stream_id 0 for HTTP/1.1).
struct ViolationSite {
  std::string_view proto;  // "h1" | "h2"
  std::string_view method;
  std::string_view authority;
  std::string_view path;
  int32_t stream_id = 0;
};

class SecretEvents {
 public:
  virtual ~SecretEvents() = default;
  // Called once per refused (or passed-through) request that held an ineligible placeholder.
  virtual void OnSecretViolation(const secrets::Violation& violation,
                                 const ViolationSite& site) = 0;
};

class SecretGuard {
 public:
  SecretGuard(std::shared_ptr<const secrets::SecretSet> set,
              const secrets::ConnectionIdentity& identity, SecretEvents* events)
      : plan_(std::move(set), identity),
        rewriter_(plan_),
        events_(events) {
    if (plan_.any_eligible()) {
      scrubber_.emplace(plan_.shared_set());  // values can only come back where they went
    }
  }

  const secrets::ConnectionPlan& plan() const { return plan_; }
  secrets::RequestRewriter& rewriter() { return rewriter_; }
  // nullptr when no secret is eligible here (nothing to scrub).
  secrets::ResponseScrubber* scrubber() { return scrubber_ ? &*scrubber_ : nullptr; }
  void Report(const secrets::Violation& v, const ViolationSite& site) {
    events_->OnSecretViolation(v, site);
  }

 private:
  secrets::ConnectionPlan plan_;
  secrets::RequestRewriter rewriter_;
  std::optional<secrets::ResponseScrubber> scrubber_;
  SecretEvents* events_;
};

}  // namespace msb::gateway::http
