#!/usr/bin/python3
"""End-to-end: the gateway as the guest's only resolver, the pin set, domain rules, rebinding.

Real `dig`, `getent`, `curl` and python sockets run inside `msb-gateway run`; real dnsmasq servers
run in the test world's internet namespace (harness.py: DNS1 knows the example.test names, DNS2
answers whoami.example.test with its own address, DEAD_DNS never answers).
"""
import os
import re
import time
import unittest

from harness import (CANARIES, DEAD_DNS, DNS1, DNS2, DNS_TTL, GATEWAY_IP, PYTHON, SERVER,
                     SERVER2, SERVER6, shared_world)

WORLD = None


def setUpModule():
    global WORLD
    WORLD = shared_world()


def dig(*args, flags=()):
    return WORLD.run(["dig", "+time=5", "+tries=1"] + list(args), flags=flags)


def status(r):
    m = re.search(r"status: (\w+)", r.stdout)
    return m.group(1) if m else None


def answers(r):
    """The A and AAAA records in dig's ANSWER SECTION."""
    out = []
    section = False
    for line in r.stdout.splitlines():
        if line.startswith(";; ANSWER SECTION"):
            section = True
        elif line.startswith(";;"):
            section = False
        elif section and line.strip():
            parts = line.split()
            if parts[3] in ("A", "AAAA"):
                out.append(parts[4])
    return out


class ResolutionTest(unittest.TestCase):
    def test_allowed_name_over_udp_and_tcp(self):
        for transport in ("+notcp", "+tcp"):
            with self.subTest(transport=transport):
                r = dig(transport, "api.example.test")
                self.assertEqual(status(r), "NOERROR", r)
                self.assertEqual(answers(r), [SERVER], r)
                q = r.events("dns.query")
                self.assertEqual(len(q), 1, r)
                self.assertEqual(q[0]["proto"], "udp" if transport == "+notcp" else "tcp")
                self.assertEqual((q[0]["name"], q[0]["type"], q[0]["action"], q[0]["rcode"]),
                                 ("api.example.test", "A", "allow", "NOERROR"))
                self.assertEqual(q[0]["upstream"], "%s:53" % DNS1)
                self.assertEqual(q[0]["answers"], [SERVER])
                self.assertEqual(q[0]["dst"], "%s:53" % GATEWAY_IP)

    def test_system_resolver_and_curl_by_name(self):
        r = WORLD.run(["sh", "-c", "getent hosts api.example.test && "
                       "curl -sS --fail http://api.example.test/hello"])
        self.assertEqual(r.returncode, 0, r)
        self.assertIn(SERVER, r.stdout)
        self.assertIn("hello from %s" % SERVER, r.stdout)

    def test_cname_chain_is_followed_and_pinned(self):
        flags = ["--net-default-egress", "deny", "--net-rule", "allow@dns,allow@cname.example.test"]
        r = WORLD.run(["sh", "-c", "curl -sS --fail http://cname.example.test/hello"], flags=flags)
        self.assertEqual(r.stdout.strip(), "hello from %s" % SERVER, r)
        d = r.events("flow.decision")
        self.assertEqual(d[-1]["rule_text"], "allow@cname.example.test", r)
        q = [e for e in r.events("dns.query") if e["type"] == "A"]
        self.assertEqual(q[0]["answers"], [SERVER], r)

    def test_cname_into_a_denied_name_is_denied(self):
        r = dig("cname.example.test", flags=["--deny-domain", "target.example.test"])
        self.assertEqual(status(r), "NXDOMAIN", r)
        q = r.events("dns.query")[0]
        self.assertEqual((q["action"], q["rule_text"], q["reason"]),
                         ("deny", "deny@target.example.test",
                          "CNAME to denied name target.example.test"), r)

    def test_tcp_queries_are_pipelined(self):
        r = WORLD.client("tcpdns", GATEWAY_IP, 53, "api.example.test,other.example.test,"
                         "host.microsandbox.internal")
        self.assertEqual(r.stdout.split(), [SERVER, SERVER2, GATEWAY_IP], r)
        q = r.events("dns.query")
        self.assertEqual(len(q), 3, r)
        self.assertEqual(len({e["tcp_flow"] for e in q}), 1, r)  # one connection
        close = r.events("flow.close")
        self.assertEqual((close[0]["reason"], close[0]["dns_queries"]), ("closed", 3), r)

    def test_host_alias_is_local_even_for_other_resolvers(self):
        for server in ([], ["@" + DNS2]):
            with self.subTest(server=server):
                r = dig(*server, "host.microsandbox.internal")
                self.assertEqual(answers(r), [GATEWAY_IP], r)
                self.assertIn("flags: qr aa", r.stdout)
                q = r.events("dns.query")[0]
                self.assertIsNone(q["upstream"])
        r = WORLD.run(["getent", "ahosts", "host.microsandbox.internal"])
        self.assertIn(GATEWAY_IP, r.stdout)
        self.assertIn("fd42:6d73:62::1", r.stdout)  # and its IPv6 address (/etc/hosts has both)
        r = dig("AAAA", "host.microsandbox.internal")
        self.assertEqual(answers(r), ["fd42:6d73:62::1"], r)

    def test_formerr_for_two_questions(self):
        # id 0x1234, RD, QDCOUNT 2, both "a." IN A
        q = "123401000002000000000000" + "016100" + "00010001" + "016100" + "00010001"
        r = WORLD.client("udp", DNS1, 53, q)
        self.assertTrue(r.stdout.startswith("1234"), r)
        self.assertEqual(int(r.stdout[6:8], 16) & 0x0F, 1, r)  # FORMERR
        self.assertEqual(r.events("dns.query")[0]["rcode"], "FORMERR")


