// SystemClock singleton and wall-clock formatting for audit timestamps.
#include "base/clock.h"

#include <ctime>

namespace msb {

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

std::string WallClockIso8601() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char buf[40];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf(buf + n, sizeof(buf) - n, ".%03ldZ", ts.tv_nsec / 1000000);
  return buf;
}

}  // namespace msb
