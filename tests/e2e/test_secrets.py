#!/usr/bin/python3
"""End-to-end: secret injection in `msb-gateway run --secret API_KEY@api.example.test` with real
clients (curl h1 and h2, python3 urllib, raw sockets over TLS) against the HTTPS servers of the
test internet (tls_servers.py), which record exactly what they received. The real value lives only
in the gateway's environment; the guest holds the placeholder. Every case checks what the server
received (the value at the bound host; nothing at all elsewhere), what the guest saw, and the
audit log.
"""
import gzip
import hashlib
import json
import os
import signal
import subprocess
import time
import unittest

from harness import PYTHON, SERVER, SERVER2, shared_world

WORLD = None
CA = None
VALUE = "sk-test-REAL-4f9c2e7a1b"  # the real credential (only the gateway and api see it)
PLACEHOLDER = "$MSB_API_KEY"
ENV = {"API_KEY": VALUE}


def setUpModule():
    global WORLD, CA
    WORLD = shared_world()
    CA = WORLD.start_tls()


def flags(*extra, secret="API_KEY@api.example.test"):
    out = ["--tls-upstream-ca-cert", CA, "--state-dir", WORLD.path("state")]
    if secret:
        out += ["--secret", secret]
    return out + list(extra)


def run(cmd, *extra, env=ENV, secret="API_KEY@api.example.test", timeout=120):
    return WORLD.run(cmd, flags=flags(*extra, secret=secret), env=env, timeout=timeout)


def curl(*args, extra=(), **kw):
    return run(["curl", "-sS", "--max-time", "60"] + list(args), *extra, **kw)


def sh(script, *extra, **kw):
    return run(["sh", "-c", script], *extra, **kw)


def header_values(req, name):
    return [v for k, v in req["headers"] if k.lower() == name]


def config_file(secret_overrides=None, top=None):
    entry = {"env_var": "API_KEY", "source": {"kind": "env", "var": "API_KEY"},
             "allowed_hosts": [{"exact": "api.example.test"}],
             "injection": {"headers": True, "basic_auth": True, "query_params": True,
                           "body": True}}
    entry.update(secret_overrides or {})
    doc = {"policy": {"default_egress": "allow", "default_ingress": "deny"},
           "dns": {"nameservers": ["198.51.100.53"]},
           "secrets": {"secrets": [entry]}}
    doc.update(top or {})
    path = WORLD.path("secrets-config-%d.json" % time.monotonic_ns())
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


class SecretCase(unittest.TestCase):
    def setUp(self):
        WORLD.https_requests()

    def assertNoValue(self, r):
        for text in (r.stdout, r.stderr, json.dumps(r.audit)):
            self.assertNotIn(VALUE, text, r)


class InjectionTest(SecretCase):
    def test_curl_bearer_header_reaches_the_bound_host_and_the_guest_holds_the_placeholder(self):
        for proto in ("--http1.1", "--http2"):
            with self.subTest(proto=proto):
                r = sh('printf "%%s\\n" "$API_KEY"; curl -sS %s -H "Authorization: Bearer $API_KEY"'
                       ' https://api.example.test/headers' % proto)
                self.assertEqual(r.returncode, 0, r)
                first, echoed = r.stdout.split("\n", 1)
                self.assertEqual(first, PLACEHOLDER, r)  # CMD's environment: the placeholder
                got = WORLD.https_requests()
                self.assertEqual(len(got), 1, got)
                self.assertEqual(header_values(got[0], "authorization"), ["Bearer " + VALUE])
                # The echo of the request's headers comes back scrubbed.
                self.assertNotIn(VALUE, echoed, r)
                self.assertIn("Bearer " + PLACEHOLDER, echoed, r)
                req = r.events("http.request")
                self.assertEqual([q.get("secrets_injected") for q in req], [["API_KEY"]], r)
                self.assertNoValue(r)

    def test_python_urllib_with_basic_auth(self):
        script = r"""
import base64, os, urllib.request
cred = base64.b64encode(("user:" + os.environ["API_KEY"]).encode()).decode()
req = urllib.request.Request("https://api.example.test/hello",
                             headers={"Authorization": "Basic " + cred})
print(urllib.request.urlopen(req).read().decode().strip())
"""
        r = run([PYTHON, "-c", script])
        self.assertEqual(r.stdout.strip(), "hello from %s" % SERVER, r)
        got = WORLD.https_requests()
        import base64
        self.assertEqual(header_values(got[0], "authorization"),
                         ["Basic " + base64.b64encode(("user:" + VALUE).encode()).decode()])
        self.assertNoValue(r)

    def test_placeholder_without_injection_scope_passes_unchanged(self):
        # Query scope is off for --secret: the bound host gets the placeholder, not the value.
        r = curl("https://api.example.test/hello?key=%24MSB_API_KEY")
        self.assertEqual(r.returncode, 0, r)
        got = WORLD.https_requests()
        self.assertEqual(got[0]["path"], "/hello?key=%24MSB_API_KEY")


