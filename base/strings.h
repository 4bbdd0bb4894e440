// Small string helpers shared across modules: the one "did you mean" engine, strict decimal
// parsing (no exceptions, no sign, no leading zeros, no trailing junk), ASCII case-insensitive
// comparison, hex digits, and trimming HTTP's optional whitespace.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace msb {

// EditDistance is the Levenshtein distance between `a` and `b`.
size_t EditDistance(std::string_view a, std::string_view b);

// Suggestions is the "did you mean" engine every error message uses (flags, commands, --net-rule
// keywords, JSON fields): the candidates closest to a mistyped `word`, best first, ties in
// candidate order. Closest means, in this order: equal ignoring ASCII case; then `word` (two or
// more characters) is a case-insensitive proper prefix of the candidate ("icmp" of icmpv4 and
// icmpv6); then the smallest edit distance ignoring case, when it is at most `max_distance` and
// below the word's length, so a one-letter word is never "corrected". A word longer than 64 bytes
// is not a typo of a keyword and gets none (which also bounds the distance computation).
std::vector<std::string_view> Suggestions(std::string_view word,
                                          std::span<const std::string_view> candidates,
                                          size_t max_distance = 2);

// Suggest is the first of Suggestions, for messages that name a single candidate.
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
