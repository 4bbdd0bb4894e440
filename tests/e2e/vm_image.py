"""A bootable guest for the real-VM suite (test_vm.py), built at test time from the host's files:
the installed Debian kernel, its virtio-net modules, and an initramfs with busybox, curl and dig
(every shared library `ldd` names), whose /init runs a round of network checks and reports them on
the serial console.

The guest's protocol on ttyS0 (lines; the kernel's own messages come in between):

  MSBVM-BOOT                      /init started
  MSBVM-DHCP ip mask router dns mtu   the lease udhcpc got (printed by its script)
  MSBVM-R NAME RC TEXT            one check's exit code and output (one line, see ROUND)
  MSBVM-DONE                      the round is over; /init then reads one line from the console:
                                  "reboot" (reboot -f), anything else or nothing in 60 s: poweroff -f

The host decides how many rounds there are by what it answers, so a guest reboot (same QEMU
process, same NIC backend) and a new QEMU process look the same from inside.
"""
import os
import re
import shutil
import stat
import subprocess

BUSYBOX = "/bin/busybox"
TOOLS = ["/usr/bin/curl", "/usr/bin/dig"]
# virtio_net and what it needs, plus the PCI transport; modules.dep gives their dependencies.
MODULES = ["virtio_pci", "virtio_net"]

# Each check: NAME and a shell command whose exit code and (one-line) output are reported.
# Every client is bounded (curl -m, dig +time/+tries), so a round cannot hang.
ROUND = [
    ("dig", "dig +short +time=3 +tries=2 api.example.test"),
    ("curl_name", "curl -sS -m 10 http://api.example.test/hello"),
    ("curl_ip", "curl -sS -m 10 http://198.51.100.10/hello"),
    ("private", "curl -sS -m 10 -o /dev/null -w '%{time_total}' http://10.11.12.13/"),
    ("host", "curl -sS -m 10 -o /dev/null -w '%{time_total}' http://172.16.0.1/"),
]

INIT = r"""#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo MSBVM-BOOT
for m in %(modules)s; do insmod /lib/modules/$m || echo "MSBVM-R insmod 1 $m"; done
ip link set lo up
i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
ip link set eth0 up
if udhcpc -i eth0 -f -q -n -t 5 -T 2 -s /udhcpc.sh >/tmp/udhcpc.log 2>&1; then
  echo "MSBVM-R udhcpc 0 ok"
else
  echo "MSBVM-R udhcpc 1 $(tr '\n' ' ' </tmp/udhcpc.log)"
fi
%(checks)s
echo MSBVM-DONE
cmd=
read -t 60 cmd
case "$cmd" in
  reboot*) reboot -f;;
  *) poweroff -f;;
esac
sleep 60
"""

CHECK = ("out=$( (%s) 2>&1 ); rc=$?\n"
         "echo \"MSBVM-R %s $rc $(echo \"$out\" | tr '\\n' ' ')\"\n")

UDHCPC_SCRIPT = r"""#!/bin/sh
case "$1" in bound|renew)
  ip addr flush dev "$interface"
  ip addr add "$ip/$subnet" dev "$interface"
  [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
  ip route replace default via "$router"
  : > /etc/resolv.conf
  for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
  echo "options timeout:3 attempts:2" >> /etc/resolv.conf
  echo "MSBVM-DHCP $ip $subnet $router $dns $mtu" >/dev/console;;
esac
"""


def kernel():
    """(vmlinuz path, version) of an installed Debian kernel whose modules include virtio_net:
    the cloud flavour first (smaller, boots faster), then the newest."""
    found = []
    for name in os.listdir("/boot"):
        if not name.startswith("vmlinuz-"):
            continue
        version = name[len("vmlinuz-"):]
        dep = os.path.join("/lib/modules", version, "modules.dep")
        if os.path.exists(dep):
            with open(dep) as f:
                if "/virtio_net.ko" in f.read():
                    found.append(("cloud" in version, version))
    if not found:
        return None
    version = max(found)[1]
    return os.path.join("/boot", "vmlinuz-" + version), version


