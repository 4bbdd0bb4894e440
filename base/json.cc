// The strict JSON reader (json.h). It is a recursive-descent parser whose recursion is bounded by
// JsonLimits::max_depth, so hostile input cannot exhaust the stack; every other limit is checked
// as the document is read, before memory for the offending part is committed. Error positions are
// computed only on failure, so the happy path does no line bookkeeping.
#include "base/json.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>
#include <unordered_set>

namespace msb {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

bool IsAsciiLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::string HexByte(unsigned value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "0x";
  out += kHex[(value >> 4) & 0xf];
  out += kHex[value & 0xf];
  return out;
}

// QuoteText renders document text for an error message on one line: printable ASCII as is, every
// other byte as \xNN, so a message never carries control characters or broken UTF-8.
std::string QuoteText(std::string_view text) {
  constexpr size_t kMaxShown = 64;
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte == '"' || byte == '\\') {
      out += '\\';
      out += text[i];
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x" + HexByte(byte).substr(2);
    } else {
      out += text[i];
    }
  }
  if (text.size() > kMaxShown) {
    out += "...";
  }
  out += '"';
  return out;
}

// Utf8SequenceLength returns the length of the well-formed UTF-8 sequence starting at s[i], or 0.
// It follows the table in RFC 3629 section 4, which excludes overlong forms, UTF-16 surrogates
// (U+D800..U+DFFF) and code points above U+10FFFF.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto at = [&](size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0x100U;
  };
  auto cont = [&](size_t k) { return at(k) >= 0x80 && at(k) <= 0xBF; };
  unsigned b0 = at(0);
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    return cont(1) ? 2 : 0;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
    unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
    return at(1) >= lo && at(1) <= hi && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
    unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return at(1) >= lo && at(1) <= hi && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  auto put = [&](uint32_t v) { out += static_cast<char>(static_cast<unsigned char>(v)); };
  if (cp < 0x80) {
    put(cp);
  } else if (cp < 0x800) {
    put(0xC0 | (cp >> 6));
    put(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    put(0xE0 | (cp >> 12));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  } else {
    put(0xF0 | (cp >> 18));
    put(0x80 | ((cp >> 12) & 0x3F));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  }
}

// Underflows reports whether a number that std::from_chars found out of range is too small (it
// rounds to zero) rather than too large, from the position of its first significant digit and its
// exponent. `text` matches the JSON number grammar and has a non-zero digit.
bool Underflows(std::string_view text) {
  size_t i = text.starts_with('-') ? 1 : 0;
  int64_t magnitude = 0;
  size_t int_start = i;
  while (i < text.size() && IsDigit(text[i])) {
    ++i;
  }
  std::string_view int_part = text.substr(int_start, i - int_start);
  if (int_part != "0") {
    magnitude = static_cast<int64_t>(int_part.size()) - 1;
  } else if (i < text.size() && text[i] == '.') {
    ++i;
    magnitude = -1;
    while (i < text.size() && text[i] == '0') {
      --magnitude;
      ++i;
    }
  }
  size_t e = text.find_first_of("eE");
  if (e == std::string_view::npos) {
    return magnitude < 0;
  }
  ++e;
  bool negative = text[e] == '-';
  if (text[e] == '-' || text[e] == '+') {
    ++e;
  }
  int64_t exponent = 0;
  for (; e < text.size(); ++e) {
    exponent = std::min<int64_t>(exponent * 10 + (text[e] - '0'), int64_t{1} << 40);
  }
  return magnitude + (negative ? -exponent : exponent) < 0;
}

}  // namespace

const JsonValue* JsonValue::Find(std::string_view key) const {
  for (const auto& [name, value] : members_) {
    if (name == key) {
      return &value;
    }
  }
  return nullptr;
}

std::string_view JsonValue::KindName(Kind k) {
  switch (k) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "boolean";
    case Kind::kNumber:
      return "number";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "array";
    case Kind::kObject:
      return "object";
  }
  return "?";
}

class JsonParser {
 public:
  JsonParser(std::string_view text, const JsonLimits& limits) : text_(text), limits_(limits) {}

