// WallClock: the injectable wall-clock source of the certs module. Certificate validity is
// wall-clock time (unix seconds), unlike the monotonic msb::Clock the event loop uses; tests pass a
// lambda over a variable they move by hand to mint "in the past/future" and to age cached leaves.
#pragma once

#include <cstdint>
#include <ctime>
#include <functional>

namespace msb::certs {

// Returns unix seconds. Must be callable from any thread (LeafCache calls it under its lock).
using WallClock = std::function<int64_t()>;

inline WallClock SystemWallClock() {
  return [] { return static_cast<int64_t>(std::time(nullptr)); };
}

}  // namespace msb::certs
