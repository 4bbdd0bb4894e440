// A strict JSON (RFC 8259) reader for configuration files: a small DOM with hard limits (input
// size, nesting depth, string length, element count), no comments, no trailing commas, no
// duplicate object keys, valid UTF-8 only, and errors that say line and column.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace msb {

struct JsonLimits {
  size_t max_bytes = 1 << 20;
  size_t max_depth = 32;
  size_t max_string_bytes = 64 * 1024;
  size_t max_elements = 100000;  // values in total
};

class JsonValue {
 public:
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }

  bool as_bool() const { return bool_; }
  // as_uint64 is set only for numbers written as non-negative integers without fraction or
  // exponent that fit in 64 bits.
  std::optional<uint64_t> as_uint64() const { return uint_; }
  double as_double() const { return number_; }
  const std::string& as_string() const { return string_; }
  const std::vector<JsonValue>& items() const { return items_; }
  // members keeps the order of the document.
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }
  const JsonValue* Find(std::string_view key) const;

  // KindName: "null", "boolean", "number", "string", "array", "object".
  static std::string_view KindName(Kind k);

 private:
  friend class JsonParser;
  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::optional<uint64_t> uint_;
  std::string string_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

// ParseJson parses one document. Errors read "line L, column C: what was wrong".
Result<JsonValue> ParseJson(std::string_view text, const JsonLimits& limits = {});

}  // namespace msb