  Result<JsonValue> Parse() {
    JsonValue root;
    if (text_.size() > limits_.max_bytes) {
      Fail(0, "the document is " + std::to_string(text_.size()) +
                  " bytes, over the max_bytes limit of " + std::to_string(limits_.max_bytes));
    } else if (text_.starts_with("\xEF\xBB\xBF")) {
      Fail(0, "a byte order mark is not allowed; save the file as UTF-8 without one");
    } else {
      SkipWhitespace();
      if (ParseValue(root, 0)) {
        SkipWhitespace();
        if (pos_ < text_.size()) {
          Fail(pos_, "unexpected " + Describe(pos_) +
                         " after the JSON value (a document holds exactly one value)");
        }
      }
    }
    if (!error_.empty()) {
      return Status::Error(Where(error_pos_) + error_);
    }
    return root;
  }

 private:
  // Fail records the first error only; callers return false right after.
  bool Fail(size_t pos, std::string what) {
    if (error_.empty()) {
      error_pos_ = pos;
      error_ = std::move(what);
    }
    return false;
  }

  // Where renders "line L, column C: ". Columns count characters: UTF-8 continuation bytes do not
  // start a new column, so a column matches what an editor shows for valid text.
  [[nodiscard]] std::string Where(size_t pos) const {
    size_t line = 1;
    size_t column = 1;
    for (size_t i = 0; i < pos && i < text_.size(); ++i) {
      auto byte = static_cast<unsigned char>(text_[i]);
      if (byte == '\n') {
        ++line;
        column = 1;
      } else if ((byte & 0xC0) != 0x80) {
        ++column;
      }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": ";
  }

  // Describe names what is at `pos` for "found ..." messages.
  [[nodiscard]] std::string Describe(size_t pos) const {
    if (pos >= text_.size()) {
      return "the end of the input";
    }
    auto byte = static_cast<unsigned char>(text_[pos]);
    if (byte == '/') {
      return "'/' (comments are not allowed in JSON)";
    }
    if (byte >= 0x20 && byte < 0x7f) {
      return std::string("'") + text_[pos] + "'";
    }
    return "byte " + HexByte(byte);
  }

  [[nodiscard]] bool AtEnd() const { return pos_ >= text_.size(); }
  [[nodiscard]] char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }

  void SkipWhitespace() {
    while (!AtEnd()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      ++pos_;
    }
  }

  // ParseValue reads one value; `depth` is the number of arrays and objects enclosing it.
  bool ParseValue(JsonValue& out, size_t depth) {
    if (++elements_ > limits_.max_elements) {
      return Fail(pos_, "the document has more than the max_elements limit of " +
                            std::to_string(limits_.max_elements) + " values");
    }
    char c = Peek();
    if (c == '{' || c == '[') {
      if (depth + 1 > limits_.max_depth) {
        return Fail(pos_, "arrays and objects are nested deeper than the max_depth limit of " +
                              std::to_string(limits_.max_depth));
      }
      return c == '{' ? ParseObject(out, depth + 1) : ParseArray(out, depth + 1);
    }
    if (c == '"') {
      out.kind_ = JsonValue::Kind::kString;
      return ParseString(out.string_);
    }
    if (c == '-' || IsDigit(c)) {
      return ParseNumber(out);
    }
    if (IsAsciiLetter(c)) {
      return ParseLiteral(out);
    }
    if (c == '+') {
      return Fail(pos_, "a number cannot start with '+'");
    }
    if (c == '.') {
      return Fail(pos_, "a number needs a digit before the decimal point");
    }
    if (c == '\'') {
      return Fail(pos_, "strings must be in double quotes");
    }
    return Fail(pos_, "expected a JSON value, found " + Describe(pos_));
  }

  bool ParseLiteral(JsonValue& out) {
    size_t start = pos_;
    size_t end = start;
    while (end < text_.size() && (IsAsciiLetter(text_[end]) || IsDigit(text_[end]))) {
      ++end;
    }
    std::string_view word = text_.substr(start, end - start);
    if (word == "true" || word == "false") {
      out.kind_ = JsonValue::Kind::kBool;
      out.bool_ = word == "true";
    } else if (word == "null") {
      out.kind_ = JsonValue::Kind::kNull;
    } else if (word == "NaN" || word == "Infinity") {
      return Fail(start, "NaN and Infinity are not allowed in JSON");
    } else {
      return Fail(start, "unknown literal " + QuoteText(word) +
                             ": expected true, false or null (strings need double quotes)");
    }
    pos_ = end;
    return true;
  }

