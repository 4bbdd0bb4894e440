// Test peers for the HTTP/2 proxy: real nghttp2 sessions in memory. TestGuest is an HTTP/2
// client (the "guest"), TestUpstream an HTTP/2 server (the "upstream"); H2Harness pumps bytes
// guest <-> proxy <-> upstream with no sockets, in steps of a chosen size, and records what the
// Delegate saw. Bodies are generated from a seeded pattern and checked byte for byte on
// arrival, so 10 MiB transfers need no 10 MiB buffers.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/http/h2_proxy.h"
#include "gateway/http/secret_guard.h"

namespace msb::gateway::http::testing {

uint8_t PatternByte(uint64_t seed, uint64_t offset);

struct PeerOptions {
  uint32_t initial_window = 65535;     // SETTINGS_INITIAL_WINDOW_SIZE this peer advertises
  uint32_t connection_window = 65535;  // its connection receive window
  bool auto_consume = true;            // acknowledge received DATA at once (else ConsumeUpTo)
  uint32_t max_concurrent_streams = 100;
  size_t max_send_header_block = 256 * 1024;
};

// One stream as a peer sees it.
struct PeerStream {
  int32_t id = 0;
  // Received.
  std::vector<H2Header> collecting;
  std::vector<H2Header> head;  // request head (upstream) or final response head (guest)
  bool head_done = false;
  std::vector<std::vector<H2Header>> informational;
  std::vector<H2Header> trailers;
  std::string body;  // the first 1 MiB received
  uint64_t body_bytes = 0;
  std::optional<uint64_t> check_seed;  // from x-seed: verify the pattern
  bool pattern_ok = true;
  int data_frames = 0;
  bool end_stream = false;
  bool rst_received = false;
  uint32_t rst_code = 0;
  bool closed = false;
  uint32_t close_code = 0;
  size_t unconsumed = 0;
  // Sent (body from `literal`, else `send_total` pattern bytes with `send_seed`).
  std::string literal;
  uint64_t send_total = 0;
  uint64_t send_seed = 0;
  uint64_t sent = 0;
  uint64_t allowed = UINT64_MAX;  // hold the body at this many bytes
  bool send_eof = true;           // end the stream once all is sent
  std::vector<H2Header> send_trailers;
  bool deferred = false;

  std::string Get(const std::string& name) const;  // head field value, "" if absent
};

class Peer {
 public:
  Peer(bool server, const PeerOptions& options);
  virtual ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // Serializes what the session wants to send into out().
  void Flush();
  std::string& out() { return out_; }
  // Feeds bytes to the session; returns nghttp2's result.
  int Recv(const std::string& bytes);
  PeerStream* Find(int32_t id);
  std::map<int32_t, PeerStream>& streams() { return streams_; }
  nghttp2_session* session() { return session_; }
  // Acknowledges up to `n` received-but-unconsumed bytes (slow reader).
  void ConsumeUpTo(size_t n);
  size_t unconsumed() const { return unconsumed_; }
  // Lets a held body send up to `allowed` bytes / end.
  void Allow(int32_t id, uint64_t allowed, bool eof);
  void Reset(int32_t id, uint32_t code);
  void Goaway(int32_t last_stream_id, uint32_t code);

  bool goaway_received = false;
  int32_t goaway_last_id = -1;
  uint32_t goaway_code = 0;
  int frames_received = 0;

  // nghttp2 callbacks (public so the C trampolines can reach them).
  void OnBeginHeaders(const nghttp2_frame* frame);
  // `never_index`: the field came HPACK "never indexed" (recorded in H2Header::never_index).
  void OnHeader(const nghttp2_frame* frame, std::string name, std::string value, bool never_index);
  void OnFrameRecv(const nghttp2_frame* frame);
  void OnData(int32_t id, const uint8_t* data, size_t len);
  void OnClose(int32_t id, uint32_t code);
  ssize_t Read(int32_t id, uint8_t* buf, size_t len, uint32_t* flags);

