#!/usr/bin/python3
"""End-to-end: guest TCP through msb-gateway's userspace stack to real servers, under policy.

Real clients (curl, python3 sockets) run inside `msb-gateway run`; real servers run in the test
world's internet namespace (harness.py). Every assertion on behaviour is paired with one on the
audit log.
"""
import os
import random
import unittest

from harness import (BLACKHOLE, CANARIES, GATEWAY_IP, SERVER, SERVER2, expected_sha, file_sha,
                     shared_world)

WORLD = None


def setUpModule():
    global WORLD
    WORLD = shared_world()


class TransferTest(unittest.TestCase):
    def test_downloads_are_byte_exact(self):
        for size in (1024, 1 << 20, 64 << 20, 256 << 20):
            with self.subTest(size=size):
                out = WORLD.path("download-%d.bin" % size)
                r = WORLD.run(["curl", "-sS", "--fail", "-o", out,
                               "http://%s/bytes/%d?seed=%d" % (SERVER, size, size % 97)])
                self.assertEqual(r.returncode, 0, r)
                self.assertEqual(os.path.getsize(out), size)
                self.assertEqual(file_sha(out), expected_sha(size, size % 97))
                os.unlink(out)
                flows = list(r.flows().values())
                self.assertEqual(len(flows), 1, r)
                f = flows[0]
                self.assertEqual(f["decision"]["action"], "allow")
                self.assertEqual(f["decision"]["rule_text"], "allow@public")
                self.assertEqual(f["decision"]["dst"], "%s:80" % SERVER)
                self.assertEqual(f["connect"]["result"], "ok")
                self.assertEqual(f["close"]["reason"], "closed")
                self.assertGreater(f["close"]["bytes_down"], size)
                self.assertGreater(f["close"]["bytes_up"], 0)

    def test_uploads_are_byte_exact(self):
        for size in (1024, 16 << 20, 256 << 20):
            with self.subTest(size=size):
                src = WORLD.path("upload-%d.bin" % size)
                with open(src, "wb") as f:
                    rng = random.Random(size)
                    left = size
                    while left:
                        step = min(1 << 20, left)
                        f.write(rng.randbytes(step))
                        left -= step
                r = WORLD.run(["curl", "-sS", "--fail", "-T", src, "http://%s/upload" % SERVER])
                self.assertEqual(r.returncode, 0, r)
                self.assertEqual(r.stdout.strip(), "%d %s" % (size, file_sha(src)))
                os.unlink(src)
                close = r.events("flow.close")
                self.assertEqual(len(close), 1, r)
                self.assertEqual(close[0]["reason"], "closed")
                self.assertGreater(close[0]["bytes_up"], size)

    def test_many_concurrent_connections(self):
        # One real curl with 200 transfers, 100 at a time.
        urls = []
        for i in range(200):
            urls += ["-o", "/dev/null", "http://%s/bytes/%d?seed=%d" % (SERVER, 20000 + i, i)]
        r = WORLD.run(["curl", "-sS", "--fail", "--parallel", "--parallel-max", "100",
                       "-w", "%{http_code}\n"] + urls)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout.split().count("200"), 200, r)
        closes = r.events("flow.close")
        self.assertGreaterEqual(len(closes), 100)
        self.assertTrue(all(c["reason"] == "closed" for c in closes), r)
        self.assertEqual(len(r.events("flow.decision")), len(closes))
        # And 300 connections open at the same moment from one process (above the default limit).
        r = WORLD.client("many", SERVER, 80, 300, flags=["--max-connections", "400"])
        self.assertEqual(r.stdout.strip(), "ok 300", r)
        self.assertEqual(len(r.events("flow.close")), 300)

    def test_connection_limit_refuses_the_next_and_frees_slots(self):
        # The default limit, 256: the 257th concurrent connection gets an RST, and closing one
        # makes room again.
        r = WORLD.client("overflow", SERVER, 9, 256)
        self.assertEqual(r.stdout.strip(), "extra=ECONNREFUSED after=ok", r)
        refused = [e for e in r.events("flow.decision") if e.get("reason") == "max_connections"]
        self.assertGreaterEqual(len(refused), 1, r)
        self.assertEqual(refused[0]["action"], "deny")
        self.assertEqual(refused[0]["rule_text"], "allow@public")  # the rule that allowed it
        self.assertEqual(len(r.events("flow.close")), 257, r)

    def test_guest_half_close_still_gets_reply(self):
        r = WORLD.client("halfclose", SERVER, 7, 3 << 20)
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout.strip(), "match", r)
        close = r.events("flow.close")
        self.assertEqual(close[0]["reason"], "closed", r)
        self.assertEqual(close[0]["bytes_up"], 3 << 20)
        self.assertEqual(close[0]["bytes_down"], len("%d %s\n" % (3 << 20, "0" * 64)))

    def test_guest_reset_resets_upstream(self):
        r = WORLD.client("reset", SERVER, 80)
        self.assertEqual(r.stdout.strip(), "reset", r)
        self.assertEqual(r.events("flow.close")[0]["reason"], "guest_reset", r)


