// ResponseScrubber: an upstream that echoes a real value back (an error page quoting the request,
// a debug endpoint) must not hand it to the guest. On connections where some secret was eligible,
// every secret value in a response header value or an identity-coded response body is replaced by
// that secret's placeholder. Streaming with bounded memory, like BodyRewriter (withholds at most
// max_value - 1 bytes). Compressed bodies are not looked into (docs/secrets.md).
#pragma once

#include <memory>
#include <span>
#include <string>

#include "secrets/match.h"
#include "secrets/secret_set.h"

namespace msb::secrets {

class ResponseScrubber {
 public:
  explicit ResponseScrubber(std::shared_ptr<const SecretSet> set);

  // ScrubHeader replaces values in `*value`; true when it changed.
  bool ScrubHeader(std::string* value) const;

  // One body at a time: Feed appends the scrubbed form of `in` (minus what is withheld) to *out;
  // Finish appends the rest and readies the scrubber for the next body.
  void Feed(std::span<const uint8_t> in, std::string* out);
  void Finish(std::string* out);
  // A value was replaced in the current or an earlier body.
  bool scrubbed() const { return scrubbed_; }

 private:
  std::shared_ptr<const SecretSet> set_;
  internal::Replacer replacer_;  // value -> placeholder, views into *set_
  std::string held_;             // withheld bytes (< longest value)
  bool scrubbed_ = false;
};

}  // namespace msb::secrets
