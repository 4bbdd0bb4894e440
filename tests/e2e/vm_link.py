#!/usr/bin/python3
"""A VM's network device without the VM: relays Ethernet frames between a TAP in the calling
network namespace and a gateway socket front end, as QEMU does for its guest's NIC.

  vm_link.py stream SOCKET TAP          QEMU -netdev stream / passt framing: 4-byte big-endian
                                        length + frame, over a unix stream connection to SOCKET
  vm_link.py dgram SOCKET TAP LOCAL     QEMU -netdev dgram / vfkit: one frame per datagram, from
                                        a socket bound at LOCAL to SOCKET; "VFKT" hello first

Prints "ready" once connected and the TAP exists, then relays until the socket closes or it is
killed (the TAP goes with it, as a VM's device does when the VM stops).
"""
import fcntl
import os
import selectors
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def open_tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def main():
    mode, path, tap_name = sys.argv[1], sys.argv[2], sys.argv[3]
    tap = open_tap(tap_name)
    if mode == "stream":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
    else:
        local = sys.argv[4]
        if os.path.exists(local):
            os.unlink(local)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(local)
        s.connect(path)
        s.send(b"VFKT")
    print("ready", flush=True)
    sel = selectors.DefaultSelector()
    sel.register(tap, selectors.EVENT_READ, "tap")
    sel.register(s, selectors.EVENT_READ, "sock")
    pending = b""
    while True:
        for key, _ in sel.select():
            if key.data == "tap":
                frame = os.read(tap, 65536)
                if mode == "stream":
                    s.sendall(struct.pack("!I", len(frame)) + frame)
                else:
                    try:
                        s.send(frame)
                    except OSError:
                        pass  # the gateway's queue is full: dropped, as a NIC would
            elif mode == "stream":
                data = s.recv(1 << 20)
                if not data:
                    return 0
                pending += data
                while len(pending) >= 4:
                    n = struct.unpack("!I", pending[:4])[0]
                    if len(pending) < 4 + n:
                        break
                    os.write(tap, pending[4:4 + n])
                    pending = pending[4 + n:]
            else:
                os.write(tap, s.recv(65536))


if __name__ == "__main__":
    sys.exit(main())
