// lwip_port.h: what lwIP's platform layer (lwip_port.cc) needs from the rest of the stack: the
// clock behind sys_now(). The Netstack installs its clock; tests install a FakeClock through it.
#pragma once

#include "base/clock.h"

namespace msb::stack {

// SetLwipClock makes sys_now() read `clock` (nullptr: the system clock). Loop thread only.
void SetLwipClock(const Clock* clock);

}  // namespace msb::stack
