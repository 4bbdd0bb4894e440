// Tests for the ClientHello sniffer on built hellos: GREASE, hellos without extensions, ECH and
// early data flags, trailing handshake data, and every rejection path (record layer, handshake
// header, message framing, each parsed extension) with the exact SniffError, decided at the byte
// that proves it where the header already does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/tls/client_hello.h"
#include "tests/gateway/tls/hello_builder.h"

namespace msb::gateway::tls {
namespace {

using ::testing::ElementsAre;
using tls_test::Bytes;
using tls_test::Ext;
using tls_test::HelloSpec;
using tls_test::Wire;

SniffResult MustParse(const Bytes& flight) {
  tls_test::Verdict v = tls_test::FirstVerdict(flight);
  EXPECT_EQ(v.status, SniffStatus::kDone) << SniffErrorName(v.error);
  EXPECT_EQ(v.at, flight.size());
  return tls_test::Sniff(flight);
}

SniffError ErrorOf(const HelloSpec& spec) {
  tls_test::Verdict v = tls_test::FirstVerdict(tls_test::Hello(spec));
  EXPECT_EQ(v.status, SniffStatus::kError);
  return v.error;
}

HelloSpec WithExtensions(std::vector<Ext> extensions) {
  HelloSpec spec;
  spec.extensions = std::move(extensions);
  return spec;
}

Ext Raw(uint16_t type, const Bytes& data) {
  return {type, data};
}

TEST(ClientHelloParse, DefaultBuiltHello) {
  SniffResult r = MustParse(tls_test::Hello());
  EXPECT_EQ(r.info.sni, "example.com");
  EXPECT_THAT(r.info.alpn, ElementsAre("h2", "http/1.1"));
  EXPECT_THAT(r.info.supported_versions, ElementsAre(0x0304, 0x0303));
  EXPECT_THAT(r.info.supported_groups, ElementsAre(0x001D, 0x0017));
  EXPECT_THAT(r.info.cipher_suites, ElementsAre(0x1301, 0x1302, 0xC02F));
  EXPECT_THAT(r.info.extensions, ElementsAre(0, 16, 43, 10));
  EXPECT_TRUE(r.info.offers_tls13);
  EXPECT_EQ(r.info.record_version, 0x0301);
}

TEST(ClientHelloParse, GreaseIsIgnoredEverywhere) {
  HelloSpec spec;
  spec.suites = {0x0A0A, 0x1301, 0x0A1A, 0xFAFA};  // 0x0A1A is not a GREASE value
  spec.extensions = {Raw(0x1A1A, {}),
                     tls_test::SniExt("grease.example"),
                     tls_test::AlpnExt({"h2"}),
                     tls_test::VersionsExt({0x3A3A, 0x0304, 0x0303}),
                     tls_test::GroupsExt({0x4A4A, 0x001D}),
                     Raw(0xDADA, {0})};
  SniffResult r = MustParse(tls_test::Hello(spec));
  EXPECT_THAT(r.info.cipher_suites, ElementsAre(0x1301, 0x0A1A));
  EXPECT_THAT(r.info.extensions, ElementsAre(0, 16, 43, 10));
  EXPECT_THAT(r.info.supported_versions, ElementsAre(0x0304, 0x0303));
  EXPECT_THAT(r.info.supported_groups, ElementsAre(0x001D));
  EXPECT_EQ(r.info.sni, "grease.example");
  // Only GREASE in supported_versions: a valid list offering nothing we know.
  SniffResult only = MustParse(tls_test::Hello(WithExtensions({tls_test::VersionsExt({0x7A7A})})));
  EXPECT_TRUE(only.info.supported_versions.empty());
  EXPECT_FALSE(only.info.offers_tls13);
}

TEST(ClientHelloParse, Tls12HelloWithoutExtensions) {
  HelloSpec spec;
  spec.has_extensions = false;
  spec.session_id = {};
  SniffResult r = MustParse(tls_test::Hello(spec));
  EXPECT_EQ(r.info.sni, std::nullopt);
  EXPECT_TRUE(r.info.alpn.empty());
  EXPECT_TRUE(r.info.extensions.empty());
  EXPECT_FALSE(r.info.offers_tls13);
  // An empty extension block is also fine, and so is the oldest TLS version.
  MustParse(tls_test::Hello(WithExtensions({})));
  spec.legacy_version = 0x0301;
  EXPECT_EQ(MustParse(tls_test::Hello(spec)).info.legacy_version, 0x0301);
}

TEST(ClientHelloParse, EchAndEarlyDataFlags) {
  SniffResult r = MustParse(tls_test::Hello(WithExtensions(
      {tls_test::SniExt("public.example"), Raw(0xfe0d, {0, 0, 1, 0, 1, 7}), Raw(42, {})})));
  EXPECT_TRUE(r.info.has_ech);
  EXPECT_TRUE(r.info.has_early_data);
  EXPECT_EQ(r.info.sni, "public.example");
  // A draft ECH code point is just another extension.
  EXPECT_FALSE(MustParse(tls_test::Hello(WithExtensions({Raw(0xfe0a, {1})}))).info.has_ech);
}

TEST(ClientHelloParse, ServerNameEdgeCases) {
  std::string longest(255, 'a');
  EXPECT_EQ(MustParse(tls_test::Hello(WithExtensions({tls_test::SniExt(longest)}))).info.sni,
            longest);
  // Raw bytes are reported as sent; validating them as a host name is the caller's job.
  std::string odd("a\0b..", 5);
  EXPECT_EQ(MustParse(tls_test::Hello(WithExtensions({tls_test::SniExt(odd)}))).info.sni, odd);
  // Entries of other name types are skipped.
  Bytes list = Wire().U8(7).Vec16({'x'}).U8(0).Vec16({'h', '.', 'e'}).b;
  EXPECT_EQ(MustParse(tls_test::Hello(WithExtensions({Raw(0, Wire().Vec16(list).b)}))).info.sni,
            "h.e");
  Bytes other = Wire().U8(7).Vec16({'x'}).b;
  EXPECT_EQ(MustParse(tls_test::Hello(WithExtensions({Raw(0, Wire().Vec16(other).b)}))).info.sni,
            std::nullopt);
}

TEST(ClientHelloParse, TrailingHandshakeDataInTheLastRecordIsCoveredNotParsed) {
  Bytes hello = tls_test::Message(tls_test::Body({}));
  Bytes payload = hello;
  payload.insert(payload.end(), {20, 0, 0, 2, 0xAB, 0xCD});  // another handshake message
  Bytes flight = tls_test::Records(payload, 16384);
  SniffResult r = MustParse(flight);
  EXPECT_EQ(r.info.hello_bytes, flight.size());
  // The hello is complete one byte early, but its record is not: wait for the record.
  flight.pop_back();
  EXPECT_EQ(tls_test::Sniff(flight).status, SniffStatus::kNeedMore);
  // Records after the hello's last record are not covered.
  Bytes two = tls_test::Records(hello, 16384);
  Bytes more = tls_test::Records({20, 0, 0, 0}, 16384);
  two.insert(two.end(), more.begin(), more.end());
  EXPECT_EQ(tls_test::Sniff(two).info.hello_bytes, two.size() - more.size());
}

TEST(ClientHelloRecords, RecordLayerErrorsAtTheHeader) {
  EXPECT_EQ(tls_test::FirstVerdict({22, 3, 1, 0, 0, 1}).error, SniffError::kBadRecord);
  tls_test::Verdict over = tls_test::FirstVerdict({22, 3, 1, 0x40, 0x01, 1, 0, 0});
  EXPECT_EQ(over.error, SniffError::kBadRecord);
  EXPECT_EQ(over.at, 5u);
  Bytes message = tls_test::Message(tls_test::Body({}));
  // A full 2^14 record is fine.
  HelloSpec big = WithExtensions({Raw(21, Bytes(16384 - 4 - 4 - 70, 0))});
  Bytes big_message = tls_test::Message(tls_test::Body(big));
  ASSERT_GT(big_message.size(), 16384u);
  SniffResult r = MustParse(tls_test::Records(big_message, 16384));
  EXPECT_EQ(r.info.hello_bytes, big_message.size() + 10);
  // Later records: an empty one, a version change, or a non-handshake one.
  Bytes split = tls_test::Records(message, 50);
  Bytes empty = split;
  empty.insert(empty.begin() + 55, {22, 3, 1, 0, 0});
  EXPECT_EQ(tls_test::FirstVerdict(empty).error, SniffError::kBadRecord);
  Bytes version = split;
  version[55 + 2] = 3;
  tls_test::Verdict v = tls_test::FirstVerdict(version);
  EXPECT_EQ(v.error, SniffError::kBadRecord);
  EXPECT_EQ(v.at, 58u);
  for (int type : {20, 21, 23, 24, 99}) {
    Bytes mixed = split;
    mixed.insert(mixed.begin() + 55, {static_cast<uint8_t>(type), 3, 1, 0, 2, 2, 40});
    tls_test::Verdict m = tls_test::FirstVerdict(mixed);
    EXPECT_EQ(m.error, SniffError::kInterleavedRecord) << type;
    EXPECT_EQ(m.at, 56u);
  }
}

TEST(ClientHelloRecords, HandshakeHeaderErrors) {
  Bytes body = tls_test::Body({});
  tls_test::Verdict not_hello =
      tls_test::FirstVerdict(tls_test::Records(tls_test::Message(body, 2), 16384));
  EXPECT_EQ(not_hello.error, SniffError::kNotClientHello);
  EXPECT_EQ(not_hello.at, 6u);
  // The same across 1-byte records: decided at the record with the type byte.
  EXPECT_EQ(tls_test::FirstVerdict(tls_test::Records(tls_test::Message(body, 2), 1)).at, 6u);
  // Too short to be a hello (41 bytes is the smallest body).
  Bytes tiny = tls_test::Records(Wire().U8(1).U24(40).Raw(Bytes(40, 0)).b, 16384);
  tls_test::Verdict short_v = tls_test::FirstVerdict(tiny);
  EXPECT_EQ(short_v.error, SniffError::kMalformed);
  EXPECT_EQ(short_v.at, 9u);
  // A declared length that cannot fit the cap is refused from the header alone.
  tls_test::Verdict huge = tls_test::FirstVerdict(
      Wire().U8(22).U16(0x0301).U16(16384).U8(1).U24(0x100000).Raw(Bytes(100, 0)).b);
  EXPECT_EQ(huge.error, SniffError::kTooLarge);
  EXPECT_EQ(huge.at, 9u);
  HelloSpec padded = WithExtensions({Raw(21, Bytes(20000, 0))});
  Bytes flight = tls_test::Records(tls_test::Message(tls_test::Body(padded)), 16384);
  EXPECT_EQ(tls_test::Sniff(flight).status, SniffStatus::kDone);
  EXPECT_EQ(tls_test::FirstVerdict(flight, 20000).at, 9u);
}

TEST(ClientHelloRecords, NeverNeedMoreBeyondTheCap) {
  // 1-byte records (6 bytes each) of a hello that fits the cap but whose records do not.
  HelloSpec padded = WithExtensions({Raw(21, Bytes(12000, 0))});
  Bytes flight = tls_test::Records(tls_test::Message(tls_test::Body(padded)), 1);
  ASSERT_GT(flight.size(), 70000u);
  auto at = [&](size_t n) { return SniffClientHello(std::span(flight.data(), n)); };
  EXPECT_EQ(at(65531).status, SniffStatus::kNeedMore);  // the record at 65526 ends at 65532
  for (size_t n : {65532u, 65535u, 65536u, 65537u, 70000u}) {
    EXPECT_EQ(at(n).error, SniffError::kTooLarge) << n;
  }
  EXPECT_EQ(tls_test::Sniff(flight, 1 << 20).status, SniffStatus::kDone);
  EXPECT_EQ(tls_test::Sniff(tls_test::Hello(), 4).error, SniffError::kTooLarge);
}

TEST(ClientHelloMessage, FramingErrors) {
  HelloSpec spec;
  spec.legacy_version = 0x0300;
  EXPECT_EQ(ErrorOf(spec), SniffError::kUnsupportedVersion);
  spec.legacy_version = 0x0200;
  EXPECT_EQ(ErrorOf(spec), SniffError::kUnsupportedVersion);
  spec = {};
  spec.session_id = Bytes(33, 1);
  EXPECT_EQ(ErrorOf(spec), SniffError::kMalformed);
  spec = {};
  spec.raw_suites = Bytes{0x13, 0x01, 0x13};
  EXPECT_EQ(ErrorOf(spec), SniffError::kMalformed);
  spec = {};
  spec.suites = {};
  EXPECT_EQ(ErrorOf(spec), SniffError::kMalformed);
  spec = {};
  spec.compression = {};
  EXPECT_EQ(ErrorOf(spec), SniffError::kMalformed);
  spec = {};
  spec.trailing = {0};  // garbage after the extension block
  EXPECT_EQ(ErrorOf(spec), SniffError::kMalformed);
  spec = {};
  spec.has_extensions = false;
  spec.trailing = {0};  // a single byte cannot be an extension block length
  EXPECT_EQ(ErrorOf(spec), SniffError::kMalformed);
  spec = {};
  spec.block_length = static_cast<unsigned>(tls_test::Body(HelloSpec{}).size());  // too long
  EXPECT_EQ(ErrorOf(spec), SniffError::kMalformed);
  spec = {};
  spec.block_length = 4;  // too short: the rest of the block becomes trailing garbage
  EXPECT_EQ(ErrorOf(spec), SniffError::kMalformed);
  spec = {};
  spec.raw_block = Wire().U16(0x1234).U16(10).U16(0).b;  // extension data past the block
  EXPECT_EQ(ErrorOf(spec), SniffError::kMalformed);
  spec.raw_block = Wire().U16(0x1234).U8(0).b;  // a truncated extension header
  EXPECT_EQ(ErrorOf(spec), SniffError::kMalformed);
}

TEST(ClientHelloMessage, DuplicateExtensions) {
  EXPECT_EQ(ErrorOf(WithExtensions({tls_test::AlpnExt({"h2"}), tls_test::AlpnExt({"h2"})})),
            SniffError::kDuplicateExtension);
  EXPECT_EQ(ErrorOf(WithExtensions({Raw(0x1234, {}), tls_test::SniExt("a"), Raw(0x1234, {1})})),
            SniffError::kDuplicateExtension);
  EXPECT_EQ(ErrorOf(WithExtensions({Raw(0x2A2A, {}), Raw(0x2A2A, {})})),
            SniffError::kDuplicateExtension);
  EXPECT_EQ(ErrorOf(WithExtensions({tls_test::SniExt("a"), tls_test::SniExt("b")})),
            SniffError::kDuplicateExtension);
}

TEST(ClientHelloMessage, BadServerName) {
  auto sni = [](const Bytes& data) { return ErrorOf(WithExtensions({Raw(0, data)})); };
  Bytes a = Wire().U8(0).Vec16({'a'}).b;
  Bytes b = Wire().U8(0).Vec16({'b'}).b;
  Bytes two = a;
  two.insert(two.end(), b.begin(), b.end());
  EXPECT_EQ(sni(Wire().Vec16(two).b), SniffError::kBadSni);                    // two host_names
  EXPECT_EQ(sni(Wire().Vec16(Wire().U8(0).U16(0).b).b), SniffError::kBadSni);  // empty name
  EXPECT_EQ(ErrorOf(WithExtensions({tls_test::SniExt(std::string(256, 'a'))})),
            SniffError::kBadSni);
  EXPECT_EQ(sni(Wire().Vec16(a).U8(0).b), SniffError::kBadSni);  // list does not fill it
  EXPECT_EQ(sni(Wire().U16(5).Raw(a).b), SniffError::kBadSni);   // list past the extension
  EXPECT_EQ(sni(Wire().U16(0).b), SniffError::kBadSni);          // empty list
  EXPECT_EQ(sni({}), SniffError::kBadSni);                       // no list at all
  EXPECT_EQ(sni(Wire().Vec16(Wire().U8(0).U16(9).U8('a').b).b), SniffError::kBadSni);  // name past
  EXPECT_EQ(sni(Wire().Vec16({0}).b), SniffError::kBadSni);  // an entry without its length
}

TEST(ClientHelloMessage, BadAlpn) {
  auto alpn = [](const Bytes& data) { return ErrorOf(WithExtensions({Raw(16, data)})); };
  EXPECT_EQ(ErrorOf(WithExtensions({tls_test::AlpnExt({"h2", ""})})), SniffError::kBadAlpn);
  EXPECT_EQ(alpn(Wire().U16(0).b), SniffError::kBadAlpn);  // empty list
  EXPECT_EQ(alpn({}), SniffError::kBadAlpn);               // no list
  EXPECT_EQ(alpn(Wire().Vec16(Wire().Vec8({'h', '2'}).b).U8(0).b), SniffError::kBadAlpn);
  EXPECT_EQ(alpn(Wire().Vec16(Wire().U8(5).Raw({'h', '2'}).b).b), SniffError::kBadAlpn);
  EXPECT_EQ(alpn(Wire().U16(9).Vec8({'h', '2'}).b), SniffError::kBadAlpn);
}

TEST(ClientHelloMessage, BadSupportedVersions) {
  auto sv = [](const Bytes& data) { return ErrorOf(WithExtensions({Raw(43, data)})); };
  EXPECT_EQ(sv(Wire().Vec8({3, 4, 3}).b), SniffError::kBadSupportedVersions);  // odd
  EXPECT_EQ(sv(Wire().U8(0).b), SniffError::kBadSupportedVersions);            // empty
  EXPECT_EQ(sv({}), SniffError::kBadSupportedVersions);
  EXPECT_EQ(sv(Wire().Vec8({3, 4}).U8(0).b), SniffError::kBadSupportedVersions);  // extra byte
  EXPECT_EQ(sv(Wire().U8(4).Raw({3, 4}).b), SniffError::kBadSupportedVersions);   // past the end
}

TEST(ClientHelloMessage, BadOtherExtensions) {
  EXPECT_EQ(ErrorOf(WithExtensions({Raw(10, Wire().Vec16({0, 0x1d, 0}).b)})),
            SniffError::kBadExtension);
  EXPECT_EQ(ErrorOf(WithExtensions({Raw(10, Wire().U16(0).b)})), SniffError::kBadExtension);
  EXPECT_EQ(ErrorOf(WithExtensions({Raw(42, {0})})), SniffError::kBadExtension);
  // pre_shared_key must be the last extension.
  EXPECT_EQ(ErrorOf(WithExtensions({Raw(41, {1, 2}), tls_test::SniExt("a")})),
            SniffError::kBadExtension);
  MustParse(tls_test::Hello(WithExtensions({tls_test::SniExt("a"), Raw(41, {1, 2})})));
}

TEST(ClientHelloMessage, ErrorsAreTheSameAcrossRecordFragmentation) {
  HelloSpec two_names = WithExtensions({tls_test::SniExt("a"), tls_test::AlpnExt({""})});
  Bytes message = tls_test::Message(tls_test::Body(two_names));
  for (size_t fragment : {1u, 7u, 100u}) {
    EXPECT_EQ(tls_test::FirstVerdict(tls_test::Records(message, fragment)).error,
              SniffError::kBadAlpn);
  }
}

}  // namespace
}  // namespace msb::gateway::tls
