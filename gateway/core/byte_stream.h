// ByteStream: one end of a connection as sessions and relays see it, whatever carries it: the
// guest's lwIP connection (GuestStream), an upstream socket (SocketStream), a TLS layer over
// another stream (tls/tls_stream.h) or an in-memory pipe for tests (MemoryStream). Relays are
// written once against this interface, so a splice, an HTTP proxy and DNS over TCP run unchanged
// over plaintext, TLS or test pipes.
//
// Reading is peek-then-consume: bytes stay in the stream (and, for real connections, keep the
// peer's window closed) until the consumer has passed them on. Writing is offer-and-accept: Write
// takes what fits now and returns how much; OnStreamWritable says when to offer the rest.
//
// Callbacks (StreamHandler) may come from inside another stream's processing (lwIP input, an
// epoll dispatch); a handler must not destroy the stream inside them (defer instead). After
// Abort(), or once OnStreamGone was delivered, the stream makes no more callbacks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace msb::gateway {

class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // OnStreamReadable: new bytes are readable, or the peer finished sending (see ReadEof()).
  virtual void OnStreamReadable() = 0;
  // OnStreamWritable: write space opened after Write accepted less than offered (or nothing).
  virtual void OnStreamWritable() = 0;
  // OnStreamGone: the connection ended. `reset` is true unless both directions closed in order.
  virtual void OnStreamGone(bool reset) = 0;
};

class ByteStream {
 public:
  virtual ~ByteStream() = default;

  // SetHandler installs (or, with nullptr, removes) the callback target.
  virtual void SetHandler(StreamHandler* handler) = 0;

  // Reading.
  virtual size_t ReadableBytes() const = 0;
  // Peek returns the first contiguous run of readable bytes (empty when none).
  virtual std::span<const uint8_t> Peek() const = 0;
  // Consume drops `n` readable bytes (n <= ReadableBytes()).
  virtual void Consume(size_t n) = 0;
  // ReadEof: the peer finished sending and every byte before its end was consumed.
  virtual bool ReadEof() const = 0;

  // Writing.
  // WriteSpace is how much Write would accept now (0 = wait for OnStreamWritable).
  virtual size_t WriteSpace() const = 0;
  // Write accepts up to WriteSpace() bytes of `data` and returns how many it took.
  virtual size_t Write(std::span<const uint8_t> data) = 0;
  // Flush pushes accepted bytes out now instead of waiting for more.
  virtual void Flush() = 0;
  // ShutdownWrite ends this direction after everything accepted so far (a FIN).
  virtual void ShutdownWrite() = 0;
  virtual bool write_shut() const = 0;

  // Abort ends the connection now (RST where the transport has one). No callbacks follow.
  virtual void Abort() = 0;
};

}  // namespace msb::gateway
