// Tests for the DNS codec: every rejection path of both parsers (they face untrusted guests and
// upstreams), name decoding and escaping, compression safety, exact bytes of what the builders
// emit, and round trips of every builder through ParseResponse.
#include "gateway/dns/message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace msb::gateway::dns {
namespace {

using ::testing::HasSubstr;

// Wire assembles test messages by hand, so the tests do not depend on the code under test.
struct Wire {
  std::vector<uint8_t> b;

  Wire& U8(unsigned v) {
    b.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  Wire& U16(unsigned v) { return U8(v >> 8).U8(v & 0xFF); }
  Wire& U32(uint32_t v) { return U16(v >> 16).U16(v & 0xFFFF); }
  Wire& Bytes(std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Wire& Label(std::string_view s) { return U8(static_cast<unsigned>(s.size())).Bytes(s); }
  // Name writes a dotted name without compression, ending with the root.
  Wire& Name(std::string_view dotted) {
    while (!dotted.empty()) {
      size_t dot = dotted.find('.');
      Label(dotted.substr(0, dot));
      dotted = dot == std::string_view::npos ? "" : dotted.substr(dot + 1);
    }
    return U8(0);
  }
  Wire& Ptr(unsigned offset) { return U16(0xC000 | offset); }
  Wire& Header(unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar) {
    return U16(id).U16(flags).U16(qd).U16(an).U16(ns).U16(ar);
  }
  Wire& Question(std::string_view name, unsigned type) { return Name(name).U16(type).U16(1); }
  // RecordHead writes type, class, TTL and rdlength after an owner the caller wrote.
  Wire& RecordHead(unsigned type, unsigned rclass, uint32_t ttl, unsigned rdlength) {
    return U16(type).U16(rclass).U32(ttl).U16(rdlength);
  }
  Wire& Opt(unsigned udp_size) { return U8(0).RecordHead(41, udp_size, 0, 0); }
  size_t size() const { return b.size(); }
};

std::vector<uint8_t> QueryFor(std::string_view name, unsigned type) {
  return Wire().Header(0x1234, 0x0100, 1, 0, 0, 0).Question(name, type).b;
}

Query MustParseQuery(const std::vector<uint8_t>& message) {
  auto parsed = ParseQuery(message);
  if (auto* err = std::get_if<QueryError>(&parsed)) {
    ADD_FAILURE() << "ParseQuery failed: " << err->reason;
    return Query{};
  }
  return std::get<Query>(std::move(parsed));
}

QueryError MustFailQuery(const std::vector<uint8_t>& message) {
  auto parsed = ParseQuery(message);
  if (std::holds_alternative<Query>(parsed)) {
    ADD_FAILURE() << "ParseQuery accepted a bad query";
    return QueryError{};
  }
  return std::get<QueryError>(std::move(parsed));
}

std::string ResponseError(const std::vector<uint8_t>& message) {
  auto parsed = ParseResponse(message);
  if (parsed.ok()) {
    ADD_FAILURE() << "ParseResponse accepted a bad response";
    return "";
  }
  return parsed.error();
}

IpAddress Ip(std::string_view text) {
  return *IpAddress::Parse(text);
}

// --- ParseQuery --------------------------------------------------------------------------------

TEST(DnsParseQueryTest, ExampleComAFromHandWrittenBytes) {
  const std::vector<uint8_t> message = {
      0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,     // header, RD
      7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',  3,    'c',  'o',  'm',  0,  // name
      0x00, 0x01, 0x00, 0x01};                                                    // A, IN
  EXPECT_EQ(message, QueryFor("example.com", 1));
  Query q = MustParseQuery(message);
  EXPECT_EQ(q.id, 0x1234);
  EXPECT_EQ(q.flags, 0x0100);
  EXPECT_EQ(q.opcode, 0);
  EXPECT_TRUE(q.rd);
  EXPECT_EQ(q.question.name, "example.com");
  EXPECT_EQ(q.question.qtype, static_cast<uint16_t>(RType::kA));
  EXPECT_EQ(q.question.qclass, kClassIn);
  EXPECT_FALSE(q.edns_udp_size.has_value());
  EXPECT_EQ(q.raw_question, std::vector<uint8_t>(message.begin() + 12, message.end()));
}

TEST(DnsParseQueryTest, MixedCaseIsLoweredInNameButKeptInRawQuestion) {
  auto message = Wire().Header(1, 0, 1, 0, 0, 0).Question("ExAmPlE.CoM", 28).b;
  Query q = MustParseQuery(message);
  EXPECT_EQ(q.question.name, "example.com");
  EXPECT_FALSE(q.rd);
  EXPECT_EQ(q.raw_question, Wire().Question("ExAmPlE.CoM", 28).b);
}

TEST(DnsParseQueryTest, EscapesBytesOutsideLetterDigitHyphenUnderscore) {
  auto message = Wire()
                     .Header(1, 0, 1, 0, 0, 0)
                     .Label("a.b")
                     .Label("sp ace")
                     .Label("\xff")
                     .Label("back\\slash")
                     .Label("_sip-X9")
                     .U8(0)
                     .U16(16)
                     .U16(1)
                     .b;
  EXPECT_EQ(MustParseQuery(message).question.name,
            "a\\046b.sp\\032ace.\\255.back\\092slash._sip-x9");
}

TEST(DnsParseQueryTest, RootName) {
  Query q = MustParseQuery(Wire().Header(1, 0, 1, 0, 0, 0).U8(0).U16(2).U16(1).b);
  EXPECT_EQ(q.question.name, "");
  EXPECT_EQ(q.raw_question, (std::vector<uint8_t>{0, 0, 2, 0, 1}));
}

TEST(DnsParseQueryTest, OtherOpcodesAreParsed) {
  Query q = MustParseQuery(Wire().Header(7, 0x1100, 1, 0, 0, 0).Question("a.b", 1).b);  // STATUS
  EXPECT_EQ(q.opcode, 2);
  EXPECT_TRUE(q.rd);
}

TEST(DnsParseQueryTest, EdnsUdpSize) {
  Query q = MustParseQuery(Wire().Header(1, 0, 1, 0, 0, 1).Question("a.b", 1).Opt(4096).b);
  EXPECT_EQ(q.edns_udp_size, 4096);
  q = MustParseQuery(Wire().Header(1, 0, 1, 0, 0, 1).Question("a.b", 1).Opt(100).b);
  EXPECT_EQ(q.edns_udp_size, 512);
  // The OPT may carry options (here a cookie): skipped as rdata.
  q = MustParseQuery(Wire()
                         .Header(1, 0, 1, 0, 0, 1)
                         .Question("a.b", 1)
                         .U8(0)
                         .RecordHead(41, 1232, 0, 12)
                         .U16(10)
                         .U16(8)
                         .U32(1)
                         .U32(2)
                         .b);
  EXPECT_EQ(q.edns_udp_size, 1232);
}

TEST(DnsParseQueryTest, OtherAdditionalRecordsAreSkipped) {
  auto message = Wire()
                     .Header(1, 0, 1, 0, 0, 2)
                     .Question("a.b", 1)
                     .Ptr(12)  // compression is fine outside the question
                     .RecordHead(16, 1, 0, 3)
                     .Label("hi")
                     .Opt(1400)
                     .b;
  EXPECT_EQ(MustParseQuery(message).edns_udp_size, 1400);
}

TEST(DnsParseQueryTest, TruncatedHeaderHasNoId) {
  QueryError e = MustFailQuery(std::vector<uint8_t>(11, 0));
  EXPECT_THAT(e.reason, HasSubstr("truncated header"));
  EXPECT_FALSE(e.id.has_value());
}

TEST(DnsParseQueryTest, ResponsesAreRejectedWithoutId) {
  QueryError e = MustFailQuery(Wire().Header(9, 0x8100, 1, 0, 0, 0).Question("a.b", 1).b);
  EXPECT_THAT(e.reason, HasSubstr("QR"));
  EXPECT_FALSE(e.id.has_value());
}

TEST(DnsParseQueryTest, QuestionCountMustBeOne) {
  QueryError e = MustFailQuery(Wire().Header(0xBEEF, 0x0100, 0, 0, 0, 0).b);
  EXPECT_THAT(e.reason, HasSubstr("question count"));
  EXPECT_EQ(e.id, 0xBEEF);
  EXPECT_EQ(e.flags, 0x0100);
  e = MustFailQuery(Wire().Header(0xBEEF, 0, 2, 0, 0, 0).Question("a.b", 1).Question("c.d", 1).b);
  EXPECT_THAT(e.reason, HasSubstr("question count"));
  EXPECT_EQ(e.id, 0xBEEF);
}

TEST(DnsParseQueryTest, AnswerAndAuthorityCountsMustBeZero) {
  auto answer = Wire().Header(5, 0, 1, 1, 0, 0).Question("a.b", 1).Ptr(12).RecordHead(1, 1, 0, 4);
  answer.U32(0x01020304);
  QueryError e = MustFailQuery(answer.b);
  EXPECT_THAT(e.reason, HasSubstr("answer or authority"));
  EXPECT_EQ(e.id, 5);
  auto authority =
      Wire().Header(5, 0, 1, 0, 1, 0).Question("a.b", 1).Ptr(12).RecordHead(1, 1, 0, 4);
  authority.U32(0x01020304);
  EXPECT_THAT(MustFailQuery(authority.b).reason, HasSubstr("answer or authority"));
}

TEST(DnsParseQueryTest, QuestionNameMustNotUseCompression) {
  // Refused before it is followed: the question is echoed verbatim, so it must be self-contained.
  QueryError e = MustFailQuery(Wire().Header(5, 0, 1, 0, 0, 0).Label("a").Ptr(12).U16(1).U16(1).b);
  EXPECT_EQ(e.reason, "question name uses compression");
  EXPECT_EQ(e.id, 5);
}

TEST(DnsParseQueryTest, LabelLongerThan63) {
  auto ok = Wire().Header(5, 0, 1, 0, 0, 0).Label(std::string(63, 'a')).U8(0).U16(1).U16(1);
  EXPECT_EQ(MustParseQuery(ok.b).question.name, std::string(63, 'a'));
  auto bad = Wire().Header(5, 0, 1, 0, 0, 0).Label(std::string(64, 'a')).U8(0).U16(1).U16(1);
  QueryError e = MustFailQuery(bad.b);
  EXPECT_THAT(e.reason, HasSubstr("label longer than 63 octets"));
  EXPECT_EQ(e.id, 5);
  // 0x80 is a reserved label type, not a length.
  auto reserved = Wire().Header(5, 0, 1, 0, 0, 0).U8(0x80).U8(0).U16(1).U16(1);
  EXPECT_THAT(MustFailQuery(reserved.b).reason, HasSubstr("label longer than 63 octets"));
}

TEST(DnsParseQueryTest, NameLongerThan255) {
  std::string l63(63, 'a');
  // 3 * (1 + 63) + (1 + 61) + 1 = 255 octets: the longest legal name.
  std::string longest = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'b');
  EXPECT_EQ(MustParseQuery(QueryFor(longest, 1)).question.name, longest);
  QueryError e = MustFailQuery(QueryFor(longest + "b", 1));
  EXPECT_THAT(e.reason, HasSubstr("name longer than 255 octets"));
  EXPECT_EQ(e.id, 0x1234);
}

TEST(DnsParseQueryTest, TruncatedQuestion) {
  auto message = QueryFor("example.com", 1);
  message.pop_back();
  EXPECT_THAT(MustFailQuery(message).reason, HasSubstr("truncated question"));
  message.resize(12 + 5);  // in the middle of "example"
  EXPECT_THAT(MustFailQuery(message).reason, HasSubstr("runs past the end"));
}

TEST(DnsParseQueryTest, TrailingBytes) {
  auto message = QueryFor("example.com", 1);
  message.push_back(0);
  QueryError e = MustFailQuery(message);
  EXPECT_THAT(e.reason, HasSubstr("trailing bytes"));
  EXPECT_EQ(e.id, 0x1234);
}

TEST(DnsParseQueryTest, OptRules) {
  auto two = Wire().Header(5, 0, 1, 0, 0, 2).Question("a.b", 1).Opt(1232).Opt(1232);
  EXPECT_THAT(MustFailQuery(two.b).reason, HasSubstr("more than one OPT"));
  auto owner =
      Wire().Header(5, 0, 1, 0, 0, 1).Question("a.b", 1).Name("x").RecordHead(41, 1232, 0, 0);
  EXPECT_THAT(MustFailQuery(owner.b).reason, HasSubstr("OPT record owner is not the root"));
}

TEST(DnsParseQueryTest, AdditionalRecordFraming) {
  auto beyond = Wire().Header(5, 0, 1, 0, 0, 1).Question("a.b", 1).U8(0).RecordHead(41, 512, 0, 4);
  beyond.U16(0);  // two of the four announced octets
  EXPECT_THAT(MustFailQuery(beyond.b).reason, HasSubstr("record data runs past the end"));
  auto missing = Wire().Header(5, 0, 1, 0, 0, 1).Question("a.b", 1);
  EXPECT_THAT(MustFailQuery(missing.b).reason, HasSubstr("runs past the end"));
  auto short_head = Wire().Header(5, 0, 1, 0, 0, 1).Question("a.b", 1).U8(0).U16(41).U16(512);
  EXPECT_THAT(MustFailQuery(short_head.b).reason, HasSubstr("truncated record header"));
}

TEST(DnsParseQueryTest, OversizedMessage) {
  auto message = QueryFor("a.b", 1);
  message.resize(kMaxMessageSize + 1);
  EXPECT_THAT(MustFailQuery(message).reason, HasSubstr("longer than 65535"));
}

// --- ParseResponse -----------------------------------------------------------------------------

TEST(DnsParseResponseTest, CnameChainWithCompression) {
  Wire w;
  w.Header(0x4242, 0x8180, 1, 3, 0, 0).Question("www.Example.com", 1);  // www at 12, example at 16
  w.Ptr(12).RecordHead(5, 1, 300, 6).Label("cdn").Ptr(16);              // target cdn.example.com
  size_t cdn = w.size() - 6;
  w.Ptr(static_cast<unsigned>(cdn)).RecordHead(1, 1, 60, 4).U32(0x5DB8D822);
  w.Ptr(static_cast<unsigned>(cdn)).RecordHead(1, 1, 60, 4).U32(0x5DB8D823);
  auto parsed = ParseResponse(w.b);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  const Response& r = parsed.value();
  EXPECT_EQ(r.id, 0x4242);
  EXPECT_EQ(r.flags, 0x8180);
  EXPECT_EQ(r.rcode, Rcode::kNoError);
  EXPECT_FALSE(r.truncated);
  ASSERT_EQ(r.questions.size(), 1u);
  EXPECT_EQ(r.questions[0].name, "www.example.com");
  ASSERT_EQ(r.answers.size(), 3u);
  EXPECT_EQ(r.answers[0].name, "www.example.com");
  EXPECT_EQ(r.answers[0].type, 5);
  EXPECT_EQ(r.answers[0].ttl, 300u);
  EXPECT_EQ(r.answers[0].target, "cdn.example.com");
  EXPECT_FALSE(r.answers[0].address.has_value());
  EXPECT_EQ(r.answers[1].name, "cdn.example.com");
  EXPECT_EQ(r.answers[1].address, Ip("93.184.216.34"));
  EXPECT_EQ(r.answers[1].ttl, 60u);
  EXPECT_EQ(r.answers[2].address, Ip("93.184.216.35"));
}

TEST(DnsParseResponseTest, AaaaAndUnknownTypes) {
  Wire w;
  w.Header(1, 0x8180, 1, 2, 0, 0).Question("a.b", 28);
  w.Ptr(12).RecordHead(28, 1, 1, 16).U32(0x20010db8).U32(0).U32(0).U32(1);
  w.Ptr(12).RecordHead(99, 1, 1, 3).Label("hi");  // kept with its header fields only
  auto parsed = ParseResponse(w.b);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  ASSERT_EQ(parsed.value().answers.size(), 2u);
  EXPECT_EQ(parsed.value().answers[0].address, Ip("2001:db8::1"));
  EXPECT_EQ(parsed.value().answers[1].type, 99);
  EXPECT_FALSE(parsed.value().answers[1].address.has_value());
}

TEST(DnsParseResponseTest, NxDomainWithSoaAndOpt) {
  Wire w;
  w.Header(1, 0x8183, 1, 0, 1, 1).Question("nope.example.com", 1);
  w.Ptr(17).RecordHead(6, 1, 900, 3 + 2 + 2 + 2 + 20);  // owner example.com
  w.Label("ns").Ptr(17).Label("h").Ptr(17).U32(1).U32(2).U32(3).U32(4).U32(5);
  w.Opt(1232);
  auto parsed = ParseResponse(w.b);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed.value().rcode, Rcode::kNxDomain);
  EXPECT_TRUE(parsed.value().answers.empty());
  EXPECT_EQ(parsed.value().questions[0].name, "nope.example.com");
}

TEST(DnsParseResponseTest, TruncatedFlagAndNoQuestion) {
  auto parsed = ParseResponse(Wire().Header(3, 0x8382, 0, 0, 0, 0).b);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_TRUE(parsed.value().truncated);
  EXPECT_EQ(parsed.value().rcode, Rcode::kServFail);
  EXPECT_TRUE(parsed.value().questions.empty());
}

TEST(DnsParseResponseTest, HeaderRules) {
  EXPECT_THAT(ResponseError(std::vector<uint8_t>(11, 0x80)), HasSubstr("truncated header"));
  EXPECT_THAT(ResponseError(QueryFor("a.b", 1)), HasSubstr("QR"));
  auto two = Wire().Header(1, 0x8000, 2, 0, 0, 0).Question("a.b", 1).Question("c.d", 1);
  EXPECT_THAT(ResponseError(two.b), HasSubstr("more than one question"));
}

TEST(DnsParseResponseTest, AtMost256Answers) {
  for (unsigned count : {256u, 257u}) {
    Wire w;
    w.Header(1, 0x8180, 1, count, 0, 0).Question("a.b", 1);
    for (unsigned i = 0; i < count; ++i) {
      w.Ptr(12).RecordHead(1, 1, 1, 4).U32(i);
    }
    auto parsed = ParseResponse(w.b);
    if (count == 256) {
      ASSERT_TRUE(parsed.ok()) << parsed.error();
      EXPECT_EQ(parsed.value().answers.size(), 256u);
    } else {
      ASSERT_FALSE(parsed.ok());
      EXPECT_THAT(parsed.error(), HasSubstr("more than 256 answers"));
    }
  }
}

TEST(DnsParseResponseTest, PointerLoopsAreRejected) {
  // An owner that points at itself.
  Wire self;
  self.Header(1, 0x8180, 1, 1, 0, 0).Question("a.b", 1);
  self.Ptr(static_cast<unsigned>(self.size())).RecordHead(1, 1, 1, 4).U32(1);
  EXPECT_THAT(ResponseError(self.b), HasSubstr("does not point backwards"));
  // A label followed by a pointer back to that label: a loop through a valid backward pointer.
  Wire label_loop;
  label_loop.Header(1, 0x8180, 1, 1, 0, 0).Question("a.b", 1);
  unsigned here = static_cast<unsigned>(label_loop.size());
  label_loop.Label("x").Ptr(here).RecordHead(1, 1, 1, 4).U32(1);
  EXPECT_THAT(ResponseError(label_loop.b), HasSubstr("does not point backwards"));
  // Two pointers pointing at each other (the second jump goes forward).
  Wire pair;
  pair.Header(1, 0x8180, 1, 2, 0, 0).Question("a.b", 1);
  unsigned first = static_cast<unsigned>(pair.size());
  pair.Ptr(first + 16).RecordHead(1, 1, 1, 4).U32(1);  // forward: to the next owner
  pair.Ptr(first).RecordHead(1, 1, 1, 4).U32(1);
  EXPECT_THAT(ResponseError(pair.b), HasSubstr("does not point backwards"));
}

TEST(DnsParseResponseTest, ForwardAndHeaderPointersAreRejected) {
  Wire forward;
  forward.Header(1, 0x8180, 1, 1, 0, 0).Question("a.b", 1);
  unsigned owner = static_cast<unsigned>(forward.size());
  forward.Ptr(owner + 12).RecordHead(5, 1, 1, 5).Label("cdn").U8(0);  // to the CNAME target
  EXPECT_THAT(ResponseError(forward.b), HasSubstr("does not point backwards"));
  // Pointing into the header (offset 11 is the low ARCOUNT octet, a zero: the root) is refused.
  Wire header;
  header.Header(1, 0x8180, 1, 1, 0, 0).Question("a.b", 1).Ptr(11).RecordHead(1, 1, 1, 4).U32(1);
  EXPECT_THAT(ResponseError(header.b), HasSubstr("into the header"));
  // A question name cannot point anywhere but into the header.
  auto question = Wire().Header(1, 0x8180, 1, 0, 0, 0).Label("a").Ptr(11).U16(1).U16(1);
  EXPECT_THAT(ResponseError(question.b), HasSubstr("question name: compression pointer"));
}

// ChainOfPointers: an unknown-type answer whose rdata holds a root octet followed by `pointers`
// pointers, each to the previous one, then an A record whose owner points at the last.
std::vector<uint8_t> ChainOfPointers(unsigned pointers) {
  Wire w;
  w.Header(1, 0x8180, 1, 2, 0, 0).Question("a.b", 1);
  w.Ptr(12).RecordHead(99, 1, 1, 1 + 2 * pointers);
  unsigned previous = static_cast<unsigned>(w.size());
  w.U8(0);
  for (unsigned i = 0; i < pointers; ++i) {
    unsigned at = static_cast<unsigned>(w.size());
    w.Ptr(previous);
    previous = at;
  }
  w.Ptr(previous).RecordHead(1, 1, 1, 4).U32(1);
  return w.b;
}

TEST(DnsParseResponseTest, AtMost64PointerJumps) {
  auto ok = ParseResponse(ChainOfPointers(63));  // 63 + the owner's own pointer = 64 jumps
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok.value().answers[1].name, "");
  EXPECT_THAT(ResponseError(ChainOfPointers(64)), HasSubstr("too many compression pointers"));
}

