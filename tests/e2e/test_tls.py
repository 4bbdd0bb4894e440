#!/usr/bin/python3
"""End-to-end: TLS interception in `msb-gateway run` with real clients (curl h1 and h2, openssl
s_client, python3 urllib, nghttp, h2load) against real HTTPS servers in the test internet
namespace (tls_servers.py; certificates from a test CA the gateway is given with
--tls-upstream-ca-cert). The guest trusts the gateway's CA through the bundle `run` installs in
its mount namespace: no client here gets -k. Every behaviour is checked on both sides: what the
client saw, what the audit log says, and what the server received.
"""
import hashlib
import os
import subprocess
import time
import unittest

from harness import CANARIES, PYTHON, SERVER, SERVER2, shared_world

WORLD = None
CA = None


def setUpModule():
    global WORLD, CA
    WORLD = shared_world()
    CA = WORLD.start_tls()


def tls_flags(*extra):
    return ["--tls-upstream-ca-cert", CA, "--state-dir", WORLD.path("state")] + list(extra)


def curl(*args, flags=(), timeout=120):
    return WORLD.run(["curl", "-sS", "--max-time", "60"] + list(args), flags=tls_flags(*flags),
                     timeout=timeout)


class TlsCase(unittest.TestCase):
    def setUp(self):
        WORLD.https_requests()  # each test sees only the requests it caused


def sha_of_pattern(n, seed):
    import servers
    h = hashlib.sha256()
    for chunk in servers.stream_bytes(n, seed):
        h.update(chunk)
    return h.hexdigest()


class InterceptTest(TlsCase):
    def test_curl_h1_and_h2_verify_the_gateways_leaf_with_no_flags(self):
        for proto in ("--http1.1", "--http2"):
            with self.subTest(proto=proto):
                r = curl(proto, "-w", "\\n%{http_version} %{ssl_verify_result}",
                         "https://api.example.test/hello")
                self.assertEqual(r.returncode, 0, r)
                body, info = r.stdout.rsplit("\n", 1)
                self.assertEqual(body.strip(), "hello from %s" % SERVER, r)
                self.assertEqual(info, ("1.1 0" if proto == "--http1.1" else "2 0"), r)
                hello = r.events("tls.hello")
                self.assertEqual([(h["sni"], h["action"]) for h in hello],
                                 [("api.example.test", "intercept")], r)
                up = r.events("tls.upstream")[0]
                self.assertEqual((up["result"], up["verify"]), ("ok", True), r)
                self.assertEqual(up["alpn"], "http/1.1" if proto == "--http1.1" else "h2")
                guest = r.events("tls.guest")[0]
                self.assertEqual(guest["result"], "ok", r)
                req = r.events("http.request")
                self.assertEqual([(q["method"], q["path"], q["status"], q["proto"]) for q in req],
                                 [("GET", "/hello", 200,
                                   "h1" if proto == "--http1.1" else "h2")], r)
                self.assertEqual(r.events("flow.close")[-1]["reason"], "closed", r)
                got = WORLD.https_requests()
                self.assertEqual([(g["sni"], g["path"]) for g in got],
                                 [("api.example.test", "/hello")])

    def test_the_guest_sees_a_leaf_from_the_gateways_ca(self):
        r = WORLD.run(["sh", "-c", "echo | openssl s_client -connect api.example.test:443 "
                       "-servername api.example.test -verify_return_error 2>&1"],
                      flags=tls_flags())
        self.assertIn("Verify return code: 0 (ok)", r.stdout, r)
        self.assertIn("msb-gateway intercept CA", r.stdout, r)
        ca = subprocess.run([WORLD.gateway, "ca", "export", "--state-dir", WORLD.path("state")],
                            capture_output=True, text=True)
        self.assertTrue(ca.stdout.startswith("-----BEGIN CERTIFICATE-----"), ca)

    def test_sessions_are_resumed_on_both_legs(self):
        r = WORLD.run(["sh", "-c", "rm -f /tmp/s; for i in 1 2; do sleep 0.5 | openssl s_client "
                       "-connect api.example.test:443 -servername api.example.test -sess_out /tmp/s "
                       "$( [ -f /tmp/s ] && echo -sess_in /tmp/s ) 2>&1 | grep -E '^(New|Reused),';"
                       " sleep 0.3; done"], flags=tls_flags())
        self.assertEqual(r.stdout.split("\n")[1].split(",")[0], "Reused", r)
        up = r.events("tls.upstream")
        guest = r.events("tls.guest")
        self.assertEqual([u["resumed"] for u in up], [False, True], r)
        self.assertEqual([g["resumed"] for g in guest], [False, True], r)

    def test_python_urllib_verifies_without_flags(self):
        code = ("import urllib.request;"
                "print(urllib.request.urlopen('https://api.example.test/hello').read().decode())")
        r = WORLD.run([PYTHON, "-c", code], flags=tls_flags())
        self.assertEqual(r.stdout.strip(), "hello from %s" % SERVER, r)


