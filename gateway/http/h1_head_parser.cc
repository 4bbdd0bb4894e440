// HeadParser (h1_head_parser.h) over llhttp 8.1.0. Each head gets a freshly initialised llhttp
// state; on_headers_complete returns 2 ("no body, pause"), so llhttp stops exactly at the end of
// the head and never parses a body. Span callbacks append, the field-complete callback flags the
// Content-Length conflicts llhttp would otherwise report under one ambiguous errno, and errors are
// read after llhttp_execute returns.
#include "gateway/http/h1_head_parser.h"

#include <llhttp.h>

#include "gateway/http/h1_chars.h"

namespace msb::gateway::http {

struct HeadParser::Impl {
  llhttp_t llhttp{};
  bool request = true;
  RawHead head;
  std::string name;  // the field name being read
  bool complete = false;
  bool seen_content_length = false;
  bool seen_transfer_encoding = false;
  H1Error error = H1Error::kNone;  // flagged by a callback
  std::string_view detail;
};

namespace {

HeadParser::Impl* ImplOf(llhttp_t* p) {
  return static_cast<HeadParser::Impl*>(p->data);
}

int OnMethod(llhttp_t* p, const char* at, size_t length) {
  ImplOf(p)->head.method.append(at, length);
  return 0;
}

int OnUrl(llhttp_t* p, const char* at, size_t length) {
  ImplOf(p)->head.target.append(at, length);
  return 0;
}

int OnStatus(llhttp_t* p, const char* at, size_t length) {
  ImplOf(p)->head.reason.append(at, length);
  return 0;
}

int OnHeaderField(llhttp_t* p, const char* at, size_t length) {
  ImplOf(p)->name.append(at, length);
  return 0;
}

int OnHeaderFieldComplete(llhttp_t* p) {
  HeadParser::Impl* impl = ImplOf(p);
  bool is_cl = EqualsIgnoreCase(impl->name, "Content-Length");
  bool is_te = EqualsIgnoreCase(impl->name, "Transfer-Encoding");
  if ((is_cl && impl->seen_transfer_encoding) || (is_te && impl->seen_content_length)) {
    impl->error = H1Error::kContentLengthAndTransferEncoding;
    impl->detail = "both Content-Length and Transfer-Encoding";
    return -1;
  }
  if (is_cl && impl->seen_content_length) {
    impl->error = H1Error::kConflictingContentLength;
    impl->detail = "more than one Content-Length";
    return -1;
  }
  impl->seen_content_length |= is_cl;
  impl->seen_transfer_encoding |= is_te;
  impl->head.headers.push_back(Header{std::move(impl->name), {}});
  impl->name.clear();
  return 0;
}

int OnHeaderValue(llhttp_t* p, const char* at, size_t length) {
  HeadParser::Impl* impl = ImplOf(p);
  if (!impl->head.headers.empty()) {
    impl->head.headers.back().value.append(at, length);
  }
  return 0;
}

int OnHeaderValueComplete(llhttp_t* p) {
  HeadParser::Impl* impl = ImplOf(p);
  if (impl->head.headers.empty()) {
    return 0;
  }
  std::string& v = impl->head.headers.back().value;
  size_t end = v.size();
  while (end > 0 && IsWhitespace(static_cast<uint8_t>(v[end - 1]))) {
    --end;
  }
  size_t begin = 0;
  while (begin < end && IsWhitespace(static_cast<uint8_t>(v[begin]))) {
    ++begin;
  }
  v = v.substr(begin, end - begin);
  return 0;
}

int OnHeadersComplete(llhttp_t* p) {
  HeadParser::Impl* impl = ImplOf(p);
  impl->complete = true;
  impl->head.major = llhttp_get_http_major(p);
  impl->head.minor = llhttp_get_http_minor(p);
  impl->head.status = static_cast<uint16_t>(llhttp_get_status_code(p));
  return 2;  // no body; llhttp_execute returns HPE_PAUSED_UPGRADE right here
}

const llhttp_settings_t* Settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_method = OnMethod;
    s.on_url = OnUrl;
    s.on_status = OnStatus;
    s.on_header_field = OnHeaderField;
    s.on_header_field_complete = OnHeaderFieldComplete;
    s.on_header_value = OnHeaderValue;
    s.on_header_value_complete = OnHeaderValueComplete;
    s.on_headers_complete = OnHeadersComplete;
    return s;
  }();
  return &settings;
}

H1Error MapErrno(llhttp_errno_t e) {
  switch (e) {
    case HPE_INVALID_URL:
      return H1Error::kBadTarget;
    case HPE_INVALID_VERSION:
    case HPE_PAUSED_H2_UPGRADE:
      return H1Error::kUnsupportedVersion;
    case HPE_INVALID_HEADER_TOKEN:
      return H1Error::kInvalidHeaderChar;
    case HPE_INVALID_CONTENT_LENGTH:
      return H1Error::kBadContentLength;
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      return H1Error::kConflictingContentLength;
    case HPE_INVALID_TRANSFER_ENCODING:
      return H1Error::kBadTransferEncoding;
    case HPE_INVALID_STATUS:
      return H1Error::kBadStatus;
    default:
      return H1Error::kMalformed;
  }
}

}  // namespace

HeadParser::HeadParser(bool request) : impl_(std::make_unique<Impl>()) {
  impl_->request = request;
  Begin();
}

HeadParser::~HeadParser() = default;

void HeadParser::Begin() {
  llhttp_init(&impl_->llhttp, impl_->request ? HTTP_REQUEST : HTTP_RESPONSE, Settings());
  impl_->llhttp.data = impl_.get();
  impl_->head = RawHead{};
  impl_->name.clear();
  impl_->complete = false;
  impl_->seen_content_length = false;
  impl_->seen_transfer_encoding = false;
  impl_->error = H1Error::kNone;
  impl_->detail = {};
}

HeadParser::Step HeadParser::Feed(std::span<const uint8_t> data) {
  Step step;
  if (data.empty()) {
    return step;
  }
  if (impl_->complete) {
    step.error = H1Error::kMalformed;
    step.detail = "bytes after the end of the head";
    return step;
  }
  const char* begin = reinterpret_cast<const char*>(data.data());
  llhttp_errno_t e = llhttp_execute(&impl_->llhttp, begin, data.size());
  if (impl_->error != H1Error::kNone) {
    step.error = impl_->error;
    step.detail = impl_->detail;
  } else if (e == HPE_PAUSED_UPGRADE && impl_->complete) {
    step.complete = llhttp_get_error_pos(&impl_->llhttp) == begin + data.size();
    if (!step.complete) {
      step.error = H1Error::kMalformed;
      step.detail = "llhttp ended the head before the scanner did";
    }
  } else if (e != HPE_OK) {
    step.error = MapErrno(e);
    const char* reason = llhttp_get_error_reason(&impl_->llhttp);
    step.detail = reason != nullptr ? reason : "llhttp error";
  }
  return step;
}

RawHead& HeadParser::head() {
  return impl_->head;
}

}  // namespace msb::gateway::http
