#!/usr/bin/python3
"""Intercepted HTTPS through msb-gateway vs mitmproxy (mitmdump, transparent) and Squid ssl-bump,
and vs no interception at all (direct), side by side in one run, alternating setups round by
round so that machine noise hits all alike.

Run through bench/tls_intercept.sh (private namespaces, root). The server is nginx (TLS 1.3, h2
and http/1.1) on 198.51.100.10 in the e2e test world's internet namespace, with a certificate
from the test CA every interceptor is told to trust. Clients: curl (bulk, HTTP/1.1), h2load
(keep-alive request rates, h1 and h2; new connections per second with one request per
connection), a Python client over one keep-alive connection (latency percentiles).

  direct     a client namespace routed by the kernel to the server (the ceiling)
  gateway    the client inside `msb-gateway run --tls-intercept`
  mitmproxy  the same client namespace as direct, its port-443 traffic redirected (nft) to
             mitmdump --mode transparent
  squid      likewise redirected to Squid's `https_port ... intercept ssl-bump` (bump all)

Prints Markdown tables of medians and ratios to direct.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from harness import SERVER, World, sh  # noqa: E402
import pki  # noqa: E402

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


def start_nginx(world, certs, root):
    conf = os.path.join(world.tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""
daemon off; master_process off; worker_processes 1; pid %(tmp)s/nginx.pid;
error_log %(tmp)s/nginx.err warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 1000000; keepalive_timeout 300;
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


def client_namespace(world):
    """A namespace kernel-routed through the test host (as bench/tcp_throughput.py builds)."""
    ns = world.inet.replace("inet", "cli")
    sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", "bench0", "type", "veth", "peer", "name", "bench1")
    sh("ip", "link", "set", "bench1", "netns", ns)
    sh("ip", "addr", "add", "198.18.0.1/24", "dev", "bench0")
    sh("ip", "link", "set", "bench0", "up")
    g = ["ip", "netns", "exec", ns]
    sh(*g, "ip", "link", "set", "lo", "up")
    sh(*g, "ip", "addr", "add", "198.18.0.2/24", "dev", "bench1")
    sh(*g, "ip", "link", "set", "bench1", "up")
    sh(*g, "ip", "route", "add", "default", "via", "198.18.0.1")
    sh("sysctl", "-qw", "net.ipv4.ip_forward=1")
    return ns, g


def redirect(port):
    """Sends the client namespace's TCP/443 to a local transparent proxy on `port`."""
    subprocess.run(["nft", "delete", "table", "ip", "bench"], capture_output=True)
    if port:
        rules = ("table ip bench {\n chain pre {\n  type nat hook prerouting priority dstnat;\n"
                 "  iifname \"bench0\" tcp dport 443 redirect to :%d\n }\n}\n" % port)
        subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)


def start_mitmproxy(world, test_ca):
    confdir = os.path.join(world.tmp, "mitm")
    os.makedirs(confdir, exist_ok=True)
    log = open(os.path.join(world.tmp, "mitm.log"), "w")
    p = subprocess.Popen(["mitmdump", "--mode", "transparent", "--listen-port", "8081",
                          "--set", "confdir=" + confdir, "--set",
                          "ssl_verify_upstream_trusted_ca=" + test_ca,
                          # streamed, not buffered whole (its default), for a fair bulk test
                          "--set", "stream_large_bodies=1m", "-q"],
                         stdout=log, stderr=subprocess.STDOUT)
    world._pids.append(p)
    ca = os.path.join(confdir, "mitmproxy-ca-cert.pem")
    for _ in range(200):
        if os.path.exists(ca):
            break
        time.sleep(0.1)
    time.sleep(1.0)
    return p, ca


