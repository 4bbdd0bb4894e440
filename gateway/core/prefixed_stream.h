// PrefixedStream: a ByteStream that first yields bytes already taken from another stream, then
// that stream's own. The ClientHello sniffer has to consume the guest's first bytes to parse
// them; whatever comes next (a TLS server, or a splice that replays the hello upstream) reads
// them again through this wrapper, exactly once and in order. Writing, ending and callbacks pass
// straight through to the wrapped stream.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "gateway/core/byte_stream.h"

namespace msb::gateway {

class PrefixedStream final : public ByteStream, private StreamHandler {
 public:
  // `inner` is borrowed and must outlive this wrapper.
  PrefixedStream(ByteStream* inner, std::vector<uint8_t> prefix);
  ~PrefixedStream() override;
  PrefixedStream(const PrefixedStream&) = delete;
  PrefixedStream& operator=(const PrefixedStream&) = delete;

  void SetHandler(StreamHandler* handler) override;
  size_t ReadableBytes() const override;
  std::span<const uint8_t> Peek() const override;
  void Consume(size_t n) override;
  bool ReadEof() const override { return prefix_off_ == prefix_.size() && inner_->ReadEof(); }
  size_t WriteSpace() const override { return inner_->WriteSpace(); }
  size_t Write(std::span<const uint8_t> data) override { return inner_->Write(data); }
  void Flush() override { inner_->Flush(); }
  void ShutdownWrite() override { inner_->ShutdownWrite(); }
  bool write_shut() const override { return inner_->write_shut(); }
  void Abort() override;

 private:
  void OnStreamReadable() override;
  void OnStreamWritable() override;
  void OnStreamGone(bool reset) override;

  ByteStream* inner_;
  std::vector<uint8_t> prefix_;
  size_t prefix_off_ = 0;
  StreamHandler* handler_ = nullptr;
};

}  // namespace msb::gateway
