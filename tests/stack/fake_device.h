// FakeDevice: a FrameDevice in memory, playing the guest's NIC for the stack's tests and its IPv6
// fuzzer: frames the test queues in `in` are read, frames the stack writes land in `out` (with
// their offload headers), and a test can make it block, offload, or hold pending bytes as socket
// devices do.
#pragma once

#include <algorithm>
#include <deque>
#include <span>
#include <vector>

#include "stack/frame_device.h"

namespace msb::stack {

class FakeDevice final : public FrameDevice {
 public:
  int fd() const override { return -1; }
  ReadResult ReadFrame(std::span<uint8_t> buf) override {
    if (in.empty()) {
      return {IoStatus::kWouldBlock, 0, {}};
    }
    std::vector<uint8_t> f = std::move(in.front());
    in.pop_front();
    FrameOffload o;
    if (!in_offload.empty()) {
      o = in_offload.front();
      in_offload.pop_front();
    }
    size_t n = std::min(f.size(), buf.size());
    std::copy_n(f.begin(), n, buf.begin());
    return {IoStatus::kOk, f.size(), o};
  }
  IoStatus WriteFrame(std::span<const uint8_t> frame) override {
    if (blocked) {
      return IoStatus::kWouldBlock;
    }
    out.emplace_back(frame.begin(), frame.end());
    out_offload.emplace_back();
    return IoStatus::kOk;
  }
  // An offloading device (a TAP with a virtio-net header): in_offload[i] goes with in[i].
  bool offloads() const override { return offload; }
  IoStatus WriteFrameParts(std::span<const std::span<const uint8_t>> parts,
                           const FrameOffload& o) override {
    IoStatus st = FrameDevice::WriteFrameParts(parts, o);
    if (st == IoStatus::kOk) {
      out_offload.back() = o;
    }
    return st;
  }
  // A socket device's buffers: frames it already holds (hold_input: what is in `in` was read in
  // one go), and bytes it still has to write (pending_output, until Flush returns kOk).
  bool HasPendingInput() const override { return hold_input && !in.empty(); }
  bool HasPendingOutput() const override { return pending_output; }
  IoStatus Flush() override {
    ++flush_calls;
    if (flush_result == IoStatus::kOk) {
      pending_output = false;
    }
    return flush_result;
  }
  std::deque<std::vector<uint8_t>> in;
  std::deque<FrameOffload> in_offload;
  std::vector<std::vector<uint8_t>> out;
  std::vector<FrameOffload> out_offload;
  bool blocked = false;
  bool offload = false;
  bool hold_input = false;
  bool pending_output = false;
  IoStatus flush_result = IoStatus::kOk;
  int flush_calls = 0;
};

}  // namespace msb::stack
