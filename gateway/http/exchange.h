// HttpExchange: one request and its response as the HTTP relays report them, for the audit
// log's http.request events. The relays (h1_relay, h2_relay) fill it; they do not know the audit
// format: whoever owns the relay (the intercepting session) writes the record.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace msb::gateway::http {

struct HttpExchange {
  std::string_view proto;      // "h1" | "h2"
  std::string method;
  std::string authority;       // as the request named it (lowercased host[:port])
  std::string path;            // without the query: queries may carry credentials
  uint16_t status = 0;         // the final response's status; 0 when there was none
  uint64_t bytes_up = 0;       // request body bytes forwarded
  uint64_t bytes_down = 0;     // response body bytes delivered
  int64_t duration_ms = 0;     // from the request head to the end of the response
  // refused: why the gateway refused the request without sending it upstream ("" when it was
  // forwarded): "authority_mismatch", an h1/h2 framing error name, ...
  std::string refused;
  // end: how the exchange ended: "complete", "reset", "closed" (the connection ended first).
  std::string_view end = "complete";
  // Secrets: the env var names whose placeholders were substituted in this request, and the one
  // whose placeholder refused it ("" when none did). Names only, never values.
  std::vector<std::string> secrets_injected;
  std::string blocked_secret;
};

class ExchangeObserver {
 public:
  virtual ~ExchangeObserver() = default;
  // OnExchange is called once per request the relay saw, in the order the requests came.
  virtual void OnExchange(const HttpExchange& exchange) = 0;
};

}  // namespace msb::gateway::http
