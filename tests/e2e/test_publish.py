#!/usr/bin/python3
"""End-to-end: published ports (-p/--publish, the config file's "ports"). A server inside the
sandbox (publish_server.py) is reached from the host side of `msb-gateway run`, which is this
suite's private test host namespace: TCP (a line, and a 4 MiB download) and UDP, an IPv6 bind, the
config file's section; an ingress-denied peer is reset (ECONNRESET) and never reaches the guest;
a published port with nothing listening in the guest resets the peer at once; start-up errors
(port in use, bad spec) stop before the command runs. The same for `serve --netns`.
"""
import json
import os
import signal
import socket
import subprocess
import time
import unittest

from harness import DNS1, PYTHON, expected_sha, sh, shared_world

WORLD = None
HERE = os.path.dirname(os.path.abspath(__file__))
GUEST_SERVER = os.path.join(HERE, "publish_server.py")
GUEST = "172.16.0.2"


def setUpModule():
    global WORLD
    WORLD = shared_world()


def tcp_request(port, line, host="127.0.0.1", timeout=10):
    """Connects to host:port, sends LINE, reads to EOF. Returns (result, bytes, seconds): result
    is "ok", "ECONNRESET", "ECONNREFUSED" or "timeout"."""
    start = time.monotonic()
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    data = b""
    try:
        s.connect((host, port))
        s.sendall(line + b"\n")
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            data += chunk
        return "ok", data, time.monotonic() - start
    except ConnectionResetError:
        return "ECONNRESET", data, time.monotonic() - start
    except ConnectionRefusedError:
        return "ECONNREFUSED", data, time.monotonic() - start
    except socket.timeout:
        return "timeout", data, time.monotonic() - start
    finally:
        s.close()


