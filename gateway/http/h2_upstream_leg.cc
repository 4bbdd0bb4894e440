// The upstream leg of the HTTP/2 proxy: nghttp2 client-session callbacks. Response heads (1xx
// and final) and trailers are forwarded to the guest stream, response DATA is queued for the
// guest leg, request bodies are served to the upstream from the stream's queue (each byte given
// back to the guest's flow control as the upstream session takes it), and upstream resets and
// GOAWAY are mapped onto the guest's streams.
#include <algorithm>

#include "gateway/http/h2_connection.h"

namespace msb::gateway::http {
namespace {

H2Connection* Conn(void* user_data) {
  return static_cast<H2Connection*>(user_data);
}

std::string_view View(const uint8_t* p, size_t n) {
  return std::string_view(reinterpret_cast<const char*>(p), n);
}

int OnBeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return Conn(user_data)->UpstreamBeginHeaders(frame);
}
int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
             const uint8_t* value, size_t valuelen, uint8_t flags, void* user_data) {
  return Conn(user_data)->UpstreamHeader(frame, View(name, namelen), View(value, valuelen), flags);
}
int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return Conn(user_data)->UpstreamFrameRecv(frame);
}
int OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                void* user_data) {
  return Conn(user_data)->UpstreamDataChunk(stream_id, data, len);
}
int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user_data) {
  return Conn(user_data)->UpstreamStreamClose(stream_id, error_code);
}
int OnFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return Conn(user_data)->UpstreamFrameSend(frame);
}

// The :status value of a response head ("" if absent; nghttp2 validated its form).
const std::string* StatusOf(const HeaderBlock& block) {
  for (const H2Header& f : block.fields) {
    if (f.name == ":status") {
      return &f.value;
    }
  }
  return nullptr;
}

uint16_t ParseStatus(const std::string& s) {
  if (s.size() != 3 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return 0;
  }
  return static_cast<uint16_t>((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
}

}  // namespace

nghttp2_session_callbacks* NewUpstreamCallbacks() {
  nghttp2_session_callbacks* cbs = nullptr;
  if (nghttp2_session_callbacks_new(&cbs) != 0) {
    return nullptr;
  }
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, OnBeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(cbs, OnHeader);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, OnFrameRecv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, OnDataChunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, OnStreamClose);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, OnFrameSend);
  return cbs;
}

ssize_t UpstreamBodyRead(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                         uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
  return Conn(user_data)->UpstreamRead(stream_id, buf, length, data_flags);
}

int H2Connection::UpstreamBeginHeaders(const nghttp2_frame* frame) {
  // PUSH_PROMISE never gets here: push is disabled, so nghttp2 refuses it before.
  if (frame->hd.type == NGHTTP2_HEADERS) {
    if (H2Stream* st = FindUpstream(frame->hd.stream_id)) {
      st->resp_block.Reset();
    }
  }
  return 0;
}

int H2Connection::UpstreamHeader(const nghttp2_frame* frame, std::string_view name,
                                 std::string_view value, uint8_t flags) {
  H2Stream* st = frame->hd.type == NGHTTP2_HEADERS ? FindUpstream(frame->hd.stream_id) : nullptr;
  if (st == nullptr) {
    return 0;
  }
  if (!st->resp_block.Add(name, value, (flags & NGHTTP2_NV_FLAG_NO_INDEX) != 0,
                          limits_.max_header_list_size)) {
    // nghttp2 resets the upstream stream; its close resets the guest's.
    st->SetEnd("upstream_error");
    st->upstream_reset = true;
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return 0;
}

int H2Connection::UpstreamFrameRecv(const nghttp2_frame* frame) {
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    // Streams above last_stream_id were not processed; nghttp2 closes them (REFUSED_STREAM),
    // and the guest must stop opening new ones.
    upstream_goaway_ = true;
    upstream_goaway_last_id_ = frame->goaway.last_stream_id;
    GoawayGuest();
    return 0;
  }
  H2Stream* st = FindUpstream(frame->hd.stream_id);
  if (st == nullptr) {
    return 0;
  }
  bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
      if (!st->final_response) {
        OnResponseHead(st, end);
      } else {
        st->resp_has_trailers = true;
        st->resp_trailers = ForwardableFields(st->resp_block.fields);
        st->resp_block.Reset();
        if (secrets_ != nullptr) {
          ScrubFields(&st->resp_trailers);
        }
        st->resp_end = st->resp_end || end;
      }
      break;
    case NGHTTP2_DATA:
      st->resp_end = st->resp_end || end;
      break;
    case NGHTTP2_RST_STREAM:
      st->upstream_sent_rst = true;
      break;
    default:
      break;
  }
  return 0;
}

