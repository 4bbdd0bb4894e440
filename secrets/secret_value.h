// SecretValue: the real credential bytes. The type exists so a value cannot reach a log line, an
// audit event, an error message or a core file by accident: it has no conversion to a string, no
// operator<<, no fmt formatter (formatting it does not compile), and it wipes its bytes
// (OPENSSL_cleanse) when destroyed or moved from. The only way to the bytes is Reveal(), which the
// substitution engines call to copy them into an outgoing request.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace msb::secrets {

class SecretValue {
 public:
  SecretValue() = default;
  // Takes the bytes of `bytes` and wipes the argument.
  static SecretValue Adopt(std::string&& bytes);
  SecretValue(const SecretValue& other);
  SecretValue& operator=(const SecretValue& other);
  SecretValue(SecretValue&& other) noexcept;
  SecretValue& operator=(SecretValue&& other) noexcept;
  ~SecretValue();

  bool empty() const { return bytes_.empty(); }
  size_t size() const { return bytes_.size(); }
  // Reveal is for the substitution engines only (grep for it in review).
  std::string_view Reveal() const { return bytes_; }

  friend bool operator==(const SecretValue& a, const SecretValue& b);

 private:
  void Wipe();
  std::string bytes_;
};

}  // namespace msb::secrets

// Formatting a SecretValue is a compile error, not a leak.
template <>
struct fmt::formatter<msb::secrets::SecretValue> {
  template <typename Ctx>
  constexpr auto parse(Ctx& ctx) {
    static_assert(sizeof(Ctx) == 0, "a SecretValue cannot be formatted");
    return ctx.begin();
  }
};
