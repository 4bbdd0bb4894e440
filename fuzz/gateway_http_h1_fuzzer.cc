// libFuzzer harness for the HTTP/1.1 parser. Input: [mode][split seed][bytes]. Bit 0 of mode
// picks requests or responses; the other bits pick the requests responses answer (GET, HEAD,
// CONNECT, upgrade). The bytes are parsed once in one piece and once in pieces cut by the seed.
// Invariants: no crash; both runs give the same events, bodies, trailers, status and error; every
// accepted request head re-serialises to bytes that parse back to an equal head, and every
// accepted response head is writable.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "gateway/http/h1_parser.h"
#include "gateway/http/h1_writer.h"

namespace {

namespace h = msb::gateway::http;

struct Log : h::H1Events {
  std::vector<h::RequestHead> requests;
  std::vector<h::ResponseHead> responses;
  std::vector<std::vector<h::Header>> trailers;
  std::string trace;  // Q S B T E per event, adjacent body pieces as one B
  std::string body;
  void OnRequestHead(h::RequestHead&& x) override {
    trace += 'Q';
    requests.push_back(std::move(x));
  }
  void OnResponseHead(h::ResponseHead&& x) override {
    trace += 'S';
    responses.push_back(std::move(x));
  }
  void OnBody(std::span<const uint8_t> d) override {
    trace += trace.empty() || trace.back() != 'B' ? "B" : "";
    body.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  void OnTrailers(std::vector<h::Header>&& t) override {
    trace += 'T';
    trailers.push_back(std::move(t));
  }
  void OnMessageEnd() override { trace += 'E'; }
};

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

// Parse feeds `data` in pieces of 1..2^(seed%8) bytes chosen by a seeded LCG (one piece if 0).
h::FeedResult Parse(uint8_t mode, std::span<const uint8_t> data, uint32_t seed, Log* log,
                    size_t* consumed) {
  bool request = (mode & 1) == 0;
  h::H1Parser parser(request ? h::H1Parser::Kind::kRequest : h::H1Parser::Kind::kResponse, log);
  static const char* const kMethods[] = {"GET", "HEAD", "CONNECT", "GET"};
  for (int i = 0; !request && i < 8; ++i) {
    unsigned pick = (mode >> (1 + 2 * (i % 3))) & 3;
    Check(parser.ExpectResponseTo(kMethods[pick], pick == 3), "queue");
  }
  h::FeedResult r;
  size_t pos = 0;
  do {
    seed = seed * 1103515245u + 12345u;
    size_t n = seed == 12345u ? data.size() : 1 + (seed >> 16) % (size_t{1} << (seed % 8));
    r = parser.Feed(data.subspan(pos, std::min(n, data.size() - pos)));
    pos += r.consumed;
  } while (r.status == h::FeedStatus::kNeedMore && pos < data.size());
  *consumed = pos;
  return r.status == h::FeedStatus::kNeedMore ? parser.Finish() : r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);  // libFuzzer's entry

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2 || size > 256 * 1024) {
    return 0;
  }
  std::span<const uint8_t> bytes(data + 2, size - 2);
  Log one, split;
  size_t one_used = 0, split_used = 0;
  h::FeedResult a = Parse(data[0], bytes, 0, &one, &one_used);
  h::FeedResult b = Parse(data[0], bytes, data[1] | 0x100u, &split, &split_used);
  bool same = a.status == b.status && a.error == b.error &&
              (a.status == h::FeedStatus::kError || one_used == split_used) &&
              one.trace == split.trace && one.body == split.body &&
              one.requests == split.requests && one.responses == split.responses &&
              one.trailers == split.trailers;
  Check(same, "split feeding changed the events, status, error or bytes consumed");
  for (const h::RequestHead& head : one.requests) {
    std::string wire;
    Check(h::AppendRequestHead(head, &wire), "accepted request head not writable");
    Log again;
    size_t used = 0;
    auto wire_bytes = std::span(reinterpret_cast<const uint8_t*>(wire.data()), wire.size());
    (void)Parse(0, wire_bytes, 0, &again, &used);
    Check(again.requests.size() == 1 && again.requests[0] == head, "request head round trip");
  }
  for (const h::ResponseHead& head : one.responses) {
    std::string wire;
    Check(h::AppendResponseHead(head, &wire), "accepted response head not writable");
  }
  return 0;
}
