// InterceptOptions: how TLS interception is configured, from the CLI flags and the --config
// file's `tls` section (docs/tls.md). Plain data, validated where it is parsed (host patterns
// through base/host_pattern.h); the files it names are read by InterceptContext::Create.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/host_pattern.h"
#include "certs/upstream_verifier.h"

namespace msb::gateway::tls {

struct InterceptOptions {
  bool enabled = false;
  std::vector<uint16_t> ports = {443};  // TCP ports whose TLS is intercepted
  std::vector<HostPattern> bypass;      // SNIs spliced blindly (the guest sees the real cert)
  certs::UpstreamTrustOptions trust;    // upstream verification (on by default)
  bool block_quic = true;               // drop UDP to intercepted ports (clients fall back to TCP)
  std::string ca_cert;                  // operator CA (both or neither); else the state dir's
  std::string ca_key;
  std::string state_dir;                // where the persistent CA lives
  size_t cache_capacity = 1000;
  int64_t validity_hours = 24;
  Duration hello_timeout = std::chrono::seconds(10);      // for a complete ClientHello
  Duration handshake_timeout = std::chrono::seconds(10);  // each TLS handshake
};

// DefaultStateDir is $XDG_STATE_HOME/msb-gateway, else $HOME/.local/state/msb-gateway ("" when
// neither variable is set).
std::string DefaultStateDir();

}  // namespace msb::gateway::tls
