// In-memory nghttp2 peers and the pump harness for the HTTP/2 proxy tests.
#include "tests/gateway/http/h2_test_peers.h"

#include <algorithm>
#include <cstdlib>

namespace msb::gateway::http::testing {
namespace {

Peer* P(void* user_data) {
  return static_cast<Peer*>(user_data);
}

int BeginHeadersCb(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  P(ud)->OnBeginHeaders(frame);
  return 0;
}
int HeaderCb(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
             const uint8_t* value, size_t valuelen, uint8_t flags, void* ud) {
  P(ud)->OnHeader(frame, std::string(reinterpret_cast<const char*>(name), namelen),
                  std::string(reinterpret_cast<const char*>(value), valuelen),
                  (flags & NGHTTP2_NV_FLAG_NO_INDEX) != 0);
  return 0;
}
int FrameRecvCb(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  P(ud)->OnFrameRecv(frame);
  return 0;
}
int DataCb(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len, void* ud) {
  P(ud)->OnData(id, data, len);
  return 0;
}
int CloseCb(nghttp2_session*, int32_t id, uint32_t code, void* ud) {
  P(ud)->OnClose(id, code);
  return 0;
}
ssize_t ReadCb(nghttp2_session*, int32_t id, uint8_t* buf, size_t len, uint32_t* flags,
               nghttp2_data_source*, void* ud) {
  return P(ud)->Read(id, buf, len, flags);
}

struct Nv {
  std::vector<H2Header> fields;
  std::vector<nghttp2_nv> nv;
  void Add(std::string name, std::string value) {
    fields.push_back(H2Header{std::move(name), std::move(value), false});
  }
  void AddAll(const std::vector<H2Header>& f) { fields.insert(fields.end(), f.begin(), f.end()); }
  const nghttp2_nv* Build() {
    nv.clear();
    for (H2Header& f : fields) {
      nv.push_back(nghttp2_nv{reinterpret_cast<uint8_t*>(f.name.data()),
                              reinterpret_cast<uint8_t*>(f.value.data()), f.name.size(),
                              f.value.size(), NGHTTP2_NV_FLAG_NONE});
    }
    return nv.data();
  }
};

}  // namespace

uint8_t PatternByte(uint64_t seed, uint64_t offset) {
  return static_cast<uint8_t>((offset * 131 + seed * 71 + (offset >> 9)) & 0xff);
}

std::string PeerStream::Get(const std::string& name) const {
  for (const H2Header& f : head) {
    if (f.name == name) {
      return f.value;
    }
  }
  return "";
}

Peer::Peer(bool server, const PeerOptions& options) : server_(server), options_(options) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_session_callbacks_new(&cbs);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, BeginHeadersCb);
  nghttp2_session_callbacks_set_on_header_callback(cbs, HeaderCb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, FrameRecvCb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, DataCb);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, CloseCb);
  nghttp2_option* opt = nullptr;
  nghttp2_option_new(&opt);
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_send_header_block_length(opt, options.max_send_header_block);
  if (server) {
    nghttp2_session_server_new2(&session_, cbs, this, opt);
  } else {
    nghttp2_session_client_new2(&session_, cbs, this, opt);
  }
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  std::vector<nghttp2_settings_entry> settings = {
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options.initial_window},
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams}};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  if (options.connection_window > 65535) {
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                          static_cast<int32_t>(options.connection_window));
  }
}

Peer::~Peer() {
  nghttp2_session_del(session_);
}

void Peer::Flush() {
  for (;;) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n <= 0) {
      return;
    }
    out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
  }
}

int Peer::Recv(const std::string& bytes) {
  ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                        bytes.size());
  return rv < 0 ? static_cast<int>(rv) : 0;
}

PeerStream* Peer::Find(int32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

void Peer::ConsumeUpTo(size_t n) {
  for (auto& [id, s] : streams_) {
    if (n == 0) {
      break;
    }
    size_t c = std::min(n, s.unconsumed);
    if (c > 0) {
      nghttp2_session_consume(session_, id, c);
      s.unconsumed -= c;
      unconsumed_ -= c;
      n -= c;
    }
  }
}

void Peer::Allow(int32_t id, uint64_t allowed, bool eof) {
  PeerStream* s = Find(id);
  if (s == nullptr) {
    return;
  }
  s->allowed = allowed;
  s->send_eof = eof;
  if (s->deferred) {
    s->deferred = false;
    nghttp2_session_resume_data(session_, id);
  }
}

void Peer::Reset(int32_t id, uint32_t code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, code);
}

void Peer::Goaway(int32_t last_stream_id, uint32_t code) {
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, last_stream_id, code, nullptr, 0);
}

void Peer::OnBeginHeaders(const nghttp2_frame* frame) {
  PeerStream& s = streams_[frame->hd.stream_id];
  s.id = frame->hd.stream_id;
  s.collecting.clear();
}