class ViolationTest(SecretCase):
    def check_blocked(self, r, location, form, server_gets_nothing=True):
        self.assertRegex(r.stdout, r"^HTTP/(1\.1|2) 403", r)
        self.assertIn("x-msb-blocked: secret API_KEY not allowed for", r.stdout, r)
        v = r.events("secret.violation")
        self.assertEqual([(e["env_var"], e["location"], e["form"], e["action"]) for e in v],
                         [("API_KEY", location, form, "block-and-log")], r)
        if server_gets_nothing:
            self.assertEqual(WORLD.https_requests(), [])
        self.assertNoValue(r)

    def test_other_host_is_blocked_and_receives_nothing(self):
        for proto in ("--http1.1", "--http2"):
            with self.subTest(proto=proto):
                r = sh('curl -sS -i %s -H "Authorization: Bearer $API_KEY" '
                       'https://other.example.test/hello' % proto)
                self.check_blocked(r, "header", "raw")

    def test_sni_spoof_to_another_address_is_blocked(self):
        # The guest dials other.example.test's address but names api.example.test: that address
        # is not pinned to api.example.test, so the secret is not eligible.
        r = sh('curl -sS -i --connect-to api.example.test:443:other.example.test:443 '
               '-H "Authorization: Bearer $API_KEY" https://api.example.test/hello')
        self.check_blocked(r, "header", "raw")

    def test_hard_coded_ip_is_blocked(self):
        r = sh('curl -sS -i --resolve api.example.test:443:%s '
               '-H "Authorization: Bearer $API_KEY" https://api.example.test/hello' % SERVER)
        self.check_blocked(r, "header", "raw")

    def test_host_header_fronting_is_refused(self):
        r = sh('curl -sS -i -H "Host: other.example.test" -H "Authorization: Bearer $API_KEY" '
               'https://api.example.test/hello')
        self.assertIn("421", r.stdout, r)
        self.assertEqual(WORLD.https_requests(), [])
        self.assertNoValue(r)

    def test_encoded_placeholders_are_found(self):
        r = curl("-i", "https://other.example.test/hello?k=%24MSB%5FAPI%5FKEY")
        self.check_blocked(r, "query", "percent_decoded")
        r = curl("-i", "-H", 'X-Data: {"k": "\\u0024MSB_API_KEY"}', "https://other.example.test/")
        self.check_blocked(r, "header", "json_unescaped")

    def test_the_connection_stays_usable_after_a_block(self):
        for proto in ("--http1.1", "--http2"):
            with self.subTest(proto=proto):
                self.usable_after_block(proto)

    def usable_after_block(self, proto):
        r = sh('curl -sS -i %s -H "X-K: $API_KEY" https://other.example.test/hello '
               '--next -sS %s https://other.example.test/hello' % (proto, proto))
        self.assertIn("403", r.stdout, r)
        self.assertIn("hello from %s" % SERVER2, r.stdout, r)
        self.assertEqual(len(r.events("tls.guest")), 1, r)  # one connection for both
        got = WORLD.https_requests()
        self.assertEqual([g["path"] for g in got], ["/hello"])
        self.assertEqual(header_values(got[0], "x-k"), [])

    def test_block_and_terminate_ends_the_sandbox(self):
        t0 = time.monotonic()
        r = sh('curl -sS -H "X-K: $API_KEY" https://other.example.test/hello; sleep 60',
               "--on-secret-violation", "block-and-terminate")
        self.assertLess(time.monotonic() - t0, 30, r)
        self.assertNotEqual(r.returncode, 0, r)
        self.assertEqual([e["action"] for e in r.events("secret.violation")],
                         ["block-and-terminate"], r)
        self.assertEqual(r.events("gateway.stop")[-1]["reason"], "secret_violation", r)
        self.assertEqual(WORLD.https_requests(), [])

    def test_passthrough_forwards_the_placeholder_never_the_value(self):
        r = sh('curl -sS -H "X-K: $API_KEY" https://other.example.test/hello',
               "--on-secret-violation", "passthrough")
        self.assertEqual(r.stdout.strip(), "hello from %s" % SERVER2, r)
        got = WORLD.https_requests()
        self.assertEqual(header_values(got[0], "x-k"), [PLACEHOLDER])


