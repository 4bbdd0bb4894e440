// Secret injection in the HTTP/2 proxy (h2_proxy.h, "Secrets"): request heads, trailers and
// bodies through the connection's RequestRewriter and a BodyRewriter per stream, responses
// through the ResponseScrubber, and refusing a stream (403 + x-msb-blocked) for a violation.
// Every function here runs only when the connection has an active SecretGuard.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "base/strings.h"
#include "gateway/http/content_decoder.h"
#include "gateway/http/h2_connection.h"

namespace msb::gateway::http {
namespace {

// Input bytes per engine call. A call's output may be longer than its input (a long value for a
// short placeholder); slicing keeps each step's growth small, so the output queue's bound holds.
constexpr size_t kSlice = 4096;

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void Append(ByteQueue* q, const std::string& s) {
  q->Append(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// True when every content-encoding field lists only "identity" (or none is present): the
// body's bytes are the bytes a placeholder would be written in.
bool IdentityCoded(const std::vector<H2Header>& fields) {
  return std::all_of(fields.begin(), fields.end(), [](const H2Header& f) {
    return f.name != "content-encoding" || ContentDecoder::IsIdentity(f.value);
  });
}

void EraseField(std::vector<H2Header>* fields, std::string_view name) {
  std::erase_if(*fields, [name](const H2Header& f) { return f.name == name; });
}

// Header values may not carry control characters; an env var name is not checked for them.
std::string HeaderSafe(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  return s;
}

}  // namespace

bool H2Connection::RewriteRequestHead(H2Stream* st, H2RequestHead* head, bool* path_never_index) {
  secrets::RequestRewriter& rewriter = secrets_->rewriter();
  std::optional<secrets::Violation> found;
  for (H2Header& f : head->headers) {
    if (IsHopByHop(f)) {
      continue;  // never forwarded
    }
    bool substituted = false;
    found = secrets::Stricter(found, rewriter.RewriteHeader(f.name, &f.value, &substituted,
                                                            &st->summary.secrets_injected));
    if (substituted) {
      f.never_index = true;  // HPACK "never indexed": no table along the way keeps the value
    }
  }
  bool substituted = false;
  found = secrets::Stricter(
      found, rewriter.RewriteTarget(&head->path, &substituted, &st->summary.secrets_injected));
  if (substituted) {
    *path_never_index = true;
  }
  if (found) {
    st->summary.secrets_injected.clear();  // nothing was sent
    BlockForSecret(st, &*found);
    return false;
  }
  if (!head->end_stream) {
    auto body = std::make_unique<secrets::BodyRewriter>(secrets_->plan());
    if (body->active()) {
      st->body_scan_only = !IdentityCoded(head->headers);
      st->body_rw = std::move(body);
      st->up_stage = std::make_unique<BodyStage>();
      if (!st->body_scan_only && secrets_->plan().rewrites_bodies()) {
        // The body may change length; END_STREAM frames it (RFC 9113 8.1.1).
        EraseField(&head->headers, "content-length");
      }
    }
  }
  return true;
}

bool H2Connection::RewriteTrailers(H2Stream* st, std::vector<H2Header>* fields) {
  std::optional<secrets::Violation> found;
  for (H2Header& f : *fields) {
    bool substituted = false;
    found =
        secrets::Stricter(found, secrets_->rewriter().RewriteHeader(f.name, &f.value, &substituted,
                                                                    &st->summary.secrets_injected));
    if (substituted) {
      f.never_index = true;
    }
  }
  if (found) {
    BlockForSecret(st, &*found);
    return false;
  }
  return true;
}

void H2Connection::AdvanceUp(H2Stream* st) {
  BodyStage& stage = *st->up_stage;
  if (st->secret_blocked || stage.finished || !st->upstream_open || st->upstream_reset) {
    return;
  }
  secrets::BodyRewriter& rw = *st->body_rw;
  std::string out;
  std::string scratch;  // scan-only: the rewriter's output is not what goes out
  while (!stage.raw.empty() && st->up.size() < limits_.output_budget) {
    std::string_view in = stage.raw.Peek().substr(0, kSlice);
    size_t n = in.size();
    out.clear();
    std::optional<secrets::Violation> v;
    if (st->body_scan_only) {
      scratch.clear();
      v = rw.Feed(Bytes(in), &scratch);
      out.assign(in);
    } else {
      v = rw.Feed(Bytes(in), &out);
    }
    stage.raw.Drop(n);
    if (v || (st->body_scan_only && rw.saw_eligible())) {
      ConsumeGuest(st, n);
      BlockForSecret(st, v ? &*v : nullptr);
      return;
    }
    Append(&st->up, out);
    ConsumeGuest(st, stage.Produced(out.size(), n));
  }
  if (stage.raw.empty() && st->req_end) {
    out.clear();
    scratch.clear();
    std::optional<secrets::Violation> v = rw.Finish(st->body_scan_only ? &scratch : &out);
    stage.finished = true;
    if (v || (st->body_scan_only && rw.saw_eligible())) {
      BlockForSecret(st, v ? &*v : nullptr);
      return;
    }
    Append(&st->up, out);
    (void)stage.Produced(out.size(), 0);
    rw.AddInjected(&st->summary.secrets_injected);
  }
}

void H2Connection::AdvanceDown(H2Stream* st) {
  BodyStage& stage = *st->down_stage;
  if (stage.finished || !st->guest_open || st->guest_reset) {
    return;
  }
  std::string out;
  while (!stage.raw.empty() && st->down.size() < limits_.output_budget) {
    std::string_view in = stage.raw.Peek().substr(0, kSlice);
    size_t n = in.size();
    out.clear();
    st->scrub->Feed(Bytes(in), &out);
    stage.raw.Drop(n);
    Append(&st->down, out);
    ConsumeUpstream(st, stage.Produced(out.size(), n));
  }
  if (stage.raw.empty() && st->resp_end) {
    out.clear();
    st->scrub->Finish(&out);
    stage.finished = true;
    Append(&st->down, out);
    (void)stage.Produced(out.size(), 0);
  }
}

void H2Connection::ScrubFields(std::vector<H2Header>* fields) {
  if (secrets::ResponseScrubber* scrubber = secrets_->scrubber()) {
    for (H2Header& f : *fields) {
      (void)scrubber->ScrubHeader(&f.value);
    }
  }
}

void H2Connection::ScrubResponseHead(H2Stream* st, std::vector<H2Header>* fields, bool end_stream) {
  if (secrets_->scrubber() == nullptr) {
    return;  // no secret eligible here: no value can come back
  }
  ScrubFields(fields);
  if (end_stream || !IdentityCoded(*fields)) {
    return;  // no body, or one the scrubber cannot look into (docs: compressed bodies pass)
  }
  // One body at a time per scrubber: each stream gets its own.
  st->scrub = std::make_unique<secrets::ResponseScrubber>(secrets_->plan().shared_set());
  st->down_stage = std::make_unique<BodyStage>();
  EraseField(fields, "content-length");  // a replacement may change the length
}

void H2Connection::BlockForSecret(H2Stream* st, const secrets::Violation* v) {
  if (st->secret_blocked) {
    return;
  }
  st->secret_blocked = true;
  st->SetEnd("secret_violation");
  std::string host = secrets_->plan().identity().host;
  if (host.empty()) {
    host = st->summary.authority;
  }
  std::string reason;
  if (v != nullptr) {
    st->summary.blocked_secret = v->secret->spec.env_var;
    reason = "secret " + v->secret->spec.env_var + " not allowed for " + host + " (" +
             std::string(secrets::LocationName(v->location)) + ", " +
             std::string(secrets::MatchFormName(v->form)) + ")";
    reports_.push_back(PendingReport{*v, st->summary.method, st->summary.authority,
                                     st->summary.path_without_query, st->guest_id});
  } else {
    reason =
        "compressed body holds a placeholder: the gateway cannot substitute it there; send "
        "the body uncompressed";
  }
  // Nothing more goes upstream; a stream already there is cancelled, so the upstream never
  // takes the truncated body for a complete one.
  ResetUpstream(st, NGHTTP2_CANCEL);
  st->body_rw.reset();
  if (!st->guest_open || st->guest_reset) {
    return;
  }
  if (!st->final_response && !st->local_response) {
    RespondBlocked(st, HeaderSafe(std::move(reason)));
  } else {
    ResetGuest(st, NGHTTP2_CANCEL);  // a response head already went out: it cannot become 403
  }
}

void H2Connection::RespondBlocked(H2Stream* st, const std::string& reason) {
  static const std::string kStatus = ":status", kCode = "403", kType = "content-type",
                           kText = "text/plain; charset=utf-8", kLength = "content-length",
                           kBlocked = "x-msb-blocked";
  st->local_response = true;
  st->down_local = true;
  ConsumeUpstream(st, st->ClearDown());
  st->down_stage.reset();
  st->scrub.reset();
  std::string body = reason + "\n";
  std::string length = std::to_string(body.size());
  Append(&st->down, body);
  NvArray nv;
  nv.Add(kStatus, kCode);
  nv.Add(kType, kText);
  nv.Add(kLength, length);
  nv.Add(kBlocked, reason);
  st->summary.status = 403;
  st->resp_end = true;
  nghttp2_data_provider provider{};
  provider.read_callback = GuestBodyRead;
  if (nghttp2_submit_response(guest_.session, st->guest_id, nv.data(), nv.size(), &provider) != 0) {
    ResetGuest(st, NGHTTP2_INTERNAL_ERROR);
  }
}

void H2Connection::FlushReports() {
  if (secrets_ == nullptr || reports_.empty() || flushing_reports_) {
    return;
  }
  flushing_reports_ = true;
  std::vector<PendingReport> pending = std::move(reports_);
  reports_.clear();
  for (const PendingReport& r : pending) {
    ViolationSite site{"h2", r.method, r.authority, r.path, r.stream_id};
    secrets_->Report(r.violation, site);
  }
  flushing_reports_ = false;
}

}  // namespace msb::gateway::http