void Peer::OnHeader(const nghttp2_frame* frame, std::string name, std::string value,
                    bool never_index) {
  streams_[frame->hd.stream_id].collecting.push_back(
      H2Header{std::move(name), std::move(value), never_index});
}

void Peer::OnFrameRecv(const nghttp2_frame* frame) {
  ++frames_received;
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    goaway_received = true;
    goaway_last_id = frame->goaway.last_stream_id;
    goaway_code = frame->goaway.error_code;
    return;
  }
  PeerStream* s = Find(frame->hd.stream_id);
  if (s == nullptr) {
    return;
  }
  bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (frame->hd.type == NGHTTP2_HEADERS) {
    if (s->head_done) {
      s->trailers = std::move(s->collecting);
    } else {
      bool informational = false;
      for (const H2Header& f : s->collecting) {
        informational |= f.name == ":status" && !f.value.empty() && f.value[0] == '1';
      }
      if (informational) {
        s->informational.push_back(std::move(s->collecting));
      } else {
        s->head = std::move(s->collecting);
        s->head_done = true;
        std::string seed = s->Get("x-seed");
        if (!seed.empty()) {
          s->check_seed = std::strtoull(seed.c_str(), nullptr, 10);
        }
        OnHeadDone(*s);
      }
    }
    s->collecting.clear();
  } else if (frame->hd.type == NGHTTP2_RST_STREAM) {
    s->rst_received = true;
    s->rst_code = frame->rst_stream.error_code;
  }
  if (end && (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)) {
    s->end_stream = true;
    OnEndStream(*s);
  }
}

void Peer::OnData(int32_t id, const uint8_t* data, size_t len) {
  PeerStream& s = streams_[id];
  if (s.check_seed) {
    for (size_t i = 0; i < len && s.pattern_ok; ++i) {
      s.pattern_ok = data[i] == PatternByte(*s.check_seed, s.body_bytes + i);
    }
  }
  if (s.body.size() < (1u << 20)) {
    s.body.append(reinterpret_cast<const char*>(data), std::min(len, (1u << 20) - s.body.size()));
  }
  s.body_bytes += len;
  ++s.data_frames;
  if (options_.auto_consume) {
    nghttp2_session_consume(session_, id, len);
  } else {
    s.unconsumed += len;
    unconsumed_ += len;
  }
}

void Peer::OnClose(int32_t id, uint32_t code) {
  PeerStream& s = streams_[id];
  s.closed = true;
  s.close_code = code;
  if (s.unconsumed > 0) {  // nghttp2 forgets the stream; give the connection window back
    nghttp2_session_consume_connection(session_, s.unconsumed);
    unconsumed_ -= s.unconsumed;
    s.unconsumed = 0;
  }
}

nghttp2_data_provider Peer::Provider() {
  nghttp2_data_provider p{};
  p.read_callback = ReadCb;
  return p;
}

ssize_t Peer::Read(int32_t id, uint8_t* buf, size_t len, uint32_t* flags) {
  PeerStream& s = streams_[id];
  uint64_t total = s.literal.empty() ? s.send_total : s.literal.size();
  uint64_t limit = std::min(total, s.allowed);
  size_t n = static_cast<size_t>(std::min<uint64_t>(len, limit - std::min(limit, s.sent)));
  for (size_t i = 0; i < n; ++i) {
    buf[i] = s.literal.empty() ? PatternByte(s.send_seed, s.sent + i)
                               : static_cast<uint8_t>(s.literal[s.sent + i]);
  }
  s.sent += n;
  if (s.sent == total && s.send_eof) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!s.send_trailers.empty()) {
      Nv nv;
      nv.AddAll(s.send_trailers);
      const nghttp2_nv* p = nv.Build();
      nghttp2_submit_trailer(session_, id, p, nv.nv.size());
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
    return static_cast<ssize_t>(n);
  }
  if (n == 0) {
    s.deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  return static_cast<ssize_t>(n);
}

int32_t TestGuest::Submit(const TestRequest& r) {
  Nv nv;
  nv.Add(":method", r.method);
  if (!r.scheme.empty()) {
    nv.Add(":scheme", r.scheme);
  }
  if (!r.authority.empty()) {
    nv.Add(":authority", r.authority);
  }
  if (!r.path.empty()) {
    nv.Add(":path", r.path);
  }
  bool body = r.has_body || r.body_size > 0 || !r.literal.empty() || !r.trailers.empty();
  int32_t next = nghttp2_session_get_next_stream_id(session_);
  if (r.body_size > 0) {
    nv.Add("x-seed", std::to_string(next));
  }
  nv.AddAll(r.headers);
  const nghttp2_nv* p = nv.Build();
  nghttp2_data_provider prd = Provider();
  // Stream state first: nghttp2 may call the read callback during the next mem_send.
  PeerStream& s = streams_[next];
  s.id = next;
  s.literal = r.literal;
  s.send_total = r.body_size;
  s.send_seed = static_cast<uint64_t>(next);
  s.allowed = r.allowed;
  s.send_eof = r.eof;
  s.send_trailers = r.trailers;
  int32_t id =
      nghttp2_submit_request(session_, nullptr, p, nv.nv.size(), body ? &prd : nullptr, nullptr);
  if (id != next) {
    std::abort();  // the tests rely on knowing the id in advance
  }
  return id;
}

