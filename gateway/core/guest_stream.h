// GuestStream: the guest's side of an accepted TCP connection (stack::GuestTcp, an lwIP pcb) as a
// ByteStream. Reads consume lwIP's queue and reopen the guest's window only as bytes are passed
// on; writes go into lwIP's send buffer. Destroying it closes in order (FIN after what was
// written; RST if received bytes were left unread, as TCP requires) unless Abort() was called.
#pragma once

#include <memory>

#include "gateway/core/byte_stream.h"
#include "stack/guest_tcp.h"

namespace msb::gateway {

class GuestStream final : public ByteStream, private stack::GuestTcpHandler {
 public:
  explicit GuestStream(std::unique_ptr<stack::GuestTcp> conn);
  ~GuestStream() override;
  GuestStream(const GuestStream&) = delete;
  GuestStream& operator=(const GuestStream&) = delete;

  const stack::FlowTuple& tuple() const { return conn_->tuple(); }

  void SetHandler(StreamHandler* handler) override { handler_ = handler; }
  size_t ReadableBytes() const override { return conn_->ReadableBytes(); }
  std::span<const uint8_t> Peek() const override { return conn_->Peek(); }
  void Consume(size_t n) override { conn_->Consume(n); }
  bool ReadEof() const override { return conn_->ReadEof(); }
  size_t WriteSpace() const override { return conn_->alive() ? conn_->WriteSpace() : 0; }
  size_t Write(std::span<const uint8_t> data) override { return conn_->Write(data); }
  void Flush() override { conn_->Flush(); }
  void ShutdownWrite() override { conn_->ShutdownWrite(); }
  bool write_shut() const override { return conn_->write_shut(); }
  void Abort() override;

 private:
  void OnGuestReadable() override;
  void OnGuestWritable() override;
  void OnGuestGone(bool reset) override;

  std::unique_ptr<stack::GuestTcp> conn_;
  StreamHandler* handler_ = nullptr;
};

}  // namespace msb::gateway
