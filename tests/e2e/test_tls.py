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


def sha_of_pattern(n, seed):
    import servers
    h = hashlib.sha256()
    for chunk in servers.stream_bytes(n, seed):
        h.update(chunk)
    return h.hexdigest()


class InterceptTest(unittest.TestCase):
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

    def test_python_urllib_verifies_without_flags(self):
        code = ("import urllib.request;"
                "print(urllib.request.urlopen('https://api.example.test/hello').read().decode())")
        r = WORLD.run([PYTHON, "-c", code], flags=tls_flags())
        self.assertEqual(r.stdout.strip(), "hello from %s" % SERVER, r)


if __name__ == "__main__":
    unittest.main()
