// stack_ip6_fuzzer: guest IPv6 packets into the Netstack, through the IPv6 input hook into lwIP's
// neighbour discovery, TCP and our reassembly, ICMPv6 and UDP paths, over time. Input: records of
// [u16 delay_ms][u8 control][u16 length][IPv6 packet]; each packet is sent in an Ethernet frame to
// the gateway after the clock has advanced by delay_ms and lwIP's timers have run (so ND entries,
// held SYNs, retransmissions and half-built datagrams age between packets). Control bits: 0 = hold
// (else reject) SYNs; 1-2 = then resolve held SYNs (none, accept, refuse, unreachable); 3 = stamp
// the guest's own address as the source (past the source check, so the paths behind it get
// explored); 4 = consume what accepted streams hold and write 100 bytes to each.
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "base/byte_reader.h"
#include "fuzz/stack_fuzz_delegate.h"
#include "stack/netstack.h"
#include "tests/stack/fake_device.h"

namespace {

using namespace msb::stack;  // NOLINT(google-build-using-namespace): harness brevity

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256 * 1024) {
    return 0;
  }
  static msb::FakeClock clock;  // process-wide, as lwIP's timers are
  FakeDevice dev;
  FuzzDelegate del;
  NetstackConfig cfg;
  auto ns = Netstack::Create(cfg, &dev, clock, &del);
  if (!ns.ok()) {
    abort();
  }
  const auto& guest = cfg.guest_v6.bytes();
  msb::ByteReader r({data, size});
  uint16_t delay = 0;
  uint8_t control = 0;
  uint16_t len = 0;
  std::span<const uint8_t> packet;
  while (r.ReadU16(&delay) && r.ReadU8(&control) && r.ReadU16(&len) &&
         r.ReadBytes(std::min<size_t>(len, r.remaining()), &packet)) {
    if (delay != 0) {
      clock.Advance(std::chrono::milliseconds(delay));
      ns.value()->RunTimers();
    }
    std::vector<uint8_t> frame(cfg.gateway_mac.begin(), cfg.gateway_mac.end());
    frame.insert(frame.end(), cfg.guest_mac.begin(), cfg.guest_mac.end());
    frame.insert(frame.end(), {0x86, 0xdd});
    frame.insert(frame.end(), packet.begin(), packet.end());
    if ((control & 8) != 0 && frame.size() >= 14 + 24) {
      std::copy(guest.begin(), guest.end(), frame.begin() + 14 + 8);
    }
    del.hold = (control & 1) != 0;
    dev.in.push_back(std::move(frame));
    ns.value()->OnDeviceReadable();
    del.ResolveHeld(ns.value().get(), (control >> 1) & 3u);
    if ((control & 16) != 0) {
      del.ServeStreams();
    }
  }
  del.AgeOut(clock, ns.value().get());
  return 0;
}
