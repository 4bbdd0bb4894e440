#!/usr/bin/python3
"""End-to-end: the unix socket front ends (`serve --unix-stream`, `--unixgram`, `--fd`). A VM's
NIC is played by vm_link.py, which relays frames between a TAP in a "guest" namespace and the
gateway's socket exactly as QEMU's -netdev stream / dgram do, so real clients (busybox udhcpc,
curl, dig) run over the socket. The guest gets its address by DHCP, fetches, is refused a private
address, and, after its link goes away and comes back (a VM reboot), does it all again.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import unittest

from harness import CANARIES, DNS1, GATEWAY_IP, PYTHON, SERVER, sh, shared_world, udhcpc_script

HERE = os.path.dirname(os.path.abspath(__file__))
VM_LINK = os.path.join(HERE, "vm_link.py")
WORLD = None


def setUpModule():
    global WORLD
    WORLD = shared_world()


class FrontEndTest(unittest.TestCase):
    def setUp(self):
        self.procs = []
        self.guest = WORLD.inet.replace("inet", "fe%d" % (os.getpid() % 1000))
        subprocess.run(["ip", "netns", "del", self.guest], capture_output=True)
        sh("ip", "netns", "add", self.guest)
        self.g = ["ip", "netns", "exec", self.guest]
        sh(*self.g, "ip", "link", "set", "lo", "up")

    def tearDown(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.kill()
                p.wait()
            for f in (p.stdout, p.stderr):
                if f is not None:
                    f.close()
        subprocess.run(["ip", "netns", "del", self.guest], capture_output=True)

    def start_gateway(self, *flags, pass_fds=()):
        self.audit = WORLD.path("fe-audit-%d.jsonl" % len(self.procs))
        gw = subprocess.Popen([WORLD.gateway, "serve", *flags, "--audit-log", self.audit,
                               "--dns-nameserver", DNS1], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, pass_fds=pass_fds)
        self.procs.append(gw)
        return gw

    def wait_for(self, path, gw):
        deadline = time.monotonic() + 10
        while not os.path.exists(path):
            self.assertIsNone(gw.poll(), gw.stderr.read() if gw.poll() is not None else "")
            self.assertLess(time.monotonic(), deadline, "%s did not appear" % path)
            time.sleep(0.05)

    def boot(self, *link_args):
        """Starts the guest's NIC (vm_link.py) and brings its TAP up with a VM's MAC."""
        link = subprocess.Popen(self.g + [PYTHON, VM_LINK, *link_args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.procs.append(link)
        line = link.stdout.readline().strip()
        if line != "ready":
            link.kill()
            self.fail("vm_link.py: " + link.stderr.read())
        tap = link_args[2]
        for args in (["address", "52:54:00:12:34:56"], ["up"]):
            r = subprocess.run(self.g + ["ip", "link", "set", tap] + args, capture_output=True,
                               text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
        return link

    def use_network(self, tap, name):
        """DHCP, then a fetch, a refusal and a lookup, all through the gateway."""
        script, lease = udhcpc_script(WORLD, name)
        r = subprocess.run(self.g + ["busybox", "udhcpc", "-i", tap, "-f", "-q", "-n", "-t", "5",
                                     "-T", "1", "-s", script], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(lease) as f:
            self.assertEqual(f.read().split()[:4], ["bound", "172.16.0.2", "255.255.255.252",
                                                    GATEWAY_IP])
        r = subprocess.run(self.g + ["curl", "-sS", "-m", "10", "http://%s/hello" % SERVER],
                           capture_output=True, text=True)
        self.assertEqual(r.stdout.strip(), "hello from %s" % SERVER, r.stderr)
        r = subprocess.run(self.g + ["curl", "-sS", "-m", "10", "http://%s/" % CANARIES[0]],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 7, r.stderr)  # refused: a private address
        r = subprocess.run(self.g + ["dig", "+short", "+time=3", "+tries=1", "@" + GATEWAY_IP,
                                     "api.example.test"], capture_output=True, text=True)
        self.assertEqual(r.stdout.strip(), SERVER, r.stderr)

    def stop(self, gw):
        gw.send_signal(signal.SIGTERM)
        self.assertEqual(gw.wait(timeout=10), 0, gw.stderr.read())
        with open(self.audit) as f:
            stop = [json.loads(line) for line in f][-1]
        self.assertEqual(stop["event"], "gateway.stop")
        self.assertEqual(WORLD.canary_hits(), [])
        return stop["link"]

    def test_unix_stream_serves_a_vm_again_after_it_reconnects(self):
        path = WORLD.path("vm.stream")
        gw = self.start_gateway("--unix-stream", path)
        self.wait_for(path, gw)
        link = self.boot("stream", path, "vmtap0")
        self.use_network("vmtap0", "fe-stream-1")
        # While a VM is connected, a second peer is refused (closed at once).
        extra = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        extra.settimeout(5)
        extra.connect(path)
        self.assertEqual(extra.recv(1), b"")
        extra.close()
        # The VM goes away (its NIC with it) and comes back: served again, from DHCP on.
        link.kill()
        link.wait()
        self.boot("stream", path, "vmtap0")
        self.use_network("vmtap0", "fe-stream-2")
        stats = self.stop(gw)
        self.assertEqual(stats["device"]["peers_accepted"], 2, stats)
        self.assertGreaterEqual(stats["device"]["peers_refused"], 1, stats)
        self.assertEqual(stats["device"]["peer_disconnects"], 1, stats)
        self.assertEqual(stats["device"]["framing_errors"], 0, stats)
        self.assertEqual(stats["dhcp"]["acks"], 2, stats)
        self.assertFalse(os.path.exists(path))  # the gateway removed its socket

    def test_unixgram_serves_a_vm_that_says_hello(self):
        path = WORLD.path("vm.dgram")
        gw = self.start_gateway("--unixgram", path)
        self.wait_for(path, gw)
        self.boot("dgram", path, "vmtap1", WORLD.path("vm.dgram.local"))
        self.use_network("vmtap1", "fe-dgram")
        stats = self.stop(gw)
        self.assertEqual(stats["device"]["malformed"], 0, stats)
        self.assertEqual(stats["dhcp"]["acks"], 1, stats)

    def test_an_inherited_socket_and_its_final_close(self):
        # serve --fd N: one end of a socketpair is the gateway's, the other the VM's link; when
        # the VM's end closes, the gateway stops (there is no one to wait for).
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        gw = self.start_gateway("--fd", str(theirs.fileno()), pass_fds=(theirs.fileno(),))
        theirs.close()
        # An ARP request for the gateway from the guest's MAC, length-prefixed: the answer proves
        # the framing both ways.
        arp = (b"\xff" * 6 + bytes.fromhex("525400123456") + b"\x08\x06" +
               bytes.fromhex("0001080006040001") + bytes.fromhex("525400123456") +
               socket.inet_aton("172.16.0.2") + b"\0" * 6 + socket.inet_aton(GATEWAY_IP))
        ours.sendall(len(arp).to_bytes(4, "big") + arp)
        ours.settimeout(10)
        reply = None
        buf = b""
        while reply is None:  # the gateway's own gratuitous ARP at start-up may come first
            chunk = ours.recv(4096)
            self.assertTrue(chunk, "the gateway closed the link")
            buf += chunk
            while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[:4], "big"):
                n = int.from_bytes(buf[:4], "big")
                frame, buf = buf[4:4 + n], buf[4 + n:]
                if frame[12:14] == b"\x08\x06" and frame[20:22] == b"\x00\x02":
                    reply = frame
        self.assertEqual(reply[28:32], socket.inet_aton(GATEWAY_IP))  # ARP reply for the gateway
        self.assertEqual(reply[32:38], bytes.fromhex("525400123456"))
        ours.close()
        self.assertEqual(gw.wait(timeout=10), 1, gw.stderr.read())
        with open(self.audit) as f:
            stop = [json.loads(line) for line in f][-1]
        self.assertEqual(stop["reason"], "device_closed")


if __name__ == "__main__":
    unittest.main()
