// SecretValue: adoption wipes the source, copies and moves keep the bytes where they belong, a
// moved-from value is empty, and formatting or streaming a value does not compile.
#include "secrets/secret_value.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

namespace msb::secrets {
namespace {

template <typename T>
concept Streamable = requires(std::ostream& os, const T& v) {
  os << v;
};
template <typename T>
concept ConvertibleToString =
    std::is_convertible_v<T, std::string> || std::is_convertible_v<T, std::string_view>;

// No accidental route from a value to text: no operator<<, no conversion; the fmt formatter
// exists only to fail at compile time (its parse() static_asserts), so it is not checked here by
// instantiation.
static_assert(!Streamable<SecretValue>);
static_assert(!ConvertibleToString<SecretValue>);
static_assert(std::is_nothrow_move_constructible_v<SecretValue>);
static_assert(std::is_nothrow_move_assignable_v<SecretValue>);

TEST(SecretValueTest, AdoptTakesTheBytesAndWipesTheArgument) {
  std::string bytes = "a-long-enough-secret-to-live-on-the-heap-0123456789";
  SecretValue v = SecretValue::Adopt(std::move(bytes));
  EXPECT_EQ(v.Reveal(), "a-long-enough-secret-to-live-on-the-heap-0123456789");
  EXPECT_TRUE(bytes.empty());  // NOLINT(bugprone-use-after-move): Adopt promises this
}

TEST(SecretValueTest, AdoptWipesAShortStringsInlineBuffer) {
  std::string bytes = "short";
  const char* data = bytes.data();
  SecretValue v = SecretValue::Adopt(std::move(bytes));
  EXPECT_EQ(v.Reveal(), "short");
  EXPECT_EQ(std::string_view(data, 5), std::string_view("\0\0\0\0\0", 5));
}

TEST(SecretValueTest, CopyAndCompare) {
  SecretValue a = SecretValue::Adopt("value-1");
  SecretValue b = a;
  EXPECT_EQ(a, b);
  EXPECT_EQ(b.Reveal(), "value-1");
  SecretValue c = SecretValue::Adopt("value-2");
  EXPECT_FALSE(a == c);
  c = a;
  EXPECT_EQ(c.Reveal(), "value-1");
  c = c;  // self-assignment keeps the bytes
  EXPECT_EQ(c.Reveal(), "value-1");
}

TEST(SecretValueTest, MoveEmptiesAndWipesTheSource) {
  SecretValue a = SecretValue::Adopt("inline");  // short: lives in the inline buffer
  const char* inline_buf = a.Reveal().data();
  SecretValue b = std::move(a);
  EXPECT_EQ(b.Reveal(), "inline");
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(std::string_view(inline_buf, 6), std::string_view("\0\0\0\0\0\0", 6));

  SecretValue c = SecretValue::Adopt("other");
  c = std::move(b);
  EXPECT_EQ(c.Reveal(), "inline");
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(SecretValueTest, DefaultIsEmpty) {
  SecretValue v;
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(v.size(), 0u);
  EXPECT_EQ(v, SecretValue());
}

}  // namespace
}  // namespace msb::secrets
