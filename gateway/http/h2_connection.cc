// H2Connection lifecycle: session setup, feeding and taking bytes, the output budget, legs
// finishing (GOAWAY, EOF, protocol errors), and the stream plumbing both legs share.
#include "gateway/http/h2_connection.h"

#include <algorithm>
#include <vector>

namespace msb::gateway::http {
namespace {

constexpr uint32_t kDefaultWindow = 65535;
constexpr uint32_t kMaxWindow = 0x7fffffff;
// Passes over Reconcile's loop: each pass either finishes a leg or adds output, and output is
// capped, so a handful suffices; the bound is a guard, not a tuning knob.
constexpr int kMaxReconcilePasses = 64;

struct OptionDeleter {
  void operator()(nghttp2_option* o) const { nghttp2_option_del(o); }
};
struct CallbacksDeleter {
  void operator()(nghttp2_session_callbacks* c) const { nghttp2_session_callbacks_del(c); }
};

std::unique_ptr<nghttp2_option, OptionDeleter> NewOptions(const H2Limits& limits) {
  nghttp2_option* raw = nullptr;
  if (nghttp2_option_new(&raw) != 0) {
    return nullptr;
  }
  std::unique_ptr<nghttp2_option, OptionDeleter> opt(raw);
  // Window updates are ours: bytes are acknowledged only when the other leg took them.
  nghttp2_option_set_no_auto_window_update(raw, 1);
  nghttp2_option_set_no_closed_streams(raw, 1);
  nghttp2_option_set_max_continuations(raw, limits.max_continuations);
  // A forwarded block may be up to max_header_list_size (RFC 9113 sizes); its HPACK encoding
  // stays below twice that.
  nghttp2_option_set_max_send_header_block_length(raw, 2 * size_t{limits.max_header_list_size});
  return opt;
}

}  // namespace

H2Connection::H2Connection(H2Proxy::Delegate* delegate, const H2Limits& limits,
                           SecretGuard* secrets)
    : delegate_(delegate),
      limits_(limits),
      // An inert plan (nothing to substitute or detect here) costs nothing: no guard at all.
      secrets_(secrets != nullptr && !secrets->plan().inert() ? secrets : nullptr) {
  guest_.name = "guest";
  upstream_.name = "upstream";
}

H2Connection::~H2Connection() {
  // Destroyed with streams in flight (the caller gave up on the connection): each still gets
  // its one report. nghttp2_session_del runs no callbacks.
  FlushReports();
  for (auto& [id, st] : by_guest_) {
    st->SetEnd("aborted");
    delegate_->OnStreamClosed(st->summary);
  }
  nghttp2_session_del(guest_.session);
  nghttp2_session_del(upstream_.session);
}

Status H2Connection::Init() {
  const H2Limits& l = limits_;
  if (l.max_concurrent_streams == 0 || l.initial_window_size > kMaxWindow ||
      l.connection_window_size < kDefaultWindow || l.connection_window_size > kMaxWindow ||
      l.max_header_list_size < 1024 || l.output_budget < 1024 || l.max_upstream_streams == 0) {
    return Status::Error("h2: unusable limits");
  }
  auto guest_opt = NewOptions(l);
  auto upstream_opt = NewOptions(l);
  std::unique_ptr<nghttp2_session_callbacks, CallbacksDeleter> guest_cbs(NewGuestCallbacks());
  std::unique_ptr<nghttp2_session_callbacks, CallbacksDeleter> upstream_cbs(NewUpstreamCallbacks());
  if (!guest_opt || !upstream_opt || !guest_cbs || !upstream_cbs) {
    return Status::Error("h2: out of memory");
  }
  // Rapid-reset protection (CVE-2023-44487) applies to the side receiving requests.
  nghttp2_option_set_stream_reset_rate_limit(guest_opt.get(), l.reset_burst, l.reset_rate);
  if (nghttp2_session_server_new2(&guest_.session, guest_cbs.get(), this, guest_opt.get()) != 0 ||
      nghttp2_session_client_new2(&upstream_.session, upstream_cbs.get(), this,
                                  upstream_opt.get()) != 0) {
    return Status::Error("h2: cannot create sessions");
  }

  std::vector<nghttp2_settings_entry> guest_settings = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, l.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, l.initial_window_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, l.max_header_list_size},
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
  };
  std::vector<nghttp2_settings_entry> upstream_settings = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, l.initial_window_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, l.max_header_list_size},
      {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
  };
  for (Leg* leg : {&guest_, &upstream_}) {
    const auto& s = leg == &guest_ ? guest_settings : upstream_settings;
    if (nghttp2_submit_settings(leg->session, NGHTTP2_FLAG_NONE, s.data(), s.size()) != 0 ||
        nghttp2_session_set_local_window_size(leg->session, NGHTTP2_FLAG_NONE, 0,
                                              static_cast<int32_t>(l.connection_window_size)) !=
            0) {
      return Status::Error("h2: cannot queue settings");
    }
  }
  Reconcile();
  return Status::Ok();
}