def module_files(version):
    """The .ko paths (relative to /lib/modules/VERSION) for MODULES, dependencies first."""
    deps = {}
    with open(os.path.join("/lib/modules", version, "modules.dep")) as f:
        for line in f:
            mod, _, rest = line.partition(":")
            deps[mod] = rest.split()
    by_name = {re.sub(r"\.ko(\.[a-z]+)?$", "", os.path.basename(m)): m for m in deps}
    order = []

    def visit(mod):
        if mod in order:
            return
        # modules.dep lists every (transitive) dependency, the nearest first; load them in reverse
        for d in reversed(deps[mod]):
            visit(d)
        order.append(mod)

    for name in MODULES:
        visit(by_name[name])
    return order


def libraries(binaries):
    """Every shared library (and the loader) the binaries need, as absolute paths."""
    libs = set()
    for b in binaries:
        out = subprocess.run(["ldd", b], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            m = re.search(r"(/\S+) \(0x", line)
            if m:
                libs.add(m.group(1))
    return sorted(libs)


class Cpio:
    """An initramfs in the kernel's "newc" cpio format (no compression: nothing to unpack
    slowly under emulation). Entries are written as they are added; parent directories first."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.ino = 1
        self.dirs = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        self.ino += 1
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
        self.f.write(b"070701" + b"".join(b"%08X" % v for v in fields) + name_b)
        self.f.write(b"\0" * (-(110 + len(name_b)) % 4))
        self.f.write(data)
        self.f.write(b"\0" * (-len(data) % 4))

    def dir(self, name):
        name = name.strip("/")
        if not name or name in self.dirs:
            return
        self.dir(os.path.dirname(name))
        self.dirs.add(name)
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, data, mode=0o644):
        name = name.strip("/")
        self.dir(os.path.dirname(name))
        self._entry(name, stat.S_IFREG | mode, data)

    def copy(self, src, dst=None):
        """A host file (symlinks followed) at dst (default: its own path)."""
        with open(src, "rb") as f:
            data = f.read()
        self.file(dst or src, data, stat.S_IMODE(os.stat(src).st_mode) | 0o444)

    def symlink(self, name, target):
        name = name.strip("/")
        self.dir(os.path.dirname(name))
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor):
        name = name.strip("/")
        self.dir(os.path.dirname(name))
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def close(self):
        self._entry("TRAILER!!!", 0)
        self.f.write(b"\0" * (-self.f.tell() % 512))
        self.f.close()


def build(path):
    """Writes the initramfs to PATH; returns the kernel's path (the one whose modules it carries).
    Raises RuntimeError naming what is missing."""
    k = kernel()
    if k is None:
        raise RuntimeError("no Debian kernel with virtio_net in /boot and /lib/modules "
                           "(scripts/bootstrap installs linux-image-cloud-amd64)")
    vmlinuz, version = k
    for tool in [BUSYBOX] + TOOLS:
        if not shutil.which(tool):
            raise RuntimeError(tool + " is missing (scripts/bootstrap installs it)")
    mods = module_files(version)
    cpio = Cpio(path)
    for d in ("proc", "sys", "dev", "tmp", "etc", "bin", "sbin", "usr/bin", "usr/sbin"):
        cpio.dir(d)
    cpio.chardev("dev/console", 5, 1)  # the kernel opens it for /init's stdio before any mount
    cpio.copy(BUSYBOX, "bin/busybox")
    cpio.symlink("bin/sh", "busybox")
    for tool in TOOLS:
        cpio.copy(tool)
    for lib in libraries([BUSYBOX] + TOOLS):
        cpio.copy(lib)
    names = []
    for m in mods:
        if m.endswith(".ko.xz"):
            data = subprocess.run(["xz", "-dc", os.path.join("/lib/modules", version, m)],
                                  check=True, capture_output=True).stdout
            m = m[:-3]
            cpio.file("lib/modules/" + m, data)
        else:
            cpio.copy(os.path.join("/lib/modules", version, m), "lib/modules/" + m)
        names.append(m)
    cpio.file("etc/passwd", b"root:x:0:0:root:/:/bin/sh\n")
    cpio.file("etc/resolv.conf", b"")
    cpio.file("udhcpc.sh", UDHCPC_SCRIPT.encode(), 0o755)
    checks = "".join(CHECK % (cmd, name) for name, cmd in ROUND)
    cpio.file("init", (INIT % {"modules": " ".join(names), "checks": checks}).encode(), 0o755)
    cpio.close()
    return vmlinuz
