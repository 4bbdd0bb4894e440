// TapDevice: open/adopt a TAP and move single frames with readv(2)/writev(2), behind a
// virtio-net header when the TAP has one.
#include "stack/tap_device.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "stack/vnet_header.h"

// Linux 6.2's UDP segmentation offload flags; Debian 12's kernel headers predate them.
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

namespace msb::stack {
namespace {

constexpr size_t kMaxVnetHeader = 64;
constexpr size_t kMaxParts = 32;

}  // namespace

Status TapDevice::Configure(bool offload) {
  ifreq ifr{};
  if (ioctl(fd_, TUNGETIFF, &ifr) < 0) {
    return Status::Error(std::string("TUNGETIFF: ") + strerror(errno) +
                         " (not an attached TAP descriptor?)");
  }
  if ((ifr.ifr_flags & IFF_TAP) == 0 || (ifr.ifr_flags & IFF_NO_PI) == 0) {
    return Status::Error("the descriptor is not a TAP with IFF_NO_PI");
  }
  if ((ifr.ifr_flags & IFF_VNET_HDR) == 0) {
    return Status::Ok();
  }
  int len = 0;
  if (ioctl(fd_, TUNGETVNETHDRSZ, &len) < 0) {
    return Status::Error(std::string("TUNGETVNETHDRSZ: ") + strerror(errno));
  }
  if (len < static_cast<int>(kVnetHeaderSize) || len > static_cast<int>(kMaxVnetHeader)) {
    return Status::Error("unsupported virtio-net header size " + std::to_string(len));
  }
  vnet_header_len_ = static_cast<size_t>(len);
  unsigned base = offload ? TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 : 0;
  if (offload && ioctl(fd_, TUNSETOFFLOAD, base | TUN_F_USO4 | TUN_F_USO6) == 0) {
    uso_ = true;
  } else if (ioctl(fd_, TUNSETOFFLOAD, base) < 0) {
    return Status::Error(std::string("TUNSETOFFLOAD: ") + strerror(errno));
  }
  offloads_ = offload;
  return Status::Ok();
}

Result<std::unique_ptr<TapDevice>> TapDevice::Open(const std::string& name, bool offload) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return Status::Error("invalid TAP name \"" + name + "\": 1 to 15 characters expected");
  }
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return Status::Error(std::string("cannot open /dev/net/tun: ") + strerror(errno));
  }
  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0));
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return Status::Error("cannot attach to TAP \"" + name + "\": " + strerror(err));
  }
  std::unique_ptr<TapDevice> dev(new TapDevice(fd));
  if (Status st = dev->Configure(offload); !st.ok()) {
    return Status::Error("TAP \"" + name + "\": " + st.message());
  }
  return dev;
}

Result<std::unique_ptr<TapDevice>> TapDevice::Adopt(int fd, bool offload) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return Status::Error(std::string("cannot use TAP fd: ") + strerror(errno));
  }
  int fdflags = fcntl(fd, F_GETFD);
  if (fdflags >= 0) {
    (void)fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC);
  }
  std::unique_ptr<TapDevice> dev(new TapDevice(fd));
  if (Status st = dev->Configure(offload); !st.ok()) {
    return Status::Error("TAP fd " + std::to_string(fd) + ": " + st.message());
  }
  return dev;
}

TapDevice::~TapDevice() {
  close(fd_);
}

ReadResult TapDevice::ReadFrame(std::span<uint8_t> buf) {
  std::array<uint8_t, kMaxVnetHeader> hdr;
  iovec iov[2] = {{hdr.data(), vnet_header_len_}, {buf.data(), buf.size()}};
  for (;;) {
    ssize_t n = vnet_header_len_ == 0 ? read(fd_, buf.data(), buf.size()) : readv(fd_, iov, 2);
    if (n > 0) {
      size_t got = static_cast<size_t>(n);
      if (vnet_header_len_ == 0) {
        return {IoStatus::kOk, got, {}};
      }
      ReadResult r{IoStatus::kOk, 0, {}};
      // A short read or a header we do not understand yields an empty frame: dropped, counted.
      if (got > vnet_header_len_ && ParseVnetHeader({hdr.data(), vnet_header_len_}, &r.offload)) {
        r.size = got - vnet_header_len_;
      }
      return r;
    }
    if (n == 0) {
      return {IoStatus::kClosed, 0, {}};
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return {IoStatus::kWouldBlock, 0, {}};
    }
    return {IoStatus::kError, 0, {}};
  }
}

IoStatus TapDevice::WriteFrame(std::span<const uint8_t> frame) {
  const std::span<const uint8_t> parts[1] = {frame};
  return WriteFrameParts(parts, {});
}

IoStatus TapDevice::WriteFrameParts(std::span<const std::span<const uint8_t>> parts,
                                    const FrameOffload& offload) {
  if (parts.size() > kMaxParts) {
    std::vector<uint8_t> joined = JoinFrameParts(parts);
    const std::span<const uint8_t> one[1] = {joined};
    return WriteFrameParts(one, offload);
  }
  std::array<uint8_t, kMaxVnetHeader> hdr;
  iovec iov[kMaxParts + 1];
  int n_iov = 0;
  if (vnet_header_len_ != 0) {
    SerializeVnetHeader(offloads_ ? offload : FrameOffload{}, {hdr.data(), vnet_header_len_});
    iov[n_iov++] = {hdr.data(), vnet_header_len_};
  }
  for (std::span<const uint8_t> part : parts) {
    iov[n_iov++] = {const_cast<uint8_t*>(part.data()), part.size()};
  }
  for (;;) {
    ssize_t n = writev(fd_, iov, n_iov);
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
