// String helpers (see strings.h).
#include "base/strings.h"

#include <algorithm>
#include <charconv>
#include <string>
#include <vector>

namespace msb {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
      diag = up;
    }
  }
  return row[b.size()];
}

namespace {

constexpr size_t kMaxSuggestedWord = 64;

char LowerAscii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) { return LowerAscii(c); });
  return out;
}

// Rank orders a candidate for Suggestions (lower is closer): 0 equal ignoring case, 1 a proper
// prefix, 2 + edit distance otherwise; nullopt when it is not close enough to suggest at all.
std::optional<size_t> Rank(std::string_view word, std::string_view candidate, size_t max_distance) {
  if (EqualsIgnoreAsciiCase(word, candidate)) {
    return 0;
  }
  if (word.size() >= 2 && word.size() < candidate.size() &&
      EqualsIgnoreAsciiCase(word, candidate.substr(0, word.size()))) {
    return 1;
  }
  size_t distance = EditDistance(LowerAscii(word), LowerAscii(candidate));
  if (distance > max_distance || distance >= word.size()) {
    return std::nullopt;
  }
  return 2 + distance;
}

}  // namespace

std::vector<std::string_view> Suggestions(std::string_view word,
                                          std::span<const std::string_view> candidates,
                                          size_t max_distance) {
  std::vector<std::string_view> best;
  if (word.size() > kMaxSuggestedWord) {
    return best;
  }
  std::optional<size_t> best_rank;
  for (std::string_view c : candidates) {
    std::optional<size_t> rank = Rank(word, c, max_distance);
    if (!rank || (best_rank && *rank > *best_rank)) {
      continue;
    }
    if (!best_rank || *rank < *best_rank) {
      best.clear();
      best_rank = rank;
    }
    best.push_back(c);
  }
  return best;
}

std::optional<std::string_view> Suggest(std::string_view word,
                                        std::span<const std::string_view> candidates,
                                        size_t max_distance) {
  std::vector<std::string_view> best = Suggestions(word, candidates, max_distance);
  if (best.empty()) {
    return std::nullopt;
  }
  return best.front();
}

std::optional<uint64_t> ParseUint(std::string_view text, uint64_t min, uint64_t max) {
  if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0')) {
    return std::nullopt;
  }
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string_view TrimSpaceTab(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace msb