TEST(DnsParseResponseTest, DecompressedNameLongerThan255) {
  // Four 63-octet labels, each added by one name that points at the previous one.
  auto build = [](int labels) {
    Wire w;
    w.Header(1, 0x8180, 1, 2, 0, 0).Question("a.b", 1);
    unsigned rdlength = 64 + 1 + 66 * static_cast<unsigned>(labels - 1);
    w.Ptr(12).RecordHead(99, 1, 1, rdlength);
    unsigned previous = static_cast<unsigned>(w.size());
    w.Label(std::string(63, 'a')).U8(0);
    for (int i = 1; i < labels; ++i) {
      unsigned at = static_cast<unsigned>(w.size());
      w.Label(std::string(63, static_cast<char>('a' + i))).Ptr(previous);
      previous = at;
    }
    w.Ptr(previous).RecordHead(1, 1, 1, 4).U32(1);
    return w.b;
  };
  auto ok = ParseResponse(build(3));
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok.value().answers[1].name.size(), 3u * 63 + 2);
  EXPECT_THAT(ResponseError(build(4)), HasSubstr("name longer than 255 octets"));
}

TEST(DnsParseResponseTest, AddressRdataLengths) {
  auto a5 = Wire().Header(1, 0x8180, 1, 1, 0, 0).Question("a.b", 1).Ptr(12).RecordHead(1, 1, 1, 5);
  a5.U32(1).U8(1);
  EXPECT_THAT(ResponseError(a5.b), HasSubstr("A record data is not 4 octets"));
  auto aaaa4 =
      Wire().Header(1, 0x8180, 1, 1, 0, 0).Question("a.b", 28).Ptr(12).RecordHead(28, 1, 1, 4);
  aaaa4.U32(1);
  EXPECT_THAT(ResponseError(aaaa4.b), HasSubstr("AAAA record data is not 16 octets"));
  // Outside class IN an A record's rdata has another format: kept, not interpreted.
  auto chaos =
      Wire().Header(1, 0x8180, 1, 1, 0, 0).Question("a.b", 1).Ptr(12).RecordHead(1, 3, 1, 5);
  chaos.U32(1).U8(1);
  auto parsed = ParseResponse(chaos.b);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_FALSE(parsed.value().answers[0].address.has_value());
}

