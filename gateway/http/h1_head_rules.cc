// Head rules (h1_head_rules.h): framing (Content-Length / Transfer-Encoding), connection options,
// Host and request-target checks. Everything here works on the fields llhttp tokenised and the
// scanner already checked byte by byte, so it only has to decide meaning, never syntax of lines.
#include "gateway/http/h1_head_rules.h"

#include <cstdint>
#include <limits>
#include <vector>

#include "base/strings.h"
#include "gateway/http/h1_chars.h"

namespace msb::gateway::http {
namespace {

constexpr size_t kMaxHostLength = 255;

std::string_view TrimWhitespace(std::string_view s) {
  while (!s.empty() && IsWhitespace(static_cast<uint8_t>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && IsWhitespace(static_cast<uint8_t>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

// ListElements splits a comma-separated field value into trimmed elements (empty ones included).
std::vector<std::string_view> ListElements(std::string_view value) {
  std::vector<std::string_view> out;
  while (true) {
    size_t comma = value.find(',');
    out.push_back(TrimWhitespace(value.substr(0, comma)));
    if (comma == std::string_view::npos) {
      return out;
    }
    value.remove_prefix(comma + 1);
  }
}

struct Framing {
  BodyKind body = BodyKind::kNone;
  uint64_t content_length = 0;
  bool has_transfer_encoding = false;
  bool close = false;       // Connection: close
  bool keep_alive = false;  // Connection: keep-alive
  bool upgrade = false;     // Connection: upgrade
};

// ReadFraming applies the Content-Length / Transfer-Encoding / Connection rules shared by
// requests and responses.
H1Error ReadFraming(const std::vector<Header>& headers, bool request, uint8_t minor, Framing* f,
                    std::string_view* detail) {
  const Header* content_length = nullptr;
  std::vector<std::string_view> codings;
  size_t transfer_encodings = 0;
  for (const Header& h : headers) {
    if (EqualsIgnoreCase(h.name, "Content-Length")) {
      if (content_length != nullptr) {
        *detail = "more than one Content-Length";
        return H1Error::kConflictingContentLength;
      }
      content_length = &h;
    } else if (EqualsIgnoreCase(h.name, "Transfer-Encoding")) {
      ++transfer_encodings;
      for (std::string_view coding : ListElements(h.value)) {
        codings.push_back(coding);
      }
    } else if (EqualsIgnoreCase(h.name, "Connection")) {
      for (std::string_view option : ListElements(h.value)) {
        f->close |= EqualsIgnoreCase(option, "close");
        f->keep_alive |= EqualsIgnoreCase(option, "keep-alive");
        f->upgrade |= EqualsIgnoreCase(option, "upgrade");
      }
    }
  }
  if (content_length != nullptr && transfer_encodings > 0) {
    *detail = "both Content-Length and Transfer-Encoding";
    return H1Error::kContentLengthAndTransferEncoding;
  }
  if (content_length != nullptr) {
    auto length = ParseUint(content_length->value, 0, std::numeric_limits<int64_t>::max());
    if (!length) {
      *detail = "Content-Length is not a decimal number";
      return H1Error::kBadContentLength;
    }
    f->body = BodyKind::kContentLength;
    f->content_length = *length;
    return H1Error::kNone;
  }
  if (transfer_encodings == 0) {
    return H1Error::kNone;
  }
  f->has_transfer_encoding = true;
  if (minor == 0) {
    *detail = "Transfer-Encoding in an HTTP/1.0 message";
    return H1Error::kBadTransferEncoding;
  }
  if (request && (transfer_encodings != 1 || codings.size() != 1)) {
    *detail = "a request's Transfer-Encoding must be exactly chunked";
    return H1Error::kBadTransferEncoding;
  }
  for (size_t i = 0; i < codings.size(); ++i) {
    bool last = i + 1 == codings.size();
    if (!IsToken(codings[i]) || EqualsIgnoreCase(codings[i], "chunked") != last) {
      *detail = "Transfer-Encoding must end with chunked, once";
      return H1Error::kBadTransferEncoding;
    }
  }
  f->body = BodyKind::kChunked;
  return H1Error::kNone;
}

bool KeepAlive(uint8_t minor, const Framing& f) {
  return minor == 1 ? !f.close : f.keep_alive && !f.close;
}

H1Error CheckVersion(uint8_t major, uint8_t minor, std::string_view* detail) {
  if (major != 1 || minor > 1) {
    *detail = "only HTTP/1.0 and HTTP/1.1";
    return H1Error::kUnsupportedVersion;
  }
  return H1Error::kNone;
}

// ReadTarget classifies the request-target and extracts the authority of absolute-form and
// authority-form targets.
H1Error ReadTarget(RequestHead* head, std::string* target_authority, std::string_view* detail) {
  std::string_view t = head->target;
  *detail = "request-target not allowed";
  if (t.find('#') != std::string_view::npos) {
    *detail = "fragment in request-target";
    return H1Error::kBadTarget;
  }
  if (head->is_connect) {
    head->target_form = TargetForm::kAuthority;
    return ParseAuthority(t, /*require_port=*/true, target_authority) ? H1Error::kNone
                                                                      : H1Error::kBadTarget;
  }
  if (t == "*") {
    head->target_form = TargetForm::kAsterisk;
    return head->method == "OPTIONS" ? H1Error::kNone : H1Error::kBadTarget;
  }
  if (!t.empty() && t.front() == '/') {
    head->target_form = TargetForm::kOrigin;
    return t.size() > 1 && t[1] == '/' ? H1Error::kBadTarget : H1Error::kNone;
  }
  size_t scheme_end = t.find("://");
  if (scheme_end == std::string_view::npos ||
      (!EqualsIgnoreCase(t.substr(0, scheme_end), "http") &&
       !EqualsIgnoreCase(t.substr(0, scheme_end), "https"))) {
    return H1Error::kBadTarget;
  }
  head->target_form = TargetForm::kAbsolute;
  std::string_view rest = t.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  return ParseAuthority(authority, /*require_port=*/false, target_authority) ? H1Error::kNone
                                                                             : H1Error::kBadTarget;
}

// ReadHost applies the Host rules and sets head->authority.
H1Error ReadHost(RequestHead* head, const std::string& target_authority, std::string_view* detail) {
  const Header* host = nullptr;
  for (const Header& h : head->headers) {
    if (EqualsIgnoreCase(h.name, "Host")) {
      if (host != nullptr) {
        *detail = "more than one Host";
        return H1Error::kDuplicateHost;
      }
      host = &h;
    }
  }
  head->authority = target_authority;
  if (host == nullptr) {
    if (head->version_minor == 1) {
      *detail = "HTTP/1.1 request without Host";
      return H1Error::kMissingHost;
    }
    return H1Error::kNone;
  }
  std::string host_authority;
  if (!ParseAuthority(host->value, /*require_port=*/false, &host_authority)) {
    *detail = "Host is not host[:port]";
    return H1Error::kBadHost;
  }
  if (target_authority.empty()) {
    head->authority = host_authority;
    return H1Error::kNone;
  }
  bool match = host_authority == target_authority;
  if (head->is_connect && !match) {
    // "CONNECT example.com:443" with "Host: example.com" (RFC 9110 9.3.6's own example form).
    match = target_authority.size() > host_authority.size() &&
            target_authority.compare(0, host_authority.size(), host_authority) == 0 &&
            target_authority[host_authority.size()] == ':' &&
            host_authority.find(':') == std::string::npos;
  }
  if (!match) {
    *detail = "Host differs from the request-target's authority";
    return H1Error::kHostMismatch;
  }
  return H1Error::kNone;
}

bool ValidHostName(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostLength) {
    return false;
  }
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return false;
    }
    for (char c : host.substr(1, host.size() - 2)) {
      if (HexValue(static_cast<uint8_t>(c)) < 0 && c != ':' && c != '.') {
        return false;
      }
    }
    return true;
  }
  for (char c : host) {
    auto u = static_cast<uint8_t>(c);
    if (!IsDigit(u) && !((u | 0x20) >= 'a' && (u | 0x20) <= 'z') && c != '-' && c != '.' &&
        c != '_' && c != '~') {
      return false;
    }
  }
  return true;
}

}  // namespace

bool ParseAuthority(std::string_view text, bool require_port, std::string* normalized) {
  size_t host_end = text.find(':');
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    host_end = close == std::string_view::npos ? close : close + 1;
  }
  std::string_view host = text.substr(0, host_end);
  std::string_view rest = host_end == std::string_view::npos ? "" : text.substr(host_end);
  if (!ValidHostName(host)) {
    return false;
  }
  if (!rest.empty() && (rest.front() != ':' || !ParseUint(rest.substr(1), 1, 65535))) {
    return false;
  }
  if (require_port && rest.empty()) {
    return false;
  }
  normalized->clear();
  for (char c : host) {
    normalized->push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  normalized->append(rest);
  return true;
}

H1Error FinishRequestHead(uint8_t http_major, RequestHead* head, std::string_view* detail) {
  if (H1Error e = CheckVersion(http_major, head->version_minor, detail); e != H1Error::kNone) {
    return e;
  }
  head->is_connect = head->method == "CONNECT";
  std::string target_authority;
  if (H1Error e = ReadTarget(head, &target_authority, detail); e != H1Error::kNone) {
    return e;
  }
  if (H1Error e = ReadHost(head, target_authority, detail); e != H1Error::kNone) {
    return e;
  }
  Framing f;
  if (H1Error e = ReadFraming(head->headers, /*request=*/true, head->version_minor, &f, detail);
      e != H1Error::kNone) {
    return e;
  }
  if (head->is_connect && (f.has_transfer_encoding || f.content_length > 0)) {
    *detail = "CONNECT with a body";
    return H1Error::kBodyNotAllowed;
  }
  head->body = f.body;
  head->content_length = f.content_length;
  head->keep_alive = KeepAlive(head->version_minor, f);
  head->expect_continue = false;
  bool has_upgrade = false;
  for (const Header& h : head->headers) {
    has_upgrade |= EqualsIgnoreCase(h.name, "Upgrade");
    head->expect_continue |=
        EqualsIgnoreCase(h.name, "Expect") && EqualsIgnoreCase(h.value, "100-continue");
  }
  // RFC 9110 10.1.1 and 7.8: both are ignored in HTTP/1.0 requests.
  head->expect_continue &= head->version_minor == 1;
  head->is_upgrade = head->version_minor == 1 && has_upgrade && f.upgrade && !head->is_connect;
  return H1Error::kNone;
}

H1Error FinishResponseHead(uint8_t http_major, const ResponseContext& context, ResponseHead* head,
                           std::string_view* detail) {
  if (H1Error e = CheckVersion(http_major, head->version_minor, detail); e != H1Error::kNone) {
    return e;
  }
  if (head->status < 100 || head->status > 599) {
    *detail = "status outside 100-599";
    return H1Error::kBadStatus;
  }
  if (head->status == 101 && !context.upgrade_requested) {
    *detail = "101 to a request that did not ask to upgrade";
    return H1Error::kUnexpectedStatus;
  }
  Framing f;
  if (H1Error e = ReadFraming(head->headers, /*request=*/false, head->version_minor, &f, detail);
      e != H1Error::kNone) {
    return e;
  }
  uint16_t s = head->status;
  head->interim = s / 100 == 1 && s != 101;
  head->starts_tunnel = s == 101 || (context.to_connect && s / 100 == 2);
  bool no_body = s / 100 == 1 || s == 204 || s == 304 || context.to_head || head->starts_tunnel;
  head->body = no_body                     ? BodyKind::kNone
               : f.body == BodyKind::kNone ? BodyKind::kUntilClose
                                           : f.body;
  head->content_length = head->body == BodyKind::kContentLength ? f.content_length : 0;
  head->keep_alive = KeepAlive(head->version_minor, f) && head->body != BodyKind::kUntilClose;
  return H1Error::kNone;
}

}  // namespace msb::gateway::http
