// gateway_http_h2_secrets_fuzzer: the HTTP/2 proxy with secret injection on, both peers played
// by the input (the format of gateway_http_h2_fuzzer: a flags byte, then records
// [u8 op][u16 n][...]). The connection's SecretGuard holds one ELIGIBLE secret (placeholder
// $MSB_API_KEY, every injection scope) and one INELIGIBLE one ($MSB_OTHER, allowed on another
// host). Invariant: the ineligible secret's value never appears in what the proxy sends
// upstream (header values after HPACK decoding, or any stream's DATA joined up) unless the guest
// itself sent it. Both directions are decoded by passive decoders (a frame parser and an HPACK
// inflater each): an "observer" of the upstream-bound bytes and a "mirror" of the guest's bytes.
// A mirror that cannot follow the guest's bytes (malformed) switches the check off: the harness
// never aborts on a guess. Also: no crash, one summary per stream, Done() after both EOFs.
#include <nghttp2/nghttp2.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "base/byte_reader.h"
#include "gateway/http/h2_proxy.h"
#include "gateway/http/secret_guard.h"

namespace {

namespace h2 = msb::gateway::http;
namespace sec = msb::secrets;

constexpr char kHost[] = "fuzz.example";
constexpr char kEligibleValue[] = "eligible-VALUE-0123";
constexpr char kIneligibleValue[] = "Xq9-INELIGIBLE-7Zr";

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
    // Mostly forward: the secrets only matter for forwarded streams.
    return head.authority.size() % 5 == 1 ? h2::H2Verdict::kMisdirected : h2::H2Verdict::kForward;
  }
  void OnStreamClosed(const h2::H2StreamSummary& s) override {
    if (!summarized.insert(s.guest_stream_id).second) {
      Violation("two summaries for a stream");
    }
  }
  std::set<int32_t> seen, summarized;
};

class Events final : public h2::SecretEvents {
 public:
  void OnSecretViolation(const sec::Violation& v, const h2::ViolationSite&) override {
    if (v.secret->spec.env_var != "OTHER") {
      Violation("a violation named the eligible secret");
    }
  }
};