class VerificationTest(TlsCase):
    def test_bad_upstream_certificates_fail_with_an_alert_and_a_reason(self):
        cases = {"expired.example.test": "expired", "selfsigned.example.test": "self_signed",
                 "wrongname.example.test": "wrong_name",
                 "noserverauth.example.test": "no_server_auth",
                 "untrusted.example.test": "untrusted"}
        for name, reason in cases.items():
            with self.subTest(name=name):
                r = curl("https://%s/hello" % name)
                self.assertEqual(r.returncode, 35, r)  # a TLS handshake error, not a hang
                self.assertIn("alert handshake failure", r.stderr, r)
                up = r.events("tls.upstream")
                self.assertEqual([u["result"] for u in up], [reason], r)
                self.assertEqual(r.events("tls.guest"), [], r)  # the guest was never answered
                self.assertEqual(r.events("flow.close")[-1]["reason"], "upstream_tls_failed")
                self.assertEqual(WORLD.https_requests(), [])  # no request reached the server

    def test_no_verify_for_admits_exactly_that_host(self):
        flags = ["--tls-no-verify-upstream-for", "expired.example.test"]
        r = curl("https://expired.example.test/hello", flags=flags)
        self.assertEqual(r.stdout.strip(), "hello from %s" % SERVER, r)
        up = r.events("tls.upstream")[0]
        self.assertEqual((up["result"], up["verify"]), ("ok", False), r)
        r = curl("https://selfsigned.example.test/hello", flags=flags)
        self.assertEqual(r.returncode, 35, r)
        WORLD.https_requests()

    def test_without_the_test_ca_the_test_servers_are_untrusted(self):
        r = WORLD.run(["curl", "-sS", "https://api.example.test/hello"],
                      flags=["--tls-intercept", "--state-dir", WORLD.path("state")])
        self.assertEqual(r.returncode, 35, r)
        self.assertEqual(r.events("tls.upstream")[0]["result"], "untrusted", r)
        self.assertEqual(WORLD.https_requests(), [])


