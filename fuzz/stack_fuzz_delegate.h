// The gateway's part in the stack fuzzers (stack_frames_fuzzer, stack_ip6_fuzzer): a delegate that
// holds or rejects SYNs as the input says and varies UDP and echo verdicts, and the per-record
// steps both harnesses take (resolve held SYNs, consume and answer accepted streams).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/clock.h"
#include "stack/netstack.h"

namespace msb::stack {

class FuzzDelegate final : public Netstack::Delegate {
 public:
  SynVerdict OnTcpSyn(uint64_t id, const FlowTuple&) override {
    if (!hold) {
      return SynVerdict::kReject;
    }
    held.push_back(id);
    return SynVerdict::kHold;
  }
  void OnTcpAccepted(std::unique_ptr<GuestTcp> c) override { conns.push_back(std::move(c)); }
  void OnTcpAcceptFailed(uint64_t) override {}
  UdpVerdict OnUdp(const FlowTuple&, std::span<const uint8_t> p) override {
    return p.empty() ? UdpVerdict::kPortUnreachable : UdpVerdict::kHandled;
  }
  // By identifier: answered, relayed or dropped, so every echo path is exercised.
  IcmpVerdict OnIcmpEcho(const IcmpEcho& e) override {
    static constexpr IcmpVerdict kVerdicts[] = {IcmpVerdict::kAnswer, IcmpVerdict::kRelayed,
                                                IcmpVerdict::kDrop};
    return kVerdicts[e.flow.guest.port % 3];
  }

  // ResolveHeld resolves every held SYN with outcome `o` (1 accept, 2 refuse, 3 unreachable; 0
  // leaves them held).
  void ResolveHeld(Netstack* ns, unsigned o) {
    static constexpr SynOutcome kOutcomes[] = {SynOutcome::kAccept, SynOutcome::kRefuse,
                                               SynOutcome::kUnreachable};
    if (o == 0 || o > 3) {
      return;
    }
    for (uint64_t id : held) {
      ns->ResolveSyn(id, kOutcomes[o - 1]);
    }
    held.clear();
  }
  // ServeStreams consumes what accepted streams hold and writes 100 bytes to each.
  void ServeStreams() {
    static const uint8_t kReply[100] = {};
    for (auto& c : conns) {
      c->Consume(c->ReadableBytes());
      c->Write(kReply);
      c->Flush();
    }
  }

  // AgeOut ends an input: the accepted streams go, then the clock runs 20 s so that what lwIP
  // keeps across stacks (IPv4 reassembly, 15 s) expires; its bookkeeping sits at unaligned
  // addresses inside pbufs, which LeakSanitizer would otherwise report as leaks.
  void AgeOut(FakeClock& clock, Netstack* ns) {
    conns.clear();  // before the stack goes
    for (int i = 0; i < 20; ++i) {
      clock.Advance(std::chrono::seconds(1));
      ns->RunTimers();
    }
  }

  bool hold = true;
  std::vector<uint64_t> held;
  std::vector<std::unique_ptr<GuestTcp>> conns;
};

}  // namespace msb::stack