TEST(DnsParseResponseTest, CnameTargetMustFillItsRdata) {
  auto longer =
      Wire().Header(1, 0x8180, 1, 1, 0, 0).Question("a.b", 5).Ptr(12).RecordHead(5, 1, 1, 4);
  longer.Ptr(12).U16(0);
  EXPECT_THAT(ResponseError(longer.b), HasSubstr("CNAME target does not fill"));
  auto bad = Wire().Header(1, 0x8180, 1, 1, 0, 0).Question("a.b", 5).Ptr(12).RecordHead(5, 1, 1, 2);
  bad.U8(0x40).U8(0);
  EXPECT_THAT(ResponseError(bad.b), HasSubstr("CNAME target: label longer than 63"));
}

TEST(DnsParseResponseTest, RecordFraming) {
  auto beyond =
      Wire().Header(1, 0x8180, 1, 1, 0, 0).Question("a.b", 1).Ptr(12).RecordHead(1, 1, 1, 4);
  beyond.U16(0);
  EXPECT_THAT(ResponseError(beyond.b), HasSubstr("record data runs past the end"));
  // The authority and additional sections are walked too.
  auto additional =
      Wire().Header(1, 0x8180, 1, 0, 0, 1).Question("a.b", 1).U8(0).RecordHead(41, 512, 0, 9);
  EXPECT_THAT(ResponseError(additional.b), HasSubstr("record data runs past the end"));
  auto authority =
      Wire().Header(1, 0x8180, 1, 0, 1, 0).Question("a.b", 1).Label(std::string(64, 'x'));
  EXPECT_THAT(ResponseError(authority.b), HasSubstr("label longer than 63"));
  auto missing = Wire().Header(1, 0x8180, 1, 1, 0, 0).Question("a.b", 1);
  EXPECT_THAT(ResponseError(missing.b), HasSubstr("runs past the end"));
  auto trailing = Wire().Header(1, 0x8180, 1, 0, 0, 0).Question("a.b", 1).U8(0);
  EXPECT_THAT(ResponseError(trailing.b), HasSubstr("trailing bytes"));
}

