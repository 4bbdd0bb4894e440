// guest_interface: creates the guest's TAP inside a network namespace and configures it the way
// `run` and `serve --netns` promise: the guest's MAC, address and prefix, MTU, link up, lo up, a
// default route via the gateway, IPv6 off (until the gateway serves it), and with `vnet_hdr` a
// virtio-net header so the gateway can turn on checksum/TSO offloads. The caller keeps the TAP's
// descriptor and serves it from its own namespace.
#pragma once

#include <string>

#include "base/status.h"
#include "stack/netstack.h"

namespace msb::gateway {

// CreateGuestTap works in the calling thread's network namespace. It returns "" and sets
// *tap_fd, or returns a one-line error (the fork child of `run` reports it as is; it allocates
// nothing but the message).
std::string CreateGuestTap(const std::string& name, const stack::NetstackConfig& net, bool vnet_hdr,
                           int* tap_fd);

// CreateGuestTapInNetns enters the namespace at `netns_path` (a bind mount such as
// /run/netns/NAME, or /proc/PID/ns/net) on this thread only, creates and configures the TAP there
// and comes back. The result is the TAP's descriptor.
Result<int> CreateGuestTapInNetns(const std::string& netns_path, const std::string& name,
                                  const stack::NetstackConfig& net, bool vnet_hdr);

}  // namespace msb::gateway
