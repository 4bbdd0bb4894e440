// ClientHello sniffer: a pure, sans-I/O parser that decides, from the first bytes a guest sends on
// an intercepted port, whether they are a TLS ClientHello and what it asks for (SNI, ALPN,
// versions), before any SSL object exists. The guest is untrusted: every length is checked, the
// handshake message is reassembled from at most `max_bytes` of records, and nothing here allocates
// more than the bytes it was given.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace msb::gateway::tls {

inline constexpr size_t kDefaultMaxHelloBytes = 64 * 1024;
inline constexpr size_t kMaxPlaintextRecord = 16384;  // 2^14 (RFC 8446 5.1)
inline constexpr size_t kRecordHeaderSize = 5;

enum class SniffStatus : uint8_t {
  kNeedMore,  // a prefix of something that may still become a valid ClientHello
  kDone,      // a complete, well-formed ClientHello: `info` is filled
  kError,     // cannot be a (supported, well-formed) ClientHello: `error` says why
};

// SniffError: why the bytes were rejected. Each has a stable name (SniffErrorName) for the audit
// log; the values may be renumbered, the names may not.
enum class SniffError : uint8_t {
  kNone,                  // "none": status is not kError
  kNotTls,                // "not_tls": the first bytes cannot start a TLS record (HTTP, SSH, ...)
  kNotHandshake,          // "not_handshake": the first record is TLS but not a handshake record
  kInterleavedRecord,     // "interleaved_record": a non-handshake record before the hello ended
  kBadRecord,             // "bad_record": empty or > 2^14 record, or a record version change
  kNotClientHello,        // "not_client_hello": the first handshake message is another type
  kUnsupportedVersion,    // "unsupported_version": SSLv2-compatible hello, SSL 3.0 record/hello
  kTooLarge,              // "client_hello_too_large": the hello cannot fit in `max_bytes`
  kMalformed,             // "malformed_client_hello": bad lengths or framing in the message
  kDuplicateExtension,    // "duplicate_extension": an extension type twice (RFC 8446 4.2)
  kBadSni,                // "bad_server_name": structure of the server_name extension
  kBadAlpn,               // "bad_alpn": structure of the ALPN extension (RFC 7301 3.1)
  kBadSupportedVersions,  // "bad_supported_versions": structure of supported_versions
  kBadExtension,          // "bad_extension": supported_groups, early_data or pre_shared_key
};

// SniffErrorName gives the stable snake_case name of `error` ("unknown" for values outside the
// enum).
std::string_view SniffErrorName(SniffError error);

// ClientHelloInfo: what a complete ClientHello offers. GREASE values (RFC 8701, 0x?A?A) are
// removed from every list of code points; strings are kept as sent.
struct ClientHelloInfo {
  uint16_t record_version = 0;  // of the first record (0x0301 from most clients, 0x0303 from Java)
  uint16_t legacy_version = 0;  // ClientHello.legacy_version (0x0303 from TLS 1.2+ clients)
  // The host_name entry of server_name, raw bytes: NOT validated as a DNS name here (may hold any
  // byte, including NUL and dots in odd places; 1-255 bytes). nullopt without the extension or
  // without a host_name entry. With ECH this is the outer (public) name.
  std::optional<std::string> sni;
  std::vector<std::string> alpn;             // protocol names in the client's order, non-empty
  std::vector<uint16_t> supported_versions;  // from the extension; empty when it is absent
  std::vector<uint16_t> cipher_suites;       // in the client's order
  std::vector<uint16_t> supported_groups;    // from the extension; empty when it is absent
  std::vector<uint16_t> extensions;          // extension types in the client's order
  bool offers_tls13 = false;                 // supported_versions contains 0x0304
  bool has_ech = false;                      // encrypted_client_hello (0xfe0d) present
  bool has_early_data = false;  // early_data (42) present: 0-RTT data may follow the hello
  // Bytes of the buffer taken by the record(s) carrying the ClientHello: from the start up to the
  // end of the record that holds the hello's last byte. Anything after the hello inside that
  // record (further handshake messages) is covered but not parsed; records after it (a
  // ChangeCipherSpec, early data) are not covered.
  size_t hello_bytes = 0;