TEST(DnsParseResponseTest, HugeTtlMeansZero) {
  auto w = Wire().Header(1, 0x8180, 1, 2, 0, 0).Question("a.b", 1);
  w.Ptr(12).RecordHead(1, 1, 0x80000000u, 4).U32(1);
  w.Ptr(12).RecordHead(1, 1, 0x7FFFFFFFu, 4).U32(1);
  auto parsed = ParseResponse(w.b);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed.value().answers[0].ttl, 0u);
  EXPECT_EQ(parsed.value().answers[1].ttl, 0x7FFFFFFFu);
}

// --- ReadName ----------------------------------------------------------------------------------

TEST(DnsReadNameTest, OffsetMovesPastTheInPlacePartOnly) {
  Wire w;
  w.Header(0, 0, 0, 0, 0, 0).Name("example.com");
  size_t second = w.size();
  w.Label("www").Ptr(12).U8(0xAA);
  std::string name;
  size_t offset = second;
  ASSERT_TRUE(ReadName(w.b, &offset, true, &name).ok());
  EXPECT_EQ(name, "www.example.com");
  EXPECT_EQ(offset, second + 6);
  offset = second;
  Status s = ReadName(w.b, &offset, false, &name);
  EXPECT_EQ(s.message(), "name uses compression");
  EXPECT_EQ(offset, second);
}