Result<size_t> H2Connection::FeedFromGuest(std::span<const uint8_t> data) {
  return Feed(guest_, data);
}

Result<size_t> H2Connection::FeedFromUpstream(std::span<const uint8_t> data) {
  return Feed(upstream_, data);
}

Result<size_t> H2Connection::Feed(Leg& leg, std::span<const uint8_t> data) {
  if (leg.dead || !leg.error.empty()) {
    return Status::Error(std::string("h2 ") + leg.name + " leg is closed" +
                         (leg.error.empty() ? "" : ": " + leg.error));
  }
  ssize_t rv = nghttp2_session_mem_recv(leg.session, data.data(), data.size());
  if (rv < 0) {
    // Fatal for the session (bad preface, flood, out of memory): nothing more can be sent.
    leg.error = nghttp2_strerror(static_cast<int>(rv));
    leg.dead = true;
    leg.out.Clear();
  }
  // Output is serialized here, so a protocol error nghttp2 detected (it queues a GOAWAY with an
  // error code) is seen by GuestFrameSend / UpstreamFrameSend before we return.
  Reconcile();
  if (!leg.error.empty()) {
    return Status::Error(std::string("h2 ") + leg.name + ": " + leg.error);
  }
  return data.size();
}

void H2Connection::Take(Leg& leg, std::string* out, size_t max) {
  size_t added = 0;
  while (!leg.dead && added < max) {
    if (leg.out.empty() && !Fill(leg)) {
      break;
    }
    std::string_view v = leg.out.Peek();
    size_t n = std::min(v.size(), max - added);
    out->append(v.data(), n);
    leg.out.Drop(n);
    added += n;
  }
  Reconcile();
}

size_t H2Connection::Budget(const Leg& leg) const {
  return leg.out.size() < limits_.output_budget ? limits_.output_budget - leg.out.size() : 0;
}

void H2Connection::ResumeDeferred(Leg& leg) {
  bool room = Budget(leg) > 0;
  for (auto& [id, st] : by_guest_) {
    if (&leg == &guest_) {
      if (st->down_stage) {
        AdvanceDown(st.get());  // staged response body: refill `down` as it drains
      }
      if (st->down_deferred && st->guest_open && !st->guest_reset &&
          ((room && !st->down.empty()) || (st->down.empty() && st->DownEnded()))) {
        st->down_deferred = false;
        (void)nghttp2_session_resume_data(leg.session, st->guest_id);
      }
      continue;
    }
    if (st->up_stage) {
      AdvanceUp(st.get());  // may refuse the stream (a violation in the body)
    }
    if (st->up_deferred && st->upstream_open && !st->upstream_reset &&
        ((room && !st->up.empty()) || (st->up.empty() && st->UpEnded()))) {
      st->up_deferred = false;
      (void)nghttp2_session_resume_data(leg.session, st->upstream_id);
    }
  }
}

bool H2Connection::Fill(Leg& leg) {
  if (leg.dead) {
    return false;
  }
  ResumeDeferred(leg);
  bool added = false;
  // Control frames are pulled even past the DATA budget (so errors surface at once), up to a cap
  // beyond which they stay in nghttp2's queue, where its flood limits apply.
  while (leg.out.size() < kMaxPendingOutput) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(leg.session, &data);
    if (n < 0) {
      leg.error = nghttp2_strerror(static_cast<int>(n));
      leg.dead = true;
      leg.out.Clear();
      return false;
    }
    if (n == 0) {
      break;
    }
    leg.out.Append(data, static_cast<size_t>(n));
    added = true;
  }
  return added;
}