class RefusalTest(unittest.TestCase):
    def test_refused_upstream_port_is_econnrefused(self):
        r = WORLD.client("connect", SERVER, 81)
        result, elapsed = r.stdout.split()
        self.assertEqual(result, "ECONNREFUSED", r)
        self.assertLess(float(elapsed), 2.0)
        f = list(r.flows().values())[0]
        self.assertEqual(f["decision"]["action"], "allow")
        self.assertEqual(f["connect"]["result"], "refused")
        self.assertEqual(f["close"]["reason"], "upstream_refused")

    def test_unreachable_upstream_is_reported_not_hung(self):
        r = WORLD.client("connect", BLACKHOLE, 80, 20, flags=["--connect-timeout-ms", "1500"])
        result, elapsed = r.stdout.split()
        self.assertEqual(result, "EHOSTUNREACH", r)
        self.assertLess(float(elapsed), 5.0)
        f = list(r.flows().values())[0]
        self.assertEqual(f["connect"]["result"], "timeout")

    def test_default_policy_denies_local_destinations(self):
        cases = CANARIES + [GATEWAY_IP, "192.168.1.1"]
        for dst in cases:
            with self.subTest(dst=dst):
                r = WORLD.client("connect", dst, 80)
                result, elapsed = r.stdout.split()
                self.assertEqual(result, "ECONNREFUSED", r)
                self.assertLess(float(elapsed), 1.0)
                d = r.events("flow.decision")
                self.assertEqual(len(d), 1, r)
                self.assertEqual(d[0]["action"], "deny")
                self.assertIsNone(d[0]["rule"])
                self.assertEqual(d[0]["rule_text"], "default egress")
                self.assertEqual(r.events("flow.connect"), [])
        # The guest kernel keeps 127/8 on its own loopback, so a hostile guest would craft the
        # packet itself: hand-made SYNs on eth0 must be refused too.
        for dst in ("127.0.0.1", "127.1.2.3"):
            with self.subTest(raw=dst):
                r = WORLD.client("rawsyn", dst, 80)
                self.assertEqual(r.stdout.strip(), "RST", r)
                d = r.events("flow.decision")
                self.assertEqual([(e["dst"], e["action"], e["group"]) for e in d],
                                 [("%s:80" % dst, "deny", "loopback")], r)
        self.assertEqual(WORLD.canary_hits(), [])
        # Positive controls in the same world: a public documentation address works, for curl
        # and for the hand-made SYN.
        r = WORLD.client("rawsyn", SERVER, 80)
        self.assertEqual(r.stdout.strip(), "SYNACK", r)
        r = WORLD.run(["curl", "-sS", "--fail", "http://%s/hello" % SERVER])
        self.assertEqual(r.stdout.strip(), "hello from %s" % SERVER, r)

    def test_invalid_destinations_are_refused_before_policy(self):
        # Under allow-all a crafted SYN to 0.0.0.0:80 was once dialled from the host, and Linux
        # delivered it to the host's own loopback (the canary on 127.0.0.1:80 answered).
        flags = ["--net", "allow-all"]
        # (Nothing can answer from 0.0.0.0 itself: that SYN is dropped; the others get RST.)
        cases = [("0.0.0.0", "this_network", "none"), ("0.1.2.3", "this_network", "RST"),
                 ("127.0.0.1", "loopback", "RST"), ("240.0.0.1", "reserved", "RST")]
        for dst, detail, answer in cases:
            with self.subTest(dst=dst):
                r = WORLD.client("rawsyn", dst, 80, flags=flags)
                self.assertEqual(r.stdout.strip(), answer, r)
                d = r.events("flow.decision")
                self.assertEqual([(e["dst"], e["action"], e["rule_text"], e["reason"],
                                   e["detail"]) for e in d],
                                 [("%s:80" % dst, "deny", "gateway", "invalid_destination",
                                   detail)], r)
                self.assertEqual(r.events("flow.connect"), [], r)
        # UDP alike, DNS included: a query to 0.0.0.0:53 or 127.0.0.53:53 is neither answered nor
        # forwarded.
        query = "abcd01000001000000000000" + "03617069076578616d706c65047465737400" + "00010001"
        for dst in ("0.0.0.0", "127.0.0.53"):
            with self.subTest(udp=dst):
                r = WORLD.client("rawudp", dst, 53, query, flags=flags)
                self.assertEqual(r.stdout.strip(), "none", r)
                d = r.events("flow.decision")
                self.assertEqual([(e["proto"], e["reason"]) for e in d],
                                 [("udp", "invalid_destination")], r)
                self.assertEqual(r.events("dns.query"), [], r)
        self.assertEqual(WORLD.canary_hits(), [])
        # Positive controls in the same run: allow-all still reaches a public address (SYN and
        # datagram to the gateway's resolver), so "RST"/"none" above is the refusal, not a broken
        # client.
        r = WORLD.client("rawsyn", SERVER, 80, flags=flags)
        self.assertEqual(r.stdout.strip(), "SYNACK", r)
        r = WORLD.client("rawudp", GATEWAY_IP, 53, query, flags=flags)
        self.assertEqual(r.stdout.strip(), "reply", r)
        self.assertEqual(len(r.events("dns.query")), 1, r)

    def test_custom_rule_allows_exactly_that(self):
        flags = ["--net-default-egress", "deny", "--net-rule", "allow@%s:tcp:80" % SERVER]
        r = WORLD.run(["curl", "-sS", "--fail", "http://%s/hello" % SERVER], flags=flags)
        self.assertEqual(r.stdout.strip(), "hello from %s" % SERVER, r)
        d = r.events("flow.decision")[0]
        self.assertEqual((d["action"], d["rule"], d["rule_text"]),
                         ("allow", 0, "allow@%s:tcp:80" % SERVER))
        for host, port in ((SERVER, 8080), (SERVER2, 80), (CANARIES[0], 80)):
            with self.subTest(host=host, port=port):
                r = WORLD.client("connect", host, port, flags=flags)
                self.assertEqual(r.stdout.split()[0], "ECONNREFUSED", r)
                d = r.events("flow.decision")[0]
                self.assertEqual((d["action"], d["rule"]), ("deny", None))
        self.assertEqual(WORLD.canary_hits(), [])


