// Clock: the injectable monotonic time source. Production code takes a `const Clock&`; tests pass a
// FakeClock they advance by hand, so TTLs, timeouts and lwIP timers are deterministic under test.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace msb {

using Duration = std::chrono::steady_clock::duration;
using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// SystemClock reads std::chrono::steady_clock (monotonic: immune to NTP steps).
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  static const SystemClock& Instance();
};

class FakeClock final : public Clock {
 public:
  TimePoint Now() const override { return now_; }
  void Advance(Duration d) { now_ += d; }

 private:
  TimePoint now_{std::chrono::seconds(1000)};
};

inline int64_t ToMillis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// WallClockIso8601 formats the current wall-clock time as "2026-11-30T05:45:45.123Z" (UTC,
// milliseconds) for audit records; it is never used for timing decisions.
std::string WallClockIso8601();

}  // namespace msb
