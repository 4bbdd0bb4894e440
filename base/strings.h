// Small string helpers shared across modules: edit distance for "did you mean", strict decimal
// parsing (no exceptions, no sign, no leading zeros, no trailing junk), ASCII case-insensitive
// comparison, hex digits, and trimming HTTP's optional whitespace.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace msb {

// EditDistance is the Levenshtein distance between `a` and `b`.
size_t EditDistance(std::string_view a, std::string_view b);

// Suggest returns the candidate closest to `word` when its distance is at most `max_distance`
// (ties: the first candidate wins).
std::optional<std::string_view> Suggest(std::string_view word,
                                        std::span<const std::string_view> candidates,
                                        size_t max_distance = 2);

// ParseUint parses decimal digits only, within [min, max].
std::optional<uint64_t> ParseUint(std::string_view text, uint64_t min, uint64_t max);

// EqualsIgnoreAsciiCase compares with A-Z folded to a-z (nothing else folded).
bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b);

// HexDigitValue is the value of an ASCII hex digit (either case), or -1.
int HexDigitValue(char c);

// TrimSpaceTab removes leading and trailing SP and HTAB (HTTP's OWS).
std::string_view TrimSpaceTab(std::string_view s);

}  // namespace msb
