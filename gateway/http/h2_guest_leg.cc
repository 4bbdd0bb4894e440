// The guest leg of the HTTP/2 proxy: nghttp2 server-session callbacks. Request heads are
// collected (capped), shown to the Delegate, and forwarded or answered locally; request DATA is
// queued for the upstream leg; response bodies are served to the guest from the stream's queue,
// each byte given back to the upstream's flow control as the guest session takes it.
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
  return Conn(user_data)->GuestBeginHeaders(frame);
}
int OnHeader(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
             const uint8_t* value, size_t valuelen, uint8_t flags, void* user_data) {
  return Conn(user_data)->GuestHeader(frame, View(name, namelen), View(value, valuelen), flags);
}
int OnFrameRecv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return Conn(user_data)->GuestFrameRecv(frame);
}
int OnDataChunk(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                void* user_data) {
  return Conn(user_data)->GuestDataChunk(stream_id, data, len);
}
int OnStreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* user_data) {
  return Conn(user_data)->GuestStreamClose(stream_id, error_code);
}
int OnFrameSend(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
  return Conn(user_data)->GuestFrameSend(frame);
}
int OnFrameNotSend(nghttp2_session*, const nghttp2_frame* frame, int lib_error, void* user_data) {
  return Conn(user_data)->GuestFrameNotSend(frame, lib_error);
}

}  // namespace

nghttp2_session_callbacks* NewGuestCallbacks() {
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
  nghttp2_session_callbacks_set_on_frame_not_send_callback(cbs, OnFrameNotSend);
  return cbs;
}

ssize_t GuestBodyRead(nghttp2_session*, int32_t stream_id, uint8_t* buf, size_t length,
                      uint32_t* data_flags, nghttp2_data_source*, void* user_data) {
  return Conn(user_data)->GuestRead(stream_id, buf, length, data_flags);
}

int H2Connection::GuestBeginHeaders(const nghttp2_frame* frame) {
  if (frame->hd.type != NGHTTP2_HEADERS) {
    return 0;
  }
  int32_t id = frame->hd.stream_id;
  if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
    auto st = std::make_unique<H2Stream>();
    st->guest_id = id;
    st->summary.guest_stream_id = id;
    by_guest_[id] = std::move(st);
  } else if (H2Stream* st = FindGuest(id)) {
    st->req_block.Reset();  // trailers
  }
  return 0;
}

int H2Connection::GuestHeader(const nghttp2_frame* frame, std::string_view name,
                              std::string_view value, uint8_t flags) {
  H2Stream* st = frame->hd.type == NGHTTP2_HEADERS ? FindGuest(frame->hd.stream_id) : nullptr;
  if (st == nullptr) {
    return 0;
  }
  if (!st->req_block.Add(name, value, (flags & NGHTTP2_NV_FLAG_NO_INDEX) != 0,
                         limits_.max_header_list_size)) {
    // nghttp2 resets the stream (INTERNAL_ERROR) and skips the rest of the block.
    st->SetEnd("headers_too_large");
    st->guest_reset = true;
    ResetUpstream(st, NGHTTP2_CANCEL);  // trailers too large: the upstream stream dies too
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  return 0;
}

int H2Connection::GuestFrameRecv(const nghttp2_frame* frame) {
  H2Stream* st = FindGuest(frame->hd.stream_id);
  if (st == nullptr) {
    return 0;
  }
  bool end = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
      if (end) {
        st->req_end = true;
      }
      if (!st->req_head_done) {
        st->req_head_done = true;
        OnRequestHead(st);
      } else {
        st->req_has_trailers = true;
        st->req_trailers = ForwardableFields(st->req_block.fields);
        st->req_block.Reset();
        if (secrets_ != nullptr && !st->secret_blocked) {
          (void)RewriteTrailers(st, &st->req_trailers);  // false: refused, nothing more to do
        }
      }
      break;
    case NGHTTP2_DATA:
      if (end) {
        st->req_end = true;
      }
      break;
    case NGHTTP2_RST_STREAM:
      st->guest_sent_rst = true;
      st->guest_rst_code = frame->rst_stream.error_code;
      break;
    default:
      break;
  }
  return 0;
}

