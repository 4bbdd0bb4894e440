#!/usr/bin/python3
"""DNS queries per second and latency through msb-gateway's interceptor vs. a direct query to the
same upstream (dnsmasq in the test world), side by side in one run.

Run through bench/dns_qps.sh (private namespaces, root). Two load shapes, alternated per round:
  serial     one query at a time: the latency the interceptor adds
  window 64  64 queries in flight: throughput
`direct` sends from the test host namespace straight to the nameserver; `gateway` sends from
inside `msb-gateway run` to the gateway's address, which forwards to the same nameserver.

`dns_qps.py client SERVER COUNT WINDOW` is the load generator itself (stdlib only); it prints one
JSON line with qps and latency percentiles.
"""
import argparse
import json
import os
import platform
import select
import socket
import statistics
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))

NAME = "api.example.test"


def query(qid):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in NAME.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", 1, 1)


def client(server, count, window):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((server, 53))
    s.setblocking(False)
    sent_at = {}
    latencies = []
    next_id = 0
    lost = 0
    start = time.perf_counter()
    while len(latencies) + lost < count:
        while len(sent_at) < window and next_id < count:
            qid = next_id & 0xFFFF
            sent_at[qid] = time.perf_counter()
            s.send(query(qid))
            next_id += 1
        ready, _, _ = select.select([s], [], [], 1.0)
        if not ready:
            lost += len(sent_at)  # a second without any answer: count the window as lost
            sent_at.clear()
            continue
        while True:
            try:
                data = s.recv(4096)
            except BlockingIOError:
                break
            qid = struct.unpack("!H", data[:2])[0]
            t = sent_at.pop(qid, None)
            if t is not None:
                latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - start
    latencies.sort()
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
    print(json.dumps({"qps": len(latencies) / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
                      "answered": len(latencies), "lost": lost}))


def run_client(prefix, server, count, window):
    cmd = prefix + ["/usr/bin/python3", os.path.abspath(__file__), "client", server, str(count),
                    str(window)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError("client failed: %s %s" % (p.stdout, p.stderr))
    return json.loads(p.stdout.strip().splitlines()[-1])


def bench(args):
    from harness import DNS1, World  # noqa: E402
    with World(args.gateway) as world:
        gateway = [args.gateway, "run", "--dns-nameserver", DNS1, "--"]
        setups = [("direct", [], DNS1), ("gateway", gateway, "172.16.0.1")]
        shapes = [("serial", 1, args.serial), ("window 64", 64, args.count)]
        results = {}
        for _ in range(args.rounds):
            for shape, window, count in shapes:
                for name, prefix, server in setups:
                    results.setdefault((shape, name), []).append(
                        run_client(prefix, server, count, window))
    print("machine: %s, %d CPUs, kernel %s; %s; %d rounds, medians of rounds; upstream dnsmasq" %
          (platform.node(), os.cpu_count(), platform.release(), time.strftime("%Y-%m-%d"),
           args.rounds))
    print()
    print("| load | path | queries/s | p50 ms | p99 ms | lost | qps vs direct | p50 added ms |")
    print("|---|---|---|---|---|---|---|---|")
    for shape, _, _ in shapes:
        base = results[(shape, "direct")]
        base_qps = statistics.median(r["qps"] for r in base)
        base_p50 = statistics.median(r["p50_ms"] for r in base)
        for name, _, _ in setups:
            rs = results[(shape, name)]
            qps = statistics.median(r["qps"] for r in rs)
            p50 = statistics.median(r["p50_ms"] for r in rs)
            p99 = statistics.median(r["p99_ms"] for r in rs)
            lost = sum(r["lost"] for r in rs)
            print("| %s | %s | %.0f | %.3f | %.3f | %d | %.2f | %+.3f |" % (
                shape, name, qps, p50, p99, lost, qps / base_qps, p50 - base_p50))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--serial", type=int, default=2000)
    bench(ap.parse_args())


if __name__ == "__main__":
    main()
