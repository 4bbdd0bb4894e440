// gateway_http_h2_fuzzer: the HTTP/2 proxy with both peers played by the input. Input: a flags
// byte (bit 0: start the guest leg with a valid preface + SETTINGS; bit 1: the upstream leg with
// SETTINGS; bit 2: small windows and budgets), then records [u8 op][u16 n][...]: op%8 = 0/1 feed
// n bytes to the guest/upstream leg; 2/3 take up to n bytes of guest/upstream output; 4 Shutdown;
// 5 guest EOF; 6 upstream EOF; 7 take all output. Invariants: no crash; buffered bytes within the
// windows' bound after every step; one summary per stream, one for every stream the delegate saw;
// Done() with no live stream after both EOFs.
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
    return static_cast<h2::H2Verdict>(head.authority.size() % 3);  // forward/refuse/421
  }
  void OnStreamClosed(const h2::H2StreamSummary& s) override {
    if (!summarized.insert(s.guest_stream_id).second) {
      Violation("two summaries for a stream");
    }
  }
  std::set<int32_t> seen, summarized;
};

const uint8_t kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";  // + SETTINGS

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);  // libFuzzer's entry

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  msb::ByteReader in(std::span<const uint8_t>(data, size));
  uint8_t flags = 0;
  if (!in.ReadU8(&flags)) {
    return 0;
  }
  h2::H2Limits l;
  if (flags & 4) {
    l.initial_window_size = l.connection_window_size = 65535;
    l.output_budget = 1024;
    l.max_upstream_streams = 3;
  }
  size_t bound = 2 * (l.connection_window_size + h2::kMaxPendingOutput +
                      2 * l.max_header_list_size + l.output_budget + 65536);
  Delegate d;
  auto proxy = std::move(h2::H2Proxy::Create(&d, l)).value();
  std::span<const uint8_t> preface(kPreface, sizeof(kPreface) - 1);
  if (flags & 1) {
    (void)proxy->FeedFromGuest(preface);
  }
  if (flags & 2) {
    (void)proxy->FeedFromUpstream(preface.subspan(24));
  }
  std::string sink;
  uint8_t op = 0;
  uint16_t n = 0;
  std::span<const uint8_t> bytes;
  while (in.ReadU8(&op)) {
    n = in.ReadU16(&n) ? n : 0xffff;
    if (op % 8 < 2 && in.ReadBytes(std::min<size_t>(n, in.remaining()), &bytes)) {
      (void)(op % 8 == 0 ? proxy->FeedFromGuest(bytes) : proxy->FeedFromUpstream(bytes));
    }
    size_t max = op % 8 == 7 ? SIZE_MAX : n;
    if (op % 8 == 2 || op % 8 == 7) {
      proxy->TakeToGuest(&sink, max);
    }
    if (op % 8 == 3 || op % 8 == 7) {
      proxy->TakeToUpstream(&sink, max);
    }
    if (op % 8 == 4) {
      proxy->Shutdown();
    } else if (op % 8 == 5) {
      proxy->OnGuestEof();
    } else if (op % 8 == 6) {
      proxy->OnUpstreamEof();
    }
    sink.clear();
    if (proxy->BufferedBytes() > bound) {
      Violation("buffered bytes beyond the windows");
    }
  }
  proxy->OnGuestEof();
  proxy->OnUpstreamEof();
  if (!proxy->Done() || proxy->LiveStreams() != 0 || d.summarized.size() < d.seen.size()) {
    Violation("not done, or a stream left unreported, after both EOFs");
  }
  for (int32_t id : d.seen) {
    if (d.summarized.count(id) == 0) {
      Violation("a stream shown to the delegate was never summarized");
    }
  }
  return 0;
}
