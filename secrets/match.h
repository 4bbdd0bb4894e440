// Internal to secrets/: the byte-level engines the rewriters and the scrubber share. A streaming
// leftmost-longest replacer, the decoders behind the detection forms (percent, JSON), a streaming
// searcher over a decoded stream, and strict base64 for Basic credentials. Not part of the module's
// interface; tests use it directly.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace msb::secrets::internal {

struct Pattern {
  std::string_view from;  // non-empty
  std::string_view to;
};

// Replacer replaces every occurrence of the patterns, scanning left to right and taking the
// longest pattern that matches at a position. Process works on a stream: with `final` false it
// stops at the first position it cannot decide yet (the rest of `in` is a proper prefix of some
// pattern) and returns how many bytes it consumed; the caller keeps the rest for the next call.
// The result is the same for any split of the stream (the decision at a position only depends on
// the next max_len() bytes).
class Replacer {
 public:
  Replacer() = default;
  explicit Replacer(std::vector<Pattern> patterns);

  bool empty() const { return patterns_.empty(); }
  size_t max_len() const { return max_len_; }

  // `hits` (when given, sized like the pattern list passed in) marks each pattern replaced.
  size_t Process(std::string_view in, bool final, std::string* out, size_t* replaced,
                 std::vector<bool>* hits = nullptr) const;
  std::string ReplaceAll(std::string_view in, size_t* replaced) const;
  // Stream processes the next piece of a stream whose undecided bytes so far are *held (kept
  // between calls; `final` flushes them). Held bytes may be the start of a secret value, so every
  // copy of them is wiped once used. Returns how many replacements it made.
  size_t Stream(std::string_view in, bool final, std::string* held, std::string* out,
                std::vector<bool>* hits = nullptr) const;

 private:
  std::vector<Pattern> patterns_;
  std::vector<size_t> index_;  // patterns_[i] is the index_[i]-th pattern passed in
  std::array<bool, 256> first_{};
  int only_first_ = -1;  // the one first byte every pattern starts with (memchr), or -1
  size_t max_len_ = 0;
};

enum class Decoding : uint8_t { kRaw, kPercent, kJson };

// StreamDecoder decodes one form incrementally; feeding the input in any split gives the same
// output as decoding it at once. Percent: "%XX" (either hex case) becomes the byte, anything else
// is kept. JSON: \" \\ \/ \b \f \n \r \t and \uXXXX (ASCII and BMP non-surrogates, encoded to
// UTF-8) are decoded; anything else is kept. At most 6 bytes are pending.
class StreamDecoder {
 public:
  explicit StreamDecoder(Decoding decoding) : decoding_(decoding) {}
  void Feed(std::string_view in, std::string* out);
  void Finish(std::string* out);
  Decoding decoding() const { return decoding_; }
  // Nothing pending and `in` has no escape: `in` decodes to itself.
  bool DecodesToItself(std::string_view in) const;

 private:
  void Byte(char c, std::string* out);
  Decoding decoding_;
  std::string pending_;
};

std::string Decode(Decoding decoding, std::string_view in);

// StreamSearcher finds needles in the decoded form of a stream, across Feed calls: it keeps the
// last (longest needle - 1) decoded bytes. Feed/Finish set found[k] for each needle k that occurs
// in the stream (occurrences may be reported more than once). A piece that decodes to itself is
// searched in place (no copy); with `interior_seen` the caller says another searcher already
// searched those same bytes raw, so only matches that reach back into earlier bytes are looked for.
class StreamSearcher {
 public:
  StreamSearcher(Decoding decoding, std::vector<std::string_view> needles);
  void Feed(std::string_view in, std::vector<bool>* found, bool interior_seen = false);
  void Finish(std::vector<bool>* found);
  size_t held() const { return tail_.size(); }

 private:
  void Search(std::vector<bool>* found);
  StreamDecoder decoder_;
  std::vector<std::string_view> needles_;
  size_t max_len_ = 0;
  std::string tail_;  // decoded bytes: the kept tail, then the newly decoded bytes
};

// Strict standard base64 (RFC 4648 section 4) with padding; false on anything else.
bool Base64Decode(std::string_view in, std::string* out);
std::string Base64Encode(std::string_view in);

}  // namespace msb::secrets::internal