class PolicyTest(unittest.TestCase):
    def test_denied_names_get_synthesized_nxdomain(self):
        flags = ["--deny-domain", "other.example.test"]
        for transport in ("+notcp", "+tcp"):
            with self.subTest(transport=transport):
                r = dig(transport, "other.example.test", flags=flags)
                self.assertEqual(status(r), "NXDOMAIN", r)
                self.assertIn("AUTHORITY: 0", r.stdout)  # synthesized, not upstream's
                q = r.events("dns.query")[0]
                self.assertEqual((q["action"], q["rule"], q["upstream"]),
                                 ("deny", 0, None))
                self.assertEqual(q["rule_text"], "deny@other.example.test")
        r = dig("api.example.test", flags=flags)
        self.assertEqual(answers(r), [SERVER], r)

    def test_blocked_suffix_covers_apex_and_subdomains_only(self):
        flags = ["--deny-domain-suffix", "blocked.example.test"]
        for name in ("blocked.example.test", "a.b.blocked.example.test"):
            with self.subTest(name=name):
                r = dig(name, flags=flags)
                self.assertEqual(status(r), "NXDOMAIN", r)
                self.assertEqual(r.events("dns.query")[0]["action"], "deny")
        r = dig("xblocked.example.test", flags=flags)
        self.assertEqual(answers(r), [SERVER2], r)

    def test_query_to_a_specific_resolver(self):
        r = dig("@" + DNS2, "whoami.example.test")
        self.assertEqual(answers(r), [DNS2], r)  # DNS2 itself answered
        q = r.events("dns.query")[0]
        self.assertEqual((q["dst"], q["upstream"]), ("%s:53" % DNS2, "%s:53" % DNS2))
        for flags, server in ((["--net-rule", "deny@%s" % DNS2], DNS2), ([], CANARIES[0])):
            with self.subTest(server=server):
                r = dig("@" + server, "whoami.example.test", flags=flags)
                # NXDOMAIN, not REFUSED (glibc's stub mishandles REFUSED); the resolver sees nothing
                self.assertEqual(status(r), "NXDOMAIN", r)
                q = r.events("dns.query")[0]
                self.assertEqual((q["action"], q["upstream"]), ("deny", None), r)
        self.assertEqual(WORLD.canary_hits(), [])

    def test_all_dns_denied_without_allow_dns(self):
        r = dig("api.example.test", flags=["--net-default-egress", "deny"])
        self.assertEqual(status(r), "NXDOMAIN", r)
        r = dig("api.example.test", flags=["--net-default-egress", "deny", "--net-rule",
                                            "allow@dns:tcp"])
        self.assertEqual(status(r), "NXDOMAIN", r)
        r = dig("+tcp", "api.example.test", flags=["--net-default-egress", "deny", "--net-rule",
                                                    "allow@dns:tcp"])
        self.assertEqual(answers(r), [SERVER], r)


