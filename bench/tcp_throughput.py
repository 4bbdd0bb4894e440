#!/usr/bin/python3
"""Bulk TCP throughput through msb-gateway vs. a plain veth route, side by side in one run.

Run through bench/tcp_throughput.sh (private namespaces, root). It builds the e2e test world
(tests/e2e/harness.py), starts iperf3 in its internet namespace, and measures, alternating the
setups in every round so that machine noise hits both alike:

  veth     a client namespace routed by the kernel through the test host to the server: the
           machine's ceiling for this path
  gateway  `msb-gateway run -- iperf3 ...`: the same server through the userspace stack
           (and again with --mtu 65520 when --jumbo is given)

for both directions (upload = guest -> upstream, download = upstream -> guest, iperf3 -R). It
prints medians in MB/s (10^6 bytes/s) and the gateway/veth ratio as a Markdown table.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from harness import SERVER, World, sh  # noqa: E402


def iperf(prefix, seconds, reverse, audit=None):
    """Returns (MB/s, bytes, gateway CPU seconds or None)."""
    if audit is not None:
        prefix = prefix[:2] + ["--audit-log", audit] + prefix[2:]
        if os.path.exists(audit):
            os.unlink(audit)
    cmd = prefix + ["iperf3", "-c", SERVER, "-t", str(seconds), "-J", "-O", "1"]
    if reverse:
        cmd.append("-R")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if p.returncode != 0:
        raise RuntimeError("iperf3 failed: %s %s" % (p.stdout[-500:], p.stderr[-500:]))
    data = json.loads(p.stdout[p.stdout.index("{"):])
    received = data["end"]["sum_received"]
    cpu = None
    if audit is not None:
        for line in open(audit):
            e = json.loads(line)
            if e["event"] == "gateway.stop":
                cpu = (e["cpu_user_ms"] + e["cpu_sys_ms"]) / 1000
    return received["bits_per_second"] / 8 / 1e6, received["bytes"], cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--jumbo", action="store_true")
    args = ap.parse_args()
    with World(args.gateway) as world:
        n = ["ip", "netns", "exec", world.inet]
        server = subprocess.Popen(n + ["iperf3", "-s", "-B", SERVER], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        world._pids.append(server)
        time.sleep(0.5)
        # The baseline client namespace, kernel-routed through the test host (198.18.0.0/15 is
        # the benchmarking range).
        guest = world.inet.replace("inet", "veth")
        sh("ip", "netns", "add", guest)
        try:
            sh("ip", "link", "add", "bench0", "type", "veth", "peer", "name", "bench1")
            sh("ip", "link", "set", "bench1", "netns", guest)
            sh("ip", "addr", "add", "198.18.0.1/24", "dev", "bench0")
            sh("ip", "link", "set", "bench0", "up")
            g = ["ip", "netns", "exec", guest]
            sh(*g, "ip", "addr", "add", "198.18.0.2/24", "dev", "bench1")
            sh(*g, "ip", "link", "set", "bench1", "up")
            sh(*g, "ip", "route", "add", "default", "via", "198.18.0.1")
            sh("sysctl", "-qw", "net.ipv4.ip_forward=1")
            setups = [("veth", g), ("gateway", [args.gateway, "run", "--"])]
            if args.jumbo:
                setups.append(("gateway mtu 65520",
                               [args.gateway, "run", "--mtu", "65520", "--"]))
            results = {(name, d): [] for name, _ in setups for d in ("upload", "download")}
            cpu = {(name, d): [] for name, _ in setups for d in ("upload", "download")}
            audit = os.path.join(world.tmp, "bench-audit.jsonl")
            for _ in range(args.rounds):
                for name, prefix in setups:
                    for direction in ("upload", "download"):
                        mbps, nbytes, secs = iperf(prefix, args.seconds, direction == "download",
                                                   audit if name != "veth" else None)
                        results[(name, direction)].append(mbps)
                        if secs is not None:
                            # CPU over the whole run (set-up and the omitted second included)
                            # per GB counted by iperf3: an upper bound of the per-byte cost.
                            cpu[(name, direction)].append(secs / (nbytes / 1e9))
        finally:
            subprocess.run(["ip", "netns", "del", guest], capture_output=True)
    print("machine: %s, %d CPUs, kernel %s; %s; %d rounds x %d s, medians" % (
        platform.node(), os.cpu_count(), platform.release(), time.strftime("%Y-%m-%d"),
        args.rounds, args.seconds))
    print()
    print("| setup | upload MB/s | download MB/s | upload vs veth | download vs veth | "
          "gateway CPU s/GB up | down |")
    print("|---|---|---|---|---|---|---|")
    base = {d: statistics.median(results[("veth", d)]) for d in ("upload", "download")}
    for name, _ in setups:
        up = statistics.median(results[(name, "upload")])
        down = statistics.median(results[(name, "download")])
        c_up = "%.2f" % statistics.median(cpu[(name, "upload")]) if cpu[(name, "upload")] else "-"
        c_dn = ("%.2f" % statistics.median(cpu[(name, "download")])
                if cpu[(name, "download")] else "-")
        print("| %s | %.0f | %.0f | %.2f | %.2f | %s | %s |" % (
            name, up, down, up / base["upload"], down / base["download"], c_up, c_dn))
    print()
    print("raw samples (MB/s): " + json.dumps({"%s %s" % k: [round(x) for x in v]
                                               for k, v in results.items()}))


if __name__ == "__main__":
    main()
