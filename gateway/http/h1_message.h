// HTTP/1.1 message model shared by the parser (h1_parser.h) and the writer (h1_writer.h): parsed
// heads with the framing and routing facts the gateway derives from them, the error codes every
// rejection is reported with (stable names for audit events), and the limits that bound what one
// connection can make the parser hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace msb::gateway::http {

// Header is one field line. `name` is as sent (case preserved; compare with EqualsIgnoreCase);
// `value` has its leading and trailing whitespace (SP / HTAB) removed.
struct Header {
  std::string name;
  std::string value;

  bool operator==(const Header&) const = default;
};

// BodyKind is how a message's body is delimited (RFC 9112 6.3).
enum class BodyKind : uint8_t {
  kNone,           // no body (no framing headers, or a response that cannot have one)
  kContentLength,  // exactly `content_length` bytes
  kChunked,        // Transfer-Encoding with chunked as the final coding
  kUntilClose,     // responses only: everything until the connection closes
};

// TargetForm is the request-target's form (RFC 9112 3.2).
enum class TargetForm : uint8_t {
  kOrigin,     // "/path?query" (any method but CONNECT)
  kAbsolute,   // "http://host/path" or "https://..." (any method but CONNECT)
  kAuthority,  // "host:port" (CONNECT only)
  kAsterisk,   // "*" (OPTIONS only)
};

struct RequestHead {
  std::string method;         // as sent (methods are case-sensitive)
  std::string target;         // as sent, bytes 0x21-0x7E only
  uint8_t version_minor = 1;  // HTTP/1.0 or HTTP/1.1; nothing else is accepted
  std::vector<Header> headers;

  // Derived by the parser:
  TargetForm target_form = TargetForm::kOrigin;
  // `authority` is "host" or "host:port", host lowercased: from an absolute-form or authority-form
  // target when present, else from the single Host header; "" for an HTTP/1.0 request without
  // either. When both a target authority and Host are present they are equal (else kHostMismatch).
  std::string authority;
  BodyKind body = BodyKind::kNone;  // never kUntilClose for a request
  uint64_t content_length = 0;      // meaningful for kContentLength only
  bool keep_alive = true;           // the connection may carry another request after this one
  bool expect_continue = false;     // "Expect: 100-continue" on an HTTP/1.1 request
  bool is_connect = false;          // method CONNECT (authority-form target, no body)
  bool is_upgrade = false;          // HTTP/1.1 with an Upgrade header and "Connection: upgrade"

  // PathWithoutQuery is the path of an origin-form or absolute-form target, without the query
  // ("/" when an absolute-form target has no path); "*" for asterisk-form; "" for authority-form.
  // The view points into `target` (or at a literal) and is valid while the head is unchanged.
  std::string_view PathWithoutQuery() const;

  bool operator==(const RequestHead&) const = default;
};

struct ResponseHead {
  uint16_t status = 200;  // 100-599
  std::string reason;     // may be empty
  uint8_t version_minor = 1;
  std::vector<Header> headers;

  // Derived by the parser (framing depends on the request, see H1Parser::ExpectResponseTo):
  BodyKind body = BodyKind::kNone;
  uint64_t content_length = 0;
  bool keep_alive = true;
  bool interim = false;        // 1xx other than 101: the final response to the request follows
  bool starts_tunnel = false;  // 101 to an upgrade request, or 2xx to CONNECT

  bool operator==(const ResponseHead&) const = default;
};

// H1Error says why a message was rejected. Every value has a stable snake_case name
// (H1ErrorName) used in audit events; add new values at the end.
enum class H1Error : uint8_t {
  kNone,
  kMalformed,       // syntax the grammar does not allow (start line, field line, bare CR/LF)
  kHeadTooLarge,    // head above H1Limits::max_head_bytes
  kTooManyHeaders,  // more than H1Limits::max_headers field lines
  kContentLengthAndTransferEncoding,
  kConflictingContentLength,  // more than one Content-Length field (even with equal values)
  kBadContentLength,          // not 1*DIGIT, a leading zero, or above 2^63-1
  kObsFold,                   // a field line starting with SP / HTAB (obsolete line folding)
  kSpaceBeforeColon,          // whitespace after a field name: "Name : v", "Na me: v"
  kEmptyHeaderName,           // ": value"
  kInvalidHeaderChar,         // a byte a field name or value may not hold (controls, DEL, ...)
  kBadChunk,                  // chunk-size line or chunk framing not as RFC 9112 7.1 allows
  kTrailersTooLarge,          // trailer section above H1Limits::max_trailer_bytes
  kForbiddenTrailer,          // a framing or routing field (Content-Length, Host, ...) as trailer
  kDuplicateHost,
  kMissingHost,          // HTTP/1.1 request without Host
  kBadHost,              // Host / target authority not host[:port]
  kHostMismatch,         // Host differs from the absolute-form target's authority
  kBadTransferEncoding,  // see h1_head_rules.h for the accepted codings
  kBadTarget,            // bytes or form the method does not allow
  kUnsupportedVersion,   // anything but HTTP/1.0 and HTTP/1.1
  kBadStatus,            // status outside 100-599
  kUnexpectedResponse,   // a response with no request outstanding (ExpectResponseTo)
  kUnexpectedStatus,     // 101 to a request that did not ask to upgrade
  kBodyNotAllowed,       // a CONNECT request with a body
  kTruncated,            // the connection ended inside a message
};

// H1ErrorName is the stable snake_case name of `error` ("none", "malformed", "obs_fold", ...).
std::string_view H1ErrorName(H1Error error);

// H1Limits bounds what one parser holds; defaults are the gateway's.
struct H1Limits {
  size_t max_head_bytes = 64 * 1024;     // start line + field lines + final CRLF
  size_t max_headers = 256;              // field lines in a head (and in a trailer section)
  size_t max_trailer_bytes = 16 * 1024;  // trailer section including its final CRLF
  size_t max_chunk_line_bytes = 256;     // chunk size + extensions + CRLF
  size_t max_pending_responses = 128;    // requests a response parser may be told to expect
};

// EqualsIgnoreCase compares ASCII case-insensitively (field names, tokens, schemes).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// FindHeader returns the first header named `name` (case-insensitive), or nullptr.
const Header* FindHeader(const std::vector<Header>& headers, std::string_view name);

}  // namespace msb::gateway::http
