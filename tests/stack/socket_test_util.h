// Test helpers for the socket frame devices: bounded waits on descriptors (a test that would hang
// fails instead), and sockets by path (in a TempDir, tests/base/temp_dir.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/base/temp_dir.h"

namespace msb::testing {

// WaitReadable: `fd` is readable (or at EOF/error) within `timeout_ms`.
bool WaitReadable(int fd, int timeout_ms = 2000);

// ConnectUnix returns a blocking AF_UNIX socket of `type` connected to `path` (-1 on failure).
int ConnectUnix(const std::string& path, int type);
// BindUnix returns a blocking AF_UNIX socket of `type` bound to `path` (-1 on failure).
int BindUnix(const std::string& path, int type);

// ReadExactly reads `n` bytes, waiting at most 2 s for each piece; fewer on EOF or timeout.
std::vector<uint8_t> ReadExactly(int fd, size_t n);
// WriteAll writes every byte (blocking socket); false on error.
bool WriteAll(int fd, const std::vector<uint8_t>& bytes);

}  // namespace msb::testing
