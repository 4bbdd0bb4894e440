#!/usr/bin/python3
"""End-to-end: what `msb-gateway run`'s command cannot reach.

The command (CMD) is the adversary: it tries to read the gateway's secret sources (the CA key in
the state directory, the --config file), the gateway's /proc/PID/{environ,mem}, to signal and
ptrace the gateway, and each attempt must fail while the gateway keeps serving it. Also: who CMD
runs as (--user, sudo's SUDO_UID/SUDO_GID), that its status still propagates, and that the
processes it leaves behind end with it (its own PID namespace).
"""
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import DNS1, PYTHON, SERVER, shared_world

WORLD = None
SUDO_VARS = ("SUDO_UID", "SUDO_GID", "SUDO_USER", "SUDO_COMMAND")
NO_CAPS = "0000000000000000"
ROOT_CAPS = "%016x" % (1 << 13 | 1 << 10)  # CAP_NET_RAW, CAP_NET_BIND_SERVICE


def setUpModule():
    global WORLD
    WORLD = shared_world()


def gateway_env(**extra):
    """The test's environment without sudo's variables (they pick CMD's user), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in SUDO_VARS}
    env.update(extra)
    return env


def run(cmd, flags=(), env=None, timeout=120):
    argv = [WORLD.gateway, "run", "--dns-nameserver", DNS1] + list(flags) + ["--"] + list(cmd)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          env=env if env is not None else gateway_env())


# What CMD tries. argv: PIDFILE KEYFILE CONFIG. It learns the gateway's PID (as the test sees it)
# from PIDFILE, prints one JSON object: each attempt's outcome, its /proc view, its credentials
# and a fetch through the gateway made after all the attempts.
ATTACK = r'''
import ctypes, errno, json, os, signal, sys, time, urllib.request
pidfile, key, config, server = sys.argv[1:5]
deadline = time.time() + 20
while not os.path.exists(pidfile) and time.time() < deadline:
    time.sleep(0.05)
gw = int(open(pidfile).read())
out = {"gw": gw}

def attempt(name, fn):
    try:
        out[name] = "ok:" + repr(fn())[:300]
    except OSError as e:
        out[name] = "denied:" + errno.errorcode.get(e.errno, str(e.errno))

def read(path):
    with open(path, "rb") as f:
        return f.read()

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]

def ptrace_attach(pid):
    if libc.ptrace(16, pid, None, None) != 0:  # PTRACE_ATTACH
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    os.waitpid(pid, 0x40000000)  # __WALL: until the tracee has stopped, so it can be let go
    libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
    return "attached"

attempt("read_ca_key", lambda: read(key))
attempt("list_state_dir", lambda: os.listdir(os.path.dirname(key)))
attempt("read_config", lambda: read(config))
attempt("gw_environ", lambda: read("/proc/%d/environ" % gw))
attempt("gw_mem", lambda: read("/proc/%d/mem" % gw)[:1])
attempt("gw_status", lambda: read("/proc/%d/status" % gw)[:20])
attempt("init_environ", lambda: read("/proc/1/environ"))
attempt("init_mem", lambda: open("/proc/1/mem", "rb").close())
attempt("ptrace_gw", lambda: ptrace_attach(gw))
attempt("ptrace_init", lambda: ptrace_attach(1))
attempt("kill_gw_term", lambda: os.kill(gw, signal.SIGTERM))
attempt("kill_gw_kill", lambda: os.kill(gw, signal.SIGKILL))
out["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
out["self"] = os.getpid()
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
for field in ("Uid", "CapEff", "CapPrm", "CapBnd", "CapInh", "CapAmb", "NoNewPrivs"):
    out[field] = status[field].split()[0]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
out["fetch"] = len(opener.open("http://%s/bytes/1000?seed=1" % server, timeout=30).read())
print(json.dumps(out))
'''


class IsolationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A directory every user can read: the attack script and the gateway's PID live there.
        cls.shared = tempfile.mkdtemp(prefix="msb-isolation-")
        os.chmod(cls.shared, 0o755)
        cls.script = os.path.join(cls.shared, "attack.py")
        with open(cls.script, "w") as f:
            f.write(ATTACK)
        os.chmod(cls.script, 0o644)
        cls.state = WORLD.path("isolation-state")
        p = subprocess.run([WORLD.gateway, "ca", "init", "--state-dir", cls.state],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        keys = []
        for name in os.listdir(cls.state):
            with open(os.path.join(cls.state, name), "rb") as f:
                if b"PRIVATE KEY" in f.read():
                    keys.append(os.path.join(cls.state, name))
        assert len(keys) == 1, keys
        cls.key = keys[0]
        cls.config = WORLD.path("isolation-config.json")
        with open(cls.config, "w") as f:
            json.dump({"dns": {"nameservers": [DNS1]},
                       "policy": {"rules": [
                           {"direction": "egress", "destination": {"group": "host"},
                            "protocols": ["udp", "tcp"], "ports": [53], "action": "allow"},
                           {"direction": "egress",
                            "destination": {"domain": "config-marker-q7z.example.test"},
                            "action": "deny"},
                           {"direction": "egress", "destination": {"group": "public"},
                            "action": "allow"}]}}, f)
        # The config is linked into the shared directory too: the cover must follow the link.
        cls.config_link = os.path.join(cls.shared, "config-link.json")
        os.symlink(cls.config, cls.config_link)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.shared, ignore_errors=True)

    def attack(self, flags=()):
        pidfile = os.path.join(self.shared, "gateway.pid")
        if os.path.exists(pidfile):
            os.unlink(pidfile)
        audit = WORLD.path("isolation-audit-%d.jsonl" % time.monotonic_ns())
        argv = [WORLD.gateway, "run", "--config", self.config_link, "--tls-intercept",
                "--state-dir", self.state, "--audit-log", audit] + list(flags) + [
                    "--", PYTHON, self.script, pidfile, self.key, self.config, SERVER]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=gateway_env())
        # The PID is right (the gateway is alive under it) and readable to a privileged reader.
        self.assertTrue(os.path.exists("/proc/%d/environ" % p.pid))
        tmp = pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(p.pid))
        os.chmod(tmp, 0o644)
        os.rename(tmp, pidfile)
        try:
            stdout, stderr = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            stdout, stderr = p.communicate()
            self.fail("the attack run hung: %s" % stderr)
        self.assertEqual(p.returncode, 0, stderr)
        with open(audit) as f:
            stop = [json.loads(line) for line in f][-1]
        self.assertEqual((stop["event"], stop["reason"], stop["exit_status"]),
                         ("gateway.stop", "command_exited", 0))
        return json.loads(stdout.strip().splitlines()[-1]), stderr

    def assert_denied(self, out, *names):
        for name in names:
            self.assertTrue(out[name].startswith("denied:"), "%s: %s" % (name, out[name]))

    def check_isolated(self, out):
        # The secret sources: covered inside the sandbox, untouched outside.
        self.assert_denied(out, "read_ca_key", "list_state_dir", "read_config")
        with open(self.key, "rb") as f:
            self.assertIn(b"PRIVATE KEY", f.read())
        with open(self.config) as f:
            self.assertIn("config-marker-q7z", f.read())
        # The gateway cannot even be named: CMD's /proc shows its own namespace only.
        self.assertEqual(out["self"], 2)
        self.assertEqual(out["pids"], [1, 2])
        self.assertNotIn(out["gw"], out["pids"])
        self.assert_denied(out, "gw_environ", "gw_mem", "gw_status", "ptrace_gw", "kill_gw_term",
                           "kill_gw_kill")
        # The sandbox's init (a fork of the gateway) is visible but closed.
        self.assert_denied(out, "init_environ", "init_mem", "ptrace_init")
        # Root keeps only CAP_NET_RAW and CAP_NET_BIND_SERVICE (its own network namespace's).
        caps = ROOT_CAPS if out["Uid"] == "0" else NO_CAPS
        self.assertEqual(out["CapEff"], caps)
        self.assertEqual(out["CapPrm"], caps)
        self.assertEqual(out["CapBnd"], caps)
        self.assertEqual(out["CapInh"], "0000000000000000")
        self.assertEqual(out["CapAmb"], "0000000000000000")
        self.assertEqual(out["NoNewPrivs"], "1")
        # And the gateway still served CMD after all of it.
        self.assertEqual(out["fetch"], 1000)

    def test_root_command_cannot_reach_gateway_secrets_or_process(self):
        out, stderr = self.attack()
        self.assertEqual(out["Uid"], "0", out)
        self.check_isolated(out)

    def test_unprivileged_command_cannot_either(self):
        out, stderr = self.attack(["--user", "nobody"])
        self.assertEqual(out["Uid"], "65534", out)
        self.check_isolated(out)

    def test_a_path_that_cannot_be_hidden_stops_the_start(self):
        # /proc/self resolves to the gateway's /proc entry, which does not exist in the sandbox's
        # own /proc: the cover cannot be mounted, and CMD must not start without it.
        r = run(["sh", "-c", "echo started"], flags=["--state-dir", "/proc/self"])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stdout, "")
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertRegex(lines[0], r"^msb-gateway: hiding directory /proc/\d+ from the sandbox: ")

    def test_missing_hidden_paths_are_skipped(self):
        # A --state-dir that does not exist (no interception) hides nothing and breaks nothing.
        r = run(["sh", "-c", "echo ok"], flags=["--state-dir", WORLD.path("no-such-state")])
        self.assertEqual((r.returncode, r.stdout), (0, "ok\n"), r.stderr)


class UserTest(unittest.TestCase):
    ID = ["sh", "-c", 'id -u; id -g; echo "$HOME"; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status']

    def test_sudo_invoker_is_the_default(self):
        r = run(self.ID, env=gateway_env(SUDO_UID="65534", SUDO_GID="65534", SUDO_USER="nobody"))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.split("\n")
        self.assertEqual(lines[:2], ["65534", "65534"], r.stdout)
        self.assertEqual(lines[2], "/nonexistent")  # nobody's home in /etc/passwd
        self.assertIn("CapEff:\t0000000000000000", r.stdout)
        self.assertIn("NoNewPrivs:\t1", r.stdout)

    def test_user_flag_by_name_and_number(self):
        r = run(self.ID, flags=["--user", "nobody"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split("\n")[:2], ["65534", "65534"], r.stdout)
        r = run(self.ID, flags=["--user", "4000000123:4000000124"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split("\n")[:3], ["4000000123", "4000000124", "/"], r.stdout)

    def test_user_root_keeps_root_without_capabilities(self):
        r = run(self.ID, flags=["--user", "root"],
                env=gateway_env(SUDO_UID="65534", SUDO_GID="65534"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split("\n")[:2], ["0", "0"], r.stdout)
        self.assertIn("CapEff:\t" + ROOT_CAPS, r.stdout)
        self.assertIn("NoNewPrivs:\t1", r.stdout)
        # No capability means no way back out: a root command cannot reconfigure its network.
        r = run(["sh", "-c", "ip link set eth0 down; echo rc=$?"], flags=["--user", "root"])
        self.assertIn("rc=2", r.stdout, r.stderr)

    def test_unknown_user_is_a_usage_error_naming_it(self):
        r = run(["true"], flags=["--user", "nosuchuser"])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stderr.strip().splitlines(),
                         ["msb-gateway: --user nosuchuser: no such user"])

    def test_unprivileged_command_still_gets_dns_and_trust_bundle(self):
        r = run(["sh", "-c", "cat /etc/resolv.conf; head -c 27 \"$SSL_CERT_FILE\"; echo;"
                 "getent ahostsv4 host.microsandbox.internal | head -1"],
                flags=["--user", "nobody", "--tls-intercept", "--state-dir",
                       WORLD.path("isolation-state")])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("nameserver 172.16.0.1", r.stdout)
        self.assertIn("-----BEGIN CERTIFICATE-----", r.stdout)
        self.assertIn("172.16.0.1", r.stdout.splitlines()[-1])


class LifecycleTest(unittest.TestCase):
    def test_exit_status_propagates(self):
        self.assertEqual(run(["sh", "-c", "exit 7"]).returncode, 7)
        self.assertEqual(run(["sh", "-c", "kill -KILL $$"]).returncode, 128 + signal.SIGKILL)
        r = run(["sh", "-c", "echo out; echo err >&2; exit 3"], flags=["--user", "nobody"])
        self.assertEqual((r.returncode, r.stdout, r.stderr), (3, "out\n", "err\n"))

    def test_background_processes_end_with_the_command(self):
        marker = "271.%d" % (time.monotonic_ns() % 1000000)

        def leftovers():
            pids = []
            for p in os.listdir("/proc"):
                try:
                    with open("/proc/%s/cmdline" % p, "rb") as f:
                        if marker.encode() in f.read():
                            pids.append(int(p))
                except OSError:
                    pass
            return pids

        try:
            r = run(["sh", "-c", "sleep %s >/dev/null 2>&1 & sleep 0.2; echo started" % marker])
            self.assertEqual((r.returncode, r.stdout), (0, "started\n"), r.stderr)
            self.assertEqual(leftovers(), [])
        finally:
            for pid in leftovers():
                os.kill(pid, signal.SIGKILL)

    def test_signals_sent_to_the_gateway_reach_the_command(self):
        handler = ("import signal, sys, time\n"
                   "def bye(n, f):\n"
                   "    print('got', n, flush=True); sys.exit(40 + n)\n"
                   "for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):\n"
                   "    signal.signal(s, bye)\n"
                   "print('ready', flush=True)\n"
                   "time.sleep(60)\n")
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            with self.subTest(sig=sig):
                p = subprocess.Popen([WORLD.gateway, "run", "--dns-nameserver", DNS1, "--",
                                      PYTHON, "-c", handler], stdout=subprocess.PIPE,
                                     text=True, env=gateway_env())
                self.assertEqual(p.stdout.readline(), "ready\n")
                p.send_signal(sig)
                self.assertEqual(p.wait(timeout=10), 40 + sig)
                self.assertEqual(p.stdout.read(), "got %d\n" % sig)
                p.stdout.close()


if __name__ == "__main__":
    unittest.main()
