// RFC 3492 Punycode, transcribed from the algorithm in the RFC's section 6 with explicit overflow
// checks on every multiplication and addition (the inputs are untrusted SNI bytes).
#include "base/punycode.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace msb {
namespace {

constexpr uint32_t kBase = 36;
constexpr uint32_t kTMin = 1;
constexpr uint32_t kTMax = 26;
constexpr uint32_t kSkew = 38;
constexpr uint32_t kDamp = 700;
constexpr uint32_t kInitialBias = 72;
constexpr uint32_t kInitialN = 128;
constexpr uint32_t kMaxInt = std::numeric_limits<uint32_t>::max();
constexpr char32_t kMaxCodePoint = 0x10FFFF;

// DigitValue maps a-z/A-Z to 0..25 and 0-9 to 26..35; kBase means "not a digit".
uint32_t DigitValue(char c) {
  if (c >= 'a' && c <= 'z') {
    return static_cast<uint32_t>(c - 'a');
  }
  if (c >= 'A' && c <= 'Z') {
    return static_cast<uint32_t>(c - 'A');
  }
  if (c >= '0' && c <= '9') {
    return static_cast<uint32_t>(c - '0') + 26;
  }
  return kBase;
}

char DigitChar(uint32_t d) {
  return d < 26 ? static_cast<char>('a' + d) : static_cast<char>('0' + (d - 26));
}

uint32_t Threshold(uint32_t k, uint32_t bias) {
  if (k <= bias) {
    return kTMin;
  }
  if (k >= bias + kTMax) {
    return kTMax;
  }
  return k - bias;
}

uint32_t Adapt(uint32_t delta, uint32_t num_points, bool first_time) {
  delta = first_time ? delta / kDamp : delta / 2;
  delta += delta / num_points;
  uint32_t k = 0;
  while (delta > ((kBase - kTMin) * kTMax) / 2) {
    delta /= kBase - kTMin;
    k += kBase;
  }
  return k + (kBase - kTMin + 1) * delta / (delta + kSkew);
}

}  // namespace

std::optional<std::u32string> PunycodeDecode(std::string_view encoded) {
  std::u32string out;
  size_t basic_end = encoded.rfind('-');
  size_t in = 0;
  if (basic_end != std::string_view::npos && basic_end > 0) {
    for (size_t j = 0; j < basic_end; ++j) {
      auto c = static_cast<unsigned char>(encoded[j]);
      if (c >= 0x80) {
        return std::nullopt;
      }
      out.push_back(c);
    }
    in = basic_end + 1;
  }
  uint32_t n = kInitialN;
  uint32_t i = 0;
  uint32_t bias = kInitialBias;
  while (in < encoded.size()) {
    uint32_t old_i = i;
    uint32_t w = 1;
    for (uint32_t k = kBase;; k += kBase) {
      if (in >= encoded.size()) {
        return std::nullopt;  // the variable-length integer is cut short
      }
      uint32_t digit = DigitValue(encoded[in++]);
      if (digit >= kBase || digit > (kMaxInt - i) / w) {
        return std::nullopt;
      }
      i += digit * w;
      uint32_t t = Threshold(k, bias);
      if (digit < t) {
        break;
      }
      if (w > kMaxInt / (kBase - t) || k > kMaxInt - kBase) {
        return std::nullopt;
      }
      w *= kBase - t;
    }
    auto points = static_cast<uint32_t>(out.size() + 1);
    bias = Adapt(i - old_i, points, old_i == 0);
    if (i / points > kMaxInt - n) {
      return std::nullopt;
    }
    n += i / points;
    i %= points;
    if (n > kMaxCodePoint) {
      return std::nullopt;
    }
    out.insert(out.begin() + i, static_cast<char32_t>(n));
    ++i;
  }
  return out;
}

std::optional<std::string> PunycodeEncode(std::u32string_view decoded) {
  std::string out;
  for (char32_t c : decoded) {
    if (c > kMaxCodePoint) {
      return std::nullopt;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    }
  }
  auto basic = static_cast<uint32_t>(out.size());
  uint32_t handled = basic;
  if (basic > 0) {
    out.push_back('-');
  }
  uint32_t n = kInitialN;
  uint32_t delta = 0;
  uint32_t bias = kInitialBias;
  while (handled < decoded.size()) {
    char32_t m = kMaxCodePoint + 1;
    for (char32_t c : decoded) {
      if (c >= n && c < m) {
        m = c;
      }
    }
    if (m - n > (kMaxInt - delta) / (handled + 1)) {
      return std::nullopt;
    }
    delta += (m - n) * (handled + 1);
    n = m;
    for (char32_t c : decoded) {
      if (c < n && ++delta == 0) {
        return std::nullopt;  // wrapped
      }
      if (c == n) {
        uint32_t q = delta;
        for (uint32_t k = kBase;; k += kBase) {
          uint32_t t = Threshold(k, bias);
          if (q < t) {
            break;
          }
          out.push_back(DigitChar(t + (q - t) % (kBase - t)));
          q = (q - t) / (kBase - t);
        }
        out.push_back(DigitChar(q));
        bias = Adapt(delta, handled + 1, handled == basic);
        delta = 0;
        ++handled;
      }
    }
    ++delta;
    ++n;
  }
  return out;
}

}  // namespace msb
