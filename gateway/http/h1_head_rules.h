// The semantic rules a tokenised head must satisfy before the gateway acts on it, and the framing
// and routing facts derived from it (RFC 9110 / RFC 9112, applied strictly: every ambiguity that
// lets two parsers disagree about where a message ends or where it goes is an error, because the
// gateway and the upstream must never see different messages).
//
// Decisions (each fails closed with the named H1Error):
//  * Content-Length: exactly one field, 1*DIGIT without a leading zero, at most 2^63-1. Two fields
//    are kConflictingContentLength even when equal, and a list ("5, 5") is kBadContentLength.
//  * Transfer-Encoding with Content-Length: kContentLengthAndTransferEncoding. In an HTTP/1.0
//    message: kBadTransferEncoding. Requests: exactly one field whose value is "chunked" (gzip and
//    other codings are refused; upstreams rarely support them and they hide the body from
//    inspection). Responses: a comma list of tokens, "chunked" exactly once and last.
//  * Host: at most one (kDuplicateHost); required in HTTP/1.1 (kMissingHost); host[:port] where
//    host is a DNS-style name (ALPHA DIGIT - . _ ~), dotted IPv4 or a bracketed IPv6 literal and
//    port is 1-65535 without a leading zero (kBadHost). An absolute-form target's authority must
//    equal Host exactly (host compared case-insensitively); a CONNECT target must equal Host or
//    have Host as its host part (kHostMismatch).
//  * Targets: origin-form ("/", not "//"), absolute-form with scheme http or https and no userinfo,
//    authority-form host:port for CONNECT only, "*" for OPTIONS only, never a fragment ("#")
//    (kBadTarget). A CONNECT request may not have a body (kBodyNotAllowed).
//  * Versions: HTTP/1.0 and HTTP/1.1 only. Statuses: 100-599; 101 only when an upgrade was asked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gateway/http/h1_message.h"

namespace msb::gateway::http {

// FinishRequestHead validates `head` (method, target, version_minor and headers as tokenised;
// `http_major` is the version's major digit) and fills its derived fields. On error the derived
// fields are unspecified and *detail holds static text.
H1Error FinishRequestHead(uint8_t http_major, RequestHead* head, std::string_view* detail);

// What a response parser knows about the request a response answers.
struct ResponseContext {
  bool to_head = false;            // HEAD: no body whatever the headers say
  bool to_connect = false;         // CONNECT: a 2xx starts a tunnel
  bool upgrade_requested = false;  // the request asked to upgrade: 101 is allowed
};

// FinishResponseHead is FinishRequestHead for a response to a request described by `context`.
H1Error FinishResponseHead(uint8_t http_major, const ResponseContext& context, ResponseHead* head,
                           std::string_view* detail);

// ParseAuthority checks host[:port] as described above and writes it with the host lowercased.
// `require_port` is for CONNECT targets.
bool ParseAuthority(std::string_view text, bool require_port, std::string* normalized);

}  // namespace msb::gateway::http
