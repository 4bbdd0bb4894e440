// guest_interface: see guest_interface.h. Plain ioctls (SIOCSIF*, SIOCADDRT): they work in a fork
// child without netlink or any library.
#include "gateway/guest_interface.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "base/errno_message.h"

namespace msb::gateway {
namespace {

// WriteSysctl sets /proc/sys/net/ipv6/conf/IFACE/KEY (best effort: an old kernel may lack one).
void WriteIpv6Sysctl(const std::string& iface, const char* key, const char* value) {
  std::string path = "/proc/sys/net/ipv6/conf/" + iface + "/" + key;
  if (int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC); fd >= 0) {
    (void)!write(fd, value, std::strlen(value));
    close(fd);
  }
}

// ConfigureIpv6 gives `name` the guest's IPv6 address (/64) and a default route via the gateway.
// The address is static, so duplicate detection, router advertisements and SLAAC are off: the
// guest has exactly the address the gateway expects, usable at once.
std::string ConfigureIpv6(const std::string& name, const stack::NetstackConfig& net) {
  int s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s6 < 0) {
    return ErrnoMessage("socket(AF_INET6)");
  }
  unsigned index = if_nametoindex(name.c_str());
  // The kernel's struct in6_ifreq (linux/ipv6.h, which cannot be included beside glibc's
  // netinet/in.h).
  struct {
    in6_addr ifr6_addr;
    uint32_t ifr6_prefixlen;
    int ifr6_ifindex;
  } req{};
  std::memcpy(&req.ifr6_addr, net.guest_v6.bytes().data(), 16);
  req.ifr6_prefixlen = 64;
  req.ifr6_ifindex = static_cast<int>(index);
  std::string err;
  if (ioctl(s6, SIOCSIFADDR, &req) < 0) {
    err = ErrnoMessage("SIOCSIFADDR (IPv6)");
  }
  in6_rtmsg rt{};
  std::memcpy(&rt.rtmsg_gateway, net.gateway_v6.bytes().data(), 16);
  rt.rtmsg_flags = RTF_UP | RTF_GATEWAY;
  rt.rtmsg_metric = 1;
  rt.rtmsg_ifindex = static_cast<int>(index);
  if (err.empty() && ioctl(s6, SIOCADDRT, &rt) < 0) {
    err = ErrnoMessage("SIOCADDRT (IPv6 default route)");
  }
  close(s6);
  return err;
}

std::string SetIfFlagsUp(int s, const char* name) {
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
    return ErrnoMessage("SIOCGIFFLAGS");
  }
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
    return ErrnoMessage("SIOCSIFFLAGS");
  }
  return {};
}

sockaddr_in Sin(const IpAddress& ip) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(ip.v4());
  return sin;
}

