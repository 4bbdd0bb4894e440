// DNS wire format (RFC 1035, EDNS0 RFC 6891): a sans-I/O parser for guest queries and upstream
// responses, and builders for the responses the gateway synthesizes. Every byte is read through
// msb::ByteReader; names are decompressed with a bounded number of pointer jumps and the 255-octet
// limit; nothing here allocates without a bound or trusts a length field.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/ip_address.h"
#include "base/status.h"

namespace msb::gateway::dns {

inline constexpr size_t kMaxMessageSize = 65535;
inline constexpr uint16_t kDefaultUdpPayload = 512;  // without EDNS (RFC 1035 4.2.1)

enum class RType : uint16_t {
  kA = 1,
  kNs = 2,
  kCname = 5,
  kSoa = 6,
  kPtr = 12,
  kMx = 15,
  kTxt = 16,
  kAaaa = 28,
  kSrv = 33,
  kOpt = 41,
  kHttps = 65,
  kAny = 255,
};
inline constexpr uint16_t kClassIn = 1;

enum class Rcode : uint8_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
};

// Question: `name` is in presentation form, lowercased (ASCII), without the trailing dot; bytes
// outside [a-z0-9-_] and dots inside labels are escaped as \DDD (as dig prints them), so a name
// is printable, loggable, and never ambiguous. The root is "".
struct Question {
  std::string name;
  uint16_t qtype = 0;
  uint16_t qclass = 0;
};

// Query is a parsed guest query.
struct Query {
  uint16_t id = 0;
  uint16_t flags = 0;  // the raw header flags word
  uint8_t opcode = 0;
  bool rd = false;
  Question question;
  // EDNS: the requester's UDP payload size when an OPT record is present (values below 512 are
  // treated as 512, per RFC 6891 6.2.5).
  std::optional<uint16_t> edns_udp_size;
  // The question section exactly as received (for echoing back, preserving 0x20 case).
  std::vector<uint8_t> raw_question;
};

// QueryError is why a guest query was not accepted. When `id` is set the header was readable and
// a FORMERR response can be built for it (BuildFormErr).
struct QueryError {
  std::string reason;
  std::optional<uint16_t> id;
  uint16_t flags = 0;
};

// ParseQuery accepts a standard query: QR=0, exactly one question (QDCOUNT 1), no compression in
// the question name, answer/authority counts zero, additional records limited to at most one OPT
// (others are skipped), nothing after the last record.
std::variant<Query, QueryError> ParseQuery(std::span<const uint8_t> message);

struct ResourceRecord {
  std::string name;  // owner, presentation form as in Question
  uint16_t type = 0;
  uint16_t rclass = 0;
  uint32_t ttl = 0;
  std::optional<IpAddress> address;  // A / AAAA (class IN) with a well-formed rdata
  std::string target;                // CNAME (decompressed, presentation form)
};

struct Response {
  uint16_t id = 0;
  uint16_t flags = 0;
  Rcode rcode = Rcode::kNoError;  // the low four bits; extended rcodes are not interpreted
  bool truncated = false;
  std::vector<Question> questions;
  std::vector<ResourceRecord> answers;  // the answer section only
};

// ParseResponse parses an upstream response (QR=1). Authority and additional sections are
// validated for framing but not returned. At most 256 answers are returned; more is an error.
Result<Response> ParseResponse(std::span<const uint8_t> message);

// Builders. Responses echo the query's id, opcode and RD, set QR and RA, and carry the question
// exactly as received; none has an authority section (so a synthesized NXDOMAIN is recognisable).
std::vector<uint8_t> BuildError(const Query& query, Rcode rcode);
std::vector<uint8_t> BuildFormErr(uint16_t id, uint16_t query_flags);  // no question section
// BuildAddressAnswer answers `query` authoritatively (AA) with A or AAAA records (the address
// family must match the query type) for its own name, with `ttl`.
std::vector<uint8_t> BuildAddressAnswer(const Query& query, std::span<const IpAddress> addresses,
                                        uint32_t ttl);
// BuildTruncated is the header and question of `response_flags` with TC=1 and no records: the
// stub retries over TCP.
std::vector<uint8_t> BuildTruncated(const Query& query, uint16_t response_flags);

// ReadName decodes the name at `*offset` of `message` into presentation form (as Question::name)
// and moves `*offset` past the name's in-place part (after its first pointer, if any). Labels are
// 1-63 octets and the name at most 255; a compression pointer (an error unless `allow_pointers`)
// must point past the header and strictly before the labels that contain it, at most 64 of them.
// On error `*offset` is unchanged. Defined in dns_name.cc.
Status ReadName(std::span<const uint8_t> message, size_t* offset, bool allow_pointers,
                std::string* out);

// SetId rewrites the id of a message (no-op for messages shorter than a header).
void SetId(std::span<uint8_t> message, uint16_t id);
// RcodeName gives "NOERROR", "NXDOMAIN", ... ("RCODE12" for others).
std::string RcodeName(uint8_t rcode);
// TypeName gives "A", "AAAA", ... ("TYPE65534" for others).
std::string TypeName(uint16_t type);

}  // namespace msb::gateway::dns