class PolicyTest(TlsCase):
    RULES = ["--net-default-egress", "deny", "--net-rule", "allow@dns",
             "--net-rule", "allow@api.example.test", "--net-rule", "allow@other.example.test"]

    def test_a_spoofed_sni_to_an_address_never_resolved_is_refused(self):
        # curl --resolve skips DNS: 198.51.100.20 is pinned to no name the rules allow.
        r = curl("--resolve", "api.example.test:443:%s" % SERVER2, "https://api.example.test/",
                 flags=self.RULES)
        self.assertEqual(r.returncode, 7, r)  # refused at SYN time
        self.assertEqual(WORLD.https_requests(), [])

    def test_an_sni_claimed_for_another_names_address_gets_access_denied(self):
        # other.example.test resolves (and is pinned) to SERVER2; claiming api.example.test there
        # passes the SYN (an allowed name is pinned to the IP) but not the ClientHello.
        r = WORLD.run(["sh", "-c", "getent hosts other.example.test >/dev/null; curl -sS "
                       "--resolve api.example.test:443:%s https://api.example.test/" % SERVER2],
                      flags=tls_flags(*self.RULES))
        self.assertEqual(r.returncode, 35, r)
        self.assertIn("access denied", r.stderr, r)
        hello = r.events("tls.hello")
        self.assertEqual([(h["sni"], h["action"], h["reason"]) for h in hello],
                         [("api.example.test", "deny", "policy")], r)
        self.assertEqual(r.events("flow.close")[-1]["reason"], "denied")
        self.assertEqual(r.events("flow.connect"), [])  # the wrong server was not even dialled
        self.assertEqual(WORLD.https_requests(), [])

    def test_a_denied_sni_is_refused_even_on_a_direct_ip(self):
        r = curl("--resolve", "denied.example.test:443:%s" % SERVER, "https://denied.example.test/",
                 flags=["--deny-domain", "denied.example.test"])
        self.assertEqual(r.returncode, 35, r)
        self.assertIn("access denied", r.stderr, r)
        self.assertEqual(r.events("tls.hello")[0]["rule_text"], "deny@denied.example.test")
        self.assertEqual(WORLD.https_requests(), [])

    def test_host_header_fronting_is_misdirected_and_never_forwarded(self):
        for proto in ("--http1.1", "--http2"):
            with self.subTest(proto=proto):
                r = curl(proto, "-H", "Host: other.example.test", "-w", "%{http_code}",
                         "-o", "/dev/null", "https://api.example.test/secret")
                self.assertEqual(r.stdout.strip(), "421", r)
                req = r.events("http.request")
                self.assertEqual([q["refused"] for q in req], ["authority_mismatch"], r)
                self.assertEqual(WORLD.https_requests(), [])

    def test_smuggling_shapes_are_refused_and_never_forwarded(self):
        # Raw requests over a real TLS connection through the gateway: each gets the gateway's
        # 400 and the server sees nothing.
        script = r"""
import socket, ssl, sys
ctx = ssl.create_default_context()
cases = [
  b"POST / HTTP/1.1\r\nHost: api.example.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  b"GET / HTTP/1.1\r\nHost: api.example.test\r\nHost: other.example.test\r\n\r\n",
  b"GET / HTTP/1.1\r\nHost: api.example.test\r\nX-A: 1\r\n folded\r\n\r\n",
  b"POST / HTTP/1.1\r\nHost: api.example.test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
]
for req in cases:
    s = ctx.wrap_socket(socket.create_connection(("api.example.test", 443)),
                        server_hostname="api.example.test")
    s.sendall(req)
    print(s.recv(100).split(b"\r\n")[0].decode())
"""
        r = WORLD.run([PYTHON, "-c", script], flags=tls_flags())
        self.assertEqual(r.stdout.split("\n")[:4], ["HTTP/1.1 400 Bad Request"] * 4, r)
        refused = [q["refused"] for q in r.events("http.request")]
        self.assertEqual(refused, ["content_length_and_transfer_encoding", "duplicate_host",
                                   "obs_fold", "conflicting_content_length"], r)
        self.assertEqual(WORLD.https_requests(), [])

    def test_no_sni_is_decided_by_ip_and_verified_by_ip(self):
        r = curl("https://%s/hello" % SERVER)
        self.assertEqual(r.stdout.strip(), "hello from %s" % SERVER, r)
        hello = r.events("tls.hello")[0]
        self.assertEqual((hello["sni"], hello["action"], hello["reason"]),
                         (None, "intercept", "no_sni"), r)
        self.assertEqual(r.events("tls.upstream")[0]["result"], "ok", r)
        got = WORLD.https_requests()
        self.assertEqual([(g["sni"], g["authority"]) for g in got], [(None, SERVER)])

    def test_not_tls_and_bad_sni_are_closed_promptly_and_the_next_connection_works(self):
        script = (
            "import socket,time\n"
            "s=socket.create_connection(('%s',443),timeout=5)\n"
            "t=time.monotonic(); s.sendall(b'GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')\n"
            "print(repr(s.recv(100)), round(time.monotonic()-t, 1))\n" % SERVER)
        r = WORLD.run([PYTHON, "-c", script], flags=tls_flags())
        self.assertEqual(r.stdout.split()[0], "b''", r)  # closed, not answered
        self.assertLess(float(r.stdout.split()[1]), 2.0, r)
        self.assertEqual(r.events("tls.hello")[0]["reason"], "not_tls", r)
        self.assertEqual(r.events("flow.close")[-1]["reason"], "not_tls")
        r = WORLD.run(["sh", "-c", "echo | openssl s_client -connect %s:443 "
                       "-servername bad_name.example 2>&1; curl -sS https://api.example.test/hello"
                       % SERVER], flags=tls_flags())
        self.assertIn("unrecognized name", r.stdout, r)
        self.assertIn("hello from %s" % SERVER, r.stdout, r)
        self.assertEqual([h.get("reason") for h in r.events("tls.hello")],
                         ["invalid_sni", None], r)
        WORLD.https_requests()