  bool ScanDigits() {
    size_t start = pos_;
    while (IsDigit(Peek())) {
      ++pos_;
    }
    return pos_ > start;
  }

  // ParseNumber checks the RFC 8259 grammar itself (std::from_chars alone is more permissive,
  // e.g. it accepts "1." and leading zeros) and converts only text that passed.
  bool ParseNumber(JsonValue& out) {
    size_t start = pos_;
    bool negative = Peek() == '-';
    if (negative) {
      ++pos_;
      if (Peek() == 'I') {
        return Fail(start, "NaN and Infinity are not allowed in JSON");
      }
    }
    if (!IsDigit(Peek())) {
      return Fail(pos_, "expected a digit after '-', found " + Describe(pos_));
    }
    if (Peek() == '0') {
      ++pos_;
      if (IsDigit(Peek())) {
        return Fail(start, "numbers cannot have leading zeros");
      }
    } else {
      ScanDigits();
    }
    bool integer = true;
    if (Peek() == '.') {
      integer = false;
      ++pos_;
      if (!ScanDigits()) {
        return Fail(pos_, "expected a digit after the decimal point, found " + Describe(pos_));
      }
    }
    if (Peek() == 'e' || Peek() == 'E') {
      integer = false;
      ++pos_;
      if (Peek() == '+' || Peek() == '-') {
        ++pos_;
      }
      if (!ScanDigits()) {
        return Fail(pos_, "expected a digit in the exponent, found " + Describe(pos_));
      }
    }
    std::string_view text = text_.substr(start, pos_ - start);
    const char* first = text.data();
    const char* last = text.data() + text.size();
    double value = 0;
    auto [ptr, ec] = std::from_chars(first, last, value);
    if (ec == std::errc::result_out_of_range) {
      if (!Underflows(text)) {
        return Fail(start,
                    "the number " + QuoteText(text) + " is too large (the limit is about 1.8e308)");
      }
      value = negative ? -0.0 : 0.0;  // too small to represent: it rounds to zero
    } else if (ec != std::errc() || ptr != last) {
      return Fail(start, "invalid number " + QuoteText(text));
    }
    out.kind_ = JsonValue::Kind::kNumber;
    out.number_ = value;
    if (integer && !negative) {
      uint64_t whole = 0;
      auto [uptr, uec] = std::from_chars(first, last, whole);
      if (uec == std::errc() && uptr == last) {
        out.uint_ = whole;
      }
    }
    return true;
  }

  // ReadHex4 reads the four hex digits of a \u escape at `at`.
  [[nodiscard]] std::optional<uint32_t> ReadHex4(size_t at) const {
    if (at + 4 > text_.size()) {
      return std::nullopt;
    }
    uint32_t value = 0;
    for (size_t i = at; i < at + 4; ++i) {
      char c = text_[i];
      uint32_t digit = 0;
      if (IsDigit(c)) {
        digit = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return std::nullopt;
      }
      value = value * 16 + digit;
    }
    return value;
  }