 protected:
  virtual void OnHeadDone(PeerStream&) {}
  virtual void OnEndStream(PeerStream&) {}
  nghttp2_data_provider Provider();
  bool server_;
  PeerOptions options_;
  nghttp2_session* session_ = nullptr;
  std::string out_;
  std::map<int32_t, PeerStream> streams_;
  size_t unconsumed_ = 0;
};

struct TestRequest {
  std::string method = "GET";
  std::string scheme = "https";
  std::string authority = "example.com";
  std::string path = "/";
  std::vector<H2Header> headers;  // regular fields
  std::string literal;            // body, or:
  uint64_t body_size = 0;         // pattern bytes (with x-seed = the stream id)
  bool has_body = false;          // send a body (even an empty one) after HEADERS
  uint64_t allowed = UINT64_MAX;
  bool eof = true;
  std::vector<H2Header> trailers;
};

class TestGuest : public Peer {
 public:
  explicit TestGuest(const PeerOptions& options = {}) : Peer(false, options) {}
  // Submits a request; returns its stream id.
  int32_t Submit(const TestRequest& request);
};

struct TestResponse {
  uint16_t status = 200;
  std::vector<H2Header> headers;
  std::string literal;
  uint64_t body_size = 0;  // pattern bytes (with x-seed = the upstream stream id)
  uint64_t allowed = UINT64_MAX;
  bool eof = true;
  std::vector<H2Header> trailers;
  bool no_body = false;  // HEADERS with END_STREAM
};

class TestUpstream : public Peer {
 public:
  explicit TestUpstream(const PeerOptions& options = {}) : Peer(true, options) {}
  void Respond(int32_t id, const TestResponse& response);
  void Informational(int32_t id, uint16_t status);
  // Called when a request head arrives / a request ends. Default: respond to the end with
  // `default_response` (an echo of the request body size in x-request-bytes).
  std::function<void(TestUpstream&, PeerStream&)> on_head;
  std::function<void(TestUpstream&, PeerStream&)> on_end;
  TestResponse default_response;
  int requests = 0;

 protected:
  void OnHeadDone(PeerStream& s) override;
  void OnEndStream(PeerStream& s) override;
};

// Records what the proxy tells its delegate, and checks "exactly once" as it goes.
class RecordingDelegate : public H2Proxy::Delegate {
 public:
  H2Verdict OnRequest(const H2RequestHead& head) override;
  void OnStreamClosed(const H2StreamSummary& summary) override;
  std::function<H2Verdict(const H2RequestHead&)> verdict;
  std::vector<H2RequestHead> heads;
  std::map<int32_t, H2StreamSummary> summaries;
  int duplicate_summaries = 0;
};

class H2Harness {
 public:
  explicit H2Harness(const H2Limits& limits = {}, const PeerOptions& guest = {},
                     const PeerOptions& upstream = {}, SecretGuard* secrets = nullptr);
  // Moves up to `chunk` bytes in each of the four directions; true if anything moved.
  bool Step();
  // Steps until nothing moves (or `max_steps`); returns the number of steps taken.
  int Pump(int max_steps = 1000000);
  // Steps until `done()` holds or nothing moves; returns done().
  bool PumpUntil(const std::function<bool()>& done, int max_steps = 1000000);

  RecordingDelegate delegate;
  TestGuest guest;
  TestUpstream upstream;
  std::unique_ptr<H2Proxy> proxy;
  size_t chunk = 16 * 1024;
  size_t max_buffered = 0;
  std::string guest_error;     // first FeedFromGuest error
  std::string upstream_error;  // first FeedFromUpstream error
  int guest_recv_error = 0;    // first nghttp2 error of the test guest
  int upstream_recv_error = 0;
  // Slow-reader knobs: bytes each side acknowledges per step when auto_consume is off.
  size_t guest_consume_per_step = 0;
  size_t upstream_consume_per_step = 0;
  // Stop feeding upstream output to the proxy (and proxy output to upstream) while true.
  bool upstream_paused = false;
};

}  // namespace msb::gateway::http::testing
