// Test helpers for the ClientHello sniffer: a builder that writes hellos byte by byte (so tests do
// not depend on the code under test), record (re)fragmentation, the recorded captures in
// testdata/, and a driver that feeds growing prefixes the way the gateway's read loop does.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/tls/client_hello.h"

namespace msb::gateway::tls::tls_test {

using Bytes = std::vector<uint8_t>;

// Wire appends big-endian fields.
struct Wire {
  Bytes b;
  Wire& U8(unsigned v) {
    b.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  Wire& U16(unsigned v) { return U8(v >> 8).U8(v & 0xFF); }
  Wire& U24(unsigned v) { return U8(v >> 16).U16(v & 0xFFFF); }
  Wire& Raw(const Bytes& v) {
    b.insert(b.end(), v.begin(), v.end());
    return *this;
  }
  Wire& Str(std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Wire& Vec8(const Bytes& v) { return U8(static_cast<unsigned>(v.size())).Raw(v); }
  Wire& Vec16(const Bytes& v) { return U16(static_cast<unsigned>(v.size())).Raw(v); }
};

struct Ext {
  uint16_t type;
  Bytes data;
};

inline Ext SniExt(std::string_view host) {
  Bytes entry = Wire().U8(0).Vec16(Wire().Str(host).b).b;
  return {0, Wire().Vec16(entry).b};
}
inline Ext AlpnExt(const std::vector<std::string>& protocols) {
  Wire list;
  for (const std::string& p : protocols) {
    list.Vec8(Wire().Str(p).b);
  }
  return {16, Wire().Vec16(list.b).b};
}
inline Ext VersionsExt(const std::vector<uint16_t>& versions) {
  Wire list;
  for (uint16_t v : versions) {
    list.U16(v);
  }
  return {43, Wire().Vec8(list.b).b};
}
inline Ext GroupsExt(const std::vector<uint16_t>& groups) {
  Wire list;
  for (uint16_t g : groups) {
    list.U16(g);
  }
  return {10, Wire().Vec16(list.b).b};
}

// HelloSpec describes a ClientHello body; the defaults are a plain TLS 1.3 hello.
struct HelloSpec {
  uint16_t legacy_version = 0x0303;
  Bytes session_id = Bytes(32, 0x5A);
  std::vector<uint16_t> suites = {0x1301, 0x1302, 0xC02F};
  Bytes compression = {0};
  bool has_extensions = true;
  std::vector<Ext> extensions = {SniExt("example.com"), AlpnExt({"h2", "http/1.1"}),
                                 VersionsExt({0x0304, 0x0303}), GroupsExt({0x001D, 0x0017})};
  Bytes trailing;  // after the extension block, inside the message
  // Overrides for malformed variants.
  std::optional<Bytes> raw_suites;       // the cipher_suites vector's contents
  std::optional<Bytes> raw_block;        // the extension block's contents
  std::optional<unsigned> block_length;  // the extension block's length field
};

inline Bytes Body(const HelloSpec& s) {
  Wire w;
  w.U16(s.legacy_version);
  for (unsigned i = 0; i < 32; ++i) {
    w.U8(i);
  }
  w.Vec8(s.session_id);
  Wire suites;
  for (uint16_t c : s.suites) {
    suites.U16(c);
  }
  w.Vec16(s.raw_suites.value_or(suites.b)).Vec8(s.compression);
  if (s.has_extensions) {
    Wire block;
    for (const Ext& e : s.extensions) {
      block.U16(e.type).Vec16(e.data);
    }
    const Bytes& contents = s.raw_block.value_or(block.b);
    w.U16(s.block_length.value_or(static_cast<unsigned>(contents.size()))).Raw(contents);
  }
  return w.Raw(s.trailing).b;
}

// Message wraps a body in a handshake header of type `type`.
inline Bytes Message(const Bytes& body, unsigned type = 1) {
  return Wire().U8(type).U24(static_cast<unsigned>(body.size())).Raw(body).b;
}

// Records splits `payload` into records of `fragment` bytes (the last one shorter).
inline Bytes Records(const Bytes& payload, size_t fragment, uint16_t version = 0x0301,
                     uint8_t type = 22) {
  Wire w;
  for (size_t i = 0; i < payload.size(); i += fragment) {
    size_t n = std::min(fragment, payload.size() - i);
    w.U8(type).U16(version).U16(static_cast<unsigned>(n));
    w.b.insert(w.b.end(), payload.begin() + static_cast<std::ptrdiff_t>(i),
               payload.begin() + static_cast<std::ptrdiff_t>(i + n));
  }
  return w.b;
}

inline Bytes Hello(const HelloSpec& spec = {}) {
  return Records(Message(Body(spec)), 16384);
}

// HandshakeMessage extracts the first handshake message from a flight of records (a reference
// reassembler for the tests, deliberately simple: it trusts the capture).
inline Bytes HandshakeMessage(const Bytes& flight) {
  Bytes hs;
  for (size_t pos = 0; pos + 5 <= flight.size() && flight[pos] == 22;) {
    size_t n = (size_t{flight[pos + 3]} << 8) | flight[pos + 4];
    hs.insert(hs.end(), flight.begin() + static_cast<std::ptrdiff_t>(pos + 5),
              flight.begin() + static_cast<std::ptrdiff_t>(pos + 5 + n));
    pos += 5 + n;
  }
  size_t len = (size_t{hs[1]} << 16) | (size_t{hs[2]} << 8) | hs[3];
  hs.resize(4 + len);
  return hs;
}

inline Bytes ReadCapture(std::string_view name) {
  std::string path = std::string(MSB_TLS_TESTDATA_DIR) + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline SniffResult Sniff(const Bytes& b, size_t max_bytes = kDefaultMaxHelloBytes) {
  return SniffClientHello(b, max_bytes);
}

// Verdict is where feeding `b` one byte at a time first stops being kNeedMore.
struct Verdict {
  SniffStatus status = SniffStatus::kNeedMore;
  SniffError error = SniffError::kNone;
  size_t at = 0;  // prefix length of the first non-kNeedMore answer (b.size() if none)
};

// ExpectSame checks that a resumed sniffer answered exactly as the stateless function.
inline void ExpectSame(const SniffResult& resumed, const SniffResult& fresh, size_t at) {
  EXPECT_EQ(resumed.status, fresh.status) << "at " << at;
  EXPECT_EQ(resumed.error, fresh.error) << "at " << at;
  EXPECT_EQ(resumed.info, fresh.info) << "at " << at;
}

// FirstVerdict feeds every prefix of `b` (to SniffClientHello and to one ClientHelloSniffer,
// which must agree), and checks that the first decisive answer is the one the whole buffer gets:
// verdicts never change as bytes arrive.
inline Verdict FirstVerdict(const Bytes& b, size_t max_bytes = kDefaultMaxHelloBytes) {
  Verdict v;
  v.at = b.size();
  ClientHelloSniffer sniffer(max_bytes);
  for (size_t n = 0; n <= b.size(); ++n) {
    std::span<const uint8_t> prefix(b.data(), n);
    SniffResult r = SniffClientHello(prefix, max_bytes);
    ExpectSame(sniffer.Sniff(prefix), r, n);
    if (r.status != SniffStatus::kNeedMore) {
      v = {r.status, r.error, n};
      break;
    }
  }
  SniffResult whole = Sniff(b, max_bytes);
  EXPECT_EQ(whole.status, v.status) << "verdict changed after more bytes";
  EXPECT_EQ(whole.error, v.error) << SniffErrorName(whole.error) << " vs "
                                  << SniffErrorName(v.error);
  ExpectSame(sniffer.Sniff(b), whole, b.size());
  return v;
}

}  // namespace msb::gateway::tls::tls_test
