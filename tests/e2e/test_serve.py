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

from harness import CANARIES, DNS1, GATEWAY_IP, SERVER, sh, shared_world

WORLD = None


def setUpModule():
    global WORLD
    WORLD = shared_world()


class ServeTest(unittest.TestCase):
    def test_serve_a_tap_until_sigterm(self):
        audit = WORLD.path("serve-audit.jsonl")
        tap = "msbtap%d" % (os.getpid() % 1000)
        guest = WORLD.inet.replace("inet", "guest")
        gw = subprocess.Popen([WORLD.gateway, "serve", "--tap", tap, "--audit-log", audit,
                               "--dns-nameserver", DNS1], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 10
            # (/sys shows the machine's namespace here, not ours: ask ip.)
            while subprocess.run(["ip", "link", "show", tap], capture_output=True).returncode:
                self.assertIsNone(gw.poll(), gw.stderr.read() if gw.poll() is not None else "")
                self.assertLess(time.monotonic(), deadline, "TAP did not appear")
                time.sleep(0.05)
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


if __name__ == "__main__":
    unittest.main()
