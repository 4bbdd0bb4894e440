// libFuzzer harness for the ClientHello sniffer: any bytes must give a verdict that is stable as
// bytes arrive (a prefix never gets a different error, and the bytes of a kDone hello need more
// until all have arrived), never kNeedMore at the cap, the same through a resumed
// ClientHelloSniffer fed in segments, and a hello re-fragmented into records (sizes driven by the
// input) must parse to the same information.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "gateway/tls/client_hello.h"

namespace {

namespace tls = msb::gateway::tls;

constexpr size_t kMaxInput = 80 * 1024;  // past the default cap, to exercise kTooLarge

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

tls::SniffResult Sniff(std::span<const uint8_t> in, size_t n, size_t cap) {
  return tls::SniffClientHello(in.first(n), cap);
}

// Refragment re-records the hello's handshake message in records sized by `sizes`.
std::vector<uint8_t> Refragment(std::span<const uint8_t> flight, std::span<const uint8_t> sizes) {
  std::vector<uint8_t> message;
  for (size_t pos = 0; pos < flight.size(); pos += 5 + (flight[pos + 3] << 8 | flight[pos + 4])) {
    auto fragment = flight.subspan(pos + 5, flight[pos + 3] << 8 | flight[pos + 4]);
    message.insert(message.end(), fragment.begin(), fragment.end());
  }
  message.resize(4 + (size_t{message[1]} << 16 | size_t{message[2]} << 8 | message[3]));
  std::vector<uint8_t> out;
  for (size_t i = 0, pos = 0; pos < message.size(); ++i) {
    size_t n = std::min<size_t>(message.size() - pos, 1 + sizes[i % sizes.size()] * 67 % 1024);
    out.insert(out.end(),
               {22, flight[1], flight[2], static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)});
    out.insert(out.end(), message.begin() + pos, message.begin() + pos + n);
    pos += n;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);  // libFuzzer's entry

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput || size == 0) {
    return 0;
  }
  std::span<const uint8_t> in(data, size);
  tls::SniffResult r = Sniff(in, size, tls::kDefaultMaxHelloBytes);
  bool done = r.status == tls::SniffStatus::kDone;
  Check((r.status == tls::SniffStatus::kError) == (r.error != tls::SniffError::kNone), "error");
  Check(r.status != tls::SniffStatus::kNeedMore || size < tls::kDefaultMaxHelloBytes, "cap");
  // A small cap is never waited past either, and changes nothing for a hello within it.
  size_t cap = 9 + size_t{data[size - 1]} * 16;
  tls::SniffResult capped = Sniff(in, size, cap);
  Check(capped.status != tls::SniffStatus::kNeedMore || size < cap, "small cap");
  bool fits = done && r.info.hello_bytes <= cap;
  Check(fits == (capped.status == tls::SniffStatus::kDone) && (!fits || capped.info == r.info),
        "a hello within a smaller cap");
  // A resumed sniffer fed in input-sized segments until its verdict, then given the rest, ends
  // with the same answer.
  tls::ClientHelloSniffer sniffer;
  tls::SniffResult fed;
  for (size_t n = 0, i = 0; n < size && fed.status == tls::SniffStatus::kNeedMore; ++i) {
    n = std::min(size, n + 1 + data[i % size] % 64);
    fed = sniffer.Sniff(in.first(n));
  }
  fed = sniffer.Sniff(in);
  Check(fed.status == r.status && fed.error == r.error && fed.info == r.info, "resumed sniffer");
  size_t end = done ? r.info.hello_bytes : size;
  Check(end <= size, "hello_bytes beyond the input");
  for (size_t p : {end - 1, end / 2, size_t{data[0]} % end}) {
    tls::SniffResult prefix = Sniff(in, p, tls::kDefaultMaxHelloBytes);
    Check(prefix.status == tls::SniffStatus::kNeedMore ||
              (r.status == tls::SniffStatus::kError && prefix.error == r.error),
          "a prefix got another verdict");
  }
  if (!done) {
    return 0;
  }
  tls::SniffResult exact = Sniff(in, end, tls::kDefaultMaxHelloBytes);
  Check(exact.status == tls::SniffStatus::kDone && exact.info == r.info, "the hello's own bytes");
  std::vector<uint8_t> refragmented = Refragment(in.first(end), in);
  tls::SniffResult again = tls::SniffClientHello(refragmented, size_t{1} << 22);
  tls::ClientHelloInfo want = r.info;
  want.hello_bytes = refragmented.size();
  Check(again.status == tls::SniffStatus::kDone && again.info == want, "re-fragmented hello");
  return 0;
}
