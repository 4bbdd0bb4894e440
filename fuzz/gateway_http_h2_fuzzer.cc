// gateway_http_h2_fuzzer: the HTTP/2 proxy with both peers played by the input. Input: a flags
// byte (bit 0: prefix the guest bytes with a valid client preface + SETTINGS; bit 1: prefix the
// upstream bytes with SETTINGS; bit 2: small windows and budgets), then records of [u8 op]...:
// op%8 = 0/1 [u16 len][bytes] feed guest/upstream; 2/3 [u16 max] take guest/upstream output;
// 4 Shutdown; 5 guest EOF; 6 upstream EOF; 7 take everything. Invariants: no crash; buffered
// bytes within the windows' bound at every step; each stream gets one summary; every stream the
// delegate saw is summarized; Done() and no live stream after both EOFs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>

#include "base/byte_reader.h"
#include "gateway/http/h2_proxy.h"

namespace {

namespace h2 = msb::gateway::http;

[[noreturn]] void Violation(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

class Delegate final : public h2::H2Proxy::Delegate {
 public:
  h2::H2Verdict OnRequest(const h2::H2RequestHead& head) override {
    if (!seen.insert(head.stream_id).second) {
      Violation("OnRequest twice for a stream");
    }
    return static_cast<h2::H2Verdict>(head.authority.size() % 3);
  }
  void OnStreamClosed(const h2::H2StreamSummary& s) override {
    if (!summarized.insert(s.guest_stream_id).second) {
      Violation("two summaries for a stream");
    }
  }
  std::set<int32_t> seen, summarized;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);  // libFuzzer's entry

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  msb::ByteReader in(std::span<const uint8_t>(data, size));
  uint8_t flags = 0;
  if (!in.ReadU8(&flags)) {
    return 0;
  }
  h2::H2Limits limits;
  if (flags & 4) {
    limits.initial_window_size = limits.connection_window_size = 65535;
    limits.output_budget = 1024;
    limits.max_upstream_streams = 3;
  }
  size_t bound = 2 * size_t{limits.connection_window_size} +
                 2 * (h2::kMaxPendingOutput + 2 * size_t{limits.max_header_list_size} +
                      limits.output_budget + 65536);
  Delegate d;
  auto proxy = std::move(h2::H2Proxy::Create(&d, limits)).value();
  const std::string preface =
      std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string("\0\0\0\4\0\0\0\0\0", 9);
  auto feed = [&](bool guest, std::span<const uint8_t> b) {
    (void)(guest ? proxy->FeedFromGuest(b) : proxy->FeedFromUpstream(b));
  };
  auto as_span = [](const std::string& s) {
    return std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  if (flags & 1) {
    feed(true, as_span(preface));
  }
  if (flags & 2) {
    feed(false, as_span(preface.substr(24)));
  }
  std::string sink;
  uint8_t op = 0;
  while (in.ReadU8(&op)) {
    uint16_t n = 0;
    std::span<const uint8_t> bytes;
    switch (op % 8) {
      case 0:
      case 1:
        if (!in.ReadU16(&n)) {
          n = 0;
        }
        if (!in.ReadBytes(std::min<size_t>(n, in.remaining()), &bytes)) {
          return 0;
        }
        feed(op % 8 == 0, bytes);
        break;
      case 2:
      case 3:
      case 7:
        n = in.ReadU16(&n) ? n : 0xffff;
        if (op % 8 != 3)
          proxy->TakeToGuest(&sink, op % 8 == 7 ? SIZE_MAX : n);
        if (op % 8 != 2)
          proxy->TakeToUpstream(&sink, op % 8 == 7 ? SIZE_MAX : n);
        sink.clear();
        break;
      case 4:
        proxy->Shutdown();
        break;
      case 5:
        proxy->OnGuestEof();
        break;
      case 6:
        proxy->OnUpstreamEof();
        break;
    }
    if (proxy->BufferedBytes() > bound) {
      Violation("buffered bytes beyond the windows");
    }
  }
  proxy->OnGuestEof();
  proxy->OnUpstreamEof();
  if (!proxy->Done() || proxy->LiveStreams() != 0) {
    Violation("not done after both EOFs");
  }
  for (int32_t id : d.seen) {
    if (d.summarized.count(id) == 0) {
      Violation("a stream shown to the delegate was never summarized");
    }
  }
  return 0;
}
