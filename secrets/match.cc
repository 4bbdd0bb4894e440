// The byte-level engines behind substitution, detection and scrubbing (see match.h). Everything
// here is written so a stream split anywhere gives the result of processing it in one piece.
#include "secrets/match.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#include "base/strings.h"

namespace msb::secrets::internal {
namespace {

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

}  // namespace

Replacer::Replacer(std::vector<Pattern> patterns) {
  for (size_t i = 0; i < patterns.size(); ++i) {
    const Pattern& p = patterns[i];
    if (p.from.empty()) {
      continue;  // an empty pattern would match everywhere; callers never pass one
    }
    patterns_.push_back(p);
    index_.push_back(i);
    first_[static_cast<uint8_t>(p.from[0])] = true;
    max_len_ = std::max(max_len_, p.from.size());
  }
  int distinct = 0;
  for (int c = 0; c < 256; ++c) {
    if (first_[static_cast<size_t>(c)]) {
      ++distinct;
      only_first_ = c;
    }
  }
  if (distinct != 1) {
    only_first_ = -1;
  }
}

size_t Replacer::Process(std::string_view in, bool final, std::string* out, size_t* replaced,
                         std::vector<bool>* hits) const {
  size_t i = 0;
  size_t emit_from = 0;
  const size_t n = in.size();
  while (i < n) {
    if (only_first_ >= 0) {
      // The common case (every placeholder starts with '$'): jump to the next candidate.
      const void* hit = std::memchr(in.data() + i, only_first_, n - i);
      if (hit == nullptr) {
        i = n;
        break;
      }
      i = static_cast<size_t>(static_cast<const char*>(hit) - in.data());
    } else if (!first_[static_cast<uint8_t>(in[i])]) {
      ++i;
      continue;
    }
    const size_t rem = n - i;
    const Pattern* best = nullptr;
    bool undecided = false;
    for (const Pattern& p : patterns_) {
      if (rem >= p.from.size()) {
        if (in.compare(i, p.from.size(), p.from) == 0 &&
            (best == nullptr || p.from.size() > best->from.size())) {
          best = &p;
        }
      } else if (!final && p.from.compare(0, rem, in.substr(i)) == 0) {
        undecided = true;  // a longer pattern may still start here: wait for more bytes
      }
    }
    if (undecided) {
      break;
    }
    if (best != nullptr) {
      out->append(in.substr(emit_from, i - emit_from));
      out->append(best->to);
      if (hits != nullptr) {
        (*hits)[index_[static_cast<size_t>(best - patterns_.data())]] = true;
      }
      i += best->from.size();
      emit_from = i;
      ++*replaced;
      continue;
    }
    ++i;
  }
  out->append(in.substr(emit_from, i - emit_from));
  return i;
}

size_t Replacer::Stream(std::string_view in, bool final, std::string* held, std::string* out,
                        std::vector<bool>* hits) const {
  size_t replaced = 0;
  if (held->empty()) {
    size_t consumed = Process(in, final, out, &replaced, hits);
    held->assign(in.substr(consumed));
    return replaced;
  }
  std::string buf = std::move(*held);
  buf.append(in);
  size_t consumed = Process(buf, final, out, &replaced, hits);
  held->assign(std::string_view(buf).substr(consumed));
  OPENSSL_cleanse(buf.data(), buf.size());
  return replaced;
}

std::string Replacer::ReplaceAll(std::string_view in, size_t* replaced) const {
  std::string out;
  out.reserve(in.size());
  Process(in, /*final=*/true, &out, replaced);
  return out;
}

void StreamDecoder::Feed(std::string_view in, std::string* out) {
  if (decoding_ == Decoding::kRaw) {
    out->append(in);
    return;
  }
  const char esc = decoding_ == Decoding::kPercent ? '%' : '\\';
  size_t i = 0;
  while (i < in.size()) {
    if (pending_.empty()) {
      // Bytes up to the next escape decode to themselves: copied in one piece.
      const void* hit = std::memchr(in.data() + i, esc, in.size() - i);
      size_t next = hit == nullptr ? in.size()
                                   : static_cast<size_t>(static_cast<const char*>(hit) - in.data());
      out->append(in.substr(i, next - i));
      i = next;
      if (i == in.size()) {
        break;
      }
    }
    Byte(in[i], out);
    ++i;
  }
}

void StreamDecoder::Finish(std::string* out) {
  out->append(pending_);  // an unfinished escape is kept as written
  pending_.clear();
}

void StreamDecoder::Byte(char c, std::string* out) {
  const char esc = decoding_ == Decoding::kPercent ? '%' : '\\';
  if (pending_.empty()) {
    if (c == esc) {
      pending_.push_back(c);
    } else {
      out->push_back(c);
    }
    return;
  }
  pending_.push_back(c);
  bool invalid = false;
  if (decoding_ == Decoding::kPercent) {
    if (HexDigitValue(c) < 0) {
      invalid = true;
    } else if (pending_.size() == 3) {
      out->push_back(
          static_cast<char>(HexDigitValue(pending_[1]) * 16 + HexDigitValue(pending_[2])));
      pending_.clear();
    }
  } else if (pending_.size() == 2) {
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out->push_back(c);
        pending_.clear();
        break;
      case 'b':
        out->push_back('\b');
        pending_.clear();
        break;
      case 'f':
        out->push_back('\f');
        pending_.clear();
        break;
      case 'n':
        out->push_back('\n');
        pending_.clear();
        break;
      case 'r':
        out->push_back('\r');
        pending_.clear();
        break;
      case 't':
        out->push_back('\t');
        pending_.clear();
        break;
      case 'u':
        break;
      default:
        invalid = true;
    }
  } else if (HexDigitValue(c) < 0) {
    invalid = true;
  } else if (pending_.size() == 6) {
    uint32_t cp = 0;
    for (size_t k = 2; k < 6; ++k) {
      cp = cp * 16 + static_cast<uint32_t>(HexDigitValue(pending_[k]));
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) {
      invalid = true;  // a surrogate half is not a character on its own: keep it as written
    } else {
      AppendUtf8(cp, out);
      pending_.clear();
    }
  }
  if (invalid) {
    // Keep the escape character and decode again from the byte after it, exactly as a one-shot
    // left-to-right decoder resumes.
    std::string rest = pending_.substr(1);
    out->push_back(pending_[0]);
    pending_.clear();
    for (char r : rest) {
      Byte(r, out);
    }
  }
}

