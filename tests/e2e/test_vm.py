#!/usr/bin/python3
"""End-to-end: a real VM on the socket front ends. QEMU boots the host's Debian kernel with an
initramfs built at test time (vm_image.py: busybox, curl, dig, the virtio-net modules), its
virtio-net NIC attached with `-netdev stream` to `serve --unix-stream` or with `-netdev dgram` to
`serve --unixgram`. In each round the guest gets its address by DHCP, resolves a name through the
gateway, fetches over HTTP from the test internet, and is refused a private address and the
gateway's own; then it reboots (same QEMU process, the NIC backend stays connected) and does it
again; then QEMU itself is started afresh on the same socket (a new peer) for a third round.

Emulation (TCG) by default: the guest boots in about 2 s under it, and on nested machines whose
/dev/kvm exists KVM may still fail ("emulation failure"). MSB_E2E_VM_ACCEL=kvm picks KVM. Skipped
only when QEMU offers neither accelerator, and then a failure when MSB_E2E_REQUIRED=1 (CI).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest

from harness import CANARIES, DNS1, GATEWAY_IP, SERVER, shared_world
import vm_image

QEMU = os.environ.get("MSB_E2E_VM_QEMU", "qemu-system-x86_64")
GUEST_MAC = "52:54:00:12:34:56"
TEST_BUDGET_S = 150  # each test, all three rounds (15-20 s under TCG; ~46 s with both CPUs busy)
WORLD = None
INITRD = None
KERNEL = None


def accelerator():
    """The -accel to use, or None when QEMU offers none (an explanation is then in .reason)."""
    if not shutil.which(QEMU):
        accelerator.reason = QEMU + " is not installed (scripts/bootstrap: qemu-system-x86)"
        return None
    out = subprocess.run([QEMU, "-accel", "help"], capture_output=True, text=True,
                         timeout=30).stdout.split()
    forced = os.environ.get("MSB_E2E_VM_ACCEL")
    if forced:
        return forced
    if "tcg" in out:
        return "tcg"
    if "kvm" in out and os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "kvm"
    accelerator.reason = "%s offers neither TCG nor a usable /dev/kvm (-accel help: %s)" % (
        QEMU, " ".join(out))
    return None


ACCEL = None


def setUpModule():
    global WORLD, INITRD, KERNEL, ACCEL
    ACCEL = accelerator()
    if ACCEL is None:
        if os.environ.get("MSB_E2E_REQUIRED") == "1":
            raise RuntimeError("e2e.vm: " + accelerator.reason + " (MSB_E2E_REQUIRED=1)")
        raise unittest.SkipTest("no VM possible here: " + accelerator.reason)
    WORLD = shared_world()
    INITRD = WORLD.path("vm-initrd.cpio")
    KERNEL = vm_image.build(INITRD)


class Vm:
    """One QEMU process. Its serial console (stdio) is read by a thread into `lines` and a log
    file; `send` types a line into the guest's console."""

    def __init__(self, netdev, log_path):
        argv = [QEMU, "-accel", ACCEL, "-m", "384M", "-smp", "1", "-nodefaults", "-no-user-config",
                "-display", "none", "-monitor", "none", "-serial", "stdio",
                "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0,mac=" + GUEST_MAC,
                "-kernel", KERNEL, "-initrd", INITRD,
                "-append", "console=ttyS0 quiet panic=-1"]
        self.argv = argv
        self.lines = []
        self.cond = threading.Condition()
        self.log = open(log_path, "w")
        self.log.write(" ".join(argv) + "\n")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n").replace("\r", "")
            self.log.write("[%7.2f] %s\n" % (time.monotonic() - self.started, line))
            self.log.flush()
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.lines.append(None)  # end of output: QEMU exited
            self.cond.notify_all()

    def next_round(self, start, deadline):
        """Waits for a round from line index `start` on: returns (index after MSBVM-DONE,
        {"dhcp": [...], check name: (rc, text)}) or raises AssertionError with the log's tail."""
        booted = False
        out = {}
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    line = self.lines[i]
                    i += 1
                    if line is not None and "MSBVM-" in line:
                        line = line[line.index("MSBVM-"):]  # a kernel message may precede it
                    if line is None:
                        raise AssertionError("QEMU exited (rc %s) in the middle of a round\n%s"
                                             % (self.proc.wait(), self.tail()))
                    if "Kernel panic" in line:
                        raise AssertionError("the guest panicked\n" + self.tail())
                    if "KVM internal error" in line or "emulation failure" in line:
                        raise AssertionError("KVM failed (try without MSB_E2E_VM_ACCEL=kvm)\n"
                                             + self.tail())
                    if "MSBVM-BOOT" in line:
                        if booted:
                            raise AssertionError("the guest rebooted mid-round\n" + self.tail())
                        booted = True
                    elif line.startswith("MSBVM-DHCP "):
                        out["dhcp"] = line.split()[1:]
                    elif line.startswith("MSBVM-R "):
                        parts = line.split(" ", 3)
                        out[parts[1]] = (int(parts[2]), parts[3].strip() if len(parts) > 3 else "")
                    elif line == "MSBVM-DONE" and booted:
                        return i, out
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no complete round within the test's %d s\n%s"
                                         % (TEST_BUDGET_S, self.tail()))
                self.cond.wait(min(left, 1))

    def send(self, text):
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def wait_exit(self, deadline):
        try:
            return self.proc.wait(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise AssertionError("QEMU did not exit after poweroff\n" + self.tail())

    def tail(self, n=60):
        with self.cond:
            lines = [x for x in self.lines if x is not None]
        return "--- serial console (last %d lines) ---\n%s" % (n, "\n".join(lines[-n:]))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=5)
        self.proc.stdin.close()
        self.proc.stdout.close()
        self.log.close()