bool H2Connection::ProtocolFinished(const Leg& leg) {
  return leg.dead || (nghttp2_session_want_read(leg.session) == 0 &&
                      nghttp2_session_want_write(leg.session) == 0);
}

void H2Connection::Reconcile() {
  ReconcileLegs();
  // Outside every nghttp2 callback now: a reporter may act on the violation at once.
  FlushReports();
}

void H2Connection::ReconcileLegs() {
  for (int pass = 0; pass < kMaxReconcilePasses; ++pass) {
    bool changed = false;
    // A leg that failed takes no more input, so it is over even while nghttp2 still counts
    // streams on it (e.g. after a rate-limit GOAWAY); its last frames can still be taken.
    if (!guest_.finished && (ProtocolFinished(guest_) || !guest_.error.empty())) {
      guest_.finished = true;
      OnGuestLegFinished();
      changed = true;
    }
    if (!upstream_.finished && (ProtocolFinished(upstream_) || !upstream_.error.empty())) {
      upstream_.finished = true;
      OnUpstreamLegFinished();
      changed = true;
    }
    changed |= Fill(guest_);
    changed |= Fill(upstream_);
    if (!changed) {
      return;
    }
  }
}

void H2Connection::OnGuestLegFinished() {
  // Nothing more can reach the guest: every stream dies, and the upstream session ends.
  draining_ = true;
  std::vector<H2Stream*> streams;
  for (auto& [id, st] : by_guest_) {
    streams.push_back(st.get());
  }
  for (H2Stream* st : streams) {
    st->SetEnd(st->down_done && st->req_end ? "complete" : "guest_closed");
    if (st->guest_open) {
      HandleGuestClosed(st, NGHTTP2_CANCEL);
    }
  }
  if (!upstream_.dead && !upstream_terminated_) {
    upstream_terminated_ = true;
    (void)nghttp2_session_terminate_session(upstream_.session, NGHTTP2_NO_ERROR);
  }
  // The upstream streams will get no callbacks after our GOAWAY: retire them now.
  streams.clear();
  for (auto& [id, st] : by_upstream_) {
    streams.push_back(st);
  }
  for (H2Stream* st : streams) {
    HandleUpstreamClosed(st, NGHTTP2_CANCEL, "guest_closed");
  }
}

void H2Connection::OnUpstreamLegFinished() {
  std::vector<H2Stream*> streams;
  for (auto& [id, st] : by_upstream_) {
    streams.push_back(st);
  }
  for (H2Stream* st : streams) {
    HandleUpstreamClosed(st, NGHTTP2_INTERNAL_ERROR, "upstream_closed");
  }
  GoawayGuest();
}

void H2Connection::OnGuestEof() {
  guest_.dead = true;
  guest_.out.Clear();
  if (guest_.finished) {
    OnGuestLegFinished();  // streams the guest opened after its leg had finished
  }
  Reconcile();
}

void H2Connection::OnUpstreamEof() {
  upstream_.dead = true;
  upstream_.out.Clear();
  if (upstream_.finished) {
    OnUpstreamLegFinished();
  }
  Reconcile();
}

void H2Connection::Shutdown() {
  GoawayGuest();
  Reconcile();
}

bool H2Connection::Done() const {
  return (guest_.dead || (guest_.finished && guest_.out.empty())) &&
         (upstream_.dead || (upstream_.finished && upstream_.out.empty()));
}

size_t H2Connection::BufferedBytes() const {
  size_t n = guest_.out.size() + upstream_.out.size();
  for (const auto& [id, st] : by_guest_) {
    n += st->up.size() + st->down.size();
    n += (st->up_stage ? st->up_stage->raw.size() : 0) +
         (st->down_stage ? st->down_stage->raw.size() : 0);
  }
  return n;
}

