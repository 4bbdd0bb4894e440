// TapDevice: open/adopt a TAP and move single frames with read(2)/write(2).
#include "stack/tap_device.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace msb::stack {

Result<std::unique_ptr<TapDevice>> TapDevice::Open(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return Status::Error("invalid TAP name \"" + name + "\": 1 to 15 characters expected");
  }
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return Status::Error(std::string("cannot open /dev/net/tun: ") + strerror(errno));
  }
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return Status::Error("cannot attach to TAP \"" + name + "\": " + strerror(err));
  }
  return std::unique_ptr<TapDevice>(new TapDevice(fd));
}

Result<std::unique_ptr<TapDevice>> TapDevice::Adopt(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return Status::Error(std::string("cannot use TAP fd: ") + strerror(errno));
  }
  int fdflags = fcntl(fd, F_GETFD);
  if (fdflags >= 0) {
    (void)fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC);
  }
  return std::unique_ptr<TapDevice>(new TapDevice(fd));
}

TapDevice::~TapDevice() {
  close(fd_);
}

ReadResult TapDevice::ReadFrame(std::span<uint8_t> buf) {
  for (;;) {
    ssize_t n = read(fd_, buf.data(), buf.size());
    if (n > 0) {
      return {IoStatus::kOk, static_cast<size_t>(n)};
    }
    if (n == 0) {
      return {IoStatus::kClosed, 0};
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return {IoStatus::kWouldBlock, 0};
    }
    return {IoStatus::kError, 0};
  }
}

IoStatus TapDevice::WriteFrame(std::span<const uint8_t> frame) {
  for (;;) {
    ssize_t n = write(fd_, frame.data(), frame.size());
    if (n >= 0) {
      return IoStatus::kOk;  // a TAP write is all-or-nothing per frame
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
      return IoStatus::kWouldBlock;
    }
    if (errno == EIO) {
      // The interface is down (guest not up yet, or going away): the frame is lost, as on a NIC
      // without carrier. TCP retransmits; nothing else should stall behind it.
      return IoStatus::kOk;
    }
    return IoStatus::kError;
  }
}

}  // namespace msb::stack
