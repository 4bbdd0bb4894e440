#!/usr/bin/python3
"""End-to-end: `msb-gateway serve --tap` for VM-style set-ups. The gateway attaches to a TAP in the
test host namespace; the TAP is then moved into a separate "guest" namespace (as a VM's device
would be elsewhere), configured there with the guest's address, and real clients use it.
"""
import json
import os
import signal
import subprocess
import time
import unittest

from harness import CANARIES, DNS1, GATEWAY_IP, SERVER, sh, shared_world, udhcpc_script

WORLD = None


def setUpModule():
    global WORLD
    WORLD = shared_world()


class ServeTest(unittest.TestCase):
    def wait_for_tap(self, gw, tap):
        deadline = time.monotonic() + 10
        # (/sys shows the machine's namespace here, not ours: ask ip.)
        while subprocess.run(["ip", "link", "show", tap], capture_output=True).returncode:
            self.assertIsNone(gw.poll(), gw.stderr.read() if gw.poll() is not None else "")
            self.assertLess(time.monotonic(), deadline, "TAP did not appear")
            time.sleep(0.05)

    def test_serve_a_tap_until_sigterm(self):
        audit = WORLD.path("serve-audit.jsonl")
        tap = "msbtap%d" % (os.getpid() % 1000)
        guest = WORLD.inet.replace("inet", "guest")
        gw = subprocess.Popen([WORLD.gateway, "serve", "--tap", tap, "--audit-log", audit,
                               "--dns-nameserver", DNS1], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        try:
            self.wait_for_tap(gw, tap)
            sh("ip", "netns", "add", guest)
            g = ["ip", "netns", "exec", guest]
            sh("ip", "link", "set", tap, "netns", guest)
            sh(*g, "ip", "link", "set", "lo", "up")
            sh(*g, "ip", "link", "set", tap, "address", "02:6d:73:00:00:02")
            sh(*g, "ip", "addr", "add", "172.16.0.2/30", "dev", tap)
            sh(*g, "ip", "link", "set", tap, "up")
            sh(*g, "ip", "route", "add", "default", "via", GATEWAY_IP)
            r = subprocess.run(g + ["curl", "-sS", "-m", "10", "http://%s/hello" % SERVER],
                               capture_output=True, text=True)
            self.assertEqual(r.stdout.strip(), "hello from %s" % SERVER, r.stderr)
            r = subprocess.run(g + ["curl", "-sS", "-m", "10", "http://%s/" % CANARIES[0]],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 7, r.stderr)  # refused
            r = subprocess.run(g + ["dig", "+short", "+time=3", "+tries=1", "@" + GATEWAY_IP,
                                    "api.example.test"], capture_output=True, text=True)
            self.assertEqual(r.stdout.strip(), SERVER, r.stderr)
            gw.send_signal(signal.SIGTERM)
            self.assertEqual(gw.wait(timeout=10), 0, gw.stderr.read())
        finally:
            if gw.poll() is None:
                gw.kill()
                gw.wait()
            subprocess.run(["ip", "netns", "del", guest], capture_output=True)
        events = [json.loads(line) for line in open(audit)]
        kinds = [e["event"] for e in events]
        self.assertEqual(kinds[0], "gateway.start")
        self.assertEqual(events[0]["mode"], "serve")
        self.assertEqual(kinds[-1], "gateway.stop")
        self.assertEqual(events[-1]["reason"], "signal")
        decisions = [(e["dst"], e["action"]) for e in events if e["event"] == "flow.decision"]
        self.assertIn(("%s:80" % SERVER, "allow"), decisions)
        self.assertIn(("%s:80" % CANARIES[0], "deny"), decisions)
        self.assertEqual(WORLD.canary_hits(), [])

    def test_a_guest_configured_by_dhcp(self):
        # A stock VM image asks DHCP for its address: busybox's udhcpc on a TAP whose MAC is a
        # VM's (not the gateway's configured guest MAC) gets the guest address, the gateway as
        # router and DNS server and the link MTU, and then reaches the test internet through us.
        audit = WORLD.path("serve-dhcp-audit.jsonl")
        tap = "msbdh%d" % (os.getpid() % 1000)
        guest = WORLD.inet.replace("inet", "dhcpg")
        script, lease = udhcpc_script(WORLD, "serve-dhcp")
        gw = subprocess.Popen([WORLD.gateway, "serve", "--tap", tap, "--audit-log", audit,
                               "--dns-nameserver", DNS1, "--dhcp-lease-s", "120"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            self.wait_for_tap(gw, tap)
            subprocess.run(["ip", "netns", "del", guest], capture_output=True)
            sh("ip", "netns", "add", guest)
            g = ["ip", "netns", "exec", guest]
            sh("ip", "link", "set", tap, "netns", guest)
            sh(*g, "ip", "link", "set", "lo", "up")
            sh(*g, "ip", "link", "set", tap, "address", "52:54:00:12:34:56")
            sh(*g, "ip", "link", "set", tap, "up")
            udhcpc = g + ["busybox", "udhcpc", "-i", tap, "-f", "-q", "-n", "-t", "5", "-T", "1",
                          "-s", script]
            r = subprocess.run(udhcpc, capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            got = open(lease).read().split()
            self.assertEqual(got, ["bound", "172.16.0.2", "255.255.255.252", GATEWAY_IP,
                                   GATEWAY_IP, "1500", "120"])
            r = subprocess.run(g + ["curl", "-sS", "-m", "10", "http://%s/hello" % SERVER],
                               capture_output=True, text=True)
            self.assertEqual(r.stdout.strip(), "hello from %s" % SERVER, r.stderr)
            # A client asking for its address again (a reboot) gets it; one asking for another
            # address (option 50 in its DISCOVER) is offered the guest's, the only one there is.
            r = subprocess.run(udhcpc + ["-r", "172.16.0.2"], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            r = subprocess.run(udhcpc + ["-r", "172.16.0.1"], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertEqual([line.split()[1] for line in open(lease)],
                             ["172.16.0.2"] * 3)
            r = subprocess.run(g + ["dig", "+short", "+time=3", "+tries=1", "@" + GATEWAY_IP,
                                    "api.example.test"], capture_output=True, text=True)
            self.assertEqual(r.stdout.strip(), SERVER, r.stderr)
            gw.send_signal(signal.SIGTERM)
            self.assertEqual(gw.wait(timeout=10), 0, gw.stderr.read())
        finally:
            if gw.poll() is None:
                gw.kill()
                gw.wait()
            subprocess.run(["ip", "netns", "del", guest], capture_output=True)
        stop = [json.loads(line) for line in open(audit)][-1]
        self.assertEqual(stop["event"], "gateway.stop")
        dhcp = stop["link"]["dhcp"]
        self.assertEqual(dhcp["discovers"], 3, dhcp)
        self.assertEqual(dhcp["offers"], 3, dhcp)
        self.assertEqual(dhcp["acks"], 3, dhcp)
        self.assertEqual(dhcp["naks"], 0, dhcp)
        self.assertEqual(dhcp["malformed"], 0, dhcp)


if __name__ == "__main__":
    unittest.main()