class PingTest(unittest.TestCase):
    def test_ping_to_the_gateway_follows_policy_for_the_host_group(self):
        # The default policy (public egress) does not include the host group: no answer.
        r = WORLD.run(["ping", "-c", "1", "-W", "2", GATEWAY_IP])
        self.assertNotEqual(r.returncode, 0, r.stdout)
        [d] = [e for e in r.events("flow.decision") if e["proto"] == "icmpv4"]
        self.assertEqual((d["dst"], d["action"], d["group"]), (GATEWAY_IP + ":0", "deny", "host"))
        # Allowed for icmpv4: answered, payload intact; three echoes, one audit line.
        r = WORLD.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", "-p", "6d7362", GATEWAY_IP],
                      ["--net-rule", "allow@host:icmpv4"])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("3 received", r.stdout)
        decisions = [e for e in r.events("flow.decision") if e["proto"] == "icmpv4"]
        self.assertEqual([(d["action"], d["rule_text"]) for d in decisions],
                         [("allow", "allow@host:icmpv4")])
        # Pings to other hosts are relayed: test_udp.py.


class RunCommandTest(unittest.TestCase):
    def test_exit_status_stdin_and_sandbox_files(self):
        r = WORLD.run(["sh", "-c", "exit 42"])
        self.assertEqual(r.returncode, 42)
        r = WORLD.run(["cat"], input="through the sandbox\n")
        self.assertEqual(r.stdout, "through the sandbox\n")
        r = WORLD.run(["sh", "-c", "cat /etc/resolv.conf /etc/hosts; ip -o -4 addr show eth0;"
                       "ip route show default; ls /sys/class/net; cat /sys/class/net/eth0/address"])
        self.assertIn("eth0\nlo\n02:6d:73:00:00:02\n", r.stdout)  # the sandbox's own sysfs
        self.assertIn("nameserver %s" % GATEWAY_IP, r.stdout)
        self.assertIn("%s\thost.microsandbox.internal" % GATEWAY_IP, r.stdout)
        self.assertIn("inet 172.16.0.2/30", r.stdout)
        self.assertIn("default via %s dev eth0" % GATEWAY_IP, r.stdout)
        starts = r.events("gateway.start")
        self.assertEqual(starts[0]["rules"], ["allow@host:tcp+udp:53", "allow@public"])
        self.assertEqual(r.events("gateway.stop")[0]["exit_status"], 0)

    def test_signals_are_forwarded_and_status_propagates(self):
        import signal
        import subprocess
        import time
        audit = WORLD.path("signal-audit.jsonl")
        p = subprocess.Popen([WORLD.gateway, "run", "--dns-nameserver", "198.51.100.53",
                              "--audit-log", audit, "--", "sleep", "30"])
        time.sleep(1)
        start = time.monotonic()
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=10), 128 + signal.SIGTERM)  # sleep died of SIGTERM
        self.assertLess(time.monotonic() - start, 5)
        import json
        stop = [json.loads(line) for line in open(audit)][-1]
        self.assertEqual((stop["event"], stop["exit_status"]), ("gateway.stop", 143))
        r = WORLD.run(["/nonexistent/command"])
        self.assertEqual(r.returncode, 127, r)
        self.assertIn("cannot run", r.stderr)

    def test_sandbox_cannot_leave_its_namespace(self):
        r = WORLD.run(["sh", "-c", "ip link set eth0 down; echo rc=$?"])
        self.assertIn("rc=2", r.stdout)  # no CAP_NET_ADMIN: "Operation not permitted"
        r = WORLD.run(["nsenter", "-t", "1", "-n", "true"])
        self.assertNotEqual(r.returncode, 0, r)

    def test_usage_errors_exit_2_with_one_line(self):
        import subprocess
        p = subprocess.run([WORLD.gateway, "run", "--net-rule", "alow@any", "--", "true"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("alow@any", p.stderr)
        # A dash word before the command is a flag, never the command ("cannot run "-x"").
        p = subprocess.run([WORLD.gateway, "run", "-x", "8080:80", "--", "true"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn('unknown flag "-x"', p.stderr)
        self.assertNotIn("cannot run", p.stderr)
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            WORLD.gateway, "run", "--", "true"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("needs root", p.stderr)


if __name__ == "__main__":
    unittest.main()