void TestUpstream::Respond(int32_t id, const TestResponse& r) {
  PeerStream& s = streams_[id];
  Nv nv;
  nv.Add(":status", std::to_string(r.status));
  if (r.body_size > 0) {
    nv.Add("x-seed", std::to_string(id));
  }
  nv.AddAll(r.headers);
  const nghttp2_nv* p = nv.Build();
  s.literal = r.literal;
  s.send_total = r.body_size;
  s.send_seed = static_cast<uint64_t>(id);
  s.allowed = r.allowed;
  s.send_eof = r.eof;
  s.send_trailers = r.trailers;
  nghttp2_data_provider prd = Provider();
  nghttp2_submit_response(session_, id, p, nv.nv.size(), r.no_body ? nullptr : &prd);
}

void TestUpstream::Informational(int32_t id, uint16_t status) {
  Nv nv;
  nv.Add(":status", std::to_string(status));
  const nghttp2_nv* p = nv.Build();
  nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, id, nullptr, p, nv.nv.size(), nullptr);
}

void TestUpstream::OnHeadDone(PeerStream& s) {
  ++requests;
  if (on_head) {
    on_head(*this, s);
  }
}

void TestUpstream::OnEndStream(PeerStream& s) {
  if (on_end) {
    on_end(*this, s);
    return;
  }
  if (!on_head) {
    TestResponse r = default_response;
    r.headers.push_back(H2Header{"x-request-bytes", std::to_string(s.body_bytes), false});
    Respond(s.id, r);
  }
}

H2Verdict RecordingDelegate::OnRequest(const H2RequestHead& head) {
  heads.push_back(head);
  return verdict ? verdict(head) : H2Verdict::kForward;
}

void RecordingDelegate::OnStreamClosed(const H2StreamSummary& summary) {
  if (!summaries.emplace(summary.guest_stream_id, summary).second) {
    ++duplicate_summaries;
  }
}

H2Harness::H2Harness(const H2Limits& limits, const PeerOptions& guest_options,
                     const PeerOptions& upstream_options, SecretGuard* secrets)
    : guest(guest_options), upstream(upstream_options) {
  auto created = H2Proxy::Create(&delegate, limits, secrets);
  if (!created.ok()) {
    std::abort();
  }
  proxy = std::move(created).value();
}

bool H2Harness::Step() {
  bool moved = false;
  if (guest_consume_per_step > 0) {
    guest.ConsumeUpTo(guest_consume_per_step);
  }
  if (upstream_consume_per_step > 0) {
    upstream.ConsumeUpTo(upstream_consume_per_step);
  }
  // guest -> proxy
  guest.Flush();
  if (!guest.out().empty() && guest_error.empty()) {
    size_t n = std::min(chunk, guest.out().size());
    auto fed =
        proxy->FeedFromGuest(std::span(reinterpret_cast<const uint8_t*>(guest.out().data()), n));
    if (!fed.ok()) {
      guest_error = fed.error();
    }
    guest.out().erase(0, n);
    moved = true;
  }
  // proxy -> upstream
  if (!upstream_paused) {
    std::string s;
    proxy->TakeToUpstream(&s, chunk);
    if (!s.empty()) {
      int rv = upstream.Recv(s);
      if (rv != 0 && upstream_recv_error == 0) {
        upstream_recv_error = rv;
      }
      moved = true;
    }
    // upstream -> proxy
    upstream.Flush();
    if (!upstream.out().empty() && upstream_error.empty()) {
      size_t n = std::min(chunk, upstream.out().size());
      auto fed = proxy->FeedFromUpstream(
          std::span(reinterpret_cast<const uint8_t*>(upstream.out().data()), n));
      if (!fed.ok()) {
        upstream_error = fed.error();
      }
      upstream.out().erase(0, n);
      moved = true;
    }
  }
  // proxy -> guest
  std::string g;
  proxy->TakeToGuest(&g, chunk);
  if (!g.empty()) {
    int rv = guest.Recv(g);
    if (rv != 0 && guest_recv_error == 0) {
      guest_recv_error = rv;
    }
    moved = true;
  }
  max_buffered = std::max(max_buffered, proxy->BufferedBytes());
  return moved;
}

int H2Harness::Pump(int max_steps) {
  int steps = 0;
  while (steps < max_steps && Step()) {
    ++steps;
  }
  return steps;
}

bool H2Harness::PumpUntil(const std::function<bool()>& done, int max_steps) {
  for (int i = 0; i < max_steps && !done(); ++i) {
    if (!Step()) {
      break;
    }
  }
  return done();
}

}  // namespace msb::gateway::http::testing