def start_squid(world, test_ca):
    # Squid's helpers run as the `proxy` user: their files live in a directory it owns (the
    # world's own tmp is private to root).
    import tempfile
    d = tempfile.mkdtemp(prefix="msb-bench-squid-")
    world.cleanup_dirs = getattr(world, "cleanup_dirs", []) + [d]
    shutil.copy(test_ca, os.path.join(d, "test-ca.pem"))
    test_ca = os.path.join(d, "test-ca.pem")
    ca_key = os.path.join(d, "ca.key")
    ca = os.path.join(d, "ca.pem")
    pki.make_ca(os.path.join(d, "ca"), "Squid bench CA")
    with open(os.path.join(d, "ca-both.pem"), "w") as f:
        f.write(open(ca).read() + open(ca_key).read())
    db = os.path.join(d, "ssl_db")
    subprocess.run(["/usr/lib/squid/security_file_certgen", "-c", "-s", db, "-M", "64MB"],
                   check=True, capture_output=True)
    subprocess.run(["chown", "-R", "proxy:proxy", d], check=True)
    conf = os.path.join(d, "squid.conf")
    with open(conf, "w") as f:
        f.write("""
http_port 3128
https_port 3129 intercept ssl-bump tls-cert=%(d)s/ca-both.pem generate-host-certificates=on dynamic_cert_mem_cache_size=16MB
sslcrtd_program /usr/lib/squid/security_file_certgen -s %(db)s -M 64MB
sslcrtd_children 4 startup=1 idle=1
acl step1 at_step SslBump1
ssl_bump peek step1
ssl_bump bump all
tls_outgoing_options cafile=%(ca)s
http_access allow all
cache deny all
cache_mem 8 MB
access_log none
cache_log %(d)s/cache.log
pid_filename %(d)s/squid.pid
coredump_dir %(d)s
workers 1
dns_nameservers 198.51.100.53
""" % {"d": d, "db": db, "ca": test_ca})
    log = open(os.path.join(d, "run.log"), "w")
    p = subprocess.Popen(["squid", "-N", "-f", conf], stdout=log, stderr=subprocess.STDOUT)
    world._pids.append(p)
    time.sleep(3)
    return p, ca


