// ClientHello sniffer, record layer (client_hello.h): walks the buffered TLS records, checks each
// header as soon as its bytes arrive (so non-TLS is refused at the first byte), reassembles the
// handshake message across records within the byte cap, and hands the complete body to
// ParseClientHelloBody (client_hello_body.cc). ClientHelloSniffer keeps the walk's position
// between calls; SniffClientHello is a sniffer used once.
#include "gateway/tls/client_hello.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "base/byte_reader.h"
#include "gateway/tls/client_hello_body.h"

namespace msb::gateway::tls {
namespace {

constexpr uint8_t kChangeCipherSpec = 20;
constexpr uint8_t kAlert = 21;
constexpr uint8_t kHandshake = 22;
constexpr uint8_t kApplicationData = 23;
constexpr uint8_t kHeartbeat = 24;
constexpr uint8_t kClientHello = 1;
constexpr uint8_t kSsl2ClientHello = 1;  // SSLv2 CLIENT-HELLO message type (byte 2)
constexpr size_t kHandshakeHeaderSize = 4;
// version(2) random(32) session_id(1) cipher_suites(2+2) compression_methods(1+1)
constexpr size_t kMinHelloBody = 41;

SniffResult Fail(SniffError error) {
  return SniffResult{SniffStatus::kError, error, {}};
}

// MinRecordBytes: the fewest buffered bytes (headers included) that carry `message` handshake
// bytes in full-size records.
size_t MinRecordBytes(size_t message) {
  size_t records = (message + kMaxPlaintextRecord - 1) / kMaxPlaintextRecord;
  return message + records * kRecordHeaderSize;
}

// CheckFirstHeader judges the first record's header from however many of its 5 bytes arrived.
// Returns kNone when they may still start a ClientHello record.
SniffError CheckFirstHeader(std::span<const uint8_t> h) {
  if (h.empty()) {
    return SniffError::kNone;
  }
  if (h[0] & 0x80) {
    // SSLv2 record: 2-byte header with the high bit set, then the message type.
    if (h.size() < 3) {
      return SniffError::kNone;
    }
    return h[2] == kSsl2ClientHello ? SniffError::kUnsupportedVersion : SniffError::kNotTls;
  }
  switch (h[0]) {
    case kHandshake:
      break;
    case kChangeCipherSpec:
    case kAlert:
    case kApplicationData:
    case kHeartbeat:
      return SniffError::kNotHandshake;
    default:
      return SniffError::kNotTls;
  }
  if (h.size() >= 2 && h[1] != 3) {
    return SniffError::kNotTls;
  }
  if (h.size() >= 3) {
    // 3.0 is SSL 3.0; record versions froze at 3.3 (RFC 8446 5.1), so 3.4+ is not TLS.
    if (h[2] == 0) {
      return SniffError::kUnsupportedVersion;
    }
    if (h[2] > 3) {
      return SniffError::kNotTls;
    }
  }
  return SniffError::kNone;
}

// CheckNextHeader judges the header of a record after the first: handshake, same version.
SniffError CheckNextHeader(std::span<const uint8_t> h, uint16_t first_version) {
  if (!h.empty() && h[0] != kHandshake) {
    return SniffError::kInterleavedRecord;
  }
  if ((h.size() >= 2 && h[1] != (first_version >> 8)) ||
      (h.size() >= 3 && h[2] != (first_version & 0xFF))) {
    return SniffError::kBadRecord;
  }
  return SniffError::kNone;
}

// Walk is the outcome of scanning the records: a verdict (error or need-more), or where the
// hello ends.
struct Walk {
  SniffResult verdict;
  bool complete = false;
  uint16_t record_version = 0;
  size_t message_size = 0;  // handshake header + body
  size_t hello_bytes = 0;   // end of the record holding the message's last byte
};

// WalkRecords scans the records of `buf` from `*cursor` until the handshake message ends,
// checking every header byte and the handshake header as soon as they are buffered. The cursor
// moves past each record once it is complete and checked, so a later call on a longer buffer
// resumes there; a record still arriving is looked at but not committed.
Walk WalkRecords(std::span<const uint8_t> buf, size_t max_bytes,
                 ClientHelloSniffer::Cursor* cursor) {
  Walk w;
  for (;;) {
    ClientHelloSniffer::Cursor c = *cursor;
    size_t pos = c.next_record;  // every earlier record is complete
    // Another record is needed; it must end within the cap.
    if (pos + kRecordHeaderSize > max_bytes) {
      w.verdict = Fail(SniffError::kTooLarge);
      return w;
    }
    std::span<const uint8_t> header =
        buf.subspan(pos, std::min(kRecordHeaderSize, buf.size() - pos));
    SniffError e = pos == 0 ? CheckFirstHeader(header) : CheckNextHeader(header, c.record_version);
    if (e != SniffError::kNone) {
      w.verdict = Fail(e);
      return w;
    }
    if (header.size() < kRecordHeaderSize) {
      return w;  // need more
    }
    ByteReader r(header.subspan(1));
    uint16_t version = 0;
    uint16_t length = 0;
    (void)r.ReadU16(&version);  // the header span holds all 5 bytes
    (void)r.ReadU16(&length);
    if (pos == 0) {
      c.record_version = version;
    }
    // RFC 8446 5.1: no zero-length handshake fragments, plaintext at most 2^14.
    if (length == 0 || length > kMaxPlaintextRecord) {
      w.verdict = Fail(SniffError::kBadRecord);
      return w;
    }
    size_t record_end = pos + kRecordHeaderSize + length;
    if (record_end > max_bytes) {
      w.verdict = Fail(SniffError::kTooLarge);
      return w;
    }
    size_t start = pos + kRecordHeaderSize;
    std::span<const uint8_t> fragment =
        buf.subspan(start, std::min(buf.size(), record_end) - start);
    size_t header_before = std::min(c.handshake_seen, kHandshakeHeaderSize);
    for (size_t i = 0; i < fragment.size() && header_before + i < kHandshakeHeaderSize; ++i) {
      c.handshake_header[header_before + i] = fragment[i];
    }
    c.handshake_seen += fragment.size();
    if (header_before == 0 && c.handshake_seen > 0 && c.handshake_header[0] != kClientHello) {
      w.verdict = Fail(SniffError::kNotClientHello);
      return w;
    }
    if (header_before < kHandshakeHeaderSize && c.handshake_seen >= kHandshakeHeaderSize) {
      const auto& h = c.handshake_header;
      size_t body = (size_t{h[1]} << 16) | (size_t{h[2]} << 8) | h[3];
      if (body < kMinHelloBody) {
        w.verdict = Fail(SniffError::kMalformed);
        return w;
      }
      c.message_size = kHandshakeHeaderSize + body;
      if (MinRecordBytes(c.message_size) > max_bytes) {
        w.verdict = Fail(SniffError::kTooLarge);
        return w;
      }
    }
    if (record_end > buf.size()) {
      return w;  // need more: this record is still arriving
    }
    if (c.message_size != 0 && c.handshake_seen >= c.message_size) {
      w.complete = true;
      w.record_version = c.record_version;
      w.message_size = c.message_size;
      w.hello_bytes = record_end;
      return w;
    }
    c.next_record = record_end;
    *cursor = c;
  }
}

// Reassemble copies the handshake message out of `records`, bounds-checked again so that a caller
// who rewrote bytes behind the sniffer's cursor gets an error, not a bad read.
bool Reassemble(std::span<const uint8_t> records, size_t message_size,
                std::vector<uint8_t>* message) {
  message->reserve(message_size);
  ByteReader r(records);
  while (message->size() < message_size) {
    ByteReader record(std::span<const uint8_t>{});
    if (!r.Skip(3) || !r.ReadU16LengthPrefixed(&record)) {
      return false;
    }
    std::span<const uint8_t> fragment = record.rest();
    size_t take = std::min(fragment.size(), message_size - message->size());
    message->insert(message->end(), fragment.begin(),
                    fragment.begin() + static_cast<std::ptrdiff_t>(take));
  }
  return true;
}

// ParseHello reassembles and parses the hello the walk found complete.
SniffResult ParseHello(std::span<const uint8_t> buffered, const Walk& w) {
  // The message is copied out of its records once, now that it is complete (at most max_bytes).
  std::vector<uint8_t> message;
  if (!Reassemble(buffered.first(w.hello_bytes), w.message_size, &message)) {
    return Fail(SniffError::kMalformed);
  }
  SniffResult result;
  std::span<const uint8_t> body = std::span<const uint8_t>(message).subspan(kHandshakeHeaderSize);
  if (SniffError e = ParseClientHelloBody(body, &result.info); e != SniffError::kNone) {
    return Fail(e);
  }
  result.status = SniffStatus::kDone;
  result.info.record_version = w.record_version;
  result.info.hello_bytes = w.hello_bytes;
  return result;
}

}  // namespace

SniffResult ClientHelloSniffer::Sniff(std::span<const uint8_t> buffered) {
  if (buffered.size() < last_size_) {
    cursor_ = Cursor{};  // not the buffer we walked: start over
    verdict_.reset();
  }
  last_size_ = buffered.size();
  if (verdict_) {
    return *verdict_;  // verdicts never change as bytes arrive
  }
  Walk w = WalkRecords(buffered, max_bytes_, &cursor_);
  if (!w.complete) {
    if (w.verdict.status == SniffStatus::kError) {
      verdict_ = w.verdict;
    }
    return w.verdict;
  }
  verdict_ = ParseHello(buffered, w);
  return *verdict_;
}

SniffResult SniffClientHello(std::span<const uint8_t> buffered, size_t max_bytes) {
  return ClientHelloSniffer(max_bytes).Sniff(buffered);
}

std::string_view SniffErrorName(SniffError error) {
  switch (error) {
    case SniffError::kNone:
      return "none";
    case SniffError::kNotTls:
      return "not_tls";
    case SniffError::kNotHandshake:
      return "not_handshake";
    case SniffError::kInterleavedRecord:
      return "interleaved_record";
    case SniffError::kBadRecord:
      return "bad_record";
    case SniffError::kNotClientHello:
      return "not_client_hello";
    case SniffError::kUnsupportedVersion:
      return "unsupported_version";
    case SniffError::kTooLarge:
      return "client_hello_too_large";
    case SniffError::kMalformed:
      return "malformed_client_hello";
    case SniffError::kDuplicateExtension:
      return "duplicate_extension";
    case SniffError::kBadSni:
      return "bad_server_name";
    case SniffError::kBadAlpn:
      return "bad_alpn";
    case SniffError::kBadSupportedVersions:
      return "bad_supported_versions";
    case SniffError::kBadExtension:
      return "bad_extension";
  }
  return "unknown";
}

std::array<uint8_t, 7> AlertRecord(uint8_t description, uint16_t record_version) {
  constexpr uint8_t kFatal = 2;
  return {kAlert,
          static_cast<uint8_t>(record_version >> 8),
          static_cast<uint8_t>(record_version & 0xFF),
          0,
          2,
          kFatal,
          description};
}

}  // namespace msb::gateway::tls
