// lwip_port.cc: the platform functions lwIP needs under NO_SYS: time, randomness, ISNs.
#include "stack/lwip_port.h"

#include <lwip/arch.h>
#include <sys/random.h>

#include <cstdint>
#include <cstring>

#include "stack/msb_lwip_hooks.h"

namespace {

const msb::Clock* g_clock = nullptr;

// RandomU32 draws from the kernel CSPRNG through a small buffer (one getrandom per 256 values).
uint32_t RandomU32() {
  static uint32_t pool[256];
  static size_t left = 0;
  if (left == 0) {
    size_t got = 0;
    while (got < sizeof(pool)) {
      ssize_t n = getrandom(reinterpret_cast<char*>(pool) + got, sizeof(pool) - got, 0);
      if (n > 0) {
        got += static_cast<size_t>(n);
      }
    }
    left = 256;
  }
  return pool[--left];
}

}  // namespace

namespace msb::stack {

void SetLwipClock(const Clock* clock) {
  g_clock = clock;
}

}  // namespace msb::stack

extern "C" {

u32_t sys_now(void);  // lwIP declares it in lwip/sys.h; declared here to keep includes minimal

u32_t sys_now(void) {
  const msb::Clock& clock = g_clock != nullptr ? *g_clock : msb::SystemClock::Instance();
  return static_cast<u32_t>(msb::ToMillis(clock.Now().time_since_epoch()));
}

uint32_t msb_lwip_rand(void) {
  return RandomU32();
}

// Random initial sequence numbers: lwIP's default ISN is a predictable counter.
uint32_t msb_lwip_tcp_isn(void) {
  return RandomU32();
}

}  // extern "C"
