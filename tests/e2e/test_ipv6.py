#!/usr/bin/python3
"""End-to-end: IPv6 through the gateway. `run` gives the sandbox fd42:6d73:62::2/64 with a default
route via the gateway (fd42:6d73:62::1); real clients reach the IPv6 server in the test world's
internet namespace (2001:db8:100::10) over TCP, UDP and ICMPv6, by address and by name (AAAA
answers, pinned like A ones), under the same policy as IPv4. Covered: a 64 MiB byte-exact download,
domain rules on AAAA pins, private and host destinations refused, UDP echoes of 3000/60000 bytes
(fragmented on the link at MTU 1500), pings to the gateway (host group) and relayed to the
server, and --no-ipv6 (the sandbox then has no IPv6 and AAAA answers are empty).
"""
import os
import time
import unittest

from harness import SERVER, SERVER6, expected_sha, file_sha, shared_world

WORLD = None
GATEWAY6 = "fd42:6d73:62::1"
UNPINNED6 = "2001:db8:100::99"  # public, routed to the internet namespace, never resolved


def setUpModule():
    global WORLD
    WORLD = shared_world()


class Ipv6TcpTest(unittest.TestCase):
    def test_curl_by_address_and_a_byte_exact_64_mib_download(self):
        out = WORLD.path("v6-download.bin")
        size = 64 << 20
        r = WORLD.run(["sh", "-c", "curl -sS --fail -m 10 http://[%s]/hello && "
                       "curl -sS --fail -m 60 -o %s http://[%s]/bytes/%d?seed=6"
                       % (SERVER6, out, SERVER6, size)])
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout, "hello from %s\n" % SERVER6)
        self.assertEqual(os.path.getsize(out), size)
        self.assertEqual(file_sha(out), expected_sha(size, 6))
        os.unlink(out)
        flows = [f for f in r.flows().values() if f["decision"]["proto"] == "tcp"]
        self.assertEqual(len(flows), 2, r)
        for f in flows:
            self.assertEqual(f["decision"]["src"].split("]:")[0], "[fd42:6d73:62::2")
            self.assertEqual(f["decision"]["dst"], "[%s]:80" % SERVER6)
            self.assertEqual((f["decision"]["action"], f["decision"]["group"]), ("allow", "public"))
            self.assertEqual(f["close"]["reason"], "closed")
        self.assertEqual(flows[1]["close"]["bytes_down"] > size, True, r)

    def test_names_resolve_to_aaaa_and_domain_rules_trust_their_pins(self):
        flags = ["--net-default-egress", "deny", "--net-rule",
                 "allow@dns,allow@v6.example.test:tcp:80"]
        r = WORLD.run(["sh", "-c", "curl -sS --fail -m 10 http://v6.example.test/hello; "
                       "curl -sS -m 5 -o /dev/null http://[%s]/hello; echo rc=$?" % UNPINNED6],
                      flags)
        self.assertIn("hello from %s\n" % SERVER6, r.stdout, r)
        self.assertIn("rc=7", r.stdout, r)  # an address no name was resolved to: refused
        q = [e for e in r.events("dns.query") if e["type"] == "AAAA"]
        self.assertEqual(q[0]["answers"], [SERVER6], r)
        decisions = [(d["dst"], d["action"]) for d in r.events("flow.decision")]
        self.assertEqual(decisions, [("[%s]:80" % SERVER6, "allow"),
                                     ("[%s]:80" % UNPINNED6, "deny")], r)

    def test_private_and_host_addresses_are_refused_at_once(self):
        r = WORLD.client("connect", "fd00::1", 80, 5)
        self.assertEqual(r.stdout.split()[0], "ECONNREFUSED", r)
        r = WORLD.client("connect", GATEWAY6, 80, 5)
        self.assertEqual(r.stdout.split()[0], "ECONNREFUSED", r)
        [d] = r.events("flow.decision")
        self.assertEqual((d["group"], d["action"]), ("host", "deny"), r)