  // ParseEscape reads the escape whose backslash is at pos_ and appends what it stands for.
  bool ParseEscape(std::string& out) {
    size_t start = pos_;
    ++pos_;
    if (AtEnd()) {
      return Fail(start, "unterminated escape at the end of the input");
    }
    char c = text_[pos_++];
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out += c;
        return true;
      case 'b':
        out += '\b';
        return true;
      case 'f':
        out += '\f';
        return true;
      case 'n':
        out += '\n';
        return true;
      case 'r':
        out += '\r';
        return true;
      case 't':
        out += '\t';
        return true;
      case 'u':
        break;
      default:
        return Fail(start, "invalid escape " + QuoteText(text_.substr(start, 2)) +
                               R"(: expected \" \\ \/ \b \f \n \r \t or \uXXXX)");
    }
    auto unit = ReadHex4(pos_);  // on success the escape is six ASCII characters, safe to quote
    if (!unit) {
      return Fail(start, "a \\u escape needs four hex digits");
    }
    pos_ += 4;
    uint32_t cp = *unit;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return Fail(start, "lone low surrogate " + std::string(text_.substr(start, 6)) +
                             ": it must follow a high surrogate \\uD800-\\uDBFF");
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      auto low = text_.substr(pos_, 2) == "\\u" ? ReadHex4(pos_ + 2) : std::nullopt;
      if (!low || *low < 0xDC00 || *low > 0xDFFF) {
        return Fail(start, "lone high surrogate " + std::string(text_.substr(start, 6)) +
                               ": it must be followed by a low surrogate \\uDC00-\\uDFFF");
      }
      pos_ += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (*low - 0xDC00);
    }
    AppendUtf8(out, cp);
    return true;
  }

  // ParseString reads a string whose opening quote is at pos_.
  bool ParseString(std::string& out) {
    size_t start = pos_;
    ++pos_;
    out.clear();
    while (true) {
      if (AtEnd()) {
        return Fail(start, "unterminated string");
      }
      auto byte = static_cast<unsigned char>(text_[pos_]);
      if (byte == '"') {
        ++pos_;
        return true;
      }
      if (byte == '\\') {
        if (!ParseEscape(out)) {
          return false;
        }
      } else if (byte < 0x20) {
        return Fail(pos_, "control character " + HexByte(byte) +
                              " in a string; write it as an escape such as \\n or \\u00" +
                              HexByte(byte).substr(2));
      } else if (byte < 0x80) {
        out += static_cast<char>(byte);
        ++pos_;
      } else {
        size_t n = Utf8SequenceLength(text_, pos_);
        if (n == 0) {
          constexpr std::string_view kWhy =
              " is malformed, overlong, a surrogate or above U+10FFFF)";
          return Fail(pos_, "invalid UTF-8 in a string (a sequence starting with byte " +
                                HexByte(byte) + std::string(kWhy));
        }
        out.append(text_.substr(pos_, n));
        pos_ += n;
      }
      if (out.size() > limits_.max_string_bytes) {
        return Fail(start, "a string is longer than the max_string_bytes limit of " +
                               std::to_string(limits_.max_string_bytes) + " bytes");
      }
    }
  }

  bool ParseArray(JsonValue& out, size_t depth) {
    out.kind_ = JsonValue::Kind::kArray;
    ++pos_;  // '['
    SkipWhitespace();
    if (Peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      JsonValue item;
      if (!ParseValue(item, depth)) {
        return false;
      }
      out.items_.push_back(std::move(item));
      SkipWhitespace();
      if (Peek() == ']') {
        ++pos_;
        return true;
      }
      if (Peek() != ',') {
        return Fail(pos_, "expected ',' or ']' after an array item, found " + Describe(pos_));
      }
      size_t comma = pos_++;
      SkipWhitespace();
      if (Peek() == ']') {
        return Fail(comma, "trailing comma before ']'");
      }
    }
  }

  bool ParseObject(JsonValue& out, size_t depth) {
    out.kind_ = JsonValue::Kind::kObject;
    ++pos_;  // '{'
    SkipWhitespace();
    if (Peek() == '}') {
      ++pos_;
      return true;
    }
    std::unordered_set<std::string> seen;  // duplicates compare decoded keys: "a" == "\u0061"
    while (true) {
      if (Peek() != '"') {
        return Fail(pos_, "expected a key in double quotes, found " + Describe(pos_));
      }
      size_t key_pos = pos_;
      std::string key;
      if (!ParseString(key)) {
        return false;
      }
      if (!seen.insert(key).second) {
        return Fail(key_pos, "duplicate key " + QuoteText(key));
      }
      SkipWhitespace();
      if (Peek() != ':') {
        return Fail(pos_, "expected ':' after the key, found " + Describe(pos_));
      }
      ++pos_;
      SkipWhitespace();
      JsonValue value;
      if (!ParseValue(value, depth)) {
        return false;
      }
      out.members_.emplace_back(std::move(key), std::move(value));
      SkipWhitespace();
      if (Peek() == '}') {
        ++pos_;
        return true;
      }
      if (Peek() != ',') {
        return Fail(pos_, "expected ',' or '}' after an object member, found " + Describe(pos_));
      }
      size_t comma = pos_++;
      SkipWhitespace();
      if (Peek() == '}') {
        return Fail(comma, "trailing comma before '}'");
      }
    }
  }

  std::string_view text_;
  JsonLimits limits_;
  size_t pos_ = 0;
  size_t elements_ = 0;
  size_t error_pos_ = 0;
  std::string error_;
};

Result<JsonValue> ParseJson(std::string_view text, const JsonLimits& limits) {
  return JsonParser(text, limits).Parse();
}

}  // namespace msb
