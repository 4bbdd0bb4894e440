// Per-stream helpers of the HTTP/2 proxy: body queue, header-block collection and filtering.
#include "gateway/http/h2_stream.h"

#include <algorithm>
#include <cstring>

namespace msb::gateway::http {

void ByteQueue::Drop(size_t n) {
  off_ += std::min(n, size());
  if (off_ == buf_.size()) {
    buf_.clear();
    off_ = 0;
  } else if (off_ >= 4096 && off_ * 2 >= buf_.size()) {
    // Drop the consumed prefix: the copy is at most the live half, so pops stay amortised O(1).
    buf_.erase(0, off_);
    off_ = 0;
  }
}

size_t ByteQueue::Pop(uint8_t* out, size_t len) {
  size_t n = std::min(len, size());
  std::memcpy(out, buf_.data() + off_, n);
  Drop(n);
  return n;
}

size_t ByteQueue::Clear() {
  size_t n = size();
  std::string().swap(buf_);
  off_ = 0;
  return n;
}

size_t BodyStage::Produced(size_t out, size_t in) {
  if (out == 0) {
    return in;
  }
  marks.push_back(Mark{out, in});
  return 0;
}

size_t BodyStage::Taken(size_t n) {
  size_t ack = 0;
  while (n > 0 && !marks.empty()) {
    Mark& m = marks.front();
    size_t k = std::min(n, m.out);
    // Byte for byte while the output lasts; the rest of the input with the mark's last byte.
    size_t a = k == m.out ? m.in : std::min(m.in, k);
    ack += a;
    m.in -= a;
    m.out -= k;
    n -= k;
    if (m.out == 0) {
      marks.pop_front();
    }
  }
  return ack;
}

size_t BodyStage::Clear() {
  size_t n = raw.Clear();
  for (const Mark& m : marks) {
    n += m.in;
  }
  marks.clear();
  return n;
}

bool HeaderBlock::Add(std::string_view name, std::string_view value, bool never_index,
                      size_t limit) {
  size_t field = name.size() + value.size() + 32;
  if (field > limit || size > limit - field) {
    return false;
  }
  size += field;
  fields.push_back(H2Header{std::string(name), std::string(value), never_index});
  return true;
}

bool IsHopByHop(const H2Header& field) {
  const std::string& n = field.name;
  if (n == "te") {
    return field.value != "trailers";
  }
  return n == "connection" || n == "keep-alive" || n == "proxy-connection" ||
         n == "transfer-encoding" || n == "upgrade" || n == "host";
}

std::vector<H2Header> ForwardableFields(const std::vector<H2Header>& fields) {
  std::vector<H2Header> out;
  out.reserve(fields.size());
  for (const H2Header& f : fields) {
    if (f.name.empty() || f.name[0] == ':' || IsHopByHop(f)) {
      continue;
    }
    out.push_back(f);
  }
  return out;
}

std::string PathWithoutQuery(std::string_view path) {
  return std::string(path.substr(0, path.find('?')));
}

void NvArray::Add(const std::string& name, const std::string& value, bool never_index) {
  nghttp2_nv nv{};
  // nghttp2_nv is not const-correct; nghttp2 only reads (and copies) these bytes.
  nv.name = reinterpret_cast<uint8_t*>(const_cast<char*>(name.data()));
  nv.namelen = name.size();
  nv.value = reinterpret_cast<uint8_t*>(const_cast<char*>(value.data()));
  nv.valuelen = value.size();
  nv.flags = never_index ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE;
  nv_.push_back(nv);
}

void NvArray::AddAll(const std::vector<H2Header>& fields) {
  for (const H2Header& f : fields) {
    Add(f.name, f.value, f.never_index);
  }
}

}  // namespace msb::gateway::http
