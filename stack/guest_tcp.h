// GuestTcp: the guest's side of one accepted TCP connection, as a byte stream with explicit flow
// control. It wraps an lwIP pcb; the gateway sees only this interface (no lwIP types).
//
// Reading: received segments stay queued here and are acknowledged to lwIP (tcp_recved) only when
// the consumer calls Consume(), so the guest's window closes while the upstream cannot take more.
// Writing: Write() copies at most WriteSpace() bytes into lwIP's send buffer; OnGuestWritable fires
// when acknowledgements free space. Flush() pushes queued segments out.
//
// Lifetime: owned by the gateway session. Handlers are called from inside lwIP processing and must
// not destroy the GuestTcp there (defer it). Destroying it closes gracefully (FIN after queued
// data; RST if received data was left unread, as TCP requires) unless Abort() was called.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>

#include "stack/flow.h"

struct tcp_pcb;
struct pbuf;

namespace msb::stack {

class GuestTcpHandler {
 public:
  virtual ~GuestTcpHandler() = default;
  // OnGuestReadable: new data is queued, or the guest sent FIN (see ReadEof()).
  virtual void OnGuestReadable() = 0;
  // OnGuestWritable: acknowledged data freed send space.
  virtual void OnGuestWritable() = 0;
  // OnGuestReset: the connection is gone (guest RST, retransmission timeout, or fully closed after
  // both FINs). `reset` is true when it did not end with an orderly close.
  virtual void OnGuestGone(bool reset) = 0;
};

class GuestTcp {
 public:
  GuestTcp(tcp_pcb* pcb, const FlowTuple& tuple, uint64_t syn_id);
  ~GuestTcp();
  GuestTcp(const GuestTcp&) = delete;
  GuestTcp& operator=(const GuestTcp&) = delete;

  void SetHandler(GuestTcpHandler* handler) { handler_ = handler; }
  const FlowTuple& tuple() const { return tuple_; }
  uint64_t syn_id() const { return syn_id_; }
  bool alive() const { return pcb_ != nullptr; }

  // Reading.
  size_t ReadableBytes() const { return queued_bytes_; }
  // Peek returns the first contiguous run of queued bytes (empty when none).
  std::span<const uint8_t> Peek() const;
  // Consume drops `n` queued bytes (n <= ReadableBytes()) and reopens the window by as much.
  void Consume(size_t n);
  // ReadEof: the guest sent FIN and every byte before it has been consumed.
  bool ReadEof() const { return fin_received_ && queued_bytes_ == 0; }

  // Writing.
  size_t WriteSpace() const;
  size_t Write(std::span<const uint8_t> data);
  void Flush();
  // UnsentBytes: bytes written but not yet acknowledged by the guest.
  size_t UnackedBytes() const;
  // ShutdownWrite sends FIN after everything written so far.
  void ShutdownWrite();
  bool write_shut() const { return write_shut_; }
  // Abort sends RST now and forgets the pcb.
  void Abort();

  // Called by the stack (lwIP callbacks), not by users.
  void OnLwipRecv(pbuf* p);
  void OnLwipSent();
  void OnLwipError(bool reset);
  void OnPcbDestroyed();
  void MarkAccepted() { accepted_ = true; }
  bool accepted() const { return accepted_; }

 private:
  void Detach();

  tcp_pcb* pcb_;
  FlowTuple tuple_;
  uint64_t syn_id_;
  GuestTcpHandler* handler_ = nullptr;
  std::deque<pbuf*> rx_;     // queued pbuf chains, front partially consumed
  size_t rx_offset_ = 0;     // bytes consumed from the front chain
  size_t queued_bytes_ = 0;  // total unconsumed bytes
  bool fin_received_ = false;
  bool write_shut_ = false;
  bool accepted_ = false;
  bool gone_notified_ = false;
};

}  // namespace msb::stack
