// Internal to the HTTP/2 proxy: H2Connection holds the two nghttp2 sessions (server toward the
// guest, client toward the upstream) and the stream table, and implements H2Proxy. Its
// lifecycle and I/O are in h2_connection.cc, the guest session's callbacks in h2_guest_leg.cc,
// the upstream session's in h2_upstream_leg.cc.
//
// Invariants:
// - A stream's body bytes received on one leg are given back to that leg's flow control
//   (nghttp2_session_consume) only when the other leg's session takes them for a DATA frame,
//   or when they are dropped (the stream died): so buffered bodies never exceed the windows.
// - Each leg's serialized output is pulled into `out` eagerly (control frames), but DATA only
//   while `out` holds less than output_budget; a data provider with nothing it may send returns
//   NGHTTP2_ERR_DEFERRED and is resumed by Fill once it may.
// - Stream objects are erased only by Retire, which reports them; callbacks find streams by id
//   and ignore ids they no longer know.
// - `secrets_` is null unless a SecretGuard with a non-inert plan was given: every secret code
//   path starts with that test (no cost otherwise). Bodies passing through a secrets engine are
//   staged (BodyStage) and advanced outside nghttp2's callbacks as the output queues drain.
#pragma once

#include <nghttp2/nghttp2.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "gateway/http/h2_proxy.h"
#include "gateway/http/h2_stream.h"
#include "gateway/http/secret_guard.h"

namespace msb::gateway::http {

// Callback tables (each caller owns and deletes the returned table).
nghttp2_session_callbacks* NewGuestCallbacks();
nghttp2_session_callbacks* NewUpstreamCallbacks();
// Data-provider read callbacks: response bodies to the guest, request bodies to the upstream.
ssize_t GuestBodyRead(nghttp2_session* session, int32_t stream_id, uint8_t* buf, size_t length,
                      uint32_t* data_flags, nghttp2_data_source* source, void* user_data);
ssize_t UpstreamBodyRead(nghttp2_session* session, int32_t stream_id, uint8_t* buf, size_t length,
                         uint32_t* data_flags, nghttp2_data_source* source, void* user_data);

class H2Connection {
 public:
  H2Connection(H2Proxy::Delegate* delegate, const H2Limits& limits, SecretGuard* secrets);
  ~H2Connection();
  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;

  // Creates the sessions and queues both legs' SETTINGS.
  Status Init();

  Result<size_t> FeedFromGuest(std::span<const uint8_t> data);
  Result<size_t> FeedFromUpstream(std::span<const uint8_t> data);
  void TakeToGuest(std::string* out, size_t max) { Take(guest_, out, max); }
  void TakeToUpstream(std::string* out, size_t max) { Take(upstream_, out, max); }
  bool WantsWriteToGuest() const { return !guest_.dead && !guest_.out.empty(); }
  bool WantsWriteToUpstream() const { return !upstream_.dead && !upstream_.out.empty(); }
  void OnGuestEof();
  void OnUpstreamEof();
  void Shutdown();
  bool Done() const;
  size_t BufferedBytes() const;
  size_t LiveStreams() const { return by_guest_.size(); }

  // Guest session callbacks (h2_guest_leg.cc). Return 0 or an nghttp2 error code.
  int GuestBeginHeaders(const nghttp2_frame* frame);
  int GuestHeader(const nghttp2_frame* frame, std::string_view name, std::string_view value,
                  uint8_t flags);
  int GuestFrameRecv(const nghttp2_frame* frame);
  int GuestDataChunk(int32_t stream_id, const uint8_t* data, size_t len);
  int GuestStreamClose(int32_t stream_id, uint32_t error_code);
  int GuestFrameSend(const nghttp2_frame* frame);
  int GuestFrameNotSend(const nghttp2_frame* frame, int lib_error);
  ssize_t GuestRead(int32_t stream_id, uint8_t* buf, size_t length, uint32_t* data_flags);

  // Upstream session callbacks (h2_upstream_leg.cc).
  int UpstreamBeginHeaders(const nghttp2_frame* frame);
  int UpstreamHeader(const nghttp2_frame* frame, std::string_view name, std::string_view value,
                     uint8_t flags);
  int UpstreamFrameRecv(const nghttp2_frame* frame);
  int UpstreamDataChunk(int32_t stream_id, const uint8_t* data, size_t len);
  int UpstreamStreamClose(int32_t stream_id, uint32_t error_code);
  int UpstreamFrameSend(const nghttp2_frame* frame);
  ssize_t UpstreamRead(int32_t stream_id, uint8_t* buf, size_t length, uint32_t* data_flags);

