// The strict JSON reader: RFC 8259 grammar (valid and invalid forms), string escapes and UTF-8
// validation, duplicate keys, limits, number conversions, and line/column positions in errors.
#include "base/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace msb {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

JsonValue Parse(std::string_view text, const JsonLimits& limits = {}) {
  auto r = ParseJson(text, limits);
  EXPECT_TRUE(r.ok()) << "text: " << text << "\nerror: " << (r.ok() ? "" : r.error());
  return r.ok() ? r.value() : JsonValue();
}

std::string Error(std::string_view text, const JsonLimits& limits = {}) {
  auto r = ParseJson(text, limits);
  EXPECT_FALSE(r.ok()) << "accepted: " << text;
  return r.ok() ? std::string() : r.error();
}

std::string ParseString(std::string_view text) {
  JsonValue v = Parse(text);
  EXPECT_TRUE(v.is_string()) << text;
  return v.as_string();
}

// ExpectInvalid checks every text fails with `hint` in its message.
void ExpectInvalid(std::initializer_list<std::string_view> texts, std::string_view hint) {
  for (std::string_view text : texts) {
    EXPECT_THAT(Error(text), HasSubstr(std::string(hint))) << "text: " << text;
  }
}

TEST(JsonTest, LiteralsAndSurroundingWhitespace) {
  EXPECT_TRUE(Parse("true").as_bool());
  EXPECT_TRUE(Parse("false").is_bool());
  EXPECT_FALSE(Parse("false").as_bool());
  EXPECT_TRUE(Parse(" \t\r\nnull\n\r\t ").is_null());
  EXPECT_TRUE(Parse("\"s\"").is_string());  // any value may be the document (RFC 8259)
  EXPECT_TRUE(Parse("7").is_number());
  ExpectInvalid({"True", "nul", "nulll", "true1", "undefined"}, "unknown literal");
  EXPECT_EQ(Error("True"),
            "line 1, column 1: unknown literal \"True\": expected true, false or "
            "null (strings need double quotes)");
}

TEST(JsonTest, EmptyDocumentAndOtherWhitespace) {
  EXPECT_EQ(Error(""), "line 1, column 1: expected a JSON value, found the end of the input");
  EXPECT_EQ(Error("  \n "), "line 2, column 2: expected a JSON value, found the end of the input");
  EXPECT_EQ(Error("\v1"), "line 1, column 1: expected a JSON value, found byte 0x0B");
  EXPECT_EQ(Error("\f1"), "line 1, column 1: expected a JSON value, found byte 0x0C");
  EXPECT_THAT(Error("\xC2\xA0"
                    "1"),
              HasSubstr("found byte 0xC2"));  // no-break space
  EXPECT_THAT(Error("\xEF\xBB\xBF{}"), HasSubstr("byte order mark"));
  EXPECT_THAT(Error(std::string_view("1\0", 2)), HasSubstr("unexpected byte 0x00 after"));
}

TEST(JsonTest, ExactlyOneValue) {
  EXPECT_EQ(Error("1 2"),
            "line 1, column 3: unexpected '2' after the JSON value (a document holds exactly one "
            "value)");
  ExpectInvalid({"{} x", "[]]", "{}{}", "null,"}, "after the JSON value");
}

TEST(JsonTest, NoComments) {
  ExpectInvalid({"// c\n1", "/* c */ 1", "[1 /* c */]", "{\"a\": 1 // c\n}", "1 // c"},
                "comments are not allowed in JSON");
  EXPECT_THAT(Error("[1, # c\n 2]"), HasSubstr("found '#'"));
}

TEST(JsonTest, NoTrailingOrMissingCommas) {
  EXPECT_EQ(Error("[1,]"), "line 1, column 3: trailing comma before ']'");
  EXPECT_EQ(Error("{\"a\": 1 ,\n }"), "line 1, column 9: trailing comma before '}'");
  EXPECT_EQ(Error("[,1]"), "line 1, column 2: expected a JSON value, found ','");
  EXPECT_EQ(Error("[1,,2]"), "line 1, column 4: expected a JSON value, found ','");
  EXPECT_EQ(Error("[1 2]"), "line 1, column 4: expected ',' or ']' after an array item, found '2'");
  EXPECT_EQ(Error("{\"a\":1 \"b\":2}"),
            "line 1, column 8: expected ',' or '}' after an object member, found '\"'");
  EXPECT_EQ(
      Error("[1"),
      "line 1, column 3: expected ',' or ']' after an array item, found the end of the input");
}

