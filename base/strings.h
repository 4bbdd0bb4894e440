// Small string helpers shared by the CLI and config parsers: edit distance for "did you mean",
// strict decimal parsing (no exceptions, no sign, no leading zeros, no trailing junk).
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

}  // namespace msb