  bool operator==(const ClientHelloInfo&) const = default;
};

struct SniffResult {
  SniffStatus status = SniffStatus::kNeedMore;
  SniffError error = SniffError::kNone;  // set iff status == kError
  ClientHelloInfo info;                  // meaningful iff status == kDone (default otherwise)
};

// SniffClientHello parses everything buffered so far from the start of the connection; call it
// again with the grown buffer after kNeedMore (it keeps no state; ClientHelloSniffer below is the
// same with a resume point). It returns:
//  - kNeedMore for every proper prefix of a valid ClientHello flight, including a final record
//    that holds the hello's last byte but has not fully arrived;
//  - kError as soon as the buffered bytes prove the stream is not an acceptable ClientHello: the
//    first byte for HTTP or SSH, the third for an SSLv2-compatible hello, the record or handshake
//    header for oversize or bad lengths, and otherwise once the message is complete. A verdict
//    never changes as more bytes arrive;
//  - kError kTooLarge instead of kNeedMore once the hello's records cannot end within
//    `max_bytes` (record headers included), so a caller never buffers more than `max_bytes`;
//  - kDone when the hello is complete and well formed; `buffered` may hold more after
//    info.hello_bytes (early data), which is not looked at.
// The hello may span any number of handshake records (1-byte records included). A call costs time
// linear in the records buffered (the message is parsed once it is complete), so calling this on
// every segment of a dribbled hello is quadratic: use ClientHelloSniffer on a connection.
// Thread-safe (no state).
[[nodiscard]] SniffResult SniffClientHello(std::span<const uint8_t> buffered,
                                           size_t max_bytes = kDefaultMaxHelloBytes);

// ClientHelloSniffer is SniffClientHello for one connection's growing receive buffer: it
// remembers how far the records have been walked, and the verdict once there is one, so a hello
// arriving in N pieces costs time linear in its size, however it is split into segments and
// records. Each Sniff returns exactly what SniffClientHello(buffered, max_bytes) would, provided
// `buffered` starts with the bytes the previous call saw (the buffer only grew); a buffer shorter
// than the previous one restarts from scratch. A caller that rewrites bytes already seen gets
// unspecified verdicts, but never an out-of-bounds read.
// Not thread-safe: one per connection, on its thread.
class ClientHelloSniffer {
 public:
  explicit ClientHelloSniffer(size_t max_bytes = kDefaultMaxHelloBytes) : max_bytes_(max_bytes) {}

  [[nodiscard]] SniffResult Sniff(std::span<const uint8_t> buffered);

  // Cursor is where the walk resumes (public only so the implementation's helpers can name it).
  struct Cursor {
    size_t next_record = 0;     // every record before this offset is complete and checked
    size_t handshake_seen = 0;  // handshake bytes in those records
    std::array<uint8_t, 4> handshake_header{};
    uint16_t record_version = 0;  // of the first record
    size_t message_size = 0;      // handshake header + body; 0 until the header is complete
  };

 private:
  size_t max_bytes_;
  size_t last_size_ = 0;  // of the previous call's buffer
  Cursor cursor_;
  std::optional<SniffResult> verdict_;  // once kDone or kError, repeated as more bytes arrive
};

// AlertDescription: the alerts the gateway sends before any SSL object exists.
enum class AlertDescription : uint8_t {
  kHandshakeFailure = 40,
  kProtocolVersion = 70,
  kAccessDenied = 49,
  kInternalError = 80,
  kUnrecognizedName = 112,
};

// AlertRecord is one plaintext TLS record carrying a fatal alert with `description` (e.g. 49
// access_denied when policy refuses the SNI), with `record_version` in the record header (0x0303
// unless mirroring the client's). Send it, then close: the client sees a clean TLS failure.
std::array<uint8_t, 7> AlertRecord(uint8_t description, uint16_t record_version = 0x0303);
inline std::array<uint8_t, 7> AlertRecord(AlertDescription description,
                                          uint16_t record_version = 0x0303) {
  return AlertRecord(static_cast<uint8_t>(description), record_version);
}

}  // namespace msb::gateway::tls