// --- Builders ----------------------------------------------------------------------------------

TEST(DnsBuildTest, AddressAnswerExactBytes) {
  Query q = MustParseQuery(QueryFor("example.com", 1));
  const IpAddress addresses[] = {Ip("93.184.216.34"), Ip("2001:db8::1"), Ip("10.0.0.1")};
  const std::vector<uint8_t> expected = {
      0x12, 0x34, 0x85, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,  // QR AA RD RA
      7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',  3,    'c',  'o',  'm',
      0,    0x00, 0x01, 0x00, 0x01,                                // question
      0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2C,  // A IN 300
      0x00, 0x04, 93,   184,  216,  34,                            // rdata
      0xC0, 0x0C, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2C,  // (IPv6 skipped)
      0x00, 0x04, 10,   0,    0,    1};
  EXPECT_EQ(BuildAddressAnswer(q, addresses, 300), expected);
}

TEST(DnsBuildTest, AddressAnswerRoundTrip) {
  Query q =
      MustParseQuery(Wire().Header(77, 0, 1, 0, 0, 1).Question("Api.Example.ORG", 28).Opt(4096).b);
  const IpAddress addresses[] = {Ip("2001:db8::1"), Ip("192.0.2.1"), Ip("2001:db8::2")};
  auto built = BuildAddressAnswer(q, addresses, 30);
  EXPECT_EQ(std::vector<uint8_t>(built.begin() + 12, built.begin() + 12 + q.raw_question.size()),
            q.raw_question);
  auto parsed = ParseResponse(built);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  const Response& r = parsed.value();
  EXPECT_EQ(r.id, 77);
  EXPECT_EQ(r.rcode, Rcode::kNoError);
  EXPECT_EQ(r.flags, 0x8480);  // QR AA RA, RD clear as in the query
  ASSERT_EQ(r.questions.size(), 1u);
  EXPECT_EQ(r.questions[0].name, "api.example.org");
  EXPECT_EQ(r.questions[0].qtype, 28);
  ASSERT_EQ(r.answers.size(), 2u);
  for (const ResourceRecord& rr : r.answers) {
    EXPECT_EQ(rr.name, "api.example.org");
    EXPECT_EQ(rr.type, 28);
    EXPECT_EQ(rr.rclass, kClassIn);
    EXPECT_EQ(rr.ttl, 30u);
  }
  EXPECT_EQ(r.answers[0].address, Ip("2001:db8::1"));
  EXPECT_EQ(r.answers[1].address, Ip("2001:db8::2"));
}

