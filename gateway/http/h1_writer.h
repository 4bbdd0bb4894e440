// HTTP/1.1 serialisation for the proxy: heads are re-serialised from parsed fields (raw head bytes
// are never forwarded, which is what keeps smuggled bytes out), bodies are re-chunked, and short
// responses the gateway answers itself (421, 403, ...) are built complete.
//
// The head writers refuse, rather than escape, anything the parser would not accept back: a
// method or field name that is not a token, a target outside 0x21-0x7E, a value or reason with
// CR, LF, NUL or another control byte, or a value with surrounding whitespace. This matters once
// header values are rewritten (secret substitution): a rewritten value can never inject a line.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/h1_message.h"

namespace msb::gateway::http {

// AppendRequestHead appends "METHOD SP target SP HTTP/1.x CRLF", "Name: value CRLF" per header,
// and CRLF. Only method, target, version_minor and headers are used. Returns false (appending
// nothing) when a field could not be parsed back.
[[nodiscard]] bool AppendRequestHead(const RequestHead& head, std::string* out);

// AppendResponseHead appends "HTTP/1.x SP status SP reason CRLF", the headers, and CRLF (status
// 100-599). Returns false (appending nothing) as AppendRequestHead does.
[[nodiscard]] bool AppendResponseHead(const ResponseHead& head, std::string* out);

// AppendChunk appends one chunk (hex size CRLF data CRLF); nothing for empty data, which would
// otherwise be the last chunk.
void AppendChunk(std::span<const uint8_t> data, std::string* out);

// AppendLastChunk appends "0 CRLF", the trailer fields, and CRLF. Returns false (appending
// nothing) for a trailer that could not be parsed back.
[[nodiscard]] bool AppendLastChunk(const std::vector<Header>& trailers, std::string* out);

// SimpleResponse is a complete HTTP/1.1 response the gateway generates: the status line,
// "Content-Type: text/plain; charset=utf-8", "Content-Length", "Connection: close" when `close`,
// the `extra` headers, and `body`. Meant for gateway-chosen constants; still, a status outside
// 100-599 becomes 500, an invalid reason becomes empty, and an extra header that is invalid or
// would change framing (Content-Length, Transfer-Encoding, Connection) is left out.
std::string SimpleResponse(uint16_t status, std::string_view reason, std::string_view body,
                           const std::vector<Header>& extra = {}, bool close = true);

}  // namespace msb::gateway::http
