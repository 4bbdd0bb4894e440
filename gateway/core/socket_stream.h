// SocketStream: a connected, non-blocking host socket (an upstream TCP connection) as a
// ByteStream, driven by the event loop.
//
// Reading: the socket is read into a bounded buffer only while that buffer has room, so a slow
// consumer closes the kernel's receive window instead of growing memory. The buffer is allocated
// when bytes arrive and released once consumed, so an idle connection holds none. It starts at
// kInitialBuffer and grows (up to kMaxBuffer) each time a read fills it: a bulk download is then
// read in large batches, which halves the gateway's CPU per byte (docs/performance.md), while
// small exchanges keep small buffers.
// Writing: Write sends at once; what the kernel does not take is left to the caller (the stream
// buffers nothing), and OnStreamWritable follows when the socket drains.
// EPOLLHUP is level-triggered and cannot be masked: while the buffer is full a hung-up socket is
// taken out of epoll (it would wake the loop forever) and put back when reading can resume.
// Errors (a reset, a failed send) are reported through OnStreamGone(true) from a deferred task,
// never from inside Write.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "gateway/core/byte_stream.h"
#include "gateway/core/event_loop.h"

namespace msb::gateway {

class SocketStream final : public ByteStream, private IoHandler {
 public:
  static constexpr size_t kInitialBuffer = 64 * 1024;
  static constexpr size_t kMaxBuffer = 1024 * 1024;

  // SocketStream takes ownership of the connected socket `fd` and watches it on `loop`.
  static Result<std::unique_ptr<SocketStream>> Create(EventLoop* loop, int fd);
  ~SocketStream() override;  // closes the socket in order (FIN), unless Abort()ed (RST)
  SocketStream(const SocketStream&) = delete;
  SocketStream& operator=(const SocketStream&) = delete;

  int fd() const { return fd_; }

  void SetHandler(StreamHandler* handler) override { handler_ = handler; }
  size_t ReadableBytes() const override { return end_ - begin_; }
  std::span<const uint8_t> Peek() const override;
  void Consume(size_t n) override;
  bool ReadEof() const override { return eof_ && begin_ == end_; }
  size_t WriteSpace() const override;
  size_t Write(std::span<const uint8_t> data) override;
  void Flush() override {}
  void ShutdownWrite() override;
  bool write_shut() const override { return write_shut_; }
  void Abort() override;

 private:
  SocketStream(EventLoop* loop, int fd) : loop_(loop), fd_(fd) {}
  void OnIo(uint32_t events) override;
  void ReadSome();
  void Fail();
  void UpdateInterest();

  EventLoop* loop_;
  int fd_;
  StreamHandler* handler_ = nullptr;
  std::unique_ptr<uint8_t[]> buf_;  // cap_ bytes while holding data, else null
  size_t cap_ = kInitialBuffer;
  size_t begin_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  bool write_blocked_ = false;
  bool write_shut_ = false;
  bool failed_ = false;
  bool hup_ = false;
  bool watched_ = false;
  uint32_t interest_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace msb::gateway
