// DNS names on the wire (dns_message.h ReadName): label walking, bounded decompression, and the
// presentation form (lowercased, \DDD-escaped) that policy matching and audit logs rely on. Split
// from dns_message.cc because every name in every section passes through here and the loop-safety
// argument is easier to check on its own.
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/byte_reader.h"
#include "gateway/dns/message.h"

namespace msb::gateway::dns {
namespace {

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxLabel = 63;
constexpr size_t kMaxNameWire = 255;  // length octets + labels + the root octet (RFC 1035 3.1)
constexpr int kMaxPointerJumps = 64;

bool IsPlain(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// AppendLabel writes one label in presentation form: ASCII lowercased, everything else as \DDD so
// that a '.' or '\' inside a label cannot be confused with a separator or an escape.
void AppendLabel(std::span<const uint8_t> label, std::string* out) {
  for (uint8_t c : label) {
    if (!IsPlain(c)) {
      out->push_back('\\');
      out->push_back(static_cast<char>('0' + c / 100));
      out->push_back(static_cast<char>('0' + c / 10 % 10));
      out->push_back(static_cast<char>('0' + c % 10));
    } else if (c >= 'A' && c <= 'Z') {
      out->push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
}

}  // namespace

// Every pointer must land strictly before the run of labels that contains it, so each jump moves
// the walk backwards and no pointer loop can exist; the jump cap bounds chains of pointers that add
// no octets, and the 255-octet limit bounds the output (at most 4 characters per octet).
Status ReadName(std::span<const uint8_t> message, size_t* offset, bool allow_pointers,
                std::string* out) {
  out->clear();
  ByteReader cur(message);
  if (!cur.Seek(*offset)) {
    return Status::Error("name runs past the end");
  }
  size_t run_start = cur.position();
  std::optional<size_t> resume;  // where the caller continues: after the first pointer, if any
  int jumps = 0;
  size_t wire_length = 1;  // the root octet
  for (;;) {
    uint8_t len = 0;
    if (!cur.ReadU8(&len)) {
      return Status::Error("name runs past the end");
    }
    if ((len & 0xC0) == 0xC0) {
      if (!allow_pointers) {
        return Status::Error("name uses compression");
      }
      uint8_t low = 0;
      if (!cur.ReadU8(&low)) {
        return Status::Error("name runs past the end");
      }
      size_t target = (size_t{len & 0x3Fu} << 8) | low;
      if (target >= run_start) {
        return Status::Error("compression pointer does not point backwards");
      }
      if (target < kHeaderSize) {
        return Status::Error("compression pointer into the header");
      }
      if (++jumps > kMaxPointerJumps) {
        return Status::Error("too many compression pointers");
      }
      if (!resume) {
        resume = cur.position();
      }
      if (!cur.Seek(target)) {  // cannot fail: target < run_start <= size
        return Status::Error("compression pointer past the end");
      }
      run_start = target;
      continue;
    }
    if (len > kMaxLabel) {  // also the 01 and 10 label types, which are reserved (RFC 6891 5)
      return Status::Error("label longer than 63 octets");
    }
    if (len == 0) {
      break;
    }
    wire_length += 1 + size_t{len};
    if (wire_length > kMaxNameWire) {
      return Status::Error("name longer than 255 octets");
    }
    std::span<const uint8_t> label;
    if (!cur.ReadBytes(len, &label)) {
      return Status::Error("name runs past the end");
    }
    if (!out->empty()) {
      out->push_back('.');
    }
    AppendLabel(label, out);
  }
  *offset = resume.value_or(cur.position());
  return Status::Ok();
}

}  // namespace msb::gateway::dns