class BypassTest(TlsCase):
    def test_bypass_shows_the_real_certificate(self):
        r = WORLD.run(["sh", "-c", "echo | openssl s_client -connect bypass.example.test:443 "
                       "-servername bypass.example.test 2>&1 | grep -E '^issuer'; "
                       "curl -sS --cacert %s https://bypass.example.test/hello" % CA],
                      flags=tls_flags("--tls-bypass", "*.bypass.example.test"))
        self.assertIn("msb-gateway e2e test CA", r.stdout, r)
        self.assertIn("hello from %s" % SERVER, r.stdout, r)
        self.assertEqual([h["action"] for h in r.events("tls.hello")], ["bypass", "bypass"], r)
        self.assertEqual(r.events("tls.upstream"), [], r)
        WORLD.https_requests()


class TransferTest(TlsCase):
    def test_large_downloads_and_uploads_are_byte_exact(self):
        size = 256 << 20
        for proto in ("--http1.1", "--http2"):
            with self.subTest(proto=proto, way="down"):
                out = WORLD.path("tls-down.bin")
                r = curl(proto, "-o", out, "https://api.example.test/bytes/%d?seed=5" % size)
                self.assertEqual(r.returncode, 0, r)
                with open(out, "rb") as f:
                    h = hashlib.sha256()
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                self.assertEqual(h.hexdigest(), sha_of_pattern(size, 5))
                os.unlink(out)
                self.assertEqual(r.events("http.request")[0]["bytes_down"], size, r)
            with self.subTest(proto=proto, way="up"):
                src = WORLD.path("tls-up.bin")
                with open(src, "wb") as f:
                    f.write(os.urandom(size))
                with open(src, "rb") as f:
                    h = hashlib.sha256()
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                r = curl(proto, "-T", src, "https://api.example.test/upload")
                self.assertEqual(r.stdout.strip(), "%d %s" % (size, h.hexdigest()), r)
                os.unlink(src)
        WORLD.https_requests()

    def test_parallel_connections_neither_cross_nor_lose_data(self):
        args = []
        for i in range(40):
            args += ["-o", WORLD.path("par-%d.bin" % i),
                     "https://api.example.test/bytes/%d?seed=%d" % (300000 + i, i)]
        r = curl("--parallel", "--parallel-max", "20", "--http1.1", *args)
        self.assertEqual(r.returncode, 0, r)
        for i in range(40):
            path = WORLD.path("par-%d.bin" % i)
            with open(path, "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(),
                                 sha_of_pattern(300000 + i, i), i)
            os.unlink(path)
        self.assertEqual(len(r.events("http.request")), 40, r)

    def test_a_135k_post_and_pipelined_keep_alive_requests(self):
        body = WORLD.path("post.bin")
        with open(body, "wb") as f:
            f.write(os.urandom(135000))
        r = curl("--data-binary", "@" + body, "https://api.example.test/post", "--next",
                 "https://api.example.test/hello", "https://api.example.test/hello")
        self.assertTrue(r.stdout.startswith("135000 "), r)
        self.assertEqual(r.stdout.count("hello from"), 2, r)
        self.assertEqual(len(r.events("tls.hello")), 1, r)  # one connection, kept alive
        self.assertEqual(len(r.events("http.request")), 3, r)
        WORLD.https_requests()

    def test_server_sent_events_arrive_as_they_are_sent(self):
        script = (
            "import urllib.request,time\n"
            "r=urllib.request.urlopen('https://api.example.test:8443/sse?n=4&ms=700')\n"
            "for line in r:\n"
            "    if line.startswith(b'data:'):\n"
            "        print(float(line.split()[-1]), time.time(), flush=True)\n")
        r = WORLD.run([PYTHON, "-c", script], flags=tls_flags("--tls-intercept-port", "8443"))
        lines = [tuple(map(float, l.split())) for l in r.stdout.strip().splitlines()]
        self.assertEqual(len(lines), 4, r)
        for sent, received in lines:
            self.assertLess(received - sent, 0.5, r)  # each event, not the whole stream at once
        self.assertLess(lines[0][1], lines[-1][0], r)  # the first arrived before the last was sent
        WORLD.https_requests()

    def test_h2_clients_and_grpc_style_trailers(self):
        r = WORLD.run(["sh", "-c", "nghttp -v https://api.example.test/trailers 2>&1 | "
                       "grep -E 'recv \\(stream_id=[0-9]+\\) grpc-'; h2load -n 200 -c 4 -m 10 "
                       "https://api.example.test/hello 2>&1 | grep -E '^requests:'"],
                      flags=tls_flags())
        self.assertIn("grpc-status: 0", r.stdout, r)
        self.assertIn("grpc-message: done", r.stdout, r)
        self.assertIn("200 succeeded, 0 failed", r.stdout, r)
        WORLD.https_requests()


