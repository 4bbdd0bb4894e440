// JsonWriter: builds one JSON object on a single line (audit records, `--json` output). Strings are
// escaped per RFC 8259; invalid UTF-8 is replaced by U+FFFD so output is always valid JSON even
// when the input came from an untrusted guest (a DNS name, an HTTP header).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace msb {

class JsonWriter {
 public:
  JsonWriter() { out_.push_back('{'); }

  JsonWriter& Str(std::string_view key, std::string_view value);
  JsonWriter& Int(std::string_view key, int64_t value);
  JsonWriter& Uint(std::string_view key, uint64_t value);
  JsonWriter& Bool(std::string_view key, bool value);
  JsonWriter& Null(std::string_view key);
  // Raw inserts pre-encoded JSON (an array or object built by another writer).
  JsonWriter& Raw(std::string_view key, std::string_view json);

  // Finish closes the object and returns it; the writer must not be used afterwards.
  std::string Finish();

  static void AppendEscaped(std::string* out, std::string_view s);

 private:
  void Key(std::string_view key);
  std::string out_;
  bool first_ = true;
};

// JsonStringArray encodes a list of strings as a JSON array.
template <typename Range>
std::string JsonStringArray(const Range& items) {
  std::string out = "[";
  bool first = true;
  for (const auto& s : items) {
    if (!first) {
      out.push_back(',');
    }
    first = false;
    JsonWriter::AppendEscaped(&out, s);
  }
  out.push_back(']');
  return out;
}

}  // namespace msb