void H2Connection::OnRequestHead(H2Stream* st) {
  H2RequestHead head;
  head.stream_id = st->guest_id;
  head.end_stream = st->req_end;
  for (H2Header& f : st->req_block.fields) {
    if (f.name == ":method") {
      head.method = std::move(f.value);
    } else if (f.name == ":scheme") {
      head.scheme = std::move(f.value);
    } else if (f.name == ":authority") {
      head.authority = std::move(f.value);
    } else if (f.name == ":path") {
      head.path = std::move(f.value);
    } else if (f.name == "host") {
      head.host_headers.push_back(std::move(f.value));
    } else if (!f.name.empty() && f.name[0] != ':') {
      head.headers.push_back(std::move(f));
    }
  }
  st->req_block.Reset();
  st->summary.method = head.method;
  st->summary.authority =
      !head.authority.empty() || head.host_headers.empty() ? head.authority : head.host_headers[0];
  st->summary.path_without_query = PathWithoutQuery(head.path);

  if (head.method == "CONNECT") {
    st->SetEnd("rejected");
    RespondLocally(st, 405);
    return;
  }
  if (draining_ || upstream_.dead || upstream_goaway_) {
    st->SetEnd("goaway");
    ResetGuest(st, NGHTTP2_REFUSED_STREAM);
    return;
  }
  if (by_upstream_.size() >= limits_.max_upstream_streams) {
    st->SetEnd("rejected");
    ResetGuest(st, NGHTTP2_REFUSED_STREAM);
    return;
  }
  switch (delegate_->OnRequest(head)) {
    case H2Verdict::kForward: {
      bool path_never_index = false;
      if (secrets_ != nullptr && !RewriteRequestHead(st, &head, &path_never_index)) {
        return;  // refused for a secret: 403 queued, nothing went upstream
      }
      Forward(st, head, path_never_index);
      return;
    }
    case H2Verdict::kMisdirected:
      st->SetEnd("refused");
      RespondLocally(st, 421);
      return;
    case H2Verdict::kRefuse:
      break;
  }
  st->SetEnd("refused");
  ResetGuest(st, NGHTTP2_PROTOCOL_ERROR);
}

void H2Connection::Forward(H2Stream* st, const H2RequestHead& head, bool path_never_index) {
  const std::string& authority =
      !head.authority.empty() || head.host_headers.empty() ? head.authority : head.host_headers[0];
  static const std::string kMethod = ":method", kScheme = ":scheme", kAuthority = ":authority",
                           kPath = ":path";
  NvArray nv;
  nv.Add(kMethod, head.method);
  nv.Add(kScheme, head.scheme);
  if (!authority.empty()) {
    nv.Add(kAuthority, authority);
  }
  nv.Add(kPath, head.path, path_never_index);
  std::vector<H2Header> fields = ForwardableFields(head.headers);
  nv.AddAll(fields);
  nghttp2_data_provider body{};
  body.read_callback = UpstreamBodyRead;
  int32_t id = nghttp2_submit_request(upstream_.session, nullptr, nv.data(), nv.size(),
                                      head.end_stream ? nullptr : &body, nullptr);
  if (id < 0) {  // e.g. stream ids exhausted: the guest may retry on a new connection
    st->SetEnd("goaway");
    ResetGuest(st, NGHTTP2_REFUSED_STREAM);
    GoawayGuest();
    return;
  }
  st->upstream_id = id;
  st->upstream_open = true;
  by_upstream_[id] = st;
}

