// SecretValue: credential bytes that wipe themselves. Every path that lets go of the bytes (the
// destructor, assignment over them, being moved from) cleanses the whole buffer, including a
// short string's inline storage, so no copy is left behind in freed or reused memory.
#include "secrets/secret_value.h"

#include <openssl/crypto.h>

namespace msb::secrets {

SecretValue SecretValue::Adopt(std::string&& bytes) {
  SecretValue v;
  v.bytes_.assign(bytes.data(), bytes.size());
  OPENSSL_cleanse(bytes.data(), bytes.capacity());
  bytes.clear();
  return v;
}

SecretValue::SecretValue(const SecretValue& other) : bytes_(other.bytes_) {}

SecretValue& SecretValue::operator=(const SecretValue& other) {
  if (this != &other) {
    Wipe();
    bytes_.assign(other.bytes_.data(), other.bytes_.size());
  }
  return *this;
}

SecretValue::SecretValue(SecretValue&& other) noexcept : bytes_(std::move(other.bytes_)) {
  other.Wipe();
}

SecretValue& SecretValue::operator=(SecretValue&& other) noexcept {
  if (this != &other) {
    Wipe();
    bytes_ = std::move(other.bytes_);
    other.Wipe();
  }
  return *this;
}

SecretValue::~SecretValue() {
  Wipe();
}

void SecretValue::Wipe() {
  // capacity() bytes are owned by the string (inline or heap); the size may already be 0 after a
  // move while the old bytes still sit in the inline buffer.
  OPENSSL_cleanse(bytes_.data(), bytes_.capacity());
  bytes_.clear();
}

bool operator==(const SecretValue& a, const SecretValue& b) {
  return a.bytes_.size() == b.bytes_.size() &&
         CRYPTO_memcmp(a.bytes_.data(), b.bytes_.data(), a.bytes_.size()) == 0;
}

}  // namespace msb::secrets