class ConnectProxyTest(TlsCase):
    PROXY = "http://%s:3128" % SERVER2

    def test_https_through_a_connect_proxy_is_intercepted_and_keeps_alive(self):
        r = curl("-x", self.PROXY, "https://api.example.test/hello", "https://api.example.test/hello")
        self.assertEqual(r.stdout.count("hello from %s" % SERVER), 2, r)
        connect = r.events("http.connect")
        self.assertEqual([(c["target"], c["result"]) for c in connect],
                         [("api.example.test:443", "intercept")], r)
        hello = r.events("tls.hello")[0]
        self.assertEqual((hello["sni"], hello["action"], hello["connect_target"]),
                         ("api.example.test", "intercept", "api.example.test"), r)
        self.assertEqual(len(r.events("http.request")), 2, r)  # both through one tunnel
        got = WORLD.https_requests()
        self.assertEqual([g["proto"] for g in got], ["connect", "h2", "h2"])
        # python urllib with HTTPS_PROXY: HTTP/1.1 inside the tunnel
        code = ("import urllib.request;"
                "print(urllib.request.urlopen('https://api.example.test/hello').read().decode())")
        r = WORLD.run(["env", "HTTPS_PROXY=" + self.PROXY, PYTHON, "-c", code], flags=tls_flags())
        self.assertEqual(r.stdout.strip(), "hello from %s" % SERVER, r)

    def test_the_sni_inside_a_tunnel_must_be_the_connect_target(self):
        r = WORLD.run(["sh", "-c", "echo | openssl s_client -proxy %s:3128 -connect "
                       "api.example.test:443 -servername other.example.test 2>&1" % SERVER2],
                      flags=tls_flags())
        self.assertIn("access denied", r.stdout, r)
        hello = r.events("tls.hello")[0]
        self.assertEqual((hello["action"], hello["reason"]), ("deny", "sni_not_connect_target"), r)
        got = WORLD.https_requests()
        self.assertEqual([g["proto"] for g in got], ["connect"])  # nothing beyond the proxy

    def test_plain_http_through_the_proxy_port_is_spliced(self):
        r = WORLD.run(["curl", "-sS", "-w", "%{http_code}", "-x", self.PROXY,
                       "http://%s/hello" % SERVER], flags=tls_flags())
        self.assertEqual(r.stdout.strip(), "405", r)  # the test proxy only tunnels
        self.assertEqual(r.events("http.connect"), [], r)  # a GET, not a CONNECT: untouched
        self.assertEqual([g["method"] for g in WORLD.https_requests()], ["GET"])
        self.assertEqual(r.events("tls.hello"), [], r)


