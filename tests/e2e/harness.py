"""The isolated test world for msb-gateway's end-to-end suites.

Every suite runs inside private namespaces of its own (`unshare --net --mount --pid --fork
--mount-proc`, see run_e2e.sh). Inside, this module builds:

  test host namespace (the gateway's side)        internet namespace "msbt-inet-<pid>"
    lo: 127.0.0.1 canary listeners (80, 7)          lo: 198.51.100.10, .20, .53, 2001:db8:100::10
    wan0 203.0.113.1/24, 2001:db8:ffff::1/64 <-veth-> wan1 203.0.113.2/24, 2001:db8:ffff::2/64
    default routes (v4 and v6) -> the internet ns       canaries 10.11.12.13, 192.168.77.1,
                                                         169.254.169.254, 100.64.1.1 on lo

Every route, the default included, leads into namespaces this module made; the internet namespace
does not forward, so a destination it does not hold is silently dropped. A gateway bug that dials
10.x or a public address therefore reaches nothing outside this machine. Canary addresses log every
connection that reaches them; deny tests assert the log stays empty.
"""
import atexit
import hashlib
import json
import os
import random
import socket
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"  # Debian's python (the PATH one may be a separate build)
CLIENT = os.path.join(HERE, "client.py")

SERVER = "198.51.100.10"
SERVER2 = "198.51.100.20"
SERVER6 = "2001:db8:100::10"  # the IPv6 server (HTTP 80, UDP echo 7) in the internet namespace
DNS1 = "198.51.100.53"  # the test world's nameserver (dnsmasq)
DNS2 = "198.51.100.54"  # a second nameserver with different answers (for `dig @DNS2`)
DEAD_DNS = "198.51.100.99"  # routed into the internet ns and dropped there: queries time out
DNS_TTL = 2  # TTL of every answer the test nameservers give
# Names the test nameservers know (dnsmasq address=/NAME/IP also answers subdomains of NAME).
DNS_RECORDS = {
    "api.example.test": SERVER,
    "other.example.test": SERVER2,
    "blocked.example.test": SERVER2,
    "xblocked.example.test": SERVER2,
    "rebind.example.test": "10.11.12.13",
    "meta.example.test": "169.254.169.254",
    "loop.example.test": "127.0.0.1",
    # TLS suites: each broken certificate is chosen by SNI on the same server (tls_servers.py).
    "expired.example.test": SERVER,
    "selfsigned.example.test": SERVER,
    "wrongname.example.test": SERVER,
    "noserverauth.example.test": SERVER,
    "untrusted.example.test": SERVER,
    "bypass.example.test": SERVER,
    "denied.example.test": SERVER2,
}
BLACKHOLE = "198.51.100.30"  # routed into the internet ns, which drops it: connects time out
CANARIES = ["10.11.12.13", "192.168.77.1", "169.254.169.254", "100.64.1.1"]
GATEWAY_IP = "172.16.0.1"


def expected_sha(n, seed=1):
    """SHA-256 of what servers.py's GET /bytes/N?seed=S streams."""
    rng = random.Random(seed)
    h = hashlib.sha256()
    left = n
    while left:
        step = min(1 << 20, left)
        h.update(rng.randbytes(step))
        left -= step
    return h.hexdigest()


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, **kw)


def udhcpc_script(world, name):
    """A busybox udhcpc script that applies a lease to its interface (address, default route) and
    appends "EVENT ip subnet router dns mtu lease" to world.path(name + ".lease"). Returns the
    script's path and the lease file's."""
    lease = world.path(name + ".lease")
    script = world.path(name + ".sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\n"
                "case \"$1\" in bound|renew)\n"
                "  ip addr flush dev \"$interface\"\n"
                "  ip addr add \"$ip/$subnet\" dev \"$interface\"\n"
                "  ip route replace default via \"$router\"\n"
                "  echo \"$1 $ip $subnet $router $dns $mtu $lease\" >> %s;;\n"
                "esac\n" % lease)
    os.chmod(script, 0o755)
    return script, lease


class HostCanary:
    """Listeners on the test host's loopback: where a gateway that let the guest reach 127.x or
    the gateway address (host alias) would connect."""

    def __init__(self, ports):
        self.hits = []
        self._socks = []
        for port in ports:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            s.listen(64)
            self._socks.append(s)
            threading.Thread(target=self._accept, args=(s, port), daemon=True).start()

    def _accept(self, s, port):
        while True:
            try:
                c, addr = s.accept()
            except OSError:
                return
            self.hits.append({"port": port, "peer": addr[0]})
            c.close()

    def close(self):
        for s in self._socks:
            s.close()