class BodyTest(SecretCase):
    def body_case(self, chunked, proto="--http1.1"):
        part = os.urandom(1 << 20)
        body = part + PLACEHOLDER.encode() + part
        src = WORLD.path("body.bin")
        with open(src, "wb") as f:
            f.write(body)
        want = part + VALUE.encode() + part
        cfg = config_file()
        extra = ["-H", "Transfer-Encoding: chunked"] if chunked else []
        r = WORLD.run(["curl", "-sS", proto, "--data-binary", "@" + src] + extra +
                      ["https://api.example.test/upload"],
                      flags=["--config", cfg, "--tls-upstream-ca-cert", CA, "--state-dir",
                             WORLD.path("state")], env=ENV)
        os.unlink(src)
        self.assertEqual(r.stdout.strip(),
                         "%d %s" % (len(want), hashlib.sha256(want).hexdigest()), r)
        self.assertNoValue(r)

    def test_content_length_body_is_substituted_exactly(self):
        self.body_case(chunked=False)

    def test_chunked_body_is_substituted_exactly(self):
        self.body_case(chunked=True)

    def test_http2_data_is_substituted_exactly_across_frames(self):
        self.body_case(chunked=False, proto="--http2")

    def test_http2_header_and_body_in_one_request(self):
        cfg = config_file()
        r = WORLD.run(["sh", "-c", 'curl -sS --http2 -H "Authorization: Bearer $API_KEY" '
                       '--data-binary "{\\"key\\": \\"$API_KEY\\"}" '
                       'https://api.example.test/upload'],
                      flags=["--config", cfg, "--tls-upstream-ca-cert", CA, "--state-dir",
                             WORLD.path("state")], env=ENV)
        want = ('{"key": "%s"}' % VALUE).encode()
        self.assertEqual(r.stdout.strip(), "%d %s" % (len(want), hashlib.sha256(want).hexdigest()),
                         r)
        got = WORLD.https_requests()
        self.assertEqual(got[0]["proto"], "h2")
        self.assertEqual(header_values(got[0], "authorization"), ["Bearer " + VALUE])
        self.assertNoValue(r)

    def test_json_escaped_placeholder_in_a_body_to_another_host_is_blocked(self):
        cfg = config_file()
        r = WORLD.run(["curl", "-sS", "-i", "--http1.1", "--data-binary",
                       '{"k": "\\u0024MSB_API_KEY"}', "https://other.example.test/upload"],
                      flags=["--config", cfg, "--tls-upstream-ca-cert", CA, "--state-dir",
                             WORLD.path("state")], env=ENV)
        self.assertIn("403", r.stdout.split("\n")[0], r)
        self.assertEqual([(e["location"], e["form"]) for e in r.events("secret.violation")],
                         [("body", "json_unescaped")], r)
        self.assertEqual(WORLD.https_requests(), [])

    def test_gzip_body_with_a_placeholder_is_refused_and_without_one_is_byte_exact(self):
        cfg = config_file()
        for payload, blocked in ((b'{"key": "%s"}' % PLACEHOLDER.encode(), True),
                                 (os.urandom(4096), False)):
            src = WORLD.path("body.gz")
            data = gzip.compress(payload)
            with open(src, "wb") as f:
                f.write(data)
            r = WORLD.run(["curl", "-sS", "-i", "--http1.1", "-H", "Content-Encoding: gzip",
                           "--data-binary", "@" + src, "https://api.example.test/upload"],
                          flags=["--config", cfg, "--tls-upstream-ca-cert", CA, "--state-dir",
                                 WORLD.path("state")], env=ENV)
            os.unlink(src)
            if blocked:
                self.assertIn("403", r.stdout, r)
                self.assertIn("compressed", r.stdout, r)
                self.assertEqual(WORLD.https_requests(), [])
            else:
                self.assertIn("%d %s" % (len(data), hashlib.sha256(data).hexdigest()), r.stdout,
                              r)