class RebindingTest(unittest.TestCase):
    def test_private_answers_are_blocked(self):
        for name, addr in (("rebind.example.test", "10.11.12.13"),
                           ("meta.example.test", "169.254.169.254"),
                           ("loop.example.test", "127.0.0.1")):
            with self.subTest(name=name):
                r = dig(name)
                self.assertEqual(status(r), "NXDOMAIN", r)
                q = r.events("dns.query")[0]
                self.assertEqual(q["rebind_blocked"], [addr], r)
                self.assertEqual(q["reason"], "rebinding protection")

    def test_explicit_allow_admits_and_earlier_deny_wins(self):
        r = dig("rebind.example.test", flags=["--net-rule", "allow@10.0.0.0/8"])
        self.assertEqual(answers(r), ["10.11.12.13"], r)
        r = dig("rebind.example.test",
                flags=["--net-rule", "deny@10.11.12.13,allow@10.0.0.0/8"])
        self.assertEqual(status(r), "NXDOMAIN", r)
        r = dig("rebind.example.test", flags=["--net", "non-local"])  # presets do not count
        self.assertEqual(status(r), "NXDOMAIN", r)
        r = dig("rebind.example.test", flags=["--no-dns-rebind-protection"])
        self.assertEqual(answers(r), ["10.11.12.13"], r)


class UpstreamTest(unittest.TestCase):
    def test_failover_past_a_dead_nameserver_within_the_timeout(self):
        flags = ["--dns-nameserver", DEAD_DNS, "--dns-nameserver", DNS1,
                 "--dns-query-timeout-ms", "2000"]
        start = time.monotonic()
        r = dig("api.example.test", flags=flags)
        self.assertEqual(answers(r), [SERVER], r)
        self.assertLess(time.monotonic() - start, 4.0)
        q = r.events("dns.query")[0]
        self.assertEqual(q["upstream"], "%s:53" % DNS1)
        self.assertLess(q["ms"], 2000)
        self.assertGreaterEqual(q["ms"], 900)  # the dead server had its share first

    def test_all_dead_is_servfail(self):
        r = dig("api.example.test", flags=["--dns-nameserver", DEAD_DNS,
                                            "--dns-query-timeout-ms", "1000"])
        self.assertEqual(status(r), "SERVFAIL", r)
        self.assertIn("upstream failed", r.events("dns.query")[0]["reason"])

    def test_large_answer_is_truncated_then_retried_over_tcp(self):
        r = dig("+noedns", "big.example.test", "TXT")
        self.assertIn("Truncated, retrying in TCP mode", r.stdout, r)
        self.assertEqual(status(r), "NOERROR", r)
        self.assertEqual(r.stdout.count("\tTXT\t"), 6, r)
        q = r.events("dns.query")
        self.assertEqual([e["proto"] for e in q], ["udp", "tcp"], r)
        self.assertTrue(q[0]["reason"].startswith("truncated for UDP"), r)


class DomainRuleTest(unittest.TestCase):
    FLAGS = ["--net-default-egress", "deny", "--net-rule", "allow@dns,allow@api.example.test:tcp:80"]

    def test_domain_rule_needs_the_pin_and_expires_with_it(self):
        script = (
            "{py} {c} connect {ip} 80; "
            "curl -sS --fail http://api.example.test/hello; "
            "{py} {c} connect {ip} 80; "
            "{py} {c} connect {other} 80; "
            "sleep {wait}; {py} {c} connect {ip} 80"
        ).format(py=PYTHON, c=os.path.join(os.path.dirname(__file__), "client.py"), ip=SERVER,
                 other=SERVER2, wait=DNS_TTL + 1.5)
        r = WORLD.run(["sh", "-c", script], flags=self.FLAGS)
        lines = [line.split()[0] for line in r.stdout.splitlines()]
        # never resolved -> refused; resolved -> curl works; now pinned -> ok; other IP -> refused;
        # after the TTL -> refused again.
        self.assertEqual(lines, ["ECONNREFUSED", "hello", "ok", "ECONNREFUSED", "ECONNREFUSED"], r)
        decisions = [(d["dst"], d["action"], d["rule_text"]) for d in r.events("flow.decision")
                     if not d.get("reason")]
        self.assertEqual(decisions, [
            ("%s:80" % SERVER, "deny", "default egress"),
            ("%s:80" % SERVER, "allow", "allow@api.example.test:tcp:80"),
            ("%s:80" % SERVER, "allow", "allow@api.example.test:tcp:80"),
            ("%s:80" % SERVER2, "deny", "default egress"),
            ("%s:80" % SERVER, "deny", "default egress"),
        ], r)

    def test_alternative_dns_transports_are_refused(self):
        r = WORLD.client("udp", DNS1, 5353, "00")
        self.assertEqual(r.stdout.strip(), "ECONNREFUSED", r)
        r = WORLD.client("connect", DNS1, 853)
        self.assertEqual(r.stdout.split()[0], "ECONNREFUSED", r)
        reasons = [d["reason"] for d in r.events("flow.decision")]
        self.assertEqual(reasons, ["dot_not_supported"])