TEST(JsonTest, ObjectSyntax) {
  EXPECT_EQ(Error("{a: 1}"), "line 1, column 2: expected a key in double quotes, found 'a'");
  EXPECT_EQ(Error("{'a': 1}"), "line 1, column 2: expected a key in double quotes, found '''");
  EXPECT_EQ(Error("{1: 1}"), "line 1, column 2: expected a key in double quotes, found '1'");
  EXPECT_EQ(Error("{\"a\" 1}"), "line 1, column 6: expected ':' after the key, found '1'");
  EXPECT_EQ(Error("{\"a\"=1}"), "line 1, column 5: expected ':' after the key, found '='");
  EXPECT_EQ(Error("{\"a\":}"), "line 1, column 6: expected a JSON value, found '}'");
  EXPECT_THAT(Error("{"), HasSubstr("found the end of the input"));
  EXPECT_THAT(Error("'a'"), HasSubstr("strings must be in double quotes"));
}

TEST(JsonTest, ObjectsKeepDocumentOrderAndFind) {
  JsonValue v = Parse(R"({"b": 1, "a": [true, null, "x", {}], "c": {"d": 2.5}})");
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.members().size(), 3u);
  EXPECT_EQ(v.members()[0].first, "b");
  EXPECT_EQ(v.members()[1].first, "a");
  EXPECT_EQ(v.members()[2].first, "c");
  const JsonValue* a = v.Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->is_array());
  ASSERT_EQ(a->items().size(), 4u);
  EXPECT_TRUE(a->items()[0].as_bool());
  EXPECT_TRUE(a->items()[1].is_null());
  EXPECT_EQ(a->items()[2].as_string(), "x");
  EXPECT_TRUE(a->items()[3].is_object());
  EXPECT_TRUE(a->items()[3].members().empty());
  EXPECT_EQ(v.Find("c")->Find("d")->as_double(), 2.5);
  EXPECT_EQ(v.Find("missing"), nullptr);
  EXPECT_EQ(v.Find("B"), nullptr);
  EXPECT_TRUE(Parse("[]").items().empty());
  EXPECT_TRUE(Parse(" [ ] ").is_array());
  EXPECT_TRUE(Parse("{ }").is_object());
}

TEST(JsonTest, KindNames) {
  using K = JsonValue::Kind;
  EXPECT_EQ(JsonValue::KindName(K::kNull), "null");
  EXPECT_EQ(JsonValue::KindName(K::kBool), "boolean");
  EXPECT_EQ(JsonValue::KindName(K::kNumber), "number");
  EXPECT_EQ(JsonValue::KindName(K::kString), "string");
  EXPECT_EQ(JsonValue::KindName(K::kArray), "array");
  EXPECT_EQ(JsonValue::KindName(K::kObject), "object");
  EXPECT_EQ(Parse("{}").kind(), K::kObject);
  EXPECT_EQ(Parse("null").kind(), K::kNull);
}

TEST(JsonTest, DuplicateKeys) {
  EXPECT_EQ(Error(R"({"a": 1, "a": 2})"), "line 1, column 10: duplicate key \"a\"");
  // Keys compare after unescaping.
  EXPECT_THAT(Error(R"({"a": 1, "\u0061": 2})"), HasSubstr("duplicate key \"a\""));
  EXPECT_THAT(Error("{\"x\": {\"k\": 1,\n \"k\": 2}}"),
              StartsWith("line 2, column 2: duplicate key \"k\""));
  // Non-printable bytes in the key are escaped in the message.
  EXPECT_THAT(Error(R"({"\n": 1, "\n": 2})"), HasSubstr(R"(duplicate key "\x0A")"));
  // The same key in different objects, or in another case, is fine.
  Parse(R"({"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}], "A": 3})");
}

TEST(JsonTest, IntegerForms) {
  JsonValue zero = Parse("0");
  EXPECT_EQ(zero.as_uint64(), 0u);
  EXPECT_EQ(zero.as_double(), 0.0);
  EXPECT_EQ(Parse("42").as_uint64(), 42u);
  EXPECT_EQ(Parse("18446744073709551615").as_uint64(), std::numeric_limits<uint64_t>::max());
  // Beyond 64 bits: a number, but not an uint64.
  JsonValue big = Parse("18446744073709551616");
  EXPECT_FALSE(big.as_uint64().has_value());
  EXPECT_EQ(big.as_double(), 18446744073709551616.0);
  // Negative numbers, fractions and exponents are never uint64, even when integral.
  for (std::string_view text : {"-1", "-0", "1.0", "1e2", "1E+2", "100e-2"}) {
    JsonValue v = Parse(text);
    EXPECT_TRUE(v.is_number()) << text;
    EXPECT_FALSE(v.as_uint64().has_value()) << text;
  }
  EXPECT_EQ(Parse("-1").as_double(), -1.0);
  EXPECT_EQ(Parse("1E+2").as_double(), 100.0);
  EXPECT_TRUE(std::signbit(Parse("-0").as_double()));
}