class StartupTest(SecretCase):
    def test_unset_or_inline_values_and_uninjectable_secrets_exit_2(self):
        r = run(["true"], env={})
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("API_KEY", r.stderr, r)
        r = run(["true"], secret="API_KEY=hunter2secret@api.example.test")
        self.assertEqual(r.returncode, 2, r)
        self.assertNotIn("hunter2secret", r.stderr, r)
        self.assertIn("must not appear on the command line", r.stderr, r)
        r = run(["true"], "--tls-bypass", "*.example.test")
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("bypass", r.stderr, r)
        cfg = config_file(top={"tls": {"enabled": False}})
        r = WORLD.run(["true"], flags=["--config", cfg], env=ENV)
        self.assertEqual(r.returncode, 2, r)
        self.assertIn("can never be injected", r.stderr, r)

    def test_debug_logging_never_shows_the_value(self):
        r = sh('curl -sS -H "Authorization: Bearer $API_KEY" https://api.example.test/hello; '
               'curl -sS -H "X-K: $API_KEY" https://other.example.test/hello',
               "--log-level", "debug")
        self.assertIn("hello from", r.stdout, r)
        self.assertNoValue(r)


class PlainHttpTest(SecretCase):
    def test_placeholder_to_another_host_over_plain_http_is_blocked(self):
        r = sh('curl -sS -i -H "X-K: $API_KEY" http://other.example.test/headers')
        self.assertRegex(r.stdout, r"^HTTP/1.1 403", r)
        self.assertIn("x-msb-blocked: secret API_KEY not allowed for other.example.test", r.stdout)
        self.assertEqual([(e["location"], e["form"]) for e in r.events("secret.violation")],
                         [("header", "raw")], r)
        self.assertEqual([q.get("refused") for q in r.events("http.request")],
                         ["secret_violation"], r)

    def test_bound_host_over_plain_http_gets_the_placeholder_not_the_value(self):
        # require_tls_identity (the default): no TLS, no value; the allowed host is not a
        # violation, and the request goes through unchanged.
        r = sh('curl -sS -H "X-K: $API_KEY" http://api.example.test/headers')
        self.assertEqual(r.returncode, 0, r)
        self.assertTrue(r.stdout.startswith("["), r)
        self.assertIn(["X-K", PLACEHOLDER], json.loads(r.stdout), r)
        self.assertNoValue(r)

    def test_opting_out_of_tls_identity_substitutes_over_plain_http_and_scrubs_the_echo(self):
        cfg = config_file({"require_tls_identity": False,
                           "injection": {"headers": True}})
        r = WORLD.run(["sh", "-c", 'curl -sS -H "X-K: $API_KEY" http://api.example.test/headers'],
                      flags=["--config", cfg, "--tls-upstream-ca-cert", CA, "--state-dir",
                             WORLD.path("state")], env=ENV)
        # The server saw the value (it echoes the headers); the guest sees the placeholder.
        self.assertIn(["X-K", PLACEHOLDER], json.loads(r.stdout), r)
        self.assertEqual([q.get("secrets_injected") for q in r.events("http.request")],
                         [["API_KEY"]], r)
        self.assertNoValue(r)

    def test_other_plain_tcp_is_spliced_untouched(self):
        r = run([PYTHON, "-c", "import socket; s = socket.create_connection(('%s', 7)); "
                 "s.sendall(b'not http $MSB_API_KEY'); s.shutdown(1); "
                 "print(s.recv(200).decode().strip())" % SERVER2])
        import hashlib as h
        self.assertEqual(r.stdout.strip(), "%d %s" % (
            len(b"not http $MSB_API_KEY"), h.sha256(b"not http $MSB_API_KEY").hexdigest()), r)