class VmTest(unittest.TestCase):
    def setUp(self):
        self.vms = []
        self.gw = None
        self.deadline = time.monotonic() + TEST_BUDGET_S

    def tearDown(self):
        for vm in self.vms:
            vm.kill()
        if self.gw is not None:
            if self.gw.poll() is None:
                self.gw.kill()
                self.gw.wait()
            self.gw.stdout.close()
            self.gw.stderr.close()

    def start_gateway(self, *flags):
        self.audit = WORLD.path("vm-audit-%s.jsonl" % self._testMethodName)
        self.gw = subprocess.Popen([WORLD.gateway, "serve", *flags, "--audit-log", self.audit,
                                    "--dns-nameserver", DNS1], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)

    def wait_for(self, path):
        while not os.path.exists(path):
            if self.gw.poll() is not None:
                self.fail("the gateway exited: " + self.gw.stderr.read())
            self.assertLess(time.monotonic(), self.deadline, "%s did not appear" % path)
            time.sleep(0.05)

    def boot(self, netdev):
        vm = Vm(netdev, WORLD.path("vm-serial-%s-%d.log" % (self._testMethodName,
                                                            len(self.vms))))
        self.vms.append(vm)
        return vm

    def check_round(self, vm, r, what):
        """The guest's view of one round: lease, lookup, fetches, refusals."""
        msg = "%s\n%s" % (what, vm.tail())
        self.assertEqual(r.get("udhcpc"), (0, "ok"), msg)
        # address, mask, router, DNS server, MTU: the gateway's defaults for a VM link
        self.assertEqual(r.get("dhcp"), ["172.16.0.2", "255.255.255.252", GATEWAY_IP, GATEWAY_IP,
                                         "1500"], msg)
        self.assertEqual(r.get("dig"), (0, SERVER), msg)  # through resolv.conf = the gateway
        self.assertEqual(r.get("curl_name"), (0, "hello from %s" % SERVER), msg)
        self.assertEqual(r.get("curl_ip"), (0, "hello from %s" % SERVER), msg)
        for name in ("private", "host"):
            rc, text = r.get(name, (None, ""))
            self.assertEqual(rc, 7, msg)  # curl: couldn't connect (the gateway's RST)
            self.assertIn("Couldn't connect to server", text, msg)
            seconds = float(text.split()[-1])  # -w '%{time_total}': refused, not timed out
            self.assertLess(seconds, 5, msg)

    def run_rounds(self, netdev):
        """QEMU #1: a round, a guest reboot, a round, poweroff; QEMU #2 on the same socket: a
        round, poweroff. Returns the number of rounds."""
        rounds = 0
        for qemu_run, boots in ((1, 2), (2, 1)):
            vm = self.boot(netdev)
            at = 0
            for b in range(boots):
                at, r = vm.next_round(at, self.deadline)
                rounds += 1
                self.check_round(vm, r, "QEMU run %d, boot %d" % (qemu_run, b + 1))
                vm.send("reboot" if b + 1 < boots else "poweroff")
            self.assertEqual(vm.wait_exit(self.deadline), 0, vm.tail())
        return rounds

    def audit_events(self):
        with open(self.audit) as f:
            return [json.loads(line) for line in f]  # every line must be valid JSON

    def stats(self):
        """The running gateway's link counters (SIGUSR1 -> gateway.stats)."""
        before = sum(e["event"] == "gateway.stats" for e in self.audit_events())
        self.gw.send_signal(signal.SIGUSR1)
        for _ in range(100):  # bounded: 10 s
            stats = [e for e in self.audit_events() if e["event"] == "gateway.stats"]
            if len(stats) > before:
                return stats[-1]["link"]
            time.sleep(0.1)
        self.fail("no gateway.stats after SIGUSR1")

    def stop_and_audit(self, rounds):
        self.gw.send_signal(signal.SIGTERM)
        self.assertEqual(self.gw.wait(timeout=20), 0, self.gw.stderr.read())
        events = self.audit_events()
        stop = events[-1]
        self.assertEqual(stop["event"], "gateway.stop")
        self.assertEqual(stop["link"]["dhcp"]["acks"], rounds, stop)
        self.assertEqual(stop["link"]["device"]["malformed"], 0, stop)
        decisions = [e for e in events if e["event"] == "flow.decision" and e["proto"] == "tcp"
                     and e["dst"].endswith(":80")]
        allowed = [e for e in decisions if e["dst"] == SERVER + ":80"]
        self.assertEqual(len(allowed), 2 * rounds, decisions)  # curl by name and by address
        self.assertTrue(all(e["action"] == "allow" and e["src"].startswith("172.16.0.2:")
                            for e in allowed), allowed)
        connects = [e for e in events if e["event"] == "flow.connect"
                    and e["dst"] == SERVER + ":80"]
        self.assertEqual([e["result"] for e in connects], ["ok"] * (2 * rounds), connects)
        for dst, group in ((CANARIES[0], "private"), (GATEWAY_IP, "host")):
            denied = [e for e in decisions if e["dst"] == dst + ":80"]
            self.assertEqual([(e["action"], e["group"]) for e in denied],
                             [("deny", group)] * rounds, decisions)
        queries = [e for e in events if e["event"] == "dns.query"
                   and e["name"] == "api.example.test" and e["type"] == "A"]
        self.assertGreaterEqual(len(queries), 2 * rounds, queries)  # dig and curl's lookup
        for q in queries:
            self.assertEqual((q["action"], q["rcode"], q["answers"]),
                             ("allow", "NOERROR", [SERVER]), q)
        self.assertEqual(WORLD.canary_hits(), [])
        return stop["link"]

    def test_stream_vm_dhcp_fetch_refusal_across_reboot_and_qemu_restart(self):
        path = WORLD.path("vm.stream")
        self.start_gateway("--unix-stream", path)
        self.wait_for(path)
        rounds = self.run_rounds("stream,id=n0,server=off,addr.type=unix,addr.path=" + path)
        for _ in range(50):  # the last QEMU has exited: wait (bounded) for the gateway to see it
            if self.stats()["device"]["peer_disconnects"] == 2:
                break
            time.sleep(0.1)
        link = self.stop_and_audit(rounds)
        # The guest's reboot kept QEMU's connection; the new QEMU process was a new peer.
        self.assertEqual(link["device"]["peers_accepted"], 2, link)
        self.assertEqual(link["device"]["peer_disconnects"], 2, link)
        self.assertEqual(link["device"]["framing_errors"], 0, link)
        self.assertFalse(os.path.exists(path))  # the gateway removed its socket

    def test_dgram_vm_dhcp_fetch_refusal_across_reboot_and_qemu_restart(self):
        path = WORLD.path("vm.dgram")
        local = WORLD.path("vm.dgram.qemu")
        self.start_gateway("--unixgram", path)
        self.wait_for(path)
        # The second QEMU binds the same local path again (QEMU replaces the stale socket file).
        rounds = self.run_rounds("dgram,id=n0,local.type=unix,local.path=%s,remote.type=unix,"
                                 "remote.path=%s" % (local, path))
        self.stop_and_audit(rounds)
        self.assertFalse(os.path.exists(path))


def tearDownModule():
    if INITRD and os.path.exists(INITRD):
        os.unlink(INITRD)  # 60 MB; the serial logs stay with the world's other files


if __name__ == "__main__":
    result = unittest.main(exit=False).result
    if result.wasSuccessful() and result.skipped and result.testsRun <= len(result.skipped):
        sys.exit(77)  # ctest's SKIP_RETURN_CODE: nothing ran
    sys.exit(0 if result.wasSuccessful() else 1)
