// Tests for JsonWriter: escaping, UTF-8 repair and value kinds.
#include "base/json_writer.h"

#include <gtest/gtest.h>

#include <vector>

namespace msb {
namespace {

TEST(JsonWriterTest, WritesAllKinds) {
  std::string s = JsonWriter()
                      .Str("a", "x")
                      .Int("b", -3)
                      .Uint("c", 18446744073709551615ull)
                      .Bool("d", true)
                      .Null("e")
                      .Raw("f", "[1,2]")
                      .Finish();
  EXPECT_EQ(s, R"({"a":"x","b":-3,"c":18446744073709551615,"d":true,"e":null,"f":[1,2]})");
}

TEST(JsonWriterTest, EscapesControlAndQuotes) {
  std::string s = JsonWriter().Str("k\"", std::string("a\"b\\c\n\t\x01\x7f\0", 10)).Finish();
  EXPECT_EQ(s, R"({"k\"":"a\"b\\c\n\t\u0001\u007f\u0000"})");
}

TEST(JsonWriterTest, ReplacesInvalidUtf8) {
  std::string valid = "caf\xc3\xa9";
  EXPECT_EQ(JsonWriter().Str("k", valid).Finish(), "{\"k\":\"caf\xc3\xa9\"}");
  // Lone continuation byte, overlong encoding, surrogate, truncated sequence.
  for (std::string bad : {std::string("\x80"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80"),
                          std::string("\xe2\x82")}) {
    std::string out = JsonWriter().Str("k", bad).Finish();
    EXPECT_NE(out.find("\xef\xbf\xbd"), std::string::npos) << out;
    EXPECT_EQ(out.find(bad), std::string::npos);
  }
}

TEST(JsonWriterTest, StringArray) {
  std::vector<std::string> items = {"a", "b\"c"};
  EXPECT_EQ(JsonStringArray(items), R"(["a","b\"c"])");
  EXPECT_EQ(JsonStringArray(std::vector<std::string>{}), "[]");
}

}  // namespace
}  // namespace msb
