// Tests for the ClientHello sniffer on real captures (testdata/README.md): each parses to what its
// client was told to send, and gives the same answer however its bytes arrive (byte by byte,
// random TCP splits, re-fragmented into TLS records of 1, 7, 100 bytes); every proper prefix is
// kNeedMore. Also non-TLS input, the byte cap, error names and alert records.
#include "gateway/tls/client_hello.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/gateway/tls/hello_builder.h"

namespace msb::gateway::tls {
namespace {

using ::testing::ElementsAre;
using tls_test::Bytes;

struct Capture {
  const char* file;
  std::optional<std::string> sni;
  std::vector<std::string> alpn;
  std::vector<uint16_t> versions;
  uint16_t record_version;
  size_t hello_bytes;
  size_t cipher_suites;
  bool early_data = false;
};

const std::vector<uint16_t> kAll4 = {0x0304, 0x0303, 0x0302, 0x0301};
const std::vector<uint16_t> k13And12 = {0x0304, 0x0303};
const std::vector<std::string> kH2Http11 = {"h2", "http/1.1"};

const Capture kCaptures[] = {
    {"curl_h2_sni.bin", "example.test", kH2Http11, kAll4, 0x0301, 517, 31},
    {"curl_http11_sni.bin", "www.example.test", {"http/1.1"}, kAll4, 0x0301, 517, 31},
    {"curl_ip_literal_no_sni.bin", std::nullopt, kH2Http11, kAll4, 0x0301, 517, 31},
    {"curl_tls12_max.bin", "tls12.example.test", kH2Http11, {}, 0x0301, 229, 28},
    {"openssl_alpn_h2_http11.bin", "x.example.test", kH2Http11, kAll4, 0x0301, 338, 31},
    {"openssl_tls12_only.bin", "tls12only.example.test", {}, {}, 0x0301, 219, 28},
    {"openssl_no_servername.bin", std::nullopt, {}, kAll4, 0x0301, 297, 31},
    {"openssl_ffdhe8192_frag512.bin", "big.example.test", {"http/1.1"}, kAll4, 0x0301, 1323, 31},
    {"openssl_psk_early_data.bin", "early.example.test", {}, kAll4, 0x0301, 423, 31, true},
    {"python_sni_alpn.bin", "python.example.test", kH2Http11, kAll4, 0x0301, 517, 31},
    {"wget_gnutls_localhost.bin", "localhost", {}, kAll4, 0x0301, 517, 29},
    {"java17_sni_alpn.bin", "java.example.test", kH2Http11, k13And12, 0x0303, 484, 37},
    {"node20_sni_alpn.bin", "node.example.test", kH2Http11, k13And12, 0x0301, 393, 59},
};

class CaptureTest : public ::testing::TestWithParam<Capture> {
 protected:
  void SetUp() override {
    bytes_ = tls_test::ReadCapture(GetParam().file);
    ASSERT_FALSE(bytes_.empty());
    SniffResult r = tls_test::Sniff(bytes_);
    ASSERT_EQ(r.status, SniffStatus::kDone) << SniffErrorName(r.error);
    info_ = r.info;
  }
  // Feeds `flight` as TCP segments ending at `cuts` (ascending), as the gateway would, to the
  // stateless function and to one resumed sniffer.
  void FeedInSegments(const Bytes& flight, const std::vector<size_t>& cuts,
                      const ClientHelloInfo& want) {
    ClientHelloSniffer sniffer;
    for (size_t cut : cuts) {
      std::span<const uint8_t> prefix(flight.data(), cut);
      SniffResult r = SniffClientHello(prefix);
      tls_test::ExpectSame(sniffer.Sniff(prefix), r, cut);
      if (cut < want.hello_bytes) {
        ASSERT_EQ(r.status, SniffStatus::kNeedMore) << "at " << cut << " of " << flight.size();
      } else {
        ASSERT_EQ(r.status, SniffStatus::kDone) << "at " << cut;
        ASSERT_EQ(r.info, want) << "at " << cut;
      }
    }
  }
  Bytes bytes_;
  ClientHelloInfo info_;
};

TEST_P(CaptureTest, ParsesWhatTheClientWasToldToSend) {
  const Capture& c = GetParam();
  EXPECT_EQ(info_.sni, c.sni);
  EXPECT_EQ(info_.alpn, c.alpn);
  EXPECT_EQ(info_.supported_versions, c.versions);
  EXPECT_EQ(info_.offers_tls13, !c.versions.empty());
  EXPECT_EQ(info_.record_version, c.record_version);
  EXPECT_EQ(info_.legacy_version, 0x0303);
  EXPECT_EQ(info_.hello_bytes, c.hello_bytes);
  EXPECT_EQ(info_.cipher_suites.size(), c.cipher_suites);
  EXPECT_EQ(info_.has_early_data, c.early_data);
  EXPECT_FALSE(info_.has_ech);
  EXPECT_FALSE(info_.supported_groups.empty());
}

TEST_P(CaptureTest, EveryProperPrefixNeedsMore) {
  std::vector<size_t> cuts;
  for (size_t n = 0; n <= bytes_.size(); ++n) {
    cuts.push_back(n);
  }
  FeedInSegments(bytes_, cuts, info_);
}

TEST_P(CaptureTest, RandomTcpSplitsGiveTheSameAnswer) {
  std::mt19937 rng(0x5EED);
  for (int round = 0; round < 200; ++round) {
    std::vector<size_t> cuts;
    for (size_t at = 0; at < bytes_.size();) {
      at = std::min(bytes_.size(), at + 1 + rng() % 300);
      cuts.push_back(at);
    }
    FeedInSegments(bytes_, cuts, info_);
  }
}

TEST_P(CaptureTest, RefragmentedIntoSmallRecords) {
  Bytes message = tls_test::HandshakeMessage(bytes_);
  for (size_t fragment : {size_t{1}, size_t{7}, size_t{100}, kMaxPlaintextRecord}) {
    Bytes flight = tls_test::Records(message, fragment, info_.record_version);
    ClientHelloInfo want = info_;
    want.hello_bytes = flight.size();
    SniffResult r = tls_test::Sniff(flight);
    ASSERT_EQ(r.status, SniffStatus::kDone) << fragment << ": " << SniffErrorName(r.error);
    EXPECT_EQ(r.info, want) << fragment;
    if (fragment == 7) {
      std::vector<size_t> cuts;
      for (size_t n = 0; n <= flight.size(); ++n) {
        cuts.push_back(n);
      }
      FeedInSegments(flight, cuts, want);
    }
  }
}

TEST_P(CaptureTest, ABytePastTheCapIsTooLarge) {
  EXPECT_EQ(tls_test::Sniff(bytes_, info_.hello_bytes).status, SniffStatus::kDone);
  tls_test::Verdict v = tls_test::FirstVerdict(bytes_, info_.hello_bytes - 1);
  EXPECT_EQ(v.error, SniffError::kTooLarge);
  // The records' headers say so before their bodies arrive.
  EXPECT_LT(v.at, info_.hello_bytes - 1);
}

INSTANTIATE_TEST_SUITE_P(Captures, CaptureTest, ::testing::ValuesIn(kCaptures),
                         [](const ::testing::TestParamInfo<Capture>& p) {
                           std::string name = p.param.file;
                           name.resize(name.size() - 4);  // ".bin"
                           return name;
                         });

TEST(ClientHelloCaptures, CurlDetailsMatchTheWire) {
  SniffResult r = tls_test::Sniff(tls_test::ReadCapture("curl_h2_sni.bin"));
  ASSERT_EQ(r.status, SniffStatus::kDone);
  EXPECT_THAT(r.info.extensions, ElementsAre(0, 11, 10, 16, 22, 23, 49, 13, 43, 45, 51, 21));
  EXPECT_THAT(r.info.supported_groups,
              ElementsAre(0x1d, 0x17, 0x1e, 0x19, 0x18, 0x100, 0x101, 0x102, 0x103, 0x104));
  EXPECT_EQ(r.info.cipher_suites.front(), 0x1302);
  EXPECT_EQ(r.info.cipher_suites.back(), 0x00ff);
}

TEST(ClientHelloCaptures, EarlyDataRecordsAfterTheHelloAreNotLookedAt) {
  Bytes flight = tls_test::ReadCapture("openssl_psk_early_data.bin");
  ASSERT_EQ(flight.size(), 495u);
  SniffResult r = tls_test::Sniff(flight);
  ASSERT_EQ(r.status, SniffStatus::kDone);
  EXPECT_EQ(r.info.hello_bytes, 423u);
  EXPECT_EQ(flight[423], 20);  // ChangeCipherSpec, then application data
  EXPECT_THAT(r.info.extensions, ElementsAre(0, 11, 10, 35, 22, 23, 13, 43, 45, 51, 42, 41));
  for (size_t i = 423; i < flight.size(); ++i) {
    flight[i] = 0xEE;
  }
  SniffResult garbled = tls_test::Sniff(flight);
  ASSERT_EQ(garbled.status, SniffStatus::kDone);
  EXPECT_EQ(garbled.info, r.info);
}

TEST(ClientHelloCaptures, ExplicitRecordFragmentationByOpenssl) {
  Bytes flight = tls_test::ReadCapture("openssl_ffdhe8192_frag512.bin");
  // 3 records: the first two 512 bytes each.
  EXPECT_EQ(flight[3] << 8 | flight[4], 512);
  EXPECT_EQ(flight[517 + 3] << 8 | flight[517 + 4], 512);
  SniffResult r = tls_test::Sniff(flight);
  ASSERT_EQ(r.status, SniffStatus::kDone);
  EXPECT_THAT(r.info.supported_groups, ElementsAre(0x0104, 0x001d));  // ffdhe8192, x25519
  // A non-handshake record between the fragments is refused as soon as its type byte arrives.
  Bytes interleaved(flight.begin(), flight.begin() + 517);
  Bytes ccs = {20, 3, 1, 0, 1, 1};
  interleaved.insert(interleaved.end(), ccs.begin(), ccs.end());
  interleaved.insert(interleaved.end(), flight.begin() + 517, flight.end());
  tls_test::Verdict v = tls_test::FirstVerdict(interleaved);
  EXPECT_EQ(v.error, SniffError::kInterleavedRecord);
  EXPECT_EQ(v.at, 518u);
}

TEST(ClientHelloCaptures, OneByteRecordsPastTheCapAreTooLarge) {
  // 1308 handshake bytes in 1-byte records take 7848 bytes: over a 4 KiB cap, refused once the
  // record that would cross it announces itself, and never kNeedMore with 4 KiB buffered.
  Bytes flight = tls_test::Records(
      tls_test::HandshakeMessage(tls_test::ReadCapture("openssl_ffdhe8192_frag512.bin")), 1);
  ASSERT_EQ(flight.size(), 7848u);
  tls_test::Verdict v = tls_test::FirstVerdict(flight, 4096);
  EXPECT_EQ(v.status, SniffStatus::kError);
  EXPECT_EQ(v.error, SniffError::kTooLarge);
  EXPECT_LE(v.at, 4096u);
  EXPECT_EQ(tls_test::Sniff(flight, 8192).status, SniffStatus::kDone);
}

TEST(ClientHelloSniffer, DribbledOneByteRecordsCostLinearTime) {
  // The worst feed: 1-byte records arriving 1 byte at a time, up to the cap. The stateless
  // function walks every record on every call (~n^2/12 steps); the sniffer resumes.
  tls_test::HelloSpec spec;
  spec.extensions = {{21, Bytes(12000, 0)}};
  Bytes flight = tls_test::Records(tls_test::Message(tls_test::Body(spec)), 1);
  ClientHelloSniffer sniffer;
  size_t n = 0;
  SniffResult r;
  while (r.status == SniffStatus::kNeedMore && n < flight.size()) {
    r = sniffer.Sniff(std::span<const uint8_t>(flight.data(), ++n));
  }
  EXPECT_EQ(r.error, SniffError::kTooLarge);
  EXPECT_EQ(n, 65532u);
  EXPECT_EQ(ClientHelloSniffer(1 << 20).Sniff(flight).status, SniffStatus::kDone);
}

TEST(ClientHelloSniffer, AShorterBufferRestarts) {
  Bytes a = tls_test::ReadCapture("curl_h2_sni.bin");
  Bytes b = tls_test::ReadCapture("openssl_ffdhe8192_frag512.bin");
  ClientHelloSniffer sniffer;
  EXPECT_EQ(sniffer.Sniff(std::span<const uint8_t>(b.data(), 1000)).status, SniffStatus::kNeedMore);
  SniffResult r = sniffer.Sniff(a);  // shorter than the walked records: a fresh walk
  ASSERT_EQ(r.status, SniffStatus::kDone);
  EXPECT_EQ(r.info.sni, "example.test");
  EXPECT_EQ(sniffer.Sniff(std::span<const uint8_t>(b.data(), 10)).status, SniffStatus::kNeedMore);
  EXPECT_EQ(sniffer.Sniff(b).info.sni, "big.example.test");
  // After a verdict, more bytes (early data) get the same verdict.
  b.insert(b.end(), {23, 3, 3, 0, 1, 0});
  EXPECT_EQ(sniffer.Sniff(b).info.sni, "big.example.test");
  EXPECT_EQ(sniffer.Sniff(b).info.hello_bytes, 1323u);
}

TEST(ClientHelloNotTls, HttpIsRefusedAtTheFirstByte) {
  for (std::string_view text : {"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", "POST /x HTTP/1.0",
                                "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "CONNECT a:443 HTTP/1.1",
                                "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "\r\n", "HELO mx\r\n"}) {
    Bytes b(text.begin(), text.end());
    tls_test::Verdict v = tls_test::FirstVerdict(b);
    EXPECT_EQ(v.error, SniffError::kNotTls) << text;
    EXPECT_EQ(v.at, 1u) << text;
  }
}

TEST(ClientHelloNotTls, RecordHeaderBytes) {
  struct Case {
    Bytes bytes;
    SniffError error;
    size_t at;
  };
  const Case cases[] = {
      {{0x16, 0x02, 0x00}, SniffError::kNotTls, 2},  // not version 3.x
      {{0x16, 0x03, 0x05}, SniffError::kNotTls, 3},  // record versions stop at 3.3
      {{0x16, 0x03, 0x00, 0x00, 0x40}, SniffError::kUnsupportedVersion, 3},        // SSL 3.0 record
      {{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}, SniffError::kNotHandshake, 1},  // an alert
      {{0x17, 0x03, 0x03}, SniffError::kNotHandshake, 1},
      {{0x14, 0x03, 0x03, 0x00, 0x01, 0x01}, SniffError::kNotHandshake, 1},
      // SSLv2-compatible CLIENT-HELLO (length 0x2e, type 1, version 3.1), as old clients sent.
      {{0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15}, SniffError::kUnsupportedVersion, 3},
      {{0x80, 0x2e, 0x04, 0x03}, SniffError::kNotTls, 3},  // high bit set, not a hello
      {{0x00, 0x00}, SniffError::kNotTls, 1},
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    tls_test::Verdict v = tls_test::FirstVerdict(cases[i].bytes);
    EXPECT_EQ(v.error, cases[i].error) << i;
    EXPECT_EQ(v.at, cases[i].at) << i;
  }
  // One byte with the high bit set might still be an SSLv2 header: undecided.
  EXPECT_EQ(tls_test::Sniff({0xFF}).status, SniffStatus::kNeedMore);
}

TEST(ClientHelloNotTls, RandomBytesAreRefusedWithinThreeBytes) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    Bytes b(64);
    for (uint8_t& x : b) {
      x = static_cast<uint8_t>(rng());
    }
    if (b[0] == 22) {
      b[0] = 0;  // a real handshake record header is not "random"
    }
    tls_test::Verdict v = tls_test::FirstVerdict(b);
    EXPECT_EQ(v.status, SniffStatus::kError);
    EXPECT_LE(v.at, 3u);
    if (b[0] < 0x80 && (b[0] < 20 || b[0] > 24)) {
      EXPECT_EQ(v.error, SniffError::kNotTls);
      EXPECT_EQ(v.at, 1u);
    }
  }
}

TEST(ClientHelloNames, StableAndDistinct) {
  EXPECT_EQ(SniffErrorName(SniffError::kNotTls), "not_tls");
  EXPECT_EQ(SniffErrorName(SniffError::kTooLarge), "client_hello_too_large");
  EXPECT_EQ(SniffErrorName(SniffError::kBadSni), "bad_server_name");
  EXPECT_EQ(SniffErrorName(static_cast<SniffError>(200)), "unknown");
  std::set<std::string_view> names;
  for (int e = 0; e <= static_cast<int>(SniffError::kBadExtension); ++e) {
    std::string_view name = SniffErrorName(static_cast<SniffError>(e));
    EXPECT_NE(name, "unknown") << e;
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string_view::npos);
    names.insert(name);
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(SniffError::kBadExtension) + 1);
}

TEST(ClientHelloAlert, FatalAlertRecordBytes) {
  EXPECT_THAT(AlertRecord(49), ElementsAre(0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 49));
  EXPECT_THAT(AlertRecord(AlertDescription::kUnrecognizedName, 0x0301),
              ElementsAre(0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 112));
  EXPECT_EQ(AlertRecord(AlertDescription::kProtocolVersion)[6], 70);
  EXPECT_EQ(AlertRecord(AlertDescription::kInternalError)[6], 80);
  EXPECT_EQ(AlertRecord(AlertDescription::kHandshakeFailure)[6], 40);
}

}  // namespace
}  // namespace msb::gateway::tls
