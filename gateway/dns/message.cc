// DNS wire format (dns_message.h): the query and response parsers and the builders for responses
// the gateway synthesizes (names are decoded in dns_name.cc). All input is untrusted (guest
// queries, upstream answers), so every read goes through ByteReader, every loop is bounded by the
// message size or a fixed cap, and every failure is a value with a short reason.
#include "gateway/dns/message.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <utility>

#include "base/byte_reader.h"

namespace msb::gateway::dns {
namespace {

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxAnswers = 256;
constexpr uint32_t kMaxTtl = 0x7FFFFFFF;  // RFC 2181 8: larger values mean zero

constexpr uint16_t kQr = 0x8000;
constexpr uint16_t kAa = 0x0400;
constexpr uint16_t kTc = 0x0200;
constexpr uint16_t kRd = 0x0100;
constexpr uint16_t kRa = 0x0080;
constexpr uint16_t kRcodeMask = 0x000F;
// The question name of a synthesized response always starts right after the header.
constexpr uint16_t kPointerToQuestion = 0xC000 | kHeaderSize;

struct Header {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qdcount = 0;
  uint16_t ancount = 0;
  uint16_t nscount = 0;
  uint16_t arcount = 0;
};

bool ReadHeader(ByteReader* r, Header* h) {
  return r->ReadU16(&h->id) && r->ReadU16(&h->flags) && r->ReadU16(&h->qdcount) &&
         r->ReadU16(&h->ancount) && r->ReadU16(&h->nscount) && r->ReadU16(&h->arcount);
}

uint8_t OpcodeOf(uint16_t flags) {
  return static_cast<uint8_t>((flags >> 11) & 0xF);
}

// ReadNameAt reads the name at the cursor of a reader over the whole message (dns_name.cc).
Status ReadNameAt(ByteReader* r, bool allow_pointers, std::string* out) {
  size_t offset = r->position();
  if (Status s = ReadName(r->whole(), &offset, allow_pointers, out); !s.ok()) {
    return s;
  }
  return r->Seek(offset) ? Status::Ok() : Status::Error("name runs past the end");
}

struct Record {
  std::string name;
  uint16_t type = 0;
  uint16_t rclass = 0;
  uint32_t ttl = 0;
  size_t rdata_offset = 0;
  std::span<const uint8_t> rdata;
};

// ReadRecord reads one resource record's framing; the rdata is returned, not interpreted.
Status ReadRecord(ByteReader* r, Record* rec) {
  if (Status s = ReadNameAt(r, /*allow_pointers=*/true, &rec->name); !s.ok()) {
    return s;
  }
  uint16_t rdlength = 0;
  if (!r->ReadU16(&rec->type) || !r->ReadU16(&rec->rclass) || !r->ReadU32(&rec->ttl) ||
      !r->ReadU16(&rdlength)) {
    return Status::Error("truncated record header");
  }
  rec->rdata_offset = r->position();
  if (!r->ReadBytes(rdlength, &rec->rdata)) {
    return Status::Error("record data runs past the end");
  }
  return Status::Ok();
}

Status ReadQuestion(ByteReader* r, bool allow_pointers, Question* q) {
  if (Status s = ReadNameAt(r, allow_pointers, &q->name); !s.ok()) {
    const std::string& why = s.message();
    return Status::Error(why.starts_with("name ") ? "question " + why : "question name: " + why);
  }
  if (!r->ReadU16(&q->qtype) || !r->ReadU16(&q->qclass)) {
    return Status::Error("truncated question");
  }
  return Status::Ok();
}

// ToAnswer interprets the rdata the gateway cares about: addresses (to pin) and CNAME targets (to
// follow). Other types are kept with their owner, type, class and TTL only.
Status ToAnswer(std::span<const uint8_t> message, const Record& rec, ResourceRecord* out) {
  out->name = rec.name;
  out->type = rec.type;
  out->rclass = rec.rclass;
  out->ttl = rec.ttl > kMaxTtl ? 0 : rec.ttl;
  ByteReader rdata(rec.rdata);
  if (rec.type == static_cast<uint16_t>(RType::kA) && rec.rclass == kClassIn) {
    uint32_t v4 = 0;
    if (rec.rdata.size() != 4 || !rdata.ReadU32(&v4)) {
      return Status::Error("A record data is not 4 octets");
    }
    out->address = IpAddress::V4(v4);
  } else if (rec.type == static_cast<uint16_t>(RType::kAaaa) && rec.rclass == kClassIn) {
    std::span<const uint8_t> bytes;
    if (rec.rdata.size() != 16 || !rdata.ReadBytes(16, &bytes)) {
      return Status::Error("AAAA record data is not 16 octets");
    }
    std::array<uint8_t, 16> v6{};
    std::copy(bytes.begin(), bytes.end(), v6.begin());
    out->address = IpAddress::V6(v6);
  } else if (rec.type == static_cast<uint16_t>(RType::kCname)) {
    // The target may point anywhere earlier in the message, so read it with the whole message.
    size_t offset = rec.rdata_offset;
    if (Status s = ReadName(message, &offset, /*allow_pointers=*/true, &out->target); !s.ok()) {
      return Status::Error("CNAME target: " + s.message());
    }
    if (offset != rec.rdata_offset + rec.rdata.size()) {
      return Status::Error("CNAME target does not fill its record data");
    }
  }
  return Status::Ok();
}

void PutU16(std::vector<uint8_t>* out, uint16_t v) {
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}

void PutU32(std::vector<uint8_t>* out, uint32_t v) {
  PutU16(out, static_cast<uint16_t>(v >> 16));
  PutU16(out, static_cast<uint16_t>(v));
}

void PutHeader(std::vector<uint8_t>* out, uint16_t id, uint16_t flags, uint16_t qdcount,
               uint16_t ancount) {
  PutU16(out, id);
  PutU16(out, flags);
  PutU16(out, qdcount);
  PutU16(out, ancount);
  PutU16(out, 0);  // NSCOUNT
  PutU16(out, 0);  // ARCOUNT
}

// ResponseFlags: QR and RA set, opcode and RD echoed, TC clear.
uint16_t ResponseFlags(uint8_t opcode, bool rd, bool aa, Rcode rcode) {
  return static_cast<uint16_t>(kQr | ((opcode & 0xFu) << 11) | (aa ? kAa : 0u) | (rd ? kRd : 0u) |
                               kRa | static_cast<uint16_t>(rcode));
}

}  // namespace

std::variant<Query, QueryError> ParseQuery(std::span<const uint8_t> message) {
  if (message.size() > kMaxMessageSize) {
    return QueryError{"message longer than 65535 octets", std::nullopt, 0};
  }
  ByteReader r(message);
  Header h;
  if (!ReadHeader(&r, &h)) {
    return QueryError{"truncated header", std::nullopt, 0};
  }
  if ((h.flags & kQr) != 0) {
    // No id: a response is dropped, never answered, so two responders cannot bounce errors.
    return QueryError{"not a query (QR is set)", std::nullopt, h.flags};
  }
  auto fail = [&h](std::string reason) { return QueryError{std::move(reason), h.id, h.flags}; };
  if (h.qdcount != 1) {
    return fail("question count is " + std::to_string(h.qdcount) + ", not 1");
  }
  if (h.ancount != 0 || h.nscount != 0) {
    return fail("query has answer or authority records");
  }
  Query q;
  q.id = h.id;
  q.flags = h.flags;
  q.opcode = OpcodeOf(h.flags);
  q.rd = (h.flags & kRd) != 0;
  size_t question_start = r.position();
  if (Status s = ReadQuestion(&r, /*allow_pointers=*/false, &q.question); !s.ok()) {
    return fail(s.message());
  }
  std::span<const uint8_t> raw = message.subspan(question_start, r.position() - question_start);
  q.raw_question.assign(raw.begin(), raw.end());
  // Additional records: skipped (each takes at least 11 octets, so the message bounds the loop),
  // except the single OPT that carries the requester's UDP payload size.
  for (uint16_t i = 0; i < h.arcount; ++i) {
    Record rec;
    if (Status s = ReadRecord(&r, &rec); !s.ok()) {
      return fail(s.message());
    }
    if (rec.type != static_cast<uint16_t>(RType::kOpt)) {
      continue;
    }
    if (q.edns_udp_size) {
      return fail("more than one OPT record");
    }
    if (!rec.name.empty()) {
      return fail("OPT record owner is not the root");
    }
    q.edns_udp_size = rec.rclass < kDefaultUdpPayload ? kDefaultUdpPayload : rec.rclass;
  }
  if (!r.empty()) {
    return fail("trailing bytes after the last record");
  }
  return q;
}

Result<Response> ParseResponse(std::span<const uint8_t> message) {
  if (message.size() > kMaxMessageSize) {
    return Status::Error("message longer than 65535 octets");
  }
  ByteReader r(message);
  Header h;
  if (!ReadHeader(&r, &h)) {
    return Status::Error("truncated header");
  }
  if ((h.flags & kQr) == 0) {
    return Status::Error("not a response (QR is clear)");
  }
  if (h.qdcount > 1) {
    return Status::Error("more than one question");
  }
  if (h.ancount > kMaxAnswers) {
    return Status::Error("more than 256 answers");
  }
  Response resp;
  resp.id = h.id;
  resp.flags = h.flags;
  resp.rcode = static_cast<Rcode>(h.flags & kRcodeMask);
  resp.truncated = (h.flags & kTc) != 0;
  if (h.qdcount == 1) {
    Question q;
    if (Status s = ReadQuestion(&r, /*allow_pointers=*/true, &q); !s.ok()) {
      return s;
    }
    resp.questions.push_back(std::move(q));
  }
  resp.answers.reserve(h.ancount);
  for (uint16_t i = 0; i < h.ancount; ++i) {
    Record rec;
    if (Status s = ReadRecord(&r, &rec); !s.ok()) {
      return s;
    }
    ResourceRecord rr;
    if (Status s = ToAnswer(message, rec, &rr); !s.ok()) {
      return s;
    }
    resp.answers.push_back(std::move(rr));
  }
  // Authority and additional: framing only (the counts are u16 and each record takes at least
  // 11 octets, so the message size bounds the walk).
  uint32_t rest = uint32_t{h.nscount} + h.arcount;
  for (uint32_t i = 0; i < rest; ++i) {
    Record rec;
    if (Status s = ReadRecord(&r, &rec); !s.ok()) {
      return s;
    }
  }
  if (!r.empty()) {
    return Status::Error("trailing bytes after the last record");
  }
  return resp;
}

std::vector<uint8_t> BuildError(const Query& query, Rcode rcode) {
  std::vector<uint8_t> out;
  out.reserve(kHeaderSize + query.raw_question.size());
  PutHeader(&out, query.id, ResponseFlags(query.opcode, query.rd, /*aa=*/false, rcode), 1, 0);
  out.insert(out.end(), query.raw_question.begin(), query.raw_question.end());
  return out;
}

std::vector<uint8_t> BuildFormErr(uint16_t id, uint16_t query_flags) {
  std::vector<uint8_t> out;
  out.reserve(kHeaderSize);
  PutHeader(
      &out, id,
      ResponseFlags(OpcodeOf(query_flags), (query_flags & kRd) != 0, /*aa=*/false, Rcode::kFormErr),
      0, 0);
  return out;
}

// BuildAddressAnswer: only A queries get IPv4 addresses and only AAAA queries IPv6 ones; any other
// query type gets an empty NOERROR answer. At most 256 records are written, the most ParseResponse
// accepts. The query must come from ParseQuery: the owner pointer relies on raw_question.
std::vector<uint8_t> BuildAddressAnswer(const Query& query, std::span<const IpAddress> addresses,
                                        uint32_t ttl) {
  std::optional<IpFamily> family;
  if (query.question.qtype == static_cast<uint16_t>(RType::kA)) {
    family = IpFamily::kV4;
  } else if (query.question.qtype == static_cast<uint16_t>(RType::kAaaa)) {
    family = IpFamily::kV6;
  }
  uint16_t count = 0;
  for (const IpAddress& ip : addresses) {
    if (family && ip.family() == *family && count < kMaxAnswers) {
      ++count;
    }
  }
  std::vector<uint8_t> out;
  out.reserve(kHeaderSize + query.raw_question.size() + size_t{count} * 28);
  PutHeader(&out, query.id, ResponseFlags(query.opcode, query.rd, /*aa=*/true, Rcode::kNoError), 1,
            count);
  out.insert(out.end(), query.raw_question.begin(), query.raw_question.end());
  uint16_t written = 0;
  for (const IpAddress& ip : addresses) {
    if (written == count) {
      break;
    }
    if (!family || ip.family() != *family) {
      continue;
    }
    PutU16(&out, kPointerToQuestion);
    PutU16(&out, query.question.qtype);
    PutU16(&out, kClassIn);
    PutU32(&out, ttl);
    PutU16(&out, static_cast<uint16_t>(ip.byte_length()));
    out.insert(out.end(), ip.bytes().begin(),
               ip.bytes().begin() + static_cast<std::ptrdiff_t>(ip.byte_length()));
    ++written;
  }
  return out;
}

// BuildTruncated keeps the upstream's flags (rcode, AA, RA) and sets TC; QR is forced so the
// result is a response whatever the caller passes.
std::vector<uint8_t> BuildTruncated(const Query& query, uint16_t response_flags) {
  std::vector<uint8_t> out;
  out.reserve(kHeaderSize + query.raw_question.size());
  PutHeader(&out, query.id, static_cast<uint16_t>(response_flags | kQr | kTc), 1, 0);
  out.insert(out.end(), query.raw_question.begin(), query.raw_question.end());
  return out;
}

void SetId(std::span<uint8_t> message, uint16_t id) {
  if (message.size() < kHeaderSize) {
    return;
  }
  message[0] = static_cast<uint8_t>(id >> 8);
  message[1] = static_cast<uint8_t>(id);
}

std::string RcodeName(uint8_t rcode) {
  static constexpr std::array<const char*, 6> kNames = {"NOERROR",  "FORMERR", "SERVFAIL",
                                                        "NXDOMAIN", "NOTIMP",  "REFUSED"};
  return rcode < kNames.size() ? kNames[rcode] : "RCODE" + std::to_string(rcode);
}

std::string TypeName(uint16_t type) {
  static constexpr std::pair<RType, const char*> kNames[] = {
      {RType::kA, "A"},     {RType::kNs, "NS"},   {RType::kCname, "CNAME"}, {RType::kSoa, "SOA"},
      {RType::kPtr, "PTR"}, {RType::kMx, "MX"},   {RType::kTxt, "TXT"},     {RType::kAaaa, "AAAA"},
      {RType::kSrv, "SRV"}, {RType::kOpt, "OPT"}, {RType::kHttps, "HTTPS"}, {RType::kAny, "ANY"}};
  for (const auto& [t, name] : kNames) {
    if (static_cast<uint16_t>(t) == type) {
      return name;
    }
  }
  return "TYPE" + std::to_string(type);
}

}  // namespace msb::gateway::dns