TEST(DnsBuildTest, AddressAnswerForOtherTypesHasNoRecords) {
  Query q = MustParseQuery(QueryFor("example.com", 16));
  const IpAddress addresses[] = {Ip("192.0.2.1"), Ip("2001:db8::1")};
  auto parsed = ParseResponse(BuildAddressAnswer(q, addresses, 30));
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_TRUE(parsed.value().answers.empty());
  EXPECT_EQ(parsed.value().rcode, Rcode::kNoError);
}

TEST(DnsBuildTest, AddressAnswerStopsAt256Records) {
  Query q = MustParseQuery(QueryFor("example.com", 1));
  std::vector<IpAddress> many(300, Ip("192.0.2.1"));
  auto parsed = ParseResponse(BuildAddressAnswer(q, many, 30));
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed.value().answers.size(), 256u);
}

TEST(DnsBuildTest, ErrorExactBytesAndRoundTrip) {
  auto message = Wire().Header(0xABCD, 0x0100, 1, 0, 0, 0).Question("WwW.example.com", 1).b;
  Query q = MustParseQuery(message);
  auto built = BuildError(q, Rcode::kNxDomain);
  std::vector<uint8_t> expected = {0xAB, 0xCD, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0};
  expected.insert(expected.end(), message.begin() + 12, message.end());  // 0x20 case echoed
  EXPECT_EQ(built, expected);
  auto parsed = ParseResponse(built);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed.value().id, 0xABCD);
  EXPECT_EQ(parsed.value().rcode, Rcode::kNxDomain);
  EXPECT_FALSE(parsed.value().truncated);
  ASSERT_EQ(parsed.value().questions.size(), 1u);
  EXPECT_EQ(parsed.value().questions[0].name, q.question.name);
  EXPECT_EQ(parsed.value().questions[0].qtype, q.question.qtype);
  EXPECT_EQ(parsed.value().questions[0].qclass, q.question.qclass);
  EXPECT_TRUE(parsed.value().answers.empty());
}