void H2Connection::GoawayGuest() {
  draining_ = true;
  if (guest_goaway_sent_ || guest_.dead || guest_.finished) {
    return;
  }
  guest_goaway_sent_ = true;
  (void)nghttp2_submit_goaway(guest_.session, NGHTTP2_FLAG_NONE,
                              nghttp2_session_get_last_proc_stream_id(guest_.session),
                              NGHTTP2_NO_ERROR, nullptr, 0);
}

H2Stream* H2Connection::FindGuest(int32_t id) {
  auto it = by_guest_.find(id);
  return it == by_guest_.end() ? nullptr : it->second.get();
}

H2Stream* H2Connection::FindUpstream(int32_t id) {
  auto it = by_upstream_.find(id);
  return it == by_upstream_.end() ? nullptr : it->second;
}

void H2Connection::ResetGuest(H2Stream* st, uint32_t code) {
  if (!st->guest_open || st->guest_reset) {
    return;
  }
  st->guest_reset = true;
  ConsumeUpstream(st, st->ClearDown());
  if (!guest_.dead) {
    (void)nghttp2_submit_rst_stream(guest_.session, NGHTTP2_FLAG_NONE, st->guest_id, code);
  }
}

void H2Connection::ResetUpstream(H2Stream* st, uint32_t code) {
  ConsumeGuest(st, st->ClearUp());
  if (st->upstream_open && !st->upstream_reset && !upstream_.dead) {
    st->upstream_reset = true;
    (void)nghttp2_submit_rst_stream(upstream_.session, NGHTTP2_FLAG_NONE, st->upstream_id, code);
  }
}

void H2Connection::ConsumeGuest(H2Stream* st, size_t n) {
  // For a stream nghttp2 already closed this returns connection-level credit only.
  if (n > 0 && !guest_.dead) {
    (void)nghttp2_session_consume(guest_.session, st->guest_id, n);
  }
}

void H2Connection::ConsumeUpstream(H2Stream* st, size_t n) {
  if (n > 0 && !upstream_.dead && st->upstream_id != 0) {
    (void)nghttp2_session_consume(upstream_.session, st->upstream_id, n);
  }
}

void H2Connection::HandleGuestClosed(H2Stream* st, uint32_t code) {
  st->guest_open = false;
  bool complete = code == NGHTTP2_NO_ERROR && st->down_done;
  if (!complete) {
    st->SetEnd(st->guest_sent_rst ? "reset_by_guest" : "protocol_error");
  }
  // What was queued for the guest will never be sent: give the upstream its window back.
  ConsumeUpstream(st, st->ClearDown());
  if (st->upstream_open && !(complete && st->req_end)) {
    bool guest_code = st->guest_sent_rst && st->guest_rst_code != NGHTTP2_NO_ERROR;
    ResetUpstream(st, guest_code ? st->guest_rst_code : uint32_t{NGHTTP2_CANCEL});
  }
  MaybeRetire(st);
}

void H2Connection::HandleUpstreamClosed(H2Stream* st, uint32_t code, const char* reason) {
  st->upstream_open = false;
  by_upstream_.erase(st->upstream_id);
  if (!st->resp_end) {
    st->SetEnd(reason);
    uint32_t guest_code = code == NGHTTP2_REFUSED_STREAM || code == NGHTTP2_CANCEL
                              ? code
                              : uint32_t{NGHTTP2_INTERNAL_ERROR};
    ResetGuest(st, guest_code);
  }
  // The upstream takes no more request bytes; the guest gets its window back.
  ConsumeGuest(st, st->ClearUp());
  if (st->resp_end && st->down_done && !st->req_end) {
    ResetGuest(st, NGHTTP2_NO_ERROR);  // response complete, the rest of the request is unwanted
  }
  MaybeRetire(st);
}

void H2Connection::MaybeRetire(H2Stream* st) {
  if (st->guest_open || st->upstream_open) {
    return;
  }
  ConsumeGuest(st, st->ClearUp());
  ConsumeUpstream(st, st->ClearDown());
  H2StreamSummary summary = std::move(st->summary);
  if (summary.end.empty()) {
    summary.end = "complete";
  }
  by_guest_.erase(st->guest_id);  // deletes st
  delegate_->OnStreamClosed(summary);
}

}  // namespace msb::gateway::http
