#!/usr/bin/python3
"""End-to-end: the guest's UDP flows and pings to other hosts, through the gateway's relays.

Real clients (python3 sockets, iputils ping) run inside `msb-gateway run`; a UDP echo service and
the kernel's echo replies answer in the test world's internet namespace (harness.py). Covered:
byte-exact echoes of small, fragmented (3000) and large (60000) datagrams, many flows at once, a
closed port (the guest's socket sees ECONNREFUSED from the real server's port unreachable), a
policy denial, the audit of a flow's opening and end; pings relayed through unprivileged ICMP
sockets where net.ipv4.ping_group_range allows them (the world's default, harness.py), and the
start-up warning where it does not (this suite owns its network namespace, so it sets the range).
"""
import unittest

from harness import CANARIES, SERVER, shared_world

WORLD = None
PING_RANGE = "/proc/sys/net/ipv4/ping_group_range"


def setUpModule():
    global WORLD
    WORLD = shared_world()


def set_ping_range(value):
    with open(PING_RANGE, "w") as f:
        f.write(value)


class UdpRelayTest(unittest.TestCase):
    def test_echoes_are_byte_exact_small_fragmented_and_large(self):
        r = WORLD.client("udpecho", SERVER, 7, "1,512,1472,3000,60000,65507")
        self.assertEqual(r.stdout.split("\n")[:-1],
                         ["ok 1", "ok 512", "ok 1472", "ok 3000", "ok 60000", "ok 65507"], r)
        flows = [f for f in r.flows().values() if f["decision"]["proto"] == "udp"]
        self.assertEqual(len(flows), 1, r)  # one socket, one flow, decided and audited once
        f = flows[0]
        self.assertEqual((f["decision"]["action"], f["decision"]["dst"]),
                         ("allow", "%s:7" % SERVER))
        total = 1 + 512 + 1472 + 3000 + 60000 + 65507
        self.assertEqual((f["close"]["bytes_up"], f["close"]["bytes_down"]), (total, total), r)
        self.assertEqual((f["close"]["datagrams_up"], f["close"]["datagrams_down"]), (6, 6), r)
        self.assertEqual(f["close"]["reason"], "shutdown")  # the flow was open when run ended
        # At Ethernet's MTU the datagrams are IP fragments on the guest's link too, both ways:
        # reassembled by the gateway's stack going out, fragmented by it coming back.
        r = WORLD.client("udpecho", SERVER, 7, "1472,1473,3000,60000,65507", flags=["--mtu", "1500"])
        self.assertEqual(r.stdout.split("\n")[:-1],
                         ["ok 1472", "ok 1473", "ok 3000", "ok 60000", "ok 65507"], r)
        [stop] = r.events("gateway.stop")
        self.assertGreater(stop["link"]["frames_in"], 2 * 44, r)  # 65507 bytes: 45 fragments
        self.assertEqual((stop["link"]["udp"]["flows"], stop["link"]["udp"]["datagrams_down"]),
                         (1, 5), r)

    def test_many_flows_at_once(self):
        r = WORLD.client("udpmany", SERVER, 7, 200)
        self.assertEqual(r.stdout.strip(), "ok 200", r)
        decisions = [e for e in r.events("flow.decision") if e["proto"] == "udp"]
        self.assertEqual(len(decisions), 200, r)

    def test_a_closed_port_is_refused_by_the_real_server(self):
        # Nothing listens on UDP 9999 in the internet namespace: its kernel's port unreachable
        # reaches the relay's socket, and the guest's socket fails the same way.
        r = WORLD.client("udp", SERVER, 9999, "00")
        self.assertEqual(r.stdout.strip(), "ECONNREFUSED", r)
        [d] = [e for e in r.events("flow.decision") if e["proto"] == "udp"]
        self.assertEqual(d["action"], "allow")

    def test_denied_destinations_are_refused_and_never_reached(self):
        hits = len(WORLD.canary_hits())
        r = WORLD.client("udp", CANARIES[0], 7, "00")
        self.assertEqual(r.stdout.strip(), "ECONNREFUSED", r)
        [d] = [e for e in r.events("flow.decision") if e["proto"] == "udp"]
        self.assertEqual((d["action"], d["group"]), ("deny", "private"), r)
        self.assertEqual(r.events("flow.close"), [], r)  # nothing was opened
        self.assertEqual(len(WORLD.canary_hits()), hits)
        # A rule for the name's address and port, not the whole public group.
        r = WORLD.client("udpecho", SERVER, 7, "100", flags=[
            "--net-default-egress", "deny", "--net-rule", "allow@%s:udp:7" % SERVER])
        self.assertEqual(r.stdout.strip(), "ok 100", r)
        r = WORLD.client("udp", SERVER, 8, "00", flags=[
            "--net-default-egress", "deny", "--net-rule", "allow@%s:udp:7" % SERVER])
        self.assertEqual(r.stdout.strip(), "ECONNREFUSED", r)


class PingRelayTest(unittest.TestCase):
    def tearDown(self):
        set_ping_range("0 2147483647")  # the world's setting (harness.py)

    def test_pings_are_relayed_where_the_host_allows_echo_sockets(self):
        set_ping_range("0 2147483647")
        r = WORLD.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", "-p", "6d7362", "-s", "1000",
                       SERVER], ["--net-rule", "allow@public:icmpv4"])
        self.assertEqual(r.returncode, 0, r)
        self.assertIn("3 received", r.stdout)
        self.assertNotIn("ICMP echo relay off", r.stderr)
        decisions = [e for e in r.events("flow.decision") if e["proto"] == "icmpv4"]
        self.assertEqual([(d["action"], d["dst"]) for d in decisions], [("allow", SERVER + ":0")])
        # Larger than the link MTU both ways: fragmented, reassembled, intact.
        r = WORLD.run(["ping", "-c", "1", "-W", "2", "-s", "3000", SERVER],
                      ["--net-rule", "allow@public:icmpv4", "--mtu", "1500"])
        self.assertIn("1 received", r.stdout, r)
        icmp = r.events("gateway.stop")[0]["link"]["icmp"]
        self.assertEqual((icmp["relayed"], icmp["replies"]), (1, 1), r)
        # The default policy (allow@public, any protocol) lets it through; a denial answers
        # nothing.
        r = WORLD.run(["ping", "-c", "1", "-W", "2", SERVER])
        self.assertIn("1 received", r.stdout, r)
        r = WORLD.run(["ping", "-c", "1", "-W", "2", SERVER], ["--net-default-egress", "deny"])
        self.assertNotEqual(r.returncode, 0, r)
        [d] = [e for e in r.events("flow.decision") if e["proto"] == "icmpv4"]
        self.assertEqual(d["action"], "deny")

    def test_start_up_says_when_the_host_forbids_echo_sockets(self):
        set_ping_range("1 0")
        r = WORLD.run(["ping", "-c", "1", "-W", "2", SERVER], ["--net-rule", "allow@public:icmpv4"])
        self.assertNotEqual(r.returncode, 0, r)
        self.assertIn("ICMP echo relay off", r.stderr)
        self.assertIn("ping_group_range", r.stderr)
        [d] = [e for e in r.events("flow.decision") if e["proto"] == "icmpv4"]
        self.assertEqual((d["action"], d["reason"]), ("deny", "icmp_relay_unavailable"), r)


if __name__ == "__main__":
    unittest.main()
