// Stream framing: the wire format of QEMU's `-netdev stream`, passt and libkrun's "unixstream"
// back end, in which each Ethernet frame travels behind a 4-byte big-endian length. Sans-I/O: the
// decoder takes bytes as they arrive, in any chunking, and hands out whole records; the encoder
// produces the header. No sockets here (unix_stream_device.h does the I/O).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "stack/frame_device.h"

namespace msb::stack {

inline constexpr size_t kStreamHeaderSize = 4;

// StreamFrameHeader is the length prefix for a frame of `frame_size` bytes (which must fit 32
// bits).
std::array<uint8_t, kStreamHeaderSize> StreamFrameHeader(size_t frame_size);

// AppendStreamFrame appends the header and the frame given as consecutive `parts` to `out`.
void AppendStreamFrame(std::span<const std::span<const uint8_t>> parts, std::vector<uint8_t>* out);

// StreamFrameDecoder splits a byte stream into records. Records shorter than an Ethernet header
// are reported as kMalformed and framing goes on (their length still says where the next one
// starts). A length above the cap is kFatal: nothing after it can be trusted, so the decoder stays
// in that state until Reset() (the device drops the connection). Not thread-safe; one per peer.
class StreamFrameDecoder {
 public:
  enum class Kind : uint8_t {
    kNeedMore,   // every byte given was used; give more
    kFrame,      // `record` is a frame of kEthernetHeaderSize..max_frame bytes
    kMalformed,  // `record` is shorter than an Ethernet header: drop it, count it
    kFatal,      // a length above max_frame: framing is lost
  };
  struct Step {
    Kind kind = Kind::kNeedMore;
    size_t consumed = 0;  // bytes of the input used by this step (all of them for kNeedMore)
    // kFrame/kMalformed: the record's bytes, without the header. Borrowed: they point into the
    // input (a record that arrived whole) or into the decoder (one that arrived in pieces), and
    // stay valid until the next Decode or Reset.
    std::span<const uint8_t> record;
  };

  // `max_frame` is the largest frame accepted (raised to kEthernetHeaderSize if below it).
  explicit StreamFrameDecoder(size_t max_frame);

  // Decode consumes a prefix of `input` and reports at most one record. The caller passes the
  // unconsumed rest again until the step is kNeedMore (or kFatal, which consumes nothing more).
  Step Decode(std::span<const uint8_t> input);
  // Reset forgets any partial record and a fatal error: the state for a new peer.
  void Reset();
  // in_record: part of a record (header or body) has been taken but not yet reported, which at
  // the end of the stream means a truncated frame.
  bool in_record() const { return header_got_ != 0 || in_body_; }
  bool fatal() const { return fatal_; }
  size_t max_frame() const { return max_frame_; }

 private:
  Step Finish(size_t consumed, std::span<const uint8_t> record) const;

  size_t max_frame_;
  std::array<uint8_t, kStreamHeaderSize> header_{};
  size_t header_got_ = 0;
  bool in_body_ = false;
  size_t body_size_ = 0;
  std::vector<uint8_t> body_;  // a record that arrives in pieces (at most max_frame bytes)
  bool fatal_ = false;
};

}  // namespace msb::stack