// ConfigureInterface gives the TAP `name` the guest's addresses, MTU and route (socket `s`).
std::string ConfigureInterface(int s, const std::string& name, const stack::NetstackConfig& net) {
  std::string err = SetIfFlagsUp(s, "lo");
  if (!err.empty()) {
    return "lo: " + err;
  }
  ifreq req{};
  std::snprintf(req.ifr_name, IFNAMSIZ, "%s", name.c_str());
  req.ifr_hwaddr.sa_family = ARPHRD_ETHER;
  std::memcpy(req.ifr_hwaddr.sa_data, net.guest_mac.data(), 6);
  if (ioctl(s, SIOCSIFHWADDR, &req) < 0) {
    return ErrnoMessage("SIOCSIFHWADDR");
  }
  req = ifreq{};
  std::snprintf(req.ifr_name, IFNAMSIZ, "%s", name.c_str());
  req.ifr_mtu = net.mtu;
  if (ioctl(s, SIOCSIFMTU, &req) < 0) {
    return ErrnoMessage("SIOCSIFMTU");
  }
  sockaddr_in addr = Sin(net.guest_v4);
  std::memcpy(&req.ifr_addr, &addr, sizeof(addr));
  if (ioctl(s, SIOCSIFADDR, &req) < 0) {
    return ErrnoMessage("SIOCSIFADDR");
  }
  uint32_t mask = ~uint32_t{0} << (32 - net.v4_prefix_len);
  sockaddr_in netmask = Sin(IpAddress::V4(mask));
  std::memcpy(&req.ifr_netmask, &netmask, sizeof(netmask));
  if (ioctl(s, SIOCSIFNETMASK, &req) < 0) {
    return ErrnoMessage("SIOCSIFNETMASK");
  }
  if (net.ipv6) {
    for (const char* key : {"accept_dad", "accept_ra", "autoconf"}) {
      WriteIpv6Sysctl(name, key, "0");
    }
  } else {
    // Without IPv6 the guest has none at all, so IPv6 attempts fail at once (ENETUNREACH) and
    // Happy Eyeballs falls back to IPv4 without waiting.
    WriteIpv6Sysctl(name, "disable_ipv6", "1");
  }
  err = SetIfFlagsUp(s, name.c_str());
  if (!err.empty()) {
    return err;
  }
  if (net.ipv6) {
    err = ConfigureIpv6(name, net);
    if (!err.empty()) {
      return err;
    }
  }
  rtentry rt{};
  sockaddr_in any = Sin(IpAddress::V4(0));
  sockaddr_in gw = Sin(net.gateway_v4);
  std::memcpy(&rt.rt_dst, &any, sizeof(any));
  std::memcpy(&rt.rt_genmask, &any, sizeof(any));
  std::memcpy(&rt.rt_gateway, &gw, sizeof(gw));
  rt.rt_flags = RTF_UP | RTF_GATEWAY;
  std::string dev = name;
  rt.rt_dev = dev.data();
  if (ioctl(s, SIOCADDRT, &rt) < 0) {
    return ErrnoMessage("SIOCADDRT (default route)");
  }
  return {};
}

}  // namespace

std::string CreateGuestTap(const std::string& name, const stack::NetstackConfig& net, bool vnet_hdr,
                           int* tap_fd) {
  if (if_nametoindex(name.c_str()) != 0) {
    return "an interface named \"" + name + "\" already exists there (--interface picks another)";
  }
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoMessage("open /dev/net/tun");
  }
  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0));
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    std::string err = ErrnoMessage("TUNSETIFF");
    close(fd);
    return err;
  }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    std::string err = ErrnoMessage("socket");
    close(fd);
    return err;
  }
  std::string err = ConfigureInterface(s, name, net);
  close(s);
  if (!err.empty()) {
    close(fd);
    return err;
  }
  *tap_fd = fd;
  return {};
}

Result<int> CreateGuestTapInNetns(const std::string& netns_path, const std::string& name,
                                  const stack::NetstackConfig& net, bool vnet_hdr) {
  int target = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    return Status::Error("--netns " + netns_path + ": " + strerror(errno));
  }
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) {
    int err = errno;
    close(target);
    return Status::Error(std::string("cannot open this thread's network namespace: ") +
                         strerror(err));
  }
  if (setns(target, CLONE_NEWNET) < 0) {
    int err = errno;
    close(target);
    close(home);
    return Status::Error("--netns " + netns_path + ": " +
                         (err == EINVAL ? std::string("not a network namespace")
                                        : std::string("cannot enter: ") + strerror(err)));
  }
  close(target);
  int fd = -1;
  std::string err = CreateGuestTap(name, net, vnet_hdr, &fd);
  // Coming back cannot fail for a namespace we were just in; if it did, serving from inside
  // the guest's namespace would be wrong: give up.
  if (setns(home, CLONE_NEWNET) < 0) {
    std::perror("msb-gateway: cannot return to the gateway's network namespace");
    _exit(1);
  }
  close(home);
  if (!err.empty()) {
    return Status::Error("--netns " + netns_path + ": " + err);
  }
  return fd;
}

}  // namespace msb::gateway