 private:
  struct Leg {
    const char* name = "";
    nghttp2_session* session = nullptr;
    ByteQueue out;          // serialized frames not yet taken by the caller
    bool dead = false;      // transport gone (EOF) or session unusable: no more I/O at all
    bool finished = false;  // OnGuestLegFinished / OnUpstreamLegFinished ran
    std::string error;      // why the leg failed (protocol error), empty otherwise
  };

  Result<size_t> Feed(Leg& leg, std::span<const uint8_t> data);
  void Take(Leg& leg, std::string* out, size_t max);
  // Pulls what the leg's session wants to send into leg.out; true if anything was added.
  bool Fill(Leg& leg);
  void ResumeDeferred(Leg& leg);
  // Bytes of DATA payload the leg may still serialize before its output must be taken.
  size_t Budget(const Leg& leg) const;
  static bool ProtocolFinished(const Leg& leg);
  // Runs the consequences of legs finishing, then fills both legs, until nothing changes; then
  // reports pending secret violations.
  void Reconcile();
  void ReconcileLegs();
  void OnGuestLegFinished();
  void OnUpstreamLegFinished();

  // Guest-side request handling (h2_guest_leg.cc).
  void OnRequestHead(H2Stream* st);
  void Forward(H2Stream* st, const H2RequestHead& head, bool path_never_index);
  void RespondLocally(H2Stream* st, uint16_t status);
  // Upstream-side response handling (h2_upstream_leg.cc).
  void OnResponseHead(H2Stream* st, bool end_stream);
  void SubmitResponse(H2Stream* st, const std::string& status, bool end_stream);

  // Secrets (h2_secrets.cc); only called when secrets_ is set.
  // Rewrites the head to be forwarded and sets up the body's engine; false when the stream was
  // refused (403 sent, nothing goes upstream).
  bool RewriteRequestHead(H2Stream* st, H2RequestHead* head, bool* path_never_index);
  // Guest trailers: rewritten in place; false when the stream was refused.
  bool RewriteTrailers(H2Stream* st, std::vector<H2Header>* fields);
  // Request body input arrived (DATA) or ended; queued in the stage and advanced.
  void StageUp(H2Stream* st, const uint8_t* data, size_t len);
  // Runs staged request input through the rewriter while `up` has room (and Finish at the end).
  void AdvanceUp(H2Stream* st);
  // Response body, likewise through the stream's scrubber.
  void StageDown(H2Stream* st, const uint8_t* data, size_t len);
  void AdvanceDown(H2Stream* st);
  // Sets up response scrubbing for a final head: scrubs `fields` in place and drops
  // content-length when the body will be scrubbed.
  void ScrubResponseHead(H2Stream* st, std::vector<H2Header>* fields, bool end_stream);
  void ScrubFields(std::vector<H2Header>* fields);
  // Refuses a stream for a secret: `v` is the violation (nullptr: an eligible placeholder in a
  // compressed body). Resets the upstream side if it exists; 403 to the guest when no response
  // head went to it, else RST_STREAM(CANCEL).
  void BlockForSecret(H2Stream* st, const secrets::Violation* v);
  void RespondBlocked(H2Stream* st, const std::string& reason);
  // Names the eligible secrets whose placeholder `before` (the value of header `name`) holds.
  void FlushReports();

  // Shared stream plumbing (h2_connection.cc).
  H2Stream* FindGuest(int32_t id);
  H2Stream* FindUpstream(int32_t id);
  void ResetGuest(H2Stream* st, uint32_t code);
  void ResetUpstream(H2Stream* st, uint32_t code);
  void ConsumeGuest(H2Stream* st, size_t n);
  void ConsumeUpstream(H2Stream* st, size_t n);
  void GoawayGuest();
  // The guest / upstream side of `st` is gone (closed by nghttp2, or its leg ended). Both may
  // retire (and so delete) `st`.
  void HandleGuestClosed(H2Stream* st, uint32_t code);
  void HandleUpstreamClosed(H2Stream* st, uint32_t code, const char* reason);
  void MaybeRetire(H2Stream* st);

  // A violation to report once nghttp2's callbacks have returned (a reporter may do a lot).
  struct PendingReport {
    secrets::Violation violation;
    std::string method, authority, path;
    int32_t stream_id;
  };

  H2Proxy::Delegate* delegate_;
  H2Limits limits_;
  SecretGuard* secrets_;  // null: no secret work
  std::vector<PendingReport> reports_;
  bool flushing_reports_ = false;
  Leg guest_;
  Leg upstream_;
  std::map<int32_t, std::unique_ptr<H2Stream>> by_guest_;
  std::unordered_map<int32_t, H2Stream*> by_upstream_;
  bool draining_ = false;  // new guest streams are refused
  bool guest_goaway_sent_ = false;
  bool upstream_terminated_ = false;
  bool upstream_goaway_ = false;
  int32_t upstream_goaway_last_id_ = 0;
};

}  // namespace msb::gateway::http
