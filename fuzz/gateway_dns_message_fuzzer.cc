// libFuzzer harness for the DNS codec: any bytes must parse or fail cleanly as a query and as a
// response, and every response the gateway would synthesize for an accepted query (error,
// truncated, address answer) must parse back with the query's question, so a guest can never make
// the gateway emit a malformed message.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "gateway/dns/message.h"

namespace {

namespace dns = msb::gateway::dns;

constexpr size_t kMaxInput = 64 * 1024;

[[noreturn]] void Violation(const char* what, const std::string& detail) {
  std::fprintf(stderr, "%s: %s\n", what, detail.c_str());
  std::abort();
}

// CheckReparses parses a built response and checks it carries the query's id and question and
// `answers` records, each owned by the question name.
void CheckReparses(const char* what, const dns::Query& query, const std::vector<uint8_t>& built,
                   size_t answers) {
  auto parsed = dns::ParseResponse(built);
  if (!parsed.ok()) {
    Violation(what, parsed.error());
  }
  const dns::Response& r = parsed.value();
  if (r.id != query.id || r.questions.size() != 1 || r.answers.size() != answers) {
    Violation(what, "wrong id or section counts");
  }
  const dns::Question& q = r.questions[0];
  if (q.name != query.question.name || q.qtype != query.question.qtype ||
      q.qclass != query.question.qclass) {
    Violation(what, "question " + q.name + " != " + query.question.name);
  }
  for (const dns::ResourceRecord& rr : r.answers) {
    if (rr.name != query.question.name || !rr.address) {
      Violation(what, "answer owner " + rr.name + " != " + query.question.name);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);  // libFuzzer's entry

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) {
    return 0;
  }
  std::span<const uint8_t> input(data, size);
  (void)dns::ParseResponse(input);
  auto parsed = dns::ParseQuery(input);
  const auto* query = std::get_if<dns::Query>(&parsed);
  if (query == nullptr) {
    return 0;
  }
  CheckReparses("BuildError", *query, dns::BuildError(*query, dns::Rcode::kRefused), 0);
  CheckReparses("BuildTruncated", *query, dns::BuildTruncated(*query, 0x8583), 0);
  const msb::IpAddress addresses[] = {msb::IpAddress::V4(0x5DB8D822),
                                      *msb::IpAddress::Parse("2001:db8::1")};
  uint16_t qtype = query->question.qtype;
  bool address_query = qtype == static_cast<uint16_t>(dns::RType::kA) ||
                       qtype == static_cast<uint16_t>(dns::RType::kAaaa);
  CheckReparses("BuildAddressAnswer", *query, dns::BuildAddressAnswer(*query, addresses, 60),
                address_query ? 1 : 0);
  return 0;
}