class ConfigFileTest(unittest.TestCase):
    CONFIG = {
        "policy": {
            "default_egress": "deny",
            "default_ingress": "allow",
            "rules": [
                {"direction": "egress", "destination": {"group": "host"},
                 "protocols": ["udp", "tcp"], "ports": [{"start": 53, "end": 53}],
                 "action": "allow"},
                {"direction": "egress", "destination": {"domain": "api.example.test"},
                 "protocols": ["tcp"], "ports": [80], "action": "allow"},
            ],
        },
        "dns": {"nameservers": [DNS1], "query_timeout_ms": 2000, "rebind_protection": True},
        "max_connections": 64,
    }

    def write(self, config):
        import json
        path = WORLD.path("config-%d.json" % id(config))
        with open(path, "w") as f:
            json.dump(config, f)
        return path

    def test_config_policy_and_dns_with_flags_on_top(self):
        path = self.write(self.CONFIG)
        r = WORLD.run(["sh", "-c", "curl -sS --fail http://api.example.test/hello; "
                       "curl -sS --fail http://other.example.test/hello"], flags=["--config", path])
        self.assertIn("hello from %s" % SERVER, r.stdout, r)
        self.assertNotIn("hello from %s" % SERVER2, r.stdout, r)
        start = r.events("gateway.start")[0]
        self.assertEqual(start["nameservers"], ["%s:53" % DNS1])
        self.assertEqual(start["rules"], ["allow@host:tcp+udp:53", "allow@api.example.test:tcp:80"])
        # A --net-rule is prepended to the config's rules.
        r = WORLD.run(["curl", "-sS", "--fail", "http://other.example.test/hello"],
                      flags=["--config", path, "--net-rule", "allow@%s:tcp:80" % SERVER2])
        self.assertEqual(r.stdout.strip(), "hello from %s" % SERVER2, r)
        self.assertEqual(r.events("gateway.start")[0]["rules"][0], "allow@%s:tcp:80" % SERVER2)

    def test_interface_section_sets_the_guests_link(self):
        path = self.write({"interface": {"ipv4_address": "10.77.0.6", "mtu": 1400,
                                         "mac": [2, 109, 115, 0, 7, 2],
                                         "ipv6_address": "fd42:77::6", "ipv6_pool": None}})
        r = WORLD.run(["sh", "-c", "ip -o -4 addr show eth0; ip route show default; "
                       "ip -o -6 addr show eth0 scope global; ip -6 route show default; "
                       "curl -sS --fail -m 10 http://[%s]/hello; " % SERVER6 +
                       "cat /sys/class/net/eth0/mtu /sys/class/net/eth0/address; "
                       "curl -sS --fail http://%s/hello" % SERVER], flags=["--config", path])
        self.assertIn("inet 10.77.0.6/30", r.stdout, r)
        self.assertIn("default via 10.77.0.5 dev eth0", r.stdout, r)
        self.assertIn("inet6 fd42:77::6/64", r.stdout, r)
        self.assertIn("default via fd42:77::1 dev eth0", r.stdout, r)
        self.assertIn("hello from %s" % SERVER6, r.stdout, r)
        self.assertIn("1400\n02:6d:73:00:07:02\n", r.stdout, r)
        self.assertIn("hello from %s" % SERVER, r.stdout, r)
        d = r.events("flow.decision")
        self.assertEqual(d[0]["src"].split("]:")[0], "[fd42:77::6", r)
        self.assertEqual(d[1]["src"].split(":")[0], "10.77.0.6", r)
        # Flags win over the section.
        r = WORLD.run(["sh", "-c", "ip -o -4 addr show eth0"],
                      flags=["--config", path, "--guest-ip", "172.16.0.2",
                             "--gateway-ip", "172.16.0.1"])
        self.assertIn("inet 172.16.0.2/30", r.stdout, r)

    def test_bad_config_is_one_precise_line_and_exit_2(self):
        import subprocess
        bad = dict(self.CONFIG, policy={"rules": [{"direction": "egress",
                                                   "destination": {"group": "privat"},
                                                   "action": "allow"}]})
        p = subprocess.run([WORLD.gateway, "run", "--config", self.write(bad), "--", "true"],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
        self.assertIn("$.policy.rules[0].destination.group", p.stderr)
        self.assertIn("privat", p.stderr)


if __name__ == "__main__":
    unittest.main()