class Result:
    def __init__(self, proc, audit):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.audit = audit

    def events(self, name):
        return [e for e in self.audit if e.get("event") == name]

    def flows(self):
        """Audit events grouped by flow id: {id: {"decision": ..., "connect": ..., "close": ...}}."""
        out = {}
        for e in self.audit:
            if "flow" in e:
                out.setdefault(e["flow"], {})[e["event"].split(".", 1)[1]] = e
        return out

    def __repr__(self):
        return "rc=%s\nstdout=%s\nstderr=%s\naudit=%s" % (
            self.returncode, self.stdout[-2000:], self.stderr[-2000:],
            "\n".join(json.dumps(e) for e in self.audit[-20:]))


class World:
    def __init__(self, gateway):
        self.gateway = gateway
        self.tmp = tempfile.mkdtemp(prefix="msb-e2e-")
        self.inet = "msbt-inet-%d-%d" % (os.getpid(), random.randrange(1 << 30))
        self._pids = []
        self._runs = 0
        self.canary = None

    # --- set-up and teardown -------------------------------------------------------------------
    def __enter__(self):
        try:
            self._setup()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def _setup(self):
        if os.geteuid() != 0:
            raise RuntimeError("the e2e world needs root (run through run_e2e.sh)")
        links = sh("ip", "-o", "link", "show").stdout.strip().splitlines()
        if len(links) != 1 or ": lo:" not in links[0]:
            raise RuntimeError("refusing to build the test world outside a private network "
                               "namespace (found %d links)" % len(links))
        # Name resolution in this world goes to a test address (never the machine's resolver).
        resolv = os.path.join(self.tmp, "resolv.conf")
        with open(resolv, "w") as f:
            f.write("nameserver 198.51.100.53\noptions timeout:1 attempts:1\n")
        sh("mount", "--bind", resolv, "/etc/resolv.conf")
        sh("ip", "link", "set", "lo", "up")
        # Unprivileged ICMP echo sockets for everyone, as systemd's sysctl defaults set them (a new
        # namespace starts with "1 0", nobody): the gateway relays pings (test_udp.py covers both).
        with open("/proc/sys/net/ipv4/ping_group_range", "w") as f:
            f.write("0 2147483647")
        sh("ip", "netns", "add", self.inet)
        n = ["ip", "netns", "exec", self.inet]
        sh("ip", "link", "add", "wan0", "type", "veth", "peer", "name", "wan1")
        sh("ip", "link", "set", "wan1", "netns", self.inet)
        sh("ip", "addr", "add", "203.0.113.1/24", "dev", "wan0")
        sh("ip", "-6", "addr", "add", "2001:db8:ffff::1/64", "dev", "wan0", "nodad")
        sh("ip", "link", "set", "wan0", "up")
        sh(*n, "ip", "link", "set", "lo", "up")
        sh(*n, "ip", "addr", "add", "203.0.113.2/24", "dev", "wan1")
        sh(*n, "ip", "-6", "addr", "add", "2001:db8:ffff::2/64", "dev", "wan1", "nodad")
        sh(*n, "ip", "link", "set", "wan1", "up")
        for addr in [SERVER, SERVER2, DNS1, DNS2] + CANARIES:
            sh(*n, "ip", "addr", "add", addr + "/32", "dev", "lo")
        sh(*n, "ip", "-6", "addr", "add", SERVER6 + "/128", "dev", "lo", "nodad")
        sh(*n, "ip", "route", "add", "default", "via", "203.0.113.1")
        sh("ip", "route", "add", "default", "via", "203.0.113.2")
        sh("ip", "-6", "route", "add", "default", "via", "2001:db8:ffff::2")
        self.conn_log = os.path.join(self.tmp, "connections.jsonl")
        ready = os.path.join(self.tmp, "servers.ready")
        with open(os.path.join(self.tmp, "servers.log"), "w") as log:
            # UDP echo services (port 7) on the servers and the canaries.
            p = subprocess.Popen(n + [PYTHON, os.path.join(HERE, "servers.py"), self.conn_log,
                                      ready, SERVER, SERVER2, SERVER6] + CANARIES,
                                 stdout=log, stderr=subprocess.STDOUT)
        self._pids.append(p)
        self._wait_for_port(SERVER, 80, ready)
        self._start_dns(n)
        self.canary = HostCanary([80, 7])
        open(self.conn_log, "w").close()  # forget the readiness probes

    def _start_dns(self, n):
        """Two dnsmasq instances: DNS1 knows DNS_RECORDS, DNS2 answers only whoami.example.test
        (with its own address, so a test can tell which server answered)."""
        big = ["--txt-record=big.example.test,%s" % ("%02d" % i * 100) for i in range(6)]
        common = ["dnsmasq", "-k", "--no-resolv", "--no-hosts", "--bind-interfaces",
                  "--conf-file=/dev/null", "--user=root", "--pid-file=", "--local-ttl=%d" % DNS_TTL,
                  "--log-facility=-", "--no-negcache"]
        specs = [
            (DNS1, ["--address=/%s/%s" % kv for kv in DNS_RECORDS.items()] + big +
             ["--address=/whoami.example.test/%s" % DNS1,
              # dnsmasq only chains a CNAME to names it knows from a host record
              "--host-record=target.example.test,%s" % SERVER,
              # IPv6: a name with only an AAAA record, and one with both
              "--host-record=v6.example.test,%s" % SERVER6,
              "--host-record=dual.example.test,%s,%s" % (SERVER, SERVER6),
              "--cname=cname.example.test,target.example.test",
              "--address=/#/"]),  # everything else: NXDOMAIN
            (DNS2, ["--address=/whoami.example.test/%s" % DNS2, "--address=/#/"]),
        ]
        for addr, extra in specs:
            with open(os.path.join(self.tmp, "dnsmasq-%s.log" % addr), "w") as log:
                p = subprocess.Popen(n + common + ["--listen-address=" + addr] + extra,
                                     stdout=log, stderr=subprocess.STDOUT)
            self._pids.append(p)
        deadline = time.monotonic() + 20
        for addr in (DNS1, DNS2):
            while True:
                r = subprocess.run(["dig", "+short", "+time=1", "+tries=1", "@" + addr,
                                    "whoami.example.test"], capture_output=True, text=True)
                if r.stdout.strip() == addr:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("dnsmasq on %s did not start" % addr)
                time.sleep(0.1)

    def _wait_for_port(self, host, port, ready_file):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if os.path.exists(ready_file):
                try:
                    socket.create_connection((host, port), timeout=1).close()
                    return
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError("test servers did not start: " +
                           open(os.path.join(self.tmp, "servers.log")).read())

    def close(self):
        if self.canary:
            self.canary.close()
        for p in self._pids:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", self.inet], capture_output=True)

    # --- running the gateway -------------------------------------------------------------------
    def run(self, cmd, flags=(), timeout=300, input=None, env=None):
        """Runs `msb-gateway run FLAGS -- CMD` and returns its Result (audit parsed). `env`:
        variables added to the gateway's environment (secret values)."""
        self._runs += 1
        audit = os.path.join(self.tmp, "audit-%d.jsonl" % self._runs)
        flags = list(flags)
        if "--dns-nameserver" not in flags and "--config" not in flags:
            flags = ["--dns-nameserver", DNS1] + flags  # never the machine's resolver
        argv = [self.gateway, "run", "--audit-log", audit] + flags + ["--"] + list(cmd)
        full_env = None
        if env:
            full_env = dict(os.environ)
            full_env.update(env)
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input,
                              env=full_env)
        events = []
        if os.path.exists(audit):
            with open(audit) as f:
                for line in f:
                    events.append(json.loads(line))  # every line must be valid JSON
        return Result(proc, events)

    def client(self, *args, flags=(), timeout=120):
        return self.run([PYTHON, CLIENT] + [str(a) for a in args], flags=flags, timeout=timeout)

    def canary_hits(self):
        hits = []
        with open(self.conn_log) as f:
            for line in f:
                e = json.loads(line)
                if e["local"] in CANARIES:
                    hits.append(e)
        return hits + self.canary.hits

    def path(self, name):
        return os.path.join(self.tmp, name)

    # --- HTTPS servers (the TLS suites) ------------------------------------------------------------
    def start_tls(self):
        """Builds the test PKI and starts tls_servers.py in the internet namespace; returns the
        test CA's path (what the gateway trusts with --tls-upstream-ca-cert)."""
        import pki
        certs = os.path.join(self.tmp, "pki")
        self.test_ca = pki.build(certs, ["api.example.test", "other.example.test",
                                         "bypass.example.test", "denied.example.test"],
                                 [SERVER, SERVER2])
        self.request_log = os.path.join(self.tmp, "https-requests.jsonl")
        ready = os.path.join(self.tmp, "tls.ready")
        n = ["ip", "netns", "exec", self.inet]
        with open(os.path.join(self.tmp, "tls_servers.log"), "w") as log:
            p = subprocess.Popen(n + [PYTHON, os.path.join(HERE, "tls_servers.py"), certs,
                                      self.request_log, ready], stdout=log,
                                 stderr=subprocess.STDOUT)
        self._pids.append(p)
        self._wait_for_port(SERVER, 443, ready)
        open(self.request_log, "w").close()  # forget the readiness probe
        return self.test_ca

    def https_requests(self):
        """What the HTTPS servers received since the last call (and forgets it)."""
        with open(self.request_log) as f:
            out = [json.loads(line) for line in f]
        open(self.request_log, "w").close()
        return out


_SHARED = None


def shared_world():
    """The suite's one World: built on first use, torn down when the interpreter exits (also
    when a test fails), so every suite module needs only `WORLD = shared_world()`."""
    global _SHARED
    if _SHARED is None:
        _SHARED = World(os.environ["MSB_GATEWAY"]).__enter__()
        atexit.register(_SHARED.close)
    return _SHARED