def curl_time(setup, args, timeout=600):
    r = setup.run(["curl", "-sS", "--http1.1", "-H", "Expect:", "--cacert", setup.ca, "--resolve", "%s:443:%s" % (NAME, SERVER),
                   "-o", "/dev/null", "-w", "%{time_total} %{size_download} %{size_upload}"]
                  + args, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError("%s: curl failed: %s" % (setup.name, r.stderr[-300:]))
    t, down, up = r.stdout.split()
    return float(t), int(down), int(float(up))


def h2load(setup, n, c, m, h1, close=False):
    """Requests per second for `n` requests of 1 KiB over `c` connections (h2: `m` streams
    each). `close`: one request per connection (HTTP/1.1 "Connection: close"; h2load
    reconnects), i.e. new connections per second. h2load does not verify certificates, which
    costs every setup the same; it sends the name as SNI, so every interceptor sees one."""
    args = ["h2load", "-n", str(n), "-c", str(c), "-m", str(m)]
    if h1:
        args.append("--h1")
    if close:
        args += ["-H", "Connection: close"]
    r = setup.run(args + ["https://%s/1k" % NAME], timeout=600)
    m_ok = re.search(r"requests: .* (\d+) succeeded", r.stdout)
    m_rate = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", r.stdout)
    if not m_ok or not m_rate or int(m_ok.group(1)) < n * 0.99:
        raise RuntimeError("%s: h2load failed: %s %s" % (setup.name, r.stdout[-600:],
                                                          r.stderr[-300:]))
    return float(m_rate.group(1))


LATENCY = r"""
import socket, ssl, sys, time
host, ca, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("%s", 443)), server_hostname="%s")
req = b"GET /1k HTTP/1.1\r\nHost: %s\r\n\r\n"
f = s.makefile("rb")
out = []
for i in range(n):
    t = time.perf_counter()
    s.sendall(req)
    length = 0
    while True:
        line = f.readline()
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
        if line in (b"\r\n", b""):
            break
    f.read(length)
    out.append(time.perf_counter() - t)
out.sort()
print("%%.3f %%.3f" %% (out[len(out) // 2] * 1000, out[int(len(out) * 0.99)] * 1000))
"""


def latency(setup, n):
    host = NAME
    ip = host if setup.name == "gateway" else SERVER
    code = LATENCY % (ip, host, host)
    r = setup.run(["/usr/bin/python3", "-c", code, host, setup.ca, str(n)], timeout=300)
    if r.returncode != 0:
        raise RuntimeError("%s: latency client failed: %s" % (setup.name, r.stderr[-300:]))
    p50, p99 = r.stdout.split()
    return float(p50), float(p99)


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--bulk-mib", type=int, default=1024)
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--connections", type=int, default=3000)
    ap.add_argument("--only", default="direct,gateway,mitmproxy,squid")
    ap.add_argument("--jumbo", action="store_true",
                    help="also the gateway with a 65520-byte MTU on the sandbox's interface")
    args = ap.parse_args()
    want = args.only.split(",")
    with World(args.gateway) as world:
        certs = os.path.join(world.tmp, "pki")
        test_ca = pki.build(certs, [NAME], [SERVER])
        root = os.path.join(world.tmp, "www")
        os.makedirs(root)
        with open(os.path.join(root, "1k"), "wb") as f:
            f.write(b"x" * 1024)
        with open(os.path.join(root, "bulk"), "wb") as f:
            f.truncate(args.bulk_mib << 20)  # sparse: the page cache serves zeros
        upload = os.path.join(world.tmp, "upload.bin")
        with open(upload, "wb") as f:
            f.truncate(256 << 20)
        start_nginx(world, certs, root)
        ns, g = client_namespace(world)
        try:
            setups = []
            mitm_pid = squid_pid = None
            if "direct" in want:
                setups.append(Setup("direct", g, test_ca))
            if "gateway" in want:
                audit = os.path.join(world.tmp, "gw-audit.jsonl")
                gw = [args.gateway, "run", "--tls-intercept", "--tls-upstream-ca-cert", test_ca,
                      "--state-dir", os.path.join(world.tmp, "state"), "--dns-nameserver",
                      "198.51.100.53", "--max-connections", "65536", "--audit-log", audit, "--"]
                # The guest trusts the gateway's CA through the bundle `run` installs; curl's
                # --cacert must name that bundle too.
                setups.append(Setup("gateway", gw, "/etc/ssl/certs/ca-certificates.crt"))
                if args.jumbo:
                    setups.append(Setup("gateway mtu 65520", gw[:2] + ["--mtu", "65520"] + gw[2:],
                                        "/etc/ssl/certs/ca-certificates.crt"))
            if "mitmproxy" in want:
                mp, mca = start_mitmproxy(world, test_ca)
                mitm_pid = mp.pid
                setups.append(Setup("mitmproxy", g, mca, lambda: children(mitm_pid)))
            if "squid" in want:
                sp, sca = start_squid(world, test_ca)
                squid_pid = sp.pid
                setups.append(Setup("squid", g, sca, lambda: children(squid_pid)))
            ports = {"mitmproxy": 8081, "squid": 3129}
            metrics = ["download Gbit/s", "upload Gbit/s", "new conn/s", "h1 req/s", "h2 req/s",
                       "p50 ms", "p99 ms", "CPU s/GiB", "CPU ms/conn", "idle RSS MiB",
                       "peak RSS MiB"]
            res = {(s.name, m): [] for s in setups for m in metrics}
            failures = []
            for s in setups:
                if s.pids():
                    res[(s.name, "idle RSS MiB")].append(sum(proc_rss(p) for p in s.pids()))
                elif s.name.startswith("gateway"):
                    # The gateway with interception on and nothing to do (its CA loaded, the
                    # trust store read, the contexts made).
                    p = subprocess.Popen(s.prefix + ["sleep", "3"], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
                    time.sleep(2)
                    res[(s.name, "idle RSS MiB")].append(proc_rss(p.pid))
                    p.wait()
            for rnd in range(args.rounds):
                for s in setups:
                    redirect(ports.get(s.name, 0))
                    def attempt(label, fn):
                        try:
                            fn()
                        except (RuntimeError, subprocess.TimeoutExpired) as e:
                            failures.append("%s %s (round %d): %s" % (s.name, label, rnd + 1,
                                                                      str(e)[:160]))

                    def bulk_down():
                        fresh(audit)
                        cpu0 = sum(proc_cpu(p) for p in s.pids()) if s.pids() else 0
                        t, down, _ = curl_time(s, ["https://%s/bulk" % NAME])
                        res[(s.name, "download Gbit/s")].append(down * 8 / t / 1e9)
                        if s.name.startswith("gateway"):
                            cpu, rss = gateway_cpu_and_rss(audit)
                            res[(s.name, "CPU s/GiB")].append(cpu / (down / GIB))
                            res[(s.name, "peak RSS MiB")].append(rss)
                        elif s.pids():
                            cpu1 = sum(proc_cpu(p) for p in s.pids())
                            res[(s.name, "CPU s/GiB")].append((cpu1 - cpu0) / (down / GIB))

                    def bulk_up():
                        t, _, up = curl_time(s, ["-T", upload, "https://%s/upload" % NAME])
                        res[(s.name, "upload Gbit/s")].append(up * 8 / t / 1e9)

                    def conns():
                        fresh(audit)
                        cpu0 = sum(proc_cpu(p) for p in s.pids()) if s.pids() else 0
                        rate = h2load(s, args.connections, 16, 1, True, close=True)
                        res[(s.name, "new conn/s")].append(rate)
                        if s.name.startswith("gateway"):
                            cpu, _ = gateway_cpu_and_rss(audit)
                            res[(s.name, "CPU ms/conn")].append(cpu * 1000 / args.connections)
                        elif s.pids():
                            cpu1 = sum(proc_cpu(p) for p in s.pids())
                            res[(s.name, "CPU ms/conn")].append(
                                (cpu1 - cpu0) * 1000 / args.connections)

                    def lat():
                        p50, p99 = latency(s, 500)
                        res[(s.name, "p50 ms")].append(p50)
                        res[(s.name, "p99 ms")].append(p99)

                    attempt("download", bulk_down)
                    attempt("upload", bulk_up)
                    attempt("new connections", conns)
                    attempt("h1 requests", lambda: res[(s.name, "h1 req/s")].append(
                        h2load(s, args.requests, 16, 1, True)))
                    attempt("h2 requests", lambda: res[(s.name, "h2 req/s")].append(
                        h2load(s, args.requests, 16, 10, False)))
                    attempt("latency", lat)
                    if s.pids():
                        res[(s.name, "peak RSS MiB")].append(
                            sum(proc_rss(p, "VmHWM") for p in s.pids()))
                print("round %d done" % (rnd + 1), file=sys.stderr, flush=True)
        finally:
            redirect(0)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            for d in getattr(world, "cleanup_dirs", []):
                shutil.rmtree(d, ignore_errors=True)
    print("machine: %s, %d CPUs, kernel %s; %s; %d rounds, medians; bulk %d MiB down, 256 MiB "
          "up; %d requests of 1 KiB, c=16 (h2 m=10); new connections: h2load, one request each" % (
              platform.node(), os.cpu_count(), platform.release(), time.strftime("%Y-%m-%d"),
              args.rounds, args.bulk_mib, args.requests))
    print()
    names = [s.name for s in setups]
    print("| metric | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for m in metrics:
        cells = []
        for n in names:
            v = res[(n, m)]
            if not v:
                cells.append("-")
                continue
            med = statistics.median(v)
            base = res.get(("direct", m))
            ratio = ""
            if n != "direct" and base and m not in ("CPU s/GiB", "CPU ms/conn", "idle RSS MiB",
                                                    "peak RSS MiB"):
                ratio = " (%.2fx)" % (med / statistics.median(base))
            cells.append(("%.3g" % med) + ratio)
        print("| %s | %s |" % (m, " | ".join(cells)))
    print()
    for f in failures:
        print("failed: " + f)
    print()
    print("raw: " + json.dumps({"%s %s" % k: [round(x, 3) for x in v] for k, v in res.items()}))


if __name__ == "__main__":
    main()