std::string Decode(Decoding decoding, std::string_view in) {
  std::string out;
  StreamDecoder d(decoding);
  d.Feed(in, &out);
  d.Finish(&out);
  return out;
}

StreamSearcher::StreamSearcher(Decoding decoding, std::vector<std::string_view> needles)
    : decoder_(decoding), needles_(std::move(needles)) {
  for (std::string_view n : needles_) {
    max_len_ = std::max(max_len_, n.size());
  }
}

void StreamSearcher::Search(std::vector<bool>* found) {
  for (size_t k = 0; k < needles_.size(); ++k) {
    if (!needles_[k].empty() && tail_.find(needles_[k]) != std::string::npos) {
      (*found)[k] = true;
    }
  }
  // Only the bytes a later occurrence could still start in are kept.
  const size_t keep = max_len_ > 0 ? max_len_ - 1 : 0;
  if (tail_.size() > keep) {
    tail_.erase(0, tail_.size() - keep);
  }
}

bool StreamDecoder::DecodesToItself(std::string_view in) const {
  if (decoding_ == Decoding::kRaw) {
    return true;
  }
  const char esc = decoding_ == Decoding::kPercent ? '%' : '\\';
  return pending_.empty() && std::memchr(in.data(), esc, in.size()) == nullptr;
}

void StreamSearcher::Feed(std::string_view in, std::vector<bool>* found, bool interior_seen) {
  const size_t keep = max_len_ > 0 ? max_len_ - 1 : 0;
  if (max_len_ == 0 || in.size() < 2 * max_len_ || !decoder_.DecodesToItself(in)) {
    decoder_.Feed(in, &tail_);
    Search(found);
    return;
  }
  // The piece is its own decoded form. Matches that start in the kept tail end within its
  // first `keep` bytes; matches inside it are found in place (or were, by the raw searcher).
  tail_.append(in.substr(0, keep));
  for (size_t k = 0; k < needles_.size(); ++k) {
    if (!needles_[k].empty() &&
        (tail_.find(needles_[k]) != std::string::npos ||
         (!interior_seen && in.find(needles_[k]) != std::string_view::npos))) {
      (*found)[k] = true;
    }
  }
  tail_.assign(in.substr(in.size() - keep));
}

void StreamSearcher::Finish(std::vector<bool>* found) {
  decoder_.Finish(&tail_);
  Search(found);
  tail_.clear();
}

bool Base64Decode(std::string_view in, std::string* out) {
  out->clear();
  if (in.empty() || in.size() % 4 != 0) {
    return false;
  }
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) {
        return false;  // data after padding
      }
      v[k] = Base64Value(c);
      if (v[k] < 0) {
        return false;
      }
    }
    uint32_t triple = (static_cast<uint32_t>(v[0]) << 18) | (static_cast<uint32_t>(v[1]) << 12) |
                      (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    out->push_back(static_cast<char>((triple >> 16) & 0xFF));
    if (pad < 2) {
      out->push_back(static_cast<char>((triple >> 8) & 0xFF));
    }
    if (pad < 1) {
      out->push_back(static_cast<char>(triple & 0xFF));
    }
  }
  return true;
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t t = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out.push_back(kBase64Alphabet[(t >> 18) & 63]);
    out.push_back(kBase64Alphabet[(t >> 12) & 63]);
    out.push_back(kBase64Alphabet[(t >> 6) & 63]);
    out.push_back(kBase64Alphabet[t & 63]);
  }
  if (in.size() - i == 1) {
    uint32_t t = static_cast<uint8_t>(in[i]) << 16;
    out.push_back(kBase64Alphabet[(t >> 18) & 63]);
    out.push_back(kBase64Alphabet[(t >> 12) & 63]);
    out += "==";
  } else if (in.size() - i == 2) {
    uint32_t t = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out.push_back(kBase64Alphabet[(t >> 18) & 63]);
    out.push_back(kBase64Alphabet[(t >> 12) & 63]);
    out.push_back(kBase64Alphabet[(t >> 6) & 63]);
    out += "=";
  }
  return out;
}

}  // namespace msb::secrets::internal
