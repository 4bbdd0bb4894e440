// ByteReader: a bounds-checked cursor over untrusted bytes (guest frames, DNS, TLS, config).
// Every Read* either succeeds and advances, or fails and leaves the cursor where it was. Nothing
// here can read past the span it was given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace msb {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  size_t position() const { return pos_; }
  bool empty() const { return remaining() == 0; }
  std::span<const uint8_t> rest() const { return data_.subspan(pos_); }

  [[nodiscard]] bool ReadU8(uint8_t* out) {
    if (remaining() < 1) {
      return false;
    }
    *out = data_[pos_++];
    return true;
  }
  [[nodiscard]] bool ReadU16(uint16_t* out) {  // network byte order
    if (remaining() < 2) {
      return false;
    }
    *out = static_cast<uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  [[nodiscard]] bool ReadU24(uint32_t* out) {
    if (remaining() < 3) {
      return false;
    }
    *out = (uint32_t{data_[pos_]} << 16) | (uint32_t{data_[pos_ + 1]} << 8) | data_[pos_ + 2];
    pos_ += 3;
    return true;
  }
  [[nodiscard]] bool ReadU32(uint32_t* out) {
    if (remaining() < 4) {
      return false;
    }
    *out = (uint32_t{data_[pos_]} << 24) | (uint32_t{data_[pos_ + 1]} << 16) |
           (uint32_t{data_[pos_ + 2]} << 8) | data_[pos_ + 3];
    pos_ += 4;
    return true;
  }
  [[nodiscard]] bool ReadBytes(size_t n, std::span<const uint8_t>* out) {
    if (remaining() < n) {
      return false;
    }
    *out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  [[nodiscard]] bool Skip(size_t n) {
    if (remaining() < n) {
      return false;
    }
    pos_ += n;
    return true;
  }
  // Reads a length-prefixed child region (u8 or u16 length) into `child`.
  [[nodiscard]] bool ReadU8LengthPrefixed(ByteReader* child) {
    size_t save = pos_;
    uint8_t len = 0;
    std::span<const uint8_t> body;
    if (!ReadU8(&len) || !ReadBytes(len, &body)) {
      pos_ = save;
      return false;
    }
    *child = ByteReader(body);
    return true;
  }
  [[nodiscard]] bool ReadU16LengthPrefixed(ByteReader* child) {
    size_t save = pos_;
    uint16_t len = 0;
    std::span<const uint8_t> body;
    if (!ReadU16(&len) || !ReadBytes(len, &body)) {
      pos_ = save;
      return false;
    }
    *child = ByteReader(body);
    return true;
  }
  // Moves the cursor to an absolute offset (used by DNS name compression); fails beyond the end.
  [[nodiscard]] bool Seek(size_t offset) {
    if (offset > data_.size()) {
      return false;
    }
    pos_ = offset;
    return true;
  }
  std::span<const uint8_t> whole() const { return data_; }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

}  // namespace msb