class HostAliasTest(unittest.TestCase):
    def test_the_gateways_ipv6_address_reaches_the_host_and_falls_back_to_ipv4(self):
        # The host listens on 127.0.0.1:80 only (harness HostCanary): [::1]:80 refuses, and the
        # gateway tries 127.0.0.1:80 next, as microsandbox does. Both attempts are audited.
        hits = len(WORLD.canary.hits)
        r = WORLD.client("connect", GATEWAY6, 80, 5, flags=["--net-rule", "allow@host:tcp:80"])
        self.assertEqual(r.stdout.split()[0], "ok", r)
        connects = [(c["upstream"], c["result"]) for c in r.events("flow.connect")]
        self.assertEqual(connects, [("[::1]:80", "refused"), ("127.0.0.1:80", "ok")], r)
        for _ in range(50):  # the canary's accept thread records the hit
            if len(WORLD.canary.hits) > hits:
                break
            time.sleep(0.1)
        self.assertEqual(WORLD.canary.hits[-1]["port"], 80)
        # Policy judges the guest-visible address: without the rule, refused at SYN time.
        r = WORLD.client("connect", GATEWAY6, 80, 5)
        self.assertEqual(r.stdout.split()[0], "ECONNREFUSED", r)
        self.assertEqual(r.events("flow.connect"), [], r)


class Ipv6DatagramTest(unittest.TestCase):
    def test_udp_echoes_small_fragmented_and_large(self):
        for mtu in ("65520", "1500"):
            with self.subTest(mtu=mtu):
                r = WORLD.client("udpecho", SERVER6, 7, "1,1452,3000,60000", flags=["--mtu", mtu])
                self.assertEqual(r.stdout.split("\n")[:-1],
                                 ["ok 1", "ok 1452", "ok 3000", "ok 60000"], r)
                [d] = [e for e in r.events("flow.decision") if e["proto"] == "udp"]
                self.assertEqual((d["dst"], d["action"]), ("[%s]:7" % SERVER6, "allow"), r)
        r = WORLD.client("udp", SERVER6, 9999, "00")
        self.assertEqual(r.stdout.strip(), "ECONNREFUSED", r)  # the server's port unreachable

    def test_pings_to_the_gateway_follow_policy_and_others_are_relayed(self):
        r = WORLD.run(["ping", "-6", "-c", "1", "-W", "2", GATEWAY6])
        self.assertNotEqual(r.returncode, 0, r)  # the host group is not in the default policy
        r = WORLD.run(["ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "-s", "2000", GATEWAY6],
                      ["--net-rule", "allow@host:icmpv6", "--mtu", "1500"])
        self.assertIn("2 received", r.stdout, r)
        [d] = r.events("flow.decision")
        self.assertEqual((d["proto"], d["rule_text"]), ("icmpv6", "allow@host:icmpv6"), r)
        r = WORLD.run(["ping", "-6", "-c", "2", "-i", "0.2", "-W", "2", "-p", "6d7362", SERVER6])
        self.assertIn("2 received", r.stdout, r)
        self.assertEqual(r.events("gateway.stop")[0]["link"]["icmp"]["replies"], 2, r)


class NoIpv6Test(unittest.TestCase):
    def test_no_ipv6_leaves_the_sandbox_without_it(self):
        r = WORLD.run(["sh", "-c", "ip -6 addr show dev eth0 | grep -c inet6; "
                       "dig +short AAAA v6.example.test; curl -sS -m 10 http://dual.example.test/hello"],
                      ["--no-ipv6"])
        self.assertEqual(r.stdout, "0\nhello from %s\n" % SERVER, r)
        [q] = [e for e in r.events("dns.query") if e["type"] == "AAAA" and
               e["name"] == "v6.example.test"]
        self.assertEqual(q["answers"], [], r)


if __name__ == "__main__":
    unittest.main()