TEST(DnsBuildTest, ErrorEchoesOpcode) {
  Query q = MustParseQuery(Wire().Header(1, 0x2800, 1, 0, 0, 0).Question("a.b", 1).b);  // UPDATE
  auto built = BuildError(q, Rcode::kNotImp);
  ASSERT_GE(built.size(), 4u);
  EXPECT_EQ(built[2], 0xA8);  // QR, opcode 5, no RD
  EXPECT_EQ(built[3], 0x84);  // RA, NOTIMP
}

TEST(DnsBuildTest, FormErr) {
  EXPECT_EQ(BuildFormErr(0x0102, 0x0100),
            (std::vector<uint8_t>{0x01, 0x02, 0x81, 0x81, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(BuildFormErr(0x0102, 0x1000),  // opcode 2, no RD
            (std::vector<uint8_t>{0x01, 0x02, 0x90, 0x81, 0, 0, 0, 0, 0, 0, 0, 0}));
  auto parsed = ParseResponse(BuildFormErr(9, 0x0100));
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed.value().id, 9);
  EXPECT_EQ(parsed.value().rcode, Rcode::kFormErr);
  EXPECT_TRUE(parsed.value().questions.empty());
}

TEST(DnsBuildTest, TruncatedKeepsUpstreamFlags) {
  Query q = MustParseQuery(QueryFor("Example.com", 1));
  auto built = BuildTruncated(q, 0x8583);  // QR AA RD RA NXDOMAIN
  std::vector<uint8_t> expected = {0x12, 0x34, 0x87, 0x83, 0, 1, 0, 0, 0, 0, 0, 0};
  expected.insert(expected.end(), q.raw_question.begin(), q.raw_question.end());
  EXPECT_EQ(built, expected);
  auto parsed = ParseResponse(built);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_TRUE(parsed.value().truncated);
  EXPECT_EQ(parsed.value().rcode, Rcode::kNxDomain);
  EXPECT_EQ(parsed.value().id, 0x1234);
  ASSERT_EQ(parsed.value().questions.size(), 1u);
  EXPECT_EQ(parsed.value().questions[0].name, "example.com");
  EXPECT_TRUE(parsed.value().answers.empty());
}

TEST(DnsBuildTest, SetId) {
  auto message = QueryFor("a.b", 1);
  SetId(message, 0xFEDC);
  EXPECT_EQ(message[0], 0xFE);
  EXPECT_EQ(message[1], 0xDC);
  EXPECT_EQ(MustParseQuery(message).id, 0xFEDC);
  std::vector<uint8_t> tiny(11, 0);
  SetId(tiny, 0xFFFF);
  EXPECT_EQ(tiny, std::vector<uint8_t>(11, 0));
}

TEST(DnsNamesTest, RcodeAndTypeNames) {
  EXPECT_EQ(RcodeName(0), "NOERROR");
  EXPECT_EQ(RcodeName(1), "FORMERR");
  EXPECT_EQ(RcodeName(2), "SERVFAIL");
  EXPECT_EQ(RcodeName(3), "NXDOMAIN");
  EXPECT_EQ(RcodeName(4), "NOTIMP");
  EXPECT_EQ(RcodeName(5), "REFUSED");
  EXPECT_EQ(RcodeName(12), "RCODE12");
  EXPECT_EQ(TypeName(1), "A");
  EXPECT_EQ(TypeName(2), "NS");
  EXPECT_EQ(TypeName(5), "CNAME");
  EXPECT_EQ(TypeName(6), "SOA");
  EXPECT_EQ(TypeName(12), "PTR");
  EXPECT_EQ(TypeName(15), "MX");
  EXPECT_EQ(TypeName(16), "TXT");
  EXPECT_EQ(TypeName(28), "AAAA");
  EXPECT_EQ(TypeName(33), "SRV");
  EXPECT_EQ(TypeName(41), "OPT");
  EXPECT_EQ(TypeName(65), "HTTPS");
  EXPECT_EQ(TypeName(255), "ANY");
  EXPECT_EQ(TypeName(65534), "TYPE65534");
}

}  // namespace
}  // namespace msb::gateway::dns
