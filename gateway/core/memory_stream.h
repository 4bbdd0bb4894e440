// MemoryStream: an in-memory, flow-controlled connection between two ByteStream ends, for tests
// and fuzzers of sessions, relays and TLS layers without sockets or lwIP. Each end's receive
// buffer is capped (`capacity`), so a writer sees back-pressure exactly as with TCP windows.
// Callbacks are delivered from the event loop's deferred queue (never from inside the call that
// caused them), like real streams deliver them from I/O dispatch.
//
// Ending: ShutdownWrite is a FIN (the peer reads to ReadEof). Abort is an RST (the peer gets
// OnStreamGone(true)). Destroying an end is a close: a FIN, and once both directions are shut
// the surviving end gets OnStreamGone(false); unread bytes at destruction make it a reset, as
// TCP does. OnStreamGone(false) comes once both directions are shut and every byte was read.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "gateway/core/byte_stream.h"
#include "gateway/core/event_loop.h"

namespace msb::gateway {

class MemoryStream final : public ByteStream {
 public:
  // Pair makes two connected ends; each receives at most `capacity` unread bytes.
  static std::pair<std::unique_ptr<MemoryStream>, std::unique_ptr<MemoryStream>> Pair(
      EventLoop* loop, size_t capacity = 64 * 1024);
  ~MemoryStream() override;
  MemoryStream(const MemoryStream&) = delete;
  MemoryStream& operator=(const MemoryStream&) = delete;

  void SetHandler(StreamHandler* handler) override { handler_ = handler; }
  size_t ReadableBytes() const override { return in_.size() - in_off_; }
  std::span<const uint8_t> Peek() const override;
  void Consume(size_t n) override;
  bool ReadEof() const override { return eof_ && ReadableBytes() == 0; }
  size_t WriteSpace() const override;
  size_t Write(std::span<const uint8_t> data) override;
  void Flush() override {}
  void ShutdownWrite() override;
  bool write_shut() const override { return write_shut_; }
  void Abort() override;

  // Test helpers.
  bool reset_received() const { return reset_; }
  bool gone() const { return gone_queued_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  struct Link;
  MemoryStream(EventLoop* loop, std::shared_ptr<Link> link, int side, size_t capacity);
  MemoryStream* Peer() const;
  void Notify(void (StreamHandler::*fn)());
  void NotifyGone(bool reset);
  void CheckBothShut();

  EventLoop* loop_;
  std::shared_ptr<Link> link_;
  int side_;
  size_t capacity_;
  StreamHandler* handler_ = nullptr;
  std::vector<uint8_t> in_;  // bytes the peer wrote, from in_off_ on unread
  size_t in_off_ = 0;
  bool eof_ = false;         // the peer shut its write side
  bool write_shut_ = false;  // this end shut its write side
  bool reset_ = false;
  bool gone_ = false;         // OnStreamGone delivered (or Abort called): no more callbacks
  bool gone_queued_ = false;  // the end of this connection is decided
  // The writer found no room (WriteSpace() == 0 or a short Write): tell it when space opens.
  mutable bool blocked_ = false;
  uint64_t bytes_written_ = 0;
};

}  // namespace msb::gateway
