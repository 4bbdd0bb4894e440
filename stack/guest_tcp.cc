// GuestTcp: lwIP pcb callbacks turned into a pull-based stream with explicit flow control.
#include "stack/guest_tcp.h"

#include <algorithm>

#include "stack/lwip_glue.h"

namespace msb::stack {
namespace {

err_t RecvCb(void* arg, tcp_pcb* /*pcb*/, pbuf* p, err_t err) {
  auto* self = static_cast<GuestTcp*>(arg);
  if (self == nullptr) {
    if (p != nullptr) {
      pbuf_free(p);
    }
    return ERR_OK;
  }
  if (err != ERR_OK && p != nullptr) {
    pbuf_free(p);
    return ERR_OK;
  }
  self->OnLwipRecv(p);
  return ERR_OK;
}

err_t SentCb(void* arg, tcp_pcb* /*pcb*/, u16_t /*len*/) {
  if (arg != nullptr) {
    static_cast<GuestTcp*>(arg)->OnLwipSent();
  }
  return ERR_OK;
}

void ErrCb(void* arg, err_t err) {
  if (arg != nullptr) {
    // ERR_CLSD means "closed in order after our shutdown"; anything else is a reset or abort.
    static_cast<GuestTcp*>(arg)->OnLwipError(err != ERR_CLSD);
  }
}

}  // namespace

GuestTcp::GuestTcp(tcp_pcb* pcb, const FlowTuple& tuple, uint64_t syn_id)
    : pcb_(pcb), tuple_(tuple), syn_id_(syn_id) {
  tcp_arg(pcb_, this);
  tcp_recv(pcb_, RecvCb);
  tcp_sent(pcb_, SentCb);
  tcp_err(pcb_, ErrCb);
  tcp_nagle_disable(pcb_);  // we forward what the upstream gave us as soon as we have it
}

GuestTcp::~GuestTcp() {
  for (pbuf* p : rx_) {
    pbuf_free(p);
  }
  if (pcb_ != nullptr) {
    tcp_pcb* pcb = pcb_;
    bool unread = queued_bytes_ > 0;
    Detach();
    // Unread received data means the peer's bytes were lost: TCP requires RST, not FIN.
    if (unread || tcp_close(pcb) != ERR_OK) {
      tcp_abort(pcb);
    }
  }
}

void GuestTcp::Detach() {
  if (pcb_ == nullptr) {
    return;
  }
  tcp_arg(pcb_, nullptr);
  tcp_recv(pcb_, nullptr);
  tcp_sent(pcb_, nullptr);
  tcp_err(pcb_, nullptr);
  tcp_ext_arg_set(pcb_, ConnExtArgId(), nullptr);
  pcb_ = nullptr;
}

std::span<const uint8_t> GuestTcp::Peek() const {
  if (rx_.empty()) {
    return {};
  }
  size_t offset = rx_offset_;
  for (const pbuf* q = rx_.front(); q != nullptr; q = q->next) {
    if (offset < q->len) {
      return {static_cast<const uint8_t*>(q->payload) + offset, q->len - offset};
    }
    offset -= q->len;
  }
  return {};
}

void GuestTcp::Consume(size_t n) {
  n = std::min(n, queued_bytes_);
  size_t left = n;
  while (left > 0 && !rx_.empty()) {
    pbuf* front = rx_.front();
    size_t avail = front->tot_len - rx_offset_;
    if (left < avail) {
      rx_offset_ += left;
      left = 0;
    } else {
      left -= avail;
      pbuf_free(front);
      rx_.pop_front();
      rx_offset_ = 0;
    }
  }
  queued_bytes_ -= n;
  if (pcb_ != nullptr) {
    while (n > 0) {  // tcp_recved takes 16-bit lengths
      auto step = static_cast<u16_t>(std::min<size_t>(n, 0xffff));
      tcp_recved(pcb_, step);
      n -= step;
    }
  }
}

size_t GuestTcp::WriteSpace() const {
  if (pcb_ == nullptr || write_shut_ || tcp_sndqueuelen(pcb_) >= TCP_SND_QUEUELEN - 4) {
    return 0;
  }
  return tcp_sndbuf(pcb_);
}

size_t GuestTcp::Write(std::span<const uint8_t> data) {
  size_t written = 0;
  while (written < data.size()) {
    size_t space = WriteSpace();
    if (space == 0) {
      break;
    }
    size_t chunk = std::min({data.size() - written, space, size_t{0xffff}});
    u8_t flags = TCP_WRITE_FLAG_COPY;
    if (written + chunk < data.size()) {
      flags |= TCP_WRITE_FLAG_MORE;
    }
    if (tcp_write(pcb_, data.data() + written, static_cast<u16_t>(chunk), flags) != ERR_OK) {
      break;  // send queue full: OnGuestWritable will come
    }
    written += chunk;
  }
  return written;
}

void GuestTcp::Flush() {
  if (pcb_ != nullptr) {
    tcp_output(pcb_);
  }
}

size_t GuestTcp::UnackedBytes() const {
  if (pcb_ == nullptr) {
    return 0;
  }
  return TCP_SND_BUF - std::min<size_t>(TCP_SND_BUF, pcb_->snd_buf);
}

void GuestTcp::ShutdownWrite() {
  if (pcb_ == nullptr || write_shut_) {
    return;
  }
  write_shut_ = true;
  tcp_shutdown(pcb_, 0, 1);
}

void GuestTcp::Abort() {
  if (pcb_ == nullptr) {
    return;
  }
  tcp_pcb* pcb = pcb_;
  Detach();
  tcp_abort(pcb);
  gone_notified_ = true;  // the caller initiated this; it needs no callback
}

void GuestTcp::OnLwipRecv(pbuf* p) {
  if (p == nullptr) {
    fin_received_ = true;
  } else {
    queued_bytes_ += p->tot_len;
    rx_.push_back(p);
  }
  if (handler_ != nullptr) {
    handler_->OnGuestReadable();
  }
}

void GuestTcp::OnLwipSent() {
  if (handler_ != nullptr) {
    handler_->OnGuestWritable();
  }
}

void GuestTcp::OnLwipError(bool reset) {
  pcb_ = nullptr;  // lwIP has freed (or is freeing) the pcb
  if (!gone_notified_) {
    gone_notified_ = true;
    if (!accepted_) {
      Netstack* ns = Netstack::Instance();
      if (ns != nullptr && ns->lwip() != nullptr && ns->lwip()->acceptor != nullptr) {
        ns->lwip()->acceptor->OnHandshakeFailed(this);
      }
      return;
    }
    if (handler_ != nullptr) {
      handler_->OnGuestGone(reset);
    }
  }
}

void GuestTcp::OnPcbDestroyed() {
  // Reached for every way a pcb ends (abort, reset, orderly close, TIME_WAIT expiry). Whether it
  // ended in order is known only to the error callback, which may come before or after this.
  OnLwipError(/*reset=*/!write_shut_ || !fin_received_);
}

}  // namespace msb::stack