// A passive decoder of one direction's HTTP/2 bytes (its own frame parser and HPACK inflater,
// so it never answers, and a SETTINGS ACK or a GOAWAY cannot end it): records whether a header
// value, any stream's DATA joined up, or the raw bytes hold the ineligible value. Fed malformed
// bytes (the guest's may be anything) it stops and says so in `failed`.
class Decoder {
 public:
  explicit Decoder(bool expect_preface) : need_preface_(expect_preface) {
    if (nghttp2_hd_inflate_new(&inflater_) != 0) {
      Violation("no inflater");
    }
  }
  ~Decoder() { nghttp2_hd_inflate_del(inflater_); }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  void Feed(std::span<const uint8_t> bytes) {
    if (failed) {
      return;
    }
    buf_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    // The raw bytes too: nghttp2 hands on a DATA frame's payload before the frame is complete,
    // which the frame parser below would not see yet.
    Data(-1, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    if (need_preface_) {
      static constexpr std::string_view kMagic = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
      if (buf_.size() < kMagic.size()) {
        failed = !kMagic.starts_with(buf_);
        return;
      }
      if (!buf_.starts_with(kMagic)) {
        failed = true;
        return;
      }
      buf_.erase(0, kMagic.size());
      need_preface_ = false;
    }
    size_t off = 0;
    while (!failed && buf_.size() - off >= 9) {
      const auto* h = reinterpret_cast<const uint8_t*>(buf_.data() + off);
      size_t len = (size_t{h[0]} << 16) | (size_t{h[1]} << 8) | h[2];
      if (buf_.size() - off < 9 + len) {
        break;
      }
      int32_t id = static_cast<int32_t>(((uint32_t{h[5]} & 0x7f) << 24) | (uint32_t{h[6]} << 16) |
                                        (uint32_t{h[7]} << 8) | h[8]);
      Frame(h[3], h[4], id, std::string_view(buf_.data() + off + 9, len));
      off += 9 + len;
    }
    buf_.erase(0, off);
  }

  bool failed = false;
  bool holds = false;

 private:
  // Strips padding (and `extra` leading bytes: priority, promised id) from a frame payload.
  bool Strip(uint8_t flags, size_t extra, std::string_view* p) {
    size_t pad = 0;
    if (flags & 0x8) {
      if (p->empty()) {
        return false;
      }
      pad = static_cast<uint8_t>((*p)[0]);
      p->remove_prefix(1);
    }
    if (p->size() < extra + pad) {
      return false;
    }
    *p = p->substr(extra, p->size() - extra - pad);
    return true;
  }

  void Frame(uint8_t type, uint8_t flags, int32_t id, std::string_view p) {
    switch (type) {
      case 0:  // DATA
        if (!Strip(flags, 0, &p)) {
          failed = true;
          return;
        }
        Data(id, p);
        return;
      case 1:  // HEADERS
        if (!Strip(flags, (flags & 0x20) ? 5 : 0, &p)) {
          failed = true;
          return;
        }
        Inflate(p, (flags & 0x4) != 0);
        return;
      case 5:  // PUSH_PROMISE
        if (!Strip(flags, 4, &p)) {
          failed = true;
          return;
        }
        Inflate(p, (flags & 0x4) != 0);
        return;
      case 9:  // CONTINUATION
        Inflate(p, (flags & 0x4) != 0);
        return;
      default:
        return;
    }
  }

  void Inflate(std::string_view block, bool final) {
    const auto* in = reinterpret_cast<const uint8_t*>(block.data());
    size_t left = block.size();
    for (;;) {
      nghttp2_nv nv;
      int inflate_flags = 0;
      ssize_t n = nghttp2_hd_inflate_hd2(inflater_, &nv, &inflate_flags, in, left, final ? 1 : 0);
      if (n < 0) {
        failed = true;
        return;
      }
      in += n;
      left -= static_cast<size_t>(n);
      if (inflate_flags & NGHTTP2_HD_INFLATE_EMIT) {
        std::string_view v(reinterpret_cast<const char*>(nv.value), nv.valuelen);
        holds = holds || v.find(kIneligibleValue) != std::string_view::npos;
      }
      if (inflate_flags & NGHTTP2_HD_INFLATE_FINAL) {
        nghttp2_hd_inflate_end_headers(inflater_);
        return;
      }
      if ((inflate_flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && left == 0) {
        return;
      }
    }
  }

  void Data(int32_t id, std::string_view payload) {
    // Keep only a tail per stream: enough to find the value across DATA frames.
    std::string& tail = tails_[id];
    tail.append(payload);
    holds = holds || tail.find(kIneligibleValue) != std::string::npos;
    constexpr size_t kKeep = sizeof(kIneligibleValue) - 2;
    if (tail.size() > kKeep) {
      tail.erase(0, tail.size() - kKeep);
    }
  }

  bool need_preface_;
  nghttp2_hd_inflater* inflater_ = nullptr;
  std::string buf_;
  std::map<int32_t, std::string> tails_;
};

sec::SecretSpec Spec(const char* env, const char* host, const char* value) {
  sec::SecretSpec spec;
  spec.env_var = env;
  spec.placeholder = sec::DefaultPlaceholder(env);
  spec.allowed_hosts = {msb::HostPattern::Parse(host).value()};
  spec.injection = sec::Injection{.headers = true, .basic_auth = true, .query = true, .body = true};
  spec.source.kind = sec::SecretSource::Kind::kInline;
  spec.source.inline_value = sec::SecretValue::Adopt(std::string(value));
  return spec;
}

std::shared_ptr<const sec::SecretSet> Secrets() {
  sec::SecretsConfig config;
  config.specs.push_back(Spec("API_KEY", kHost, kEligibleValue));
  config.specs.push_back(Spec("OTHER", "other.example", kIneligibleValue));
  auto set = sec::SecretSet::Load(
      config, [](const std::string&) { return std::nullopt; },
      [](const std::string&) -> msb::Result<std::string> { return msb::Status::Error("none"); });
  if (!set.ok()) {
    Violation("the secret set does not load");
  }
  return std::move(set).value();
}

const uint8_t kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";  // + SETTINGS

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);  // libFuzzer's entry

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::shared_ptr<const sec::SecretSet> kSet = Secrets();
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
  sec::ConnectionIdentity identity;
  identity.host = kHost;
  identity.tls_intercepted = true;
  identity.pinned_names = {kHost};
  Events events;
  h2::SecretGuard guard(kSet, identity, &events);
  Delegate d;
  Decoder mirror(true);    // what the guest sent
  Decoder observer(true);  // what the proxy sent upstream (it starts with the client preface)
  auto proxy = std::move(h2::H2Proxy::Create(&d, l, &guard)).value();
  std::string sink;
  auto take_upstream = [&](size_t max) {
    sink.clear();
    proxy->TakeToUpstream(&sink, max);
    observer.Feed({reinterpret_cast<const uint8_t*>(sink.data()), sink.size()});
  };
  auto feed_guest = [&](std::span<const uint8_t> bytes) {
    mirror.Feed(bytes);
    (void)proxy->FeedFromGuest(bytes);
  };
  std::span<const uint8_t> preface(kPreface, sizeof(kPreface) - 1);
  if (flags & 1) {
    feed_guest(preface);
  }
  if (flags & 2) {
    (void)proxy->FeedFromUpstream(preface.subspan(24));
  }
  uint8_t op = 0;
  uint16_t n = 0;
  std::span<const uint8_t> bytes;
  while (in.ReadU8(&op)) {
    n = in.ReadU16(&n) ? n : 0xffff;
    if (op % 8 < 2 && in.ReadBytes(std::min<size_t>(n, in.remaining()), &bytes)) {
      if (op % 8 == 0) {
        feed_guest(bytes);
      } else {
        (void)proxy->FeedFromUpstream(bytes);
      }
    }
    size_t max = op % 8 == 7 ? SIZE_MAX : n;
    if (op % 8 == 2 || op % 8 == 7) {
      sink.clear();
      proxy->TakeToGuest(&sink, max);
    }
    if (op % 8 == 3 || op % 8 == 7) {
      take_upstream(max);
    }
    if (op % 8 == 4) {
      proxy->Shutdown();
    } else if (op % 8 == 5) {
      proxy->OnGuestEof();
    } else if (op % 8 == 6) {
      proxy->OnUpstreamEof();
    }
  }
  take_upstream(SIZE_MAX);
  if (observer.holds && !mirror.failed && !mirror.holds) {
    Violation("the ineligible secret's value went upstream");
  }
  proxy->OnGuestEof();
  proxy->OnUpstreamEof();
  if (!proxy->Done() || proxy->LiveStreams() != 0) {
    Violation("not done, or a stream left unreported, after both EOFs");
  }
  for (int32_t id : d.seen) {
    if (d.summarized.count(id) == 0) {
      Violation("a stream shown to the delegate was never summarized");
    }
  }
  return 0;
}