TEST(JsonTest, FractionAndExponentForms) {
  EXPECT_EQ(Parse("0.5").as_double(), 0.5);
  EXPECT_EQ(Parse("-0.25").as_double(), -0.25);
  EXPECT_EQ(Parse("1e-2").as_double(), 0.01);
  EXPECT_EQ(Parse("2.5E3").as_double(), 2500.0);
  EXPECT_EQ(Parse("1e+0").as_double(), 1.0);
  EXPECT_EQ(Parse("0e0").as_double(), 0.0);
  EXPECT_EQ(Parse("1.7976931348623157e308").as_double(), std::numeric_limits<double>::max());
  EXPECT_EQ(Parse("[1.5,2]").items()[0].as_double(), 1.5);
}

TEST(JsonTest, InvalidNumberForms) {
  EXPECT_EQ(Error("+1"), "line 1, column 1: a number cannot start with '+'");
  EXPECT_EQ(Error("01"), "line 1, column 1: numbers cannot have leading zeros");
  EXPECT_EQ(Error("[1, -01]"), "line 1, column 5: numbers cannot have leading zeros");
  ExpectInvalid({"00", "-00", "007"}, "leading zeros");
  ExpectInvalid({"1.", "1.e5", "-1.x"}, "expected a digit after the decimal point");
  ExpectInvalid({"1e", "1e+", "1E-", "1ex"}, "expected a digit in the exponent");
  ExpectInvalid({"-", "--1", "-a", "- 1"}, "expected a digit after '-'");
  ExpectInvalid({".5", "-.5"}, "digit");
  ExpectInvalid({"0x10", "1_000", "1,000"}, "after the JSON value");
  ExpectInvalid({"NaN", "Infinity", "-Infinity", "[NaN]"}, "NaN and Infinity are not allowed");
}

TEST(JsonTest, HugeAndTinyNumbers) {
  EXPECT_EQ(Error("1e400"),
            "line 1, column 1: the number \"1e400\" is too large (the limit is about 1.8e308)");
  ExpectInvalid({"-1e400", "1.8e308", "[0, 123e99999999999999999999]"}, "is too large");
  EXPECT_THAT(Error("1" + std::string(400, '0')), HasSubstr("is too large"));
  // Too small to represent rounds to zero, keeping the sign.
  EXPECT_EQ(Parse("1e-400").as_double(), 0.0);
  EXPECT_TRUE(std::signbit(Parse("-1e-400").as_double()));
  EXPECT_EQ(Parse("0." + std::string(400, '0') + "1").as_double(), 0.0);
  EXPECT_EQ(Parse("1" + std::string(400, '0') + "e-800").as_double(), 0.0);
  EXPECT_THAT(Error("0." + std::string(400, '0') + "1e800"), HasSubstr("is too large"));
  EXPECT_EQ(Parse("0e99999999999999999999").as_double(), 0.0);
  EXPECT_GT(Parse("4.9e-324").as_double(), 0.0);  // the smallest subnormal is representable
}

