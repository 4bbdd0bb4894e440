// stack_frames_fuzzer: guest frames into the Netstack (lwIP + our input hook and acceptor).
// Input: records of [u8 control][u16 length][frame]. Control bits: 0 = hold (else reject) SYNs in
// this frame; 1-2 = then resolve held SYNs (none, accept, refuse, unreachable); 3 = advance the
// clock 1 s and run timers; 4 = consume what accepted streams hold and write 100 bytes to each;
// 5 = the frame starts with a 10-byte virtio-net header (what a TAP with IFF_VNET_HDR reads: an
// invalid one drops the frame, as TapDevice does); 6, in the first record only = the device
// offloads (partial checksums and GSO both ways, as `run` and `serve --netns` set up).
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "base/byte_reader.h"
#include "fuzz/stack_fuzz_delegate.h"
#include "stack/netstack.h"
#include "stack/vnet_header.h"

namespace {

using namespace msb::stack;  // NOLINT(google-build-using-namespace): harness brevity

class Device final : public FrameDevice {
 public:
  int fd() const override { return -1; }
  ReadResult ReadFrame(std::span<uint8_t> buf) override {
    if (in.empty()) {
      return {IoStatus::kWouldBlock, 0, {}};
    }
    std::vector<uint8_t> f = std::move(in.front());
    in.pop_front();
    ReadResult r{IoStatus::kOk, f.size(), {}};
    size_t skip = 0;
    if (!vnet.front()) {
      // no header
    } else if (f.size() <= kVnetHeaderSize || !ParseVnetHeader(f, &r.offload)) {
      r.size = 0;
      skip = f.size();
    } else {
      skip = kVnetHeaderSize;
      r.size = f.size() - skip;
    }
    vnet.pop_front();
    std::copy_n(f.begin() + static_cast<ptrdiff_t>(skip), std::min(r.size, buf.size()),
                buf.begin());
    return r;
  }
  IoStatus WriteFrame(std::span<const uint8_t>) override { return IoStatus::kOk; }
  bool offloads() const override { return offload; }
  std::deque<std::vector<uint8_t>> in;
  std::deque<bool> vnet;
  bool offload = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) {
    return 0;
  }
  // One clock for the whole process: lwIP's timer list is process-wide, so time must never run
  // backwards from one input to the next.
  static msb::FakeClock clock;
  Device dev;
  dev.offload = size > 0 && (data[0] & 64) != 0;
  FuzzDelegate del;
  auto ns = Netstack::Create(NetstackConfig{}, &dev, clock, &del);
  if (!ns.ok()) {
    abort();
  }
  msb::ByteReader r({data, size});
  uint8_t control = 0;
  uint16_t len = 0;
  std::span<const uint8_t> frame;
  while (r.ReadU8(&control) && r.ReadU16(&len) &&
         r.ReadBytes(std::min<size_t>(len, r.remaining()), &frame)) {
    del.hold = (control & 1) != 0;
    dev.in.emplace_back(frame.begin(), frame.end());
    dev.vnet.push_back((control & 32) != 0);
    ns.value()->OnDeviceReadable();
    del.ResolveHeld(ns.value().get(), (control >> 1) & 3u);
    if ((control & 8) != 0) {
      clock.Advance(std::chrono::seconds(1));
      ns.value()->RunTimers();
    }
    if ((control & 16) != 0) {
      del.ServeStreams();
    }
  }
  del.AgeOut(clock, ns.value().get());
  return 0;
}
