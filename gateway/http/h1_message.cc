// HTTP/1.1 message model (h1_message.h): error names, the path view, small field helpers.
#include "gateway/http/h1_message.h"
#include "base/strings.h"

#include <algorithm>
#include <array>

namespace msb::gateway::http {
namespace {

// Indexed by H1Error; the static_assert below keeps it in step with the enum.
constexpr std::array<std::string_view, 26> kErrorNames = {
    "none",
    "malformed",
    "head_too_large",
    "too_many_headers",
    "content_length_and_transfer_encoding",
    "conflicting_content_length",
    "bad_content_length",
    "obs_fold",
    "space_before_colon",
    "empty_header_name",
    "invalid_header_char",
    "bad_chunk",
    "trailers_too_large",
    "forbidden_trailer",
    "duplicate_host",
    "missing_host",
    "bad_host",
    "host_mismatch",
    "bad_transfer_encoding",
    "bad_target",
    "unsupported_version",
    "bad_status",
    "unexpected_response",
    "unexpected_status",
    "body_not_allowed",
    "truncated",
};
static_assert(kErrorNames.size() == static_cast<size_t>(H1Error::kTruncated) + 1);

}  // namespace

std::string_view H1ErrorName(H1Error error) {
  size_t i = static_cast<size_t>(error);
  return i < kErrorNames.size() ? kErrorNames[i] : "unknown";
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return EqualsIgnoreAsciiCase(a, b);
}

const Header* FindHeader(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) {
      return &h;
    }
  }
  return nullptr;
}

std::string_view RequestHead::PathWithoutQuery() const {
  std::string_view t = target;
  switch (target_form) {
    case TargetForm::kAuthority:
      return {};
    case TargetForm::kAsterisk:
      return t;
    case TargetForm::kAbsolute: {
      size_t scheme_end = t.find("://");
      t = scheme_end == std::string_view::npos ? std::string_view() : t.substr(scheme_end + 3);
      size_t path = t.find_first_of("/?");
      t = path == std::string_view::npos ? std::string_view() : t.substr(path);
      if (t.empty() || t.front() == '?') {
        return "/";
      }
      break;
    }
    case TargetForm::kOrigin:
      break;
  }
  return t.substr(0, t.find('?'));
}

}  // namespace msb::gateway::http
