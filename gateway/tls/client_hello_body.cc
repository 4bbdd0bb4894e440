// ClientHello body parser (client_hello_body.h): RFC 8446 4.1.2 framing, and the extensions the
// gateway decides on. Every length is read through ByteReader and must exactly fill its parent,
// so a hello has a single reading: what the sniffer reports is what a strict TLS stack parses.
// Loops run over readers that shrink each iteration, so they are bounded by the message size.
#include "gateway/tls/client_hello_body.h"

#include <bitset>
#include <cstddef>
#include <string>
#include <vector>

#include "base/byte_reader.h"

namespace msb::gateway::tls {
namespace {

constexpr size_t kRandomSize = 32;
constexpr size_t kMaxSessionId = 32;
constexpr size_t kMaxHostName = 255;  // a DNS name's limit; longer SNI is never legitimate

constexpr uint16_t kExtServerName = 0;
constexpr uint16_t kExtSupportedGroups = 10;
constexpr uint16_t kExtAlpn = 16;
constexpr uint16_t kExtPreSharedKey = 41;
constexpr uint16_t kExtEarlyData = 42;
constexpr uint16_t kExtSupportedVersions = 43;
constexpr uint16_t kExtEncryptedClientHello = 0xfe0d;  // the final ECH code point, not drafts
constexpr uint8_t kHostNameType = 0;
constexpr uint16_t kTls13 = 0x0304;

// ReadU16List reads all of `list` as big-endian u16 values, skipping GREASE. False when the list
// has an odd length.
bool ReadU16List(ByteReader list, std::vector<uint16_t>* out) {
  if (list.remaining() % 2 != 0) {
    return false;
  }
  uint16_t v = 0;
  while (list.ReadU16(&v)) {
    if (!IsGrease(v)) {
      out->push_back(v);
    }
  }
  return true;
}

// ServerNameList (RFC 6066 3): a non-empty list filling the extension; every entry is
// {u8 name_type, u16-length name} (the only form ever deployed, and what OpenSSL assumes). One
// host_name entry at most, 1-255 bytes. Entries of other types are skipped.
bool ParseServerName(ByteReader data, ClientHelloInfo* info) {
  ByteReader list(std::span<const uint8_t>{});
  if (!data.ReadU16LengthPrefixed(&list) || !data.empty() || list.empty()) {
    return false;
  }
  while (!list.empty()) {
    uint8_t type = 0;
    ByteReader name(std::span<const uint8_t>{});
    if (!list.ReadU8(&type) || !list.ReadU16LengthPrefixed(&name)) {
      return false;
    }
    if (type != kHostNameType) {
      continue;
    }
    if (info->sni || name.empty() || name.remaining() > kMaxHostName) {
      return false;
    }
    std::span<const uint8_t> bytes = name.rest();
    info->sni.emplace(bytes.begin(), bytes.end());
  }
  return true;
}

// ProtocolNameList (RFC 7301 3.1): a non-empty list of non-empty u8-length names, filling the
// extension.
bool ParseAlpn(ByteReader data, ClientHelloInfo* info) {
  ByteReader list(std::span<const uint8_t>{});
  if (!data.ReadU16LengthPrefixed(&list) || !data.empty() || list.empty()) {
    return false;
  }
  while (!list.empty()) {
    ByteReader name(std::span<const uint8_t>{});
    if (!list.ReadU8LengthPrefixed(&name) || name.empty()) {
      return false;
    }
    std::span<const uint8_t> bytes = name.rest();
    info->alpn.emplace_back(bytes.begin(), bytes.end());
  }
  return true;
}

// SupportedVersions in a ClientHello (RFC 8446 4.2.1): versions<2..254>, u8 length, filling it.
bool ParseSupportedVersions(ByteReader data, ClientHelloInfo* info) {
  ByteReader list(std::span<const uint8_t>{});
  if (!data.ReadU8LengthPrefixed(&list) || !data.empty() || list.empty() ||
      !ReadU16List(list, &info->supported_versions)) {
    return false;
  }
  for (uint16_t v : info->supported_versions) {
    info->offers_tls13 = info->offers_tls13 || v == kTls13;
  }
  return true;
}

// NamedGroupList (RFC 8446 4.2.7): named_group_list<2..2^16-1>, filling the extension.
bool ParseSupportedGroups(ByteReader data, ClientHelloInfo* info) {
  ByteReader list(std::span<const uint8_t>{});
  return data.ReadU16LengthPrefixed(&list) && data.empty() && !list.empty() &&
         ReadU16List(list, &info->supported_groups);
}

// ParseExtension interprets one extension's data; others are only framed.
SniffError ParseExtension(uint16_t type, ByteReader data, ClientHelloInfo* info) {
  switch (type) {
    case kExtServerName:
      return ParseServerName(data, info) ? SniffError::kNone : SniffError::kBadSni;
    case kExtAlpn:
      return ParseAlpn(data, info) ? SniffError::kNone : SniffError::kBadAlpn;
    case kExtSupportedVersions:
      return ParseSupportedVersions(data, info) ? SniffError::kNone
                                                : SniffError::kBadSupportedVersions;
    case kExtSupportedGroups:
      return ParseSupportedGroups(data, info) ? SniffError::kNone : SniffError::kBadExtension;
    case kExtEarlyData:  // empty in a ClientHello (RFC 8446 4.2.10)
      info->has_early_data = true;
      return data.empty() ? SniffError::kNone : SniffError::kBadExtension;
    case kExtEncryptedClientHello:
      info->has_ech = true;
      return SniffError::kNone;
    default:
      return SniffError::kNone;
  }
}

// ParseExtensions walks the extension block, which fills the rest of the message: no type twice
// (GREASE included: a client sending the same GREASE value twice is as broken as any other
// duplicate), and pre_shared_key, if present, last (RFC 8446 4.2.11).
SniffError ParseExtensions(ByteReader block, ClientHelloInfo* info) {
  std::bitset<65536> seen;  // 8 KiB; a block holds up to 16384 extensions
  bool after_psk = false;
  while (!block.empty()) {
    uint16_t type = 0;
    ByteReader data(std::span<const uint8_t>{});
    if (!block.ReadU16(&type) || !block.ReadU16LengthPrefixed(&data)) {
      return SniffError::kMalformed;
    }
    if (seen.test(type)) {
      return SniffError::kDuplicateExtension;
    }
    if (after_psk) {
      return SniffError::kBadExtension;
    }
    seen.set(type);
    after_psk = type == kExtPreSharedKey;
    if (!IsGrease(type)) {
      info->extensions.push_back(type);
    }
    if (SniffError e = ParseExtension(type, data, info); e != SniffError::kNone) {
      return e;
    }
  }
  return SniffError::kNone;
}

}  // namespace

SniffError ParseClientHelloBody(std::span<const uint8_t> body, ClientHelloInfo* info) {
  ByteReader r(body);
  if (!r.ReadU16(&info->legacy_version)) {
    return SniffError::kMalformed;
  }
  // SSL 3.0 (0x0300) and anything not 3.x: TLS 1.0 is the oldest version a TLS stack speaks.
  if ((info->legacy_version >> 8) != 3 || info->legacy_version < 0x0301) {
    return SniffError::kUnsupportedVersion;
  }
  ByteReader session_id(std::span<const uint8_t>{});
  ByteReader suites(std::span<const uint8_t>{});
  ByteReader compression(std::span<const uint8_t>{});
  if (!r.Skip(kRandomSize) || !r.ReadU8LengthPrefixed(&session_id) ||
      session_id.remaining() > kMaxSessionId || !r.ReadU16LengthPrefixed(&suites) ||
      suites.empty() || !ReadU16List(suites, &info->cipher_suites) ||
      !r.ReadU8LengthPrefixed(&compression) || compression.empty()) {
    return SniffError::kMalformed;
  }
  if (r.empty()) {
    return SniffError::kNone;  // no extension block: a TLS 1.2-or-older hello (RFC 5246 7.4.1.2)
  }
  ByteReader block(std::span<const uint8_t>{});
  if (!r.ReadU16LengthPrefixed(&block) || !r.empty()) {
    return SniffError::kMalformed;
  }
  return ParseExtensions(block, info);
}

}  // namespace msb::gateway::tls
