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
import os
import platform
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from harness import SERVER, World, sh  # noqa: E402
sys.path.insert(0, HERE)
from tls_world import (GIB, NAME, SMALL_PARENT, Setup, children, curl_time,  # noqa: E402
                       fresh, gateway_cpu_and_rss, guest_dir, h2load, proc_cpu, proc_rss,
                       make_site, print_results, route_through_host, start_nginx)


def client_namespace(world):
    """A namespace kernel-routed through the test host."""
    ns = world.inet.replace("inet", "cli")
    sh("ip", "netns", "add", ns)
    return ns, route_through_host(ns)


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--bulk-mib", type=int, default=1024)
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--connections", type=int, default=3000)
    ap.add_argument("--only", default="direct,gateway,mitmproxy,squid")
    ap.add_argument("--mtu1500", action="store_true",
                    help="also the gateway at MTU 1500 (offloads on), a VM's usual link")
    args = ap.parse_args()
    want = args.only.split(",")
    with World(args.gateway) as world:
        certs, test_ca, root = make_site(world)
        with open(os.path.join(root, "bulk"), "wb") as f:
            f.truncate(args.bulk_mib << 20)  # sparse: the page cache serves zeros
        upload = os.path.join(guest_dir(world), "upload.bin")  # world.tmp: not for the guest
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
                # Under a small shell: its peak RSS (max_rss_kb) would otherwise be this
                # process's (tls_world.SMALL_PARENT).
                setups.append(Setup("gateway", SMALL_PARENT + gw,
                                    "/etc/ssl/certs/ca-certificates.crt"))
                if args.mtu1500:
                    # run's default is MTU 65520 with offloads (docs/cli.md --mtu).
                    setups.append(Setup("gateway mtu 1500",
                                        SMALL_PARENT + gw[:2] + ["--mtu", "1500"] + gw[2:],
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
                    gw_pid = children(p.pid)[1]  # the gateway, under SMALL_PARENT's shell
                    res[(s.name, "idle RSS MiB")].append(proc_rss(gw_pid))
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
    print_results(res, [s.name for s in setups], metrics, "direct",
                  ("CPU s/GiB", "CPU ms/conn", "idle RSS MiB", "peak RSS MiB"), failures)


if __name__ == "__main__":
    main()
