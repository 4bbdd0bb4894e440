// HTTP/1.1 writers (h1_writer.h). Validation uses the same character classes as the parser
// (h1_chars.h), so whatever is written parses back to the same fields.
#include "gateway/http/h1_writer.h"

#include <array>
#include <cstdio>

#include "gateway/http/h1_chars.h"

namespace msb::gateway::http {
namespace {

bool ValidHeaders(const std::vector<Header>& headers) {
  for (const Header& h : headers) {
    if (!IsToken(h.name) || !IsFieldValue(h.value)) {
      return false;
    }
  }
  return true;
}

void AppendHeaders(const std::vector<Header>& headers, std::string* out) {
  for (const Header& h : headers) {
    out->append(h.name).append(": ").append(h.value).append("\r\n");
  }
  out->append("\r\n");
}

bool ValidReason(std::string_view reason) {
  for (char c : reason) {
    if (!IsFieldValueChar(static_cast<uint8_t>(c))) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool AppendRequestHead(const RequestHead& head, std::string* out) {
  if (!IsToken(head.method) || head.target.empty() || head.version_minor > 1 ||
      !ValidHeaders(head.headers)) {
    return false;
  }
  for (char c : head.target) {
    if (!IsTargetChar(static_cast<uint8_t>(c))) {
      return false;
    }
  }
  out->append(head.method).append(" ").append(head.target).append(" HTTP/1.");
  out->push_back(static_cast<char>('0' + head.version_minor));
  out->append("\r\n");
  AppendHeaders(head.headers, out);
  return true;
}

bool AppendResponseHead(const ResponseHead& head, std::string* out) {
  if (head.status < 100 || head.status > 599 || head.version_minor > 1 ||
      !ValidReason(head.reason) || !ValidHeaders(head.headers)) {
    return false;
  }
  out->append("HTTP/1.");
  out->push_back(static_cast<char>('0' + head.version_minor));
  out->append(" ").append(std::to_string(head.status)).append(" ").append(head.reason);
  out->append("\r\n");
  AppendHeaders(head.headers, out);
  return true;
}

void AppendChunk(std::span<const uint8_t> data, std::string* out) {
  if (data.empty()) {
    return;
  }
  std::array<char, 24> size{};
  int n = std::snprintf(size.data(), size.size(), "%zx\r\n", data.size());
  out->append(size.data(), static_cast<size_t>(n));
  out->append(reinterpret_cast<const char*>(data.data()), data.size());
  out->append("\r\n");
}

bool AppendLastChunk(const std::vector<Header>& trailers, std::string* out) {
  if (!ValidHeaders(trailers)) {
    return false;
  }
  out->append("0\r\n");
  AppendHeaders(trailers, out);
  return true;
}

std::string SimpleResponse(uint16_t status, std::string_view reason, std::string_view body,
                           const std::vector<Header>& extra, bool close) {
  ResponseHead head;
  head.status = status >= 100 && status <= 599 ? status : 500;
  head.reason = ValidReason(reason) ? std::string(reason) : std::string();
  head.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  head.headers.push_back({"Content-Length", std::to_string(body.size())});
  if (close) {
    head.headers.push_back({"Connection", "close"});
  }
  for (const Header& h : extra) {
    bool framing = EqualsIgnoreCase(h.name, "Content-Length") ||
                   EqualsIgnoreCase(h.name, "Transfer-Encoding") ||
                   EqualsIgnoreCase(h.name, "Connection");
    if (!framing && IsToken(h.name) && IsFieldValue(h.value)) {
      head.headers.push_back(h);
    }
  }
  std::string out;
  if (!AppendResponseHead(head, &out)) {
    return SimpleResponse(500, "Internal Server Error", "");  // unreachable: every field checked
  }
  out.append(body);
  return out;
}

}  // namespace msb::gateway::http