void H2Connection::OnResponseHead(H2Stream* st, bool end_stream) {
  if (st->local_response) {
    st->resp_block.Reset();  // the proxy already answered the guest (refused for a secret)
    return;
  }
  const std::string* status_text = StatusOf(st->resp_block);
  uint16_t status = status_text == nullptr ? 0 : ParseStatus(*status_text);
  if (status < 100) {  // nghttp2 rejects this before; kept as a guard
    st->SetEnd("upstream_error");
    ResetUpstream(st, NGHTTP2_PROTOCOL_ERROR);
    return;
  }
  std::string status_copy = *status_text;
  if (status < 200) {
    // Informational (100, 103): forwarded as a non-final HEADERS frame.
    if (++st->informational > kMaxInformational) {
      st->SetEnd("upstream_error");
      ResetUpstream(st, NGHTTP2_CANCEL);
      ResetGuest(st, NGHTTP2_INTERNAL_ERROR);
      return;
    }
    if (st->guest_open && !st->guest_reset) {
      static const std::string kStatus = ":status";
      std::vector<H2Header> fields = ForwardableFields(st->resp_block.fields);
      if (secrets_ != nullptr) {
        ScrubFields(&fields);
      }
      NvArray nv;
      nv.Add(kStatus, status_copy);
      nv.AddAll(fields);
      (void)nghttp2_submit_headers(guest_.session, NGHTTP2_FLAG_NONE, st->guest_id, nullptr,
                                   nv.data(), nv.size(), nullptr);
    }
    st->resp_block.Reset();
    return;
  }
  st->final_response = true;
  st->summary.status = status;
  st->resp_end = end_stream;
  SubmitResponse(st, status_copy, end_stream);
  st->resp_block.Reset();
}

void H2Connection::SubmitResponse(H2Stream* st, const std::string& status, bool end_stream) {
  if (!st->guest_open || st->guest_reset) {
    return;
  }
  static const std::string kStatus = ":status";
  std::vector<H2Header> fields = ForwardableFields(st->resp_block.fields);
  if (secrets_ != nullptr) {
    ScrubResponseHead(st, &fields, end_stream);
  }
  NvArray nv;
  nv.Add(kStatus, status);
  nv.AddAll(fields);
  nghttp2_data_provider body{};
  body.read_callback = GuestBodyRead;
  if (nghttp2_submit_response(guest_.session, st->guest_id, nv.data(), nv.size(),
                              end_stream ? nullptr : &body) != 0) {
    st->SetEnd("upstream_error");
    ResetUpstream(st, NGHTTP2_CANCEL);
    ResetGuest(st, NGHTTP2_INTERNAL_ERROR);
  }
}

int H2Connection::UpstreamDataChunk(int32_t stream_id, const uint8_t* data, size_t len) {
  H2Stream* st = FindUpstream(stream_id);
  if (st == nullptr || !st->guest_open || st->guest_reset || st->upstream_reset) {
    // Nobody will forward these bytes: acknowledge them now so the window does not leak.
    (void)nghttp2_session_consume(upstream_.session, stream_id, len);
    return 0;
  }
  if (st->down_stage) {
    st->down_stage->raw.Append(data, len);  // scrubbed by AdvanceDown, outside this callback
    return 0;
  }
  st->down.Append(data, len);
  return 0;
}

int H2Connection::UpstreamStreamClose(int32_t stream_id, uint32_t error_code) {
  H2Stream* st = FindUpstream(stream_id);
  if (st == nullptr) {
    return 0;
  }
  const char* reason = "upstream_error";
  if (upstream_goaway_ && stream_id > upstream_goaway_last_id_) {
    reason = "goaway";
  } else if (st->upstream_sent_rst) {
    reason = "reset_by_upstream";
  }
  HandleUpstreamClosed(st, error_code, reason);
  return 0;
}

int H2Connection::UpstreamFrameSend(const nghttp2_frame* frame) {
  if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR) {
    upstream_.error = std::string("protocol error, sent GOAWAY ") +
                      nghttp2_http2_strerror(frame->goaway.error_code);
  }
  return 0;
}

ssize_t H2Connection::UpstreamRead(int32_t stream_id, uint8_t* buf, size_t length,
                                   uint32_t* data_flags) {
  H2Stream* st = FindUpstream(stream_id);
  if (st == nullptr) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  if (st->upstream_reset) {
    st->up_deferred = true;  // an RST_STREAM is queued; it goes out before any DATA
    return NGHTTP2_ERR_DEFERRED;
  }
  size_t n = 0;
  if (!st->up.empty()) {
    size_t budget = Budget(upstream_);
    if (budget == 0) {
      st->up_deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    n = st->up.Pop(buf, std::min(length, budget));
    st->summary.bytes_up += n;
    ConsumeGuest(st, st->up_stage ? st->up_stage->Taken(n) : n);
  }
  if (st->up.empty() && st->UpEnded()) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (st->req_has_trailers && !st->req_trailers.empty()) {
      NvArray nv;
      nv.AddAll(st->req_trailers);
      if (nghttp2_submit_trailer(upstream_.session, stream_id, nv.data(), nv.size()) == 0) {
        *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    }
  } else if (n == 0) {
    st->up_deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  return static_cast<ssize_t>(n);
}

}  // namespace msb::gateway::http
