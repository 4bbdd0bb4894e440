"""What the TLS benchmarks share (bench/tls_intercept.py, bench/secrets.py): nginx in the e2e
test world's internet namespace, the clients (curl, h2load) run through a Setup, and the gateway's
own CPU and memory figures from its audit log."""
import json
import os
import statistics
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from harness import SERVER, sh  # noqa: E402

NAME = "api.example.test"
GIB = 1 << 30


def proc_cpu(pid):
    """utime + stime of a process and its threads, seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss(pid, key="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def children(pid):
    out = [pid]
    try:
        for c in open("/proc/%d/task/%d/children" % (pid, pid)).read().split():
            out += children(int(c))
    except OSError:
        pass
    return out


def route_through_host(ns, host_if="bench0", guest_if="bench1"):
    """Links the existing namespace `ns` to the test host with a veth pair (198.18.0.0/24, the
    benchmarking range) and routes it, default included, through the host into the test world:
    the kernel's own path, the ceiling the stacks are compared with. Returns the exec prefix."""
    sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", guest_if)
    sh("ip", "link", "set", guest_if, "netns", ns)
    sh("ip", "addr", "add", "198.18.0.1/24", "dev", host_if)
    sh("ip", "link", "set", host_if, "up")
    g = ["ip", "netns", "exec", ns]
    sh(*g, "ip", "link", "set", "lo", "up")
    sh(*g, "ip", "addr", "add", "198.18.0.2/24", "dev", guest_if)
    sh(*g, "ip", "link", "set", guest_if, "up")
    sh(*g, "ip", "route", "add", "default", "via", "198.18.0.1")
    sh("sysctl", "-qw", "net.ipv4.ip_forward=1")
    return g


class Setup:
    """One way for a client to reach the server. run(cmd) runs a client command through it;
    proxy_pids() are the processes whose CPU and memory count as the interceptor's."""

    def __init__(self, name, prefix, ca, pids=None):
        self.name = name
        self.prefix = prefix
        self.ca = ca
        self.pids = pids or (lambda: [])

    def run(self, cmd, timeout=600):
        return subprocess.run(self.prefix + cmd, capture_output=True, text=True, timeout=timeout)


def make_site(world):
    """The test PKI for NAME and SERVER and nginx's document root with its 1 KiB file; returns
    (certs dir, test CA path, root)."""
    import pki  # tests/e2e: on the path above
    certs = os.path.join(world.tmp, "pki")
    test_ca = pki.build(certs, [NAME], [SERVER])
    root = os.path.join(world.tmp, "www")
    os.makedirs(root)
    with open(os.path.join(root, "1k"), "wb") as f:
        f.write(b"x" * 1024)
    return certs, test_ca, root