class IsolationTest(SecretCase):
    def test_cmd_finds_the_value_nowhere(self):
        value_file = WORLD.path("iso-key.txt")
        with open(value_file, "w") as f:
            f.write("file-VALUE-77341\n")
        cfg = config_file({"source": {"kind": "file", "path": value_file}})
        probe = r"""
import glob, os, sys
found = []
for path in glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline") + glob.glob(
        "/proc/*/mem") + [sys.argv[1], sys.argv[2]]:
    try:
        data = open(path, "rb").read()
    except OSError:
        continue
    # The values reach this probe reversed, so its own argv does not hold them.
    for v in (b"14377-EULAV-elif"[::-1], sys.argv[3][::-1].encode()):
        if v in data:
            found.append(path)
print("env", os.environ.get("API_KEY"))
print("found", found)
"""
        r = WORLD.run([PYTHON, "-c", probe, value_file, cfg, VALUE[::-1]],
                      flags=["--config", cfg, "--tls-upstream-ca-cert", CA, "--state-dir",
                             WORLD.path("state"), "--secret", "OTHER_KEY@api.example.test"],
                      env=dict(ENV, OTHER_KEY=VALUE))
        self.assertIn("env " + PLACEHOLDER, r.stdout, r)
        self.assertIn("found []", r.stdout, r)


class RotationTest(SecretCase):
    def test_sighup_reloads_a_file_value_and_keeps_the_placeholder(self):
        value_file = WORLD.path("api-key.txt")
        with open(value_file, "w") as f:
            f.write("old-value-111\n")
        cfg = config_file({"source": {"kind": "file", "path": value_file}})
        trigger = WORLD.path("rotate.trigger")
        if os.path.exists(trigger):
            os.unlink(trigger)
        audit = WORLD.path("rotation-audit.jsonl")
        script = ('curl -sS -H "X-K: $API_KEY" https://api.example.test/hello; '
                  'i=0; while [ ! -e %s ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; '
                  'curl -sS -H "X-K: $API_KEY" https://api.example.test/hello' % trigger)
        p = subprocess.Popen([WORLD.gateway, "run", "--audit-log", audit, "--config", cfg,
                              "--tls-upstream-ca-cert", CA, "--state-dir", WORLD.path("state"),
                              "--", "sh", "-c", script], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 30
            got = []
            while not got and time.monotonic() < deadline:
                time.sleep(0.1)
                got = WORLD.https_requests()
            self.assertEqual([header_values(g, "x-k") for g in got], [["old-value-111"]])
            with open(value_file, "w") as f:
                f.write("new-value-222\n")
            p.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with open(audit) as f:
                    if "secrets.reload" in f.read():
                        break
                time.sleep(0.1)
            open(trigger, "w").close()
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, err)
        got = WORLD.https_requests()
        self.assertEqual([header_values(g, "x-k") for g in got], [["new-value-222"]])
        with open(audit) as f:
            events = [json.loads(line) for line in f]
        self.assertEqual([e["result"] for e in events if e["event"] == "secrets.reload"], ["ok"])


if __name__ == "__main__":
    unittest.main()