void H2Connection::RespondLocally(H2Stream* st, uint16_t status) {
  static const std::string kStatus = ":status", kLength = "content-length", kZero = "0";
  std::string code = std::to_string(status);
  NvArray nv;
  nv.Add(kStatus, code);
  nv.Add(kLength, kZero);
  st->summary.status = status;
  st->resp_end = true;
  if (nghttp2_submit_response(guest_.session, st->guest_id, nv.data(), nv.size(), nullptr) != 0) {
    ResetGuest(st, NGHTTP2_INTERNAL_ERROR);
  }
}

int H2Connection::GuestDataChunk(int32_t stream_id, const uint8_t* data, size_t len) {
  H2Stream* st = FindGuest(stream_id);
  if (st == nullptr || !st->upstream_open || st->upstream_reset || st->secret_blocked) {
    // Nobody will forward these bytes: acknowledge them now so the window does not leak.
    (void)nghttp2_session_consume(guest_.session, stream_id, len);
    return 0;
  }
  if (st->up_stage) {
    st->up_stage->raw.Append(data, len);  // rewritten by AdvanceUp, outside this callback
    return 0;
  }
  st->up.Append(data, len);
  return 0;
}

int H2Connection::GuestStreamClose(int32_t stream_id, uint32_t error_code) {
  if (H2Stream* st = FindGuest(stream_id); st != nullptr && st->guest_open) {
    HandleGuestClosed(st, error_code);
  }
  return 0;
}

int H2Connection::GuestFrameSend(const nghttp2_frame* frame) {
  if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR) {
    // nghttp2 found a connection-level violation by the guest and is tearing the session down.
    guest_.error = std::string("protocol error, sent GOAWAY ") +
                   nghttp2_http2_strerror(frame->goaway.error_code);
    return 0;
  }
  if ((frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) ||
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) {
    return 0;
  }
  H2Stream* st = FindGuest(frame->hd.stream_id);
  if (st == nullptr) {
    return 0;
  }
  st->down_done = true;
  if (!st->upstream_open && !st->req_end) {
    // The response is complete and nobody reads the rest of the request (RFC 9113 8.1).
    ResetGuest(st, NGHTTP2_NO_ERROR);
  }
  return 0;
}

int H2Connection::GuestFrameNotSend(const nghttp2_frame* frame, int lib_error) {
  H2Stream* st = FindGuest(frame->hd.stream_id);
  if (st == nullptr || frame->hd.type != NGHTTP2_HEADERS ||
      lib_error == NGHTTP2_ERR_STREAM_CLOSED || lib_error == NGHTTP2_ERR_STREAM_CLOSING) {
    return 0;
  }
  // A response head nghttp2 could not send (e.g. too large): the stream cannot go on.
  st->SetEnd("upstream_error");
  ResetUpstream(st, NGHTTP2_CANCEL);
  ResetGuest(st, NGHTTP2_INTERNAL_ERROR);
  return 0;
}

ssize_t H2Connection::GuestRead(int32_t stream_id, uint8_t* buf, size_t length,
                                uint32_t* data_flags) {
  H2Stream* st = FindGuest(stream_id);
  if (st == nullptr) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  if (st->guest_reset) {
    st->down_deferred = true;  // an RST_STREAM is queued; it goes out before any DATA
    return NGHTTP2_ERR_DEFERRED;
  }
  size_t n = 0;
  if (!st->down.empty()) {
    size_t budget = Budget(guest_);
    if (budget == 0) {
      st->down_deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    n = st->down.Pop(buf, std::min(length, budget));
    if (!st->down_local) {  // the proxy's own 403 body owes the upstream nothing
      st->summary.bytes_down += n;
      ConsumeUpstream(st, st->down_stage ? st->down_stage->Taken(n) : n);
    }
  }
  if (st->down.empty() && st->DownEnded()) {
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (st->resp_has_trailers && !st->resp_trailers.empty()) {
      NvArray nv;
      nv.AddAll(st->resp_trailers);
      if (nghttp2_submit_trailer(guest_.session, stream_id, nv.data(), nv.size()) == 0) {
        *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    }
  } else if (n == 0) {
    st->down_deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  return static_cast<ssize_t>(n);
}

}  // namespace msb::gateway::http