def start_nginx(world, certs, root):
    conf = os.path.join(world.tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""
daemon off; master_process off; worker_processes 1; pid %(tmp)s/nginx.pid;
error_log %(tmp)s/nginx.err warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000; keepalive_timeout 300;
  log_format auth '$http_authorization';
  client_max_body_size 0; client_body_buffer_size 256k; client_body_temp_path %(tmp)s;
  proxy_temp_path %(tmp)s; fastcgi_temp_path %(tmp)s; uwsgi_temp_path %(tmp)s;
  scgi_temp_path %(tmp)s;
  server {
    listen %(ip)s:443 ssl http2 backlog=4096;
    ssl_certificate %(certs)s/default.pem; ssl_certificate_key %(certs)s/default.key;
    ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:s:10m;
    root %(root)s;
    # The whole body is read (buffered to a temporary file) before the answer: an early 200
    # would make proxies reset the upload.
    location /upload { proxy_pass http://127.0.0.1:8099; }
    # The world's servers.py (0.0.0.0:80) answers a PUT/POST with "LEN SHA256" of what it got.
    location /hash { proxy_pass http://127.0.0.1:80; }
    # The Authorization header as received, to a log file (echoed, the gateway's response
    # scrubber would turn a substituted value back into its placeholder on the way to the guest).
    location /log-auth { access_log %(tmp)s/auth.log auth; return 200 "logged\\n"; }
  }
  server { listen 127.0.0.1:8099; location / { return 200 "ok\\n"; } }
}
""" % {"tmp": world.tmp, "ip": SERVER, "certs": certs, "root": root})
    n = ["ip", "netns", "exec", world.inet]
    p = subprocess.Popen(n + ["nginx", "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    world._pids.append(p)
    for _ in range(100):
        if subprocess.run(n + ["curl", "-sk", "-o", "/dev/null", "https://%s/1k" % SERVER]
                          ).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("nginx did not start: " + open(os.path.join(world.tmp, "nginx.err")).read())



def curl_time(setup, args, timeout=600, resolve=True):
    """`resolve`: pin NAME to SERVER (--resolve) rather than ask the DNS."""
    pin = ["--resolve", "%s:443:%s" % (NAME, SERVER)] if resolve else []
    r = setup.run(["curl", "-sS", "--http1.1", "-H", "Expect:", "--cacert", setup.ca] + pin +
                  ["-o", "/dev/null", "-w", "%{time_total} %{size_download} %{size_upload}"]
                  + args, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("%s: curl failed: %s" % (setup.name, r.stderr[-300:]))
    t, down, up = r.stdout.split()
    return float(t), int(down), int(float(up))


def h2load(setup, n, c, m, h1, close=False, header=None):
    """Requests per second for `n` requests of 1 KiB over `c` connections (h2: `m` streams
    each). `close`: one request per connection (HTTP/1.1 "Connection: close"; h2load
    reconnects), i.e. new connections per second. h2load does not verify certificates, which
    costs every setup the same; it sends the name as SNI, so every interceptor sees one.
    `header`: one more request header, expanded by the client's shell (sh -c "... -H \"HEADER\""),
    so that `$VAR` is the guest's value."""
    args = ["h2load", "-n", str(n), "-c", str(c), "-m", str(m)]
    if h1:
        args.append("--h1")
    if close:
        args += ["-H", "Connection: close"]
    args.append("https://%s/1k" % NAME)
    if header:
        args = ["sh", "-c", 'exec "$0" "$@" -H "%s"' % header.replace('"', '\\"')] + args
    r = setup.run(args, timeout=600)
    m_ok = re.search(r"requests: .* (\d+) succeeded", r.stdout)
    m_rate = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", r.stdout)
    if not m_ok or not m_rate or int(m_ok.group(1)) < n * 0.99:
        raise RuntimeError("%s: h2load failed: %s %s" % (setup.name, r.stdout[-600:],
                                                          r.stderr[-300:]))
    return float(m_rate.group(1))



def gateway_cpu_and_rss(audit):
    """The gateway's CPU seconds and peak RSS MiB for its last run (the audit log is removed
    before each measured run)."""
    out = (None, None)
    for line in open(audit):
        e = json.loads(line)
        if e["event"] == "gateway.stop":
            out = ((e["cpu_user_ms"] + e["cpu_sys_ms"]) / 1000, e.get("max_rss_kb", 0) / 1024)
    return out


def fresh(path):
    if os.path.exists(path):
        os.unlink(path)


def guest_dir(world):
    """A directory the guest can read (files to upload): the world's own tmp is private to the
    test host's root, which `msb-gateway run`'s guest is not. Removed by cleanup(world)."""
    import tempfile
    d = tempfile.mkdtemp(prefix="msb-bench-guest-")
    os.chmod(d, 0o755)
    world.cleanup_dirs = getattr(world, "cleanup_dirs", []) + [d]
    return d


def cleanup(world):
    import shutil
    for d in getattr(world, "cleanup_dirs", []):
        shutil.rmtree(d, ignore_errors=True)


# A prefix that makes the next command a child of a small shell rather than of this Python
# process: Linux carries a process's RSS high-water mark (getrusage's ru_maxrss, the gateway's
# max_rss_kb) across fork and exec, so a gateway started straight from a large benchmark process
# would report that process's peak as its own.
SMALL_PARENT = ["/bin/sh", "-c", '"$@"; rc=$?; exit $rc', "sh"]


def print_results(res, names, metrics, baseline, no_ratio, failures, checks=()):
    """The bench's table (medians, and the ratio to `baseline` for metrics not in `no_ratio`),
    then the checks, the failures and the raw samples."""
    print("| metric | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for m in metrics:
        cells = []
        for n in names:
            v = res.get((n, m))
            if not v:
                cells.append("-")
                continue
            med = statistics.median(v)
            base = res.get((baseline, m))
            ratio = ""
            if n != baseline and base and m not in no_ratio:
                ratio = " (%.2fx)" % (med / statistics.median(base))
            cells.append(("%.3g" % med) + ratio)
        print("| %s | %s |" % (m, " | ".join(cells)))
    print()
    for c in checks:
        print("check: " + c)
    for f in failures:
        print("failed: " + f)
    print()
    print("raw: " + json.dumps({"%s %s" % k: [round(x, 3) for x in v] for k, v in res.items()}))