TEST(JsonTest, StringEscapes) {
  EXPECT_EQ(ParseString(R"("\"\\\/\b\f\n\r\t")"), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(ParseString(R"("\u0041\u00e9\u20AC")"), "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(ParseString(R"("\uD83D\uDE00")"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(ParseString(R"("\ud83d\ude00")"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(ParseString(R"("\uDBFF\uDFFF")"), "\xF4\x8F\xBF\xBF");  // U+10FFFF
  EXPECT_EQ(ParseString(R"("\u0000")"), std::string(1, '\0'));
  EXPECT_EQ(ParseString(R"("\u007f")"), "\x7f");
  EXPECT_EQ(ParseString("\"\x7f\""), "\x7f");  // DEL is not a control character in JSON
  EXPECT_EQ(ParseString(R"("")"), "");
  EXPECT_EQ(
      Error(R"("\x41")"),
      R"(line 1, column 2: invalid escape "\\x": expected \" \\ \/ \b \f \n \r \t or \uXXXX)");
  ExpectInvalid({R"("\'")", R"("\U0041")", R"("\a")", R"("\0")"}, "invalid escape");
  ExpectInvalid({R"("\u12")", R"("\u12G4")", R"("\u")", "\"\\u12"}, "four hex digits");
  EXPECT_THAT(Error("\"\\"), HasSubstr("unterminated escape"));
}

TEST(JsonTest, LoneSurrogatesAreErrors) {
  EXPECT_EQ(Error(R"("\uD800")"),
            "line 1, column 2: lone high surrogate \\uD800: it must be followed by a low "
            "surrogate \\uDC00-\\uDFFF");
  ExpectInvalid({R"("\uD83Dx")", R"("\uD83D\u0041")", R"("\uD83D\uD83D")", R"("\uDBFF\n")"},
                "lone high surrogate");
  ExpectInvalid({R"("\uDC00")", R"("\uDE00\uD83D")", R"("a\uDFFF")"}, "lone low surrogate");
  EXPECT_THAT(Error(R"(["ok", "\uDC00"])"), StartsWith("line 1, column 9: lone low surrogate"));
}

TEST(JsonTest, ControlCharactersInStrings) {
  EXPECT_EQ(Error("\"a\nb\""),
            "line 1, column 3: control character 0x0A in a string; write it as an escape such as "
            "\\n or \\u000A");
  for (char c : {'\t', '\r', '\x01', '\x1f', '\0'}) {
    std::string text = std::string("\"") + c + "\"";
    EXPECT_THAT(Error(text), HasSubstr("control character")) << static_cast<int>(c);
  }
  EXPECT_EQ(Error("\"abc"), "line 1, column 1: unterminated string");
  EXPECT_EQ(Error("[\"abc]"), "line 1, column 2: unterminated string");
}

TEST(JsonTest, ValidUtf8IsKept) {
  EXPECT_EQ(ParseString("\"\xC3\xA9\""), "\xC3\xA9");                  // U+00E9
  EXPECT_EQ(ParseString("\"\xC2\x80\""), "\xC2\x80");                  // U+0080, smallest 2-byte
  EXPECT_EQ(ParseString("\"\xE0\xA0\x80\""), "\xE0\xA0\x80");          // U+0800, smallest 3-byte
  EXPECT_EQ(ParseString("\"\xED\x9F\xBF\""), "\xED\x9F\xBF");          // U+D7FF, below surrogates
  EXPECT_EQ(ParseString("\"\xEE\x80\x80\""), "\xEE\x80\x80");          // U+E000, above surrogates
  EXPECT_EQ(ParseString("\"\xEF\xBF\xBF\""), "\xEF\xBF\xBF");          // U+FFFF
  EXPECT_EQ(ParseString("\"\xF0\x90\x80\x80\""), "\xF0\x90\x80\x80");  // U+10000
  EXPECT_EQ(ParseString("\"\xF4\x8F\xBF\xBF\""), "\xF4\x8F\xBF\xBF");  // U+10FFFF
  EXPECT_EQ(Parse("{\"\xE2\x82\xAC\": 1}").members()[0].first, "\xE2\x82\xAC");
}

TEST(JsonTest, InvalidUtf8IsRejected) {
  const char* bad[] = {
      "\xC0\x80",          // overlong NUL
      "\xC1\xBF",          // overlong
      "\xE0\x80\x80",      // overlong 3-byte
      "\xE0\x9F\xBF",      // overlong U+07FF
      "\xED\xA0\x80",      // surrogate U+D800
      "\xED\xBF\xBF",      // surrogate U+DFFF
      "\xF0\x80\x80\x80",  // overlong 4-byte
      "\xF0\x8F\xBF\xBF",  // overlong U+FFFF
      "\xF4\x90\x80\x80",  // U+110000
      "\xF5\x80\x80\x80",  // lead byte above F4
      "\xFF",              // never valid
      "\x80",              // continuation byte alone
      "\xC3",              // truncated 2-byte before the closing quote
      "\xE2\x82",          // truncated 3-byte
      "\xF0\x9F\x98",      // truncated 4-byte
      "\xC3\x28",          // a lead byte followed by ASCII
  };
  for (const char* b : bad) {
    std::string text = std::string("\"ab") + b + "\"";
    EXPECT_THAT(Error(text), StartsWith("line 1, column 4: invalid UTF-8 in a string")) << b;
  }
  EXPECT_THAT(Error("\"\xC0\x80\""), HasSubstr("byte 0xC0"));
  EXPECT_THAT(Error("{\"\xFF\": 1}"), HasSubstr("invalid UTF-8"));  // keys too
  EXPECT_THAT(Error("[\xC3\xA9]"), HasSubstr("found byte 0xC3"));   // outside strings
  EXPECT_THAT(Error("\"\xC3"), HasSubstr("invalid UTF-8"));         // truncated at the end
}

TEST(JsonTest, ErrorPositions) {
  EXPECT_EQ(Error("{\n  \"a\": tru\n}"),
            "line 2, column 8: unknown literal \"tru\": expected "
            "true, false or null (strings need double quotes)");
  // Columns count characters, not bytes: "é" is one column.
  EXPECT_THAT(Error("[\"\xC3\xA9\xC3\xA9\", x]"), StartsWith("line 1, column 8: "));
  // CRLF line ends count once.
  EXPECT_THAT(Error("[1,\r\n 2,\r\n x]"), StartsWith("line 3, column 2: "));
  EXPECT_THAT(Error("\n\n\n   ]"), StartsWith("line 4, column 4: "));
  EXPECT_THAT(Error("[\n\"a\nb\"]"), StartsWith("line 2, column 3: control character"));
}

TEST(JsonTest, MaxBytes) {
  JsonLimits limits;
  limits.max_bytes = 10;
  Parse("[1,2,3,45]", limits);
  EXPECT_EQ(Error("[1,2,3,456]", limits),
            "line 1, column 1: the document is 11 bytes, over the max_bytes limit of 10");
  EXPECT_THAT(Error(std::string((1 << 20) + 1, ' ')), HasSubstr("max_bytes limit of 1048576"));
}

TEST(JsonTest, MaxDepth) {
  auto nested = [](size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  Parse(nested(32));
  EXPECT_EQ(Error(nested(33)),
            "line 1, column 33: arrays and objects are nested deeper than the max_depth limit of "
            "32");
  // Far beyond the limit fails cleanly instead of exhausting the stack.
  EXPECT_THAT(Error(std::string(500000, '[')), HasSubstr("max_depth limit of 32"));
  JsonLimits limits;
  limits.max_depth = 2;
  Parse(R"({"a": [1, 2], "b": {}})", limits);
  EXPECT_THAT(Error(R"({"a": [1, {}]})", limits), StartsWith("line 1, column 11: "));
  EXPECT_THAT(Error(R"({"a": {"b": {}}})", limits), HasSubstr("max_depth limit of 2"));
  limits.max_depth = 0;
  Parse("1", limits);
  EXPECT_THAT(Error("[]", limits), HasSubstr("max_depth limit of 0"));
}

TEST(JsonTest, MaxStringBytes) {
  JsonLimits limits;
  limits.max_string_bytes = 4;
  Parse(R"(["abcd", {"wxyz": "\u00e9\u00e9"}])", limits);  // é is 2 bytes decoded
  EXPECT_EQ(Error(R"(["abcde"])", limits),
            "line 1, column 2: a string is longer than the max_string_bytes limit of 4 bytes");
  EXPECT_THAT(Error(R"({"vwxyz": 1})", limits), HasSubstr("max_string_bytes limit of 4"));
  EXPECT_THAT(Error(R"("\u00e9\u00e9a")", limits), HasSubstr("max_string_bytes"));
  EXPECT_THAT(Error("\"" + std::string(64 * 1024 + 1, 'a') + "\""),
              HasSubstr("max_string_bytes limit of 65536"));
}

TEST(JsonTest, MaxElements) {
  JsonLimits limits;
  limits.max_elements = 3;
  Parse("[1,2]", limits);             // the array and two numbers
  Parse(R"({"a":1,"b":2})", limits);  // keys are not values
  EXPECT_EQ(Error("[1,2,3]", limits),
            "line 1, column 6: the document has more than the max_elements limit of 3 values");
  EXPECT_THAT(Error("[[],[],[]]", limits), HasSubstr("max_elements limit of 3"));
  std::string many = "[";
  for (int i = 0; i < 100000; ++i) {
    many += "0,";
  }
  many += "0]";
  EXPECT_THAT(Error(many), HasSubstr("max_elements limit of 100000"));
}

}  // namespace
}  // namespace msb
