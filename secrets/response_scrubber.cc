// ResponseScrubber: replaces echoed secret values in responses by their placeholders, streaming,
// with the same split-independent engine as the request side.
#include "secrets/response_scrubber.h"

#include <openssl/crypto.h>

namespace msb::secrets {

ResponseScrubber::ResponseScrubber(std::shared_ptr<const SecretSet> set) : set_(std::move(set)) {
  std::vector<internal::Pattern> patterns;
  for (const Secret& s : set_->secrets()) {
    patterns.push_back({s.value.Reveal(), s.spec.placeholder});
  }
  replacer_ = internal::Replacer(std::move(patterns));
}

bool ResponseScrubber::ScrubHeader(std::string* value) const {
  if (replacer_.empty()) {
    return false;
  }
  // Most header values hold no value at all: a find per secret costs no allocation.
  bool any = false;
  for (const Secret& s : set_->secrets()) {
    any = any || value->find(s.value.Reveal()) != std::string::npos;
  }
  if (!any) {
    return false;
  }
  size_t replaced = 0;
  std::string out = replacer_.ReplaceAll(*value, &replaced);
  if (replaced == 0) {
    return false;
  }
  OPENSSL_cleanse(value->data(), value->size());
  *value = std::move(out);
  return true;
}

void ResponseScrubber::Feed(std::span<const uint8_t> in, std::string* out) {
  std::string_view bytes(reinterpret_cast<const char*>(in.data()), in.size());
  if (replacer_.empty()) {
    out->append(bytes);
    return;
  }
  scrubbed_ = replacer_.Stream(bytes, /*final=*/false, &held_, out) > 0 || scrubbed_;
}

void ResponseScrubber::Finish(std::string* out) {
  size_t replaced = 0;
  replacer_.Process(held_, /*final=*/true, out, &replaced);
  OPENSSL_cleanse(held_.data(), held_.size());
  held_.clear();
  scrubbed_ = scrubbed_ || replaced > 0;
}

}  // namespace msb::secrets