def udp_request(port, payload, host="127.0.0.1", timeout=1.0, tries=5):
    """Sends PAYLOAD to host:port up to TRIES times; returns the first answer or None."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        for _ in range(tries):
            s.sendto(payload, (host, port))
            try:
                return s.recvfrom(65535)[0]
            except socket.timeout:
                continue
        return None
    finally:
        s.close()


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class Gateway:
    """`msb-gateway run FLAGS -- publish_server.py` in the background (or any command)."""
    count = 0

    def __init__(self, flags, cmd=None, wait_ready=True):
        Gateway.count += 1
        n = Gateway.count
        self.audit_path = WORLD.path("publish-audit-%d.jsonl" % n)
        self.log_path = WORLD.path("publish-guest-%d.jsonl" % n)
        cmd = cmd or [PYTHON, GUEST_SERVER, self.log_path, "8080", "9090"]
        argv = [WORLD.gateway, "run", "--dns-nameserver", DNS1, "--audit-log",
                self.audit_path] + list(flags) + ["--"] + cmd
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        if wait_ready:
            self.wait_ready()

    def wait_ready(self):
        deadline = time.monotonic() + 30
        while not any(e["event"] == "ready" for e in self.guest_log()):
            if self.proc.poll() is not None:
                raise AssertionError("gateway exited: %s" % self.proc.stderr.read())
            if time.monotonic() > deadline:
                raise AssertionError("the guest server did not start")
            time.sleep(0.05)

    def guest_log(self):
        return read_jsonl(self.log_path)

    def stop(self, signal_first=True):
        """Ends the run (SIGTERM, forwarded to the command, unless `signal_first` is false: then
        it waits for the gateway to exit by itself) and returns its exit status."""
        if signal_first and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, self.stderr = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, self.stderr = self.proc.communicate()
        return self.proc.returncode

    def events(self, name=None):
        ev = read_jsonl(self.audit_path)
        return [e for e in ev if name is None or e["event"] == name]

    def flows(self):
        out = {}
        for e in self.events():
            if "flow" in e:
                out.setdefault(e["flow"], {})[e["event"].split(".", 1)[1]] = e
        return out

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class PublishRunTest(unittest.TestCase):
    def test_tcp_and_udp_published_ports_reach_the_guest(self):
        with Gateway(["-p", "18080:8080", "--publish", "19090:9090/udp"]) as gw:
            result, data, _ = tcp_request(18080, b"hello")
            self.assertEqual((result, data), ("ok", b"echo:hello\n"))
            # A bulk download through the splice, byte-exact.
            size = 4 << 20
            result, data, _ = tcp_request(18080, b"big %d" % size, timeout=60)
            self.assertEqual(result, "ok")
            self.assertEqual(len(data), size)
            import hashlib
            self.assertEqual(hashlib.sha256(data).hexdigest(), expected_sha(size))
            # UDP from two peer sockets (udp_request opens one each time): two mappings.
            self.assertEqual(udp_request(19090, b"ping"), b"udp:ping")
            self.assertEqual(udp_request(19090, b"x" * 3000), b"udp:" + b"x" * 3000)
            guest_peers = {e["peer"] for e in gw.guest_log() if e["event"] in ("tcp", "udp")}
            self.assertEqual(guest_peers, {"172.16.0.1"})  # the guest sees the gateway
        flows = [f for f in gw.flows().values() if f.get("decision", {}).get("dir") == "ingress"]
        tcp = [f for f in flows if f["decision"]["proto"] == "tcp"]
        self.assertEqual(len(tcp), 2, gw.events())
        d = tcp[0]["decision"]
        self.assertEqual((d["action"], d["group"], d["rule"], d["rule_text"], d["published"]),
                         ("allow", "loopback", None, "default ingress", "127.0.0.1:18080:8080/tcp"))
        self.assertTrue(d["src"].startswith("127.0.0.1:"), d)
        self.assertEqual(d["dst"], GUEST + ":8080")
        self.assertEqual(tcp[0]["connect"]["result"], "ok")
        self.assertEqual(tcp[0]["close"]["reason"], "closed")
        self.assertEqual(tcp[0]["close"]["dir"], "ingress")
        self.assertEqual(tcp[0]["close"]["bytes_up"], len(b"echo:hello\n"))
        self.assertEqual(tcp[0]["close"]["bytes_down"], len(b"hello\n"))
        self.assertEqual(tcp[1]["close"]["bytes_up"], 4 << 20)
        udp = [f for f in flows if f["decision"]["proto"] == "udp"]
        self.assertEqual(len(udp), 2, gw.events())  # two peer sockets, two mappings
        self.assertEqual(udp[0]["decision"]["action"], "allow")
        self.assertEqual(udp[0]["close"]["reason"], "shutdown")
        self.assertEqual(udp[0]["close"]["bytes_down"], 4)
        start = gw.events("gateway.start")[0]
        self.assertEqual(start["published"], ["127.0.0.1:18080:8080/tcp", "127.0.0.1:19090:9090/udp"])
        stop = gw.events("gateway.stop")[0]
        self.assertEqual((stop["publish"]["tcp_accepted"], stop["publish"]["tcp_denied"],
                          stop["publish"]["udp_in"]), (2, 0, 2), stop)

    def test_ingress_denied_peer_sees_econnreset(self):
        for flags in (["--net-default-ingress", "deny"], ["--net-rule", "deny:ingress@loopback"]):
            with self.subTest(flags=flags):
                with Gateway(["-p", "18081:8080", "-p", "19091:9090/udp"] + flags) as gw:
                    result, data, elapsed = tcp_request(18081, b"hello")
                    self.assertEqual(result, "ECONNRESET", data)
                    self.assertLess(elapsed, 2.0)
                    self.assertIsNone(udp_request(19091, b"ping", timeout=0.3, tries=3))
                    self.assertEqual([e for e in gw.guest_log() if e["event"] != "ready"], [])
                decisions = gw.events("flow.decision")
                self.assertEqual([(d["proto"], d["dir"], d["action"]) for d in decisions],
                                 [("tcp", "ingress", "deny"), ("udp", "ingress", "deny")])
                self.assertEqual(gw.events("flow.connect"), [])
                self.assertEqual(gw.events("flow.close"), [])
        # A positive control in the same world: an allow rule before the deny lets it through.
        with Gateway(["-p", "18081:8080", "--net-default-ingress", "deny", "--net-rule",
                      "allow:ingress@127.0.0.1:tcp:8080"]) as gw:
            self.assertEqual(tcp_request(18081, b"hi")[:2], ("ok", b"echo:hi\n"))
        d = gw.events("flow.decision")[0]
        self.assertEqual((d["action"], d["rule"]), ("allow", 0))

    def test_nothing_listening_in_the_guest_resets_at_once(self):
        with Gateway(["-p", "18082:8099"]) as gw:
            result, _, elapsed = tcp_request(18082, b"hello")
            self.assertEqual(result, "ECONNRESET")
            self.assertLess(elapsed, 2.0)
        [f] = gw.flows().values()
        self.assertEqual(f["connect"]["result"], "refused")
        self.assertEqual(f["connect"]["upstream"], GUEST + ":8099")
        self.assertEqual(f["close"]["reason"], "guest_refused")

    def test_connection_limit_resets_the_next_peer(self):
        with Gateway(["-p", "18083:8080", "--max-connections", "1"]) as gw:
            # One flow open (the guest server holds it until it reads a line), the next is reset.
            held = socket.create_connection(("127.0.0.1", 18083), timeout=10)
            time.sleep(0.5)
            result, _, _ = tcp_request(18083, b"second")
            self.assertEqual(result, "ECONNRESET")
            held.sendall(b"first\n")
            self.assertEqual(held.recv(100), b"echo:first\n")
            held.close()
        reasons = [d.get("reason") for d in gw.events("flow.decision")]
        self.assertEqual(reasons, [None, "max_connections"])

    def test_ipv6_bind_and_config_file_ports(self):
        config = WORLD.path("publish-config.json")
        with open(config, "w") as f:
            json.dump({"dns": {"nameservers": [DNS1]},
                       "ports": [{"host_port": 18084, "guest_port": 8080, "protocol": "Tcp"},
                                 {"host_port": 19094, "guest_port": 9090, "protocol": "udp",
                                  "host_bind": "::1"}]}, f)
        with Gateway(["--config", config, "-p", "[::1]:18085:8080"]) as gw:
            self.assertEqual(tcp_request(18084, b"a")[:2], ("ok", b"echo:a\n"))
            self.assertEqual(tcp_request(18085, b"b", host="::1")[:2], ("ok", b"echo:b\n"))
            self.assertEqual(udp_request(19094, b"c", host="::1"), b"udp:c")
        srcs = [d["src"] for d in gw.events("flow.decision")]
        self.assertTrue(srcs[1].startswith("[::1]:"), srcs)

    def test_startup_errors_stop_before_the_command(self):
        marker = WORLD.path("publish-marker")
        busy = socket.socket()
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 18086))
        busy.listen(1)
        try:
            gw = Gateway(["-p", "18086:80"], cmd=["touch", marker], wait_ready=False)
            self.assertEqual(gw.stop(signal_first=False), 1)
            self.assertIn('published port "127.0.0.1:18086:80/tcp": cannot bind 127.0.0.1:18086: '
                          'Address already in use', gw.stderr)
            self.assertFalse(os.path.exists(marker))
        finally:
            busy.close()
        for spec, text in (("18086:99999", 'guest port "99999": out of range'),
                           ("localhost:1:2", 'bind address "localhost"'),
                           ("1:2/sctp", 'protocol "sctp"')):
            p = subprocess.run([WORLD.gateway, "run", "-p", spec, "--", "touch", marker],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            self.assertIn(text, p.stderr)
        self.assertFalse(os.path.exists(marker))
        # Beyond loopback: a warning, then it works.
        with Gateway(["-p", "0.0.0.0:18087:8080"]) as gw:
            self.assertEqual(tcp_request(18087, b"w")[:2], ("ok", b"echo:w\n"))
        self.assertIn("listens beyond loopback", gw.stderr)


class PublishServeTest(unittest.TestCase):
    def test_serve_netns_publishes_too(self):
        guest = "msbt-pubguest-%d" % os.getpid()
        audit = WORLD.path("publish-serve-audit.jsonl")
        log = WORLD.path("publish-serve-guest.jsonl")
        sh("ip", "netns", "add", guest)
        g = ["ip", "netns", "exec", guest]
        gw = subprocess.Popen([WORLD.gateway, "serve", "--netns", "/run/netns/" + guest,
                               "--audit-log", audit, "--dns-nameserver", DNS1,
                               "-p", "18180:8080", "-p", "19190:9090/udp"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        srv = None
        try:
            deadline = time.monotonic() + 15
            while GUEST not in subprocess.run(g + ["ip", "-o", "-4", "addr", "show"],
                                              capture_output=True, text=True).stdout:
                self.assertIsNone(gw.poll(), gw.stderr.read() if gw.poll() is not None else "")
                self.assertLess(time.monotonic(), deadline, "the guest interface did not appear")
                time.sleep(0.05)
            srv = subprocess.Popen(g + [PYTHON, GUEST_SERVER, log, "8080", "9090"])
            deadline = time.monotonic() + 15
            while not any(e["event"] == "ready" for e in read_jsonl(log)):
                self.assertLess(time.monotonic(), deadline, "the guest server did not start")
                time.sleep(0.05)
            self.assertEqual(tcp_request(18180, b"serve")[:2], ("ok", b"echo:serve\n"))
            self.assertEqual(udp_request(19190, b"u"), b"udp:u")
            gw.send_signal(signal.SIGTERM)
            _, err = gw.communicate(timeout=10)
            self.assertEqual(gw.returncode, 0, err)
        finally:
            for p in (gw, srv):
                if p is not None and p.poll() is None:
                    p.kill()
                    p.communicate()
            subprocess.run(["ip", "netns", "del", guest], capture_output=True)
        events = read_jsonl(audit)
        ingress = [e for e in events if e["event"] == "flow.decision"]
        self.assertEqual([(e["proto"], e["dir"], e["action"]) for e in ingress],
                         [("tcp", "ingress", "allow"), ("udp", "ingress", "allow")])


if __name__ == "__main__":
    unittest.main()