class DnsAndQuicTest(TlsCase):
    def test_dns_over_tls_is_answered_by_the_gateway(self):
        # Sent to the second nameserver, answered by the gateway's own (the first): whoami names
        # the server that answered. Nothing went to 198.51.100.54.
        r = WORLD.run(["dig", "+tls", "+short", "+time=3", "+tries=1", "@198.51.100.54",
                       "whoami.example.test"], flags=tls_flags())
        self.assertEqual(r.stdout.strip(), "198.51.100.53", r)
        q = r.events("dns.query")
        self.assertEqual([(e["proto"], e["name"], e["upstream"]) for e in q],
                         [("dot", "whoami.example.test", "198.51.100.53:53")], r)
        self.assertEqual(r.events("flow.decision")[0]["reason"], "dot", r)

    def test_quic_to_intercepted_ports_is_dropped(self):
        r = WORLD.client("udp", SERVER, 443, "c0ffee", flags=tls_flags())
        self.assertEqual(r.stdout.strip(), "TIMEOUT", r)
        self.assertEqual(r.events("flow.decision")[0]["reason"], "quic_blocked", r)
        r = WORLD.client("udp", SERVER, 443, "c0ffee", flags=tls_flags("--no-block-quic"))
        # Relayed: nothing listens on UDP 443 there, and the server's kernel says so.
        self.assertEqual(r.stdout.strip(), "ECONNREFUSED", r)
        [d] = [e for e in r.events("flow.decision") if e["proto"] == "udp"]
        self.assertEqual(d["action"], "allow", r)


class CaFlagsTest(TlsCase):
    def run_gw(self, *flags):
        return subprocess.run([WORLD.gateway, "run"] + list(flags) + ["--", "true"],
                              capture_output=True, text=True)

    def test_ca_flag_errors_are_one_precise_line(self):
        pki = os.path.dirname(CA)
        cases = [
            (["--intercept-ca", CA], "--intercept-ca needs --intercept-ca-key"),
            (["--intercept-ca", CA, "--intercept-ca-key", os.path.join(pki, "default.key")],
             "does not match"),
            (["--intercept-ca", os.path.join(pki, "default.pem"),
              "--intercept-ca-key", os.path.join(pki, "default.key")], "is not a CA certificate"),
            (["--tls-intercept-ca-cert", "/nonexistent.pem", "--tls-intercept-ca-key", CA],
             "/nonexistent.pem"),
            (["--tls-bypass", "*.*.example"], "--tls-bypass"),
            (["--tls-upstream-ca-cert-for", "nopattern"], "PATTERN=PEM"),
        ]
        for flags, needle in cases:
            with self.subTest(flags=flags):
                p = self.run_gw(*flags)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertIn(needle, p.stderr)

    def test_an_operator_ca_signs_the_leaves(self):
        pki = os.path.dirname(CA)
        r = WORLD.run(["sh", "-c", "echo | openssl s_client -connect api.example.test:443 "
                       "-servername api.example.test -verify_return_error 2>&1 | grep -E "
                       "'^issuer|Verify return'"],
                      flags=["--tls-upstream-ca-cert", CA, "--intercept-ca", CA,
                             "--intercept-ca-key", os.path.join(pki, "ca.key")])
        self.assertIn("msb-gateway e2e test CA", r.stdout, r)
        self.assertIn("Verify return code: 0", r.stdout, r)
        WORLD.https_requests()


if __name__ == "__main__":
    unittest.main()
