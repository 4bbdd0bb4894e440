// Internal to the HTTP/2 proxy: the per-stream state shared by both legs, a byte queue for
// bodies in flight, the staging of bodies that pass through a secrets engine, and the
// header-field helpers (collecting with a size cap, filtering connection-specific fields,
// building nghttp2 name/value arrays).
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/http/h2_proxy.h"
#include "secrets/body_rewriter.h"
#include "secrets/response_scrubber.h"

namespace msb::gateway::http {

// ByteQueue: FIFO of bytes with amortised O(1) pops (the consumed prefix is dropped once it is
// at least half of the storage). Its size is bounded by the flow-control window of the stream
// it buffers, never by this class.
class ByteQueue {
 public:
  size_t size() const { return buf_.size() - off_; }
  bool empty() const { return size() == 0; }
  void Append(const uint8_t* data, size_t len) {
    buf_.append(reinterpret_cast<const char*>(data), len);
  }
  // The queued bytes, oldest first (valid until the next mutation).
  std::string_view Peek() const { return std::string_view(buf_).substr(off_); }
  // Drops the first min(n, size()) bytes.
  void Drop(size_t n);
  // Copies up to `len` bytes to `out` and drops them; returns how many.
  size_t Pop(uint8_t* out, size_t len);
  // Drops everything; returns how many bytes were dropped.
  size_t Clear();

 private:
  std::string buf_;
  size_t off_ = 0;
};

// BodyStage: a body that goes through a streaming secrets engine (BodyRewriter toward the
// upstream, ResponseScrubber toward the guest) on its way between the legs. Input waits in `raw`
// and is transformed only while the stream's output queue has room, so what the proxy holds
// stays bounded by the windows even when a substitution makes the output longer than the input
// (a long value for a short placeholder). `marks` remembers, for the output bytes queued, how
// many input bytes produced them: flow control gives the sender back INPUT bytes once their
// output was taken by the other leg, while the receiver's window is charged for OUTPUT bytes.
struct BodyStage {
  struct Mark {
    size_t out;  // output bytes still queued
    size_t in;   // input bytes they came from, not yet acknowledged
  };
  ByteQueue raw;
  std::deque<Mark> marks;
  bool finished = false;  // the engine's Finish ran (the body ended and raw was drained)

  // Records that `in` input bytes produced `out` output bytes; returns the input bytes that may
  // be acknowledged at once (those whose output is empty: held back by the engine, which is
  // bounded by the longest needle, or nothing to wait for).
  size_t Produced(size_t out, size_t in);
  // The other leg took `n` output bytes; returns the input bytes to acknowledge now.
  size_t Taken(size_t n);
  // Drops everything; returns the input bytes never acknowledged.
  size_t Clear();
};

// HeaderBlock collects one header block's fields (pseudo-headers included, as received) and
// its RFC 9113 size (name + value + 32 per field).
struct HeaderBlock {
  std::vector<H2Header> fields;
  size_t size = 0;
  // Adds a field; false once the block would exceed `limit` (the field is not added).
  [[nodiscard]] bool Add(std::string_view name, std::string_view value, bool never_index,
                         size_t limit);
  void Reset() {
    fields.clear();
    size = 0;
  }
};

// True for fields that must not cross an HTTP/2 hop: connection, keep-alive, proxy-connection,
// transfer-encoding, upgrade, host (replaced by :authority), and `te` unless it is "trailers".
bool IsHopByHop(const H2Header& field);

// Regular (non-pseudo) fields of `fields` that may be forwarded.
std::vector<H2Header> ForwardableFields(const std::vector<H2Header>& fields);

// `path` up to its first '?'.
std::string PathWithoutQuery(std::string_view path);

// NvArray: nghttp2_nv entries pointing into H2Header strings (which must outlive it; nghttp2
// copies them when a frame is submitted).
class NvArray {
 public:
  void Add(const std::string& name, const std::string& value, bool never_index = false);
  void AddAll(const std::vector<H2Header>& fields);
  const nghttp2_nv* data() const { return nv_.data(); }
  size_t size() const { return nv_.size(); }

 private:
  std::vector<nghttp2_nv> nv_;
};

// H2Stream: one guest stream and, once forwarded, its upstream twin. It lives until both
// sides are closed (a refused stream never has an upstream side), then is reported once.
struct H2Stream {
  int32_t guest_id = 0;
  int32_t upstream_id = 0;  // 0 until submitted upstream
  bool guest_open = true;   // nghttp2 still has the guest stream
  bool upstream_open = false;

  // Request: guest -> upstream.
  HeaderBlock req_block;  // request head, then the trailers
  bool req_head_done = false;
  bool req_end = false;  // the guest sent END_STREAM
  ByteQueue up;          // request body not yet taken by the upstream session
  bool req_has_trailers = false;
  std::vector<H2Header> req_trailers;
  bool up_deferred = false;  // the upstream data provider waits for resume

  // Response: upstream -> guest.
  HeaderBlock resp_block;
  int informational = 0;  // 1xx heads forwarded
  bool final_response = false;
  bool resp_end = false;  // the upstream sent END_STREAM
  ByteQueue down;         // response body not yet taken by the guest session
  bool resp_has_trailers = false;
  std::vector<H2Header> resp_trailers;
  bool down_deferred = false;
  bool down_done = false;  // END_STREAM sent to the guest

  bool guest_reset = false;     // the proxy queued RST_STREAM to the guest
  bool upstream_reset = false;  // the proxy queued RST_STREAM to the upstream
  bool guest_sent_rst = false;
  bool upstream_sent_rst = false;
  uint32_t guest_rst_code = 0;

  // Secrets (only when the connection has an active SecretGuard). A stream with `up_stage` has
  // its request body in up_stage.raw first, and `up` holds what body_rw produced.
  std::unique_ptr<secrets::BodyRewriter> body_rw;  // request body rewritten, or only scanned
  bool body_scan_only = false;  // a content-encoding: the original bytes are forwarded
  std::unique_ptr<BodyStage> up_stage;
  std::unique_ptr<secrets::ResponseScrubber> scrub;  // response body scrubbed (identity-coded)
  std::unique_ptr<BodyStage> down_stage;
  bool secret_blocked = false;  // refused for a secret: nothing more of it goes upstream
  bool local_response = false;  // the proxy answered (403): ignore whatever the upstream sends
  bool down_local = false;      // `down` holds the proxy's own body, not upstream bytes

  // The request body (as the upstream leg sees it) is complete: the guest ended it and any
  // rewriting is done.
  bool UpEnded() const {
    return req_end && (!up_stage || (up_stage->raw.empty() && up_stage->finished));
  }
  bool DownEnded() const {
    return resp_end && (!down_stage || (down_stage->raw.empty() && down_stage->finished));
  }
  // Drops the queued request / response body; returns the bytes to give back to the sender's
  // flow control (input bytes when a stage is in between).
  size_t ClearUp() {
    size_t n = up.Clear();
    return up_stage ? up_stage->Clear() : n;
  }
  size_t ClearDown() {
    size_t n = down.Clear();
    return down_stage ? down_stage->Clear() : n;
  }

  H2StreamSummary summary;
  void SetEnd(const char* end) {
    if (summary.end.empty()) {
      summary.end = end;
    }
  }
};

}  // namespace msb::gateway::http
