#!/usr/bin/python3
"""The raw path side by side: msb-gateway, pasta, slirp4netns and a plain veth, in one run.

Run through bench/raw_path.sh (private namespaces, root). It builds the e2e test world
(tests/e2e/harness.py: iperf3, nginx and the echo service on 198.51.100.10 in its internet
namespace) and, for every setup, a fresh network namespace of its own with the setup's stack
attached, exactly as a container runtime would hand one over:

  veth                 the namespace kernel-routed through the test host (the machine's ceiling)
  msb run default      msb-gateway serve --netns: run's defaults, MTU 65520 + virtio-net offloads
  msb 1500 offload     the same at MTU 1500 (what a VM's link is), offloads on
  msb 1500 plain       MTU 1500, --no-offload (one frame per syscall: the old default)
  pasta                pasta --config-net --netns (Debian passt; its default MTU, 65520)
  slirp4netns          slirp4netns --configure --mtu=65520 (its fastest setting)

Each round runs every setup once, in turn (machine noise hits all alike), measuring: iperf3 bulk
TCP both ways (one stream), the stack process's CPU seconds per GiB moved, a 1 GiB HTTPS download
(nginx, no interception), new HTTPS connections per second (h2load, one request each), and the
stack's idle RSS. Once per setup (not per round): RSS with --flows idle echo connections open and
the cost per flow, and sequential new connections per second without and with those flows open
(to another address: the flows must not be what the host kernel's port choice contends with). Medians, MB/s = 10^6 B/s.

--profile: instead, for each msb-gateway setup in --only, one iperf3 run each way with
`perf record -e cpu-clock -g` attached to the gateway (perf's own overhead makes these runs no
measurement); prints each profile's top frames by self time.
"""
import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from harness import CLIENT, DNS1, PYTHON, SERVER, SERVER2, World, sh  # noqa: E402
sys.path.insert(0, HERE)
from tls_world import (GIB, Setup, h2load, make_site, print_results, proc_cpu,  # noqa: E402
                       proc_rss, route_through_host, start_nginx)

SETUPS = ["veth", "msb run default", "msb 1500 offload", "msb 1500 plain", "pasta",
          "slirp4netns"]
MSB_FLAGS = {"msb run default": [], "msb 1500 offload": ["--mtu", "1500"],
             "msb 1500 plain": ["--mtu", "1500", "--no-offload"]}


class Stack:
    """One setup's namespace and the process serving it (None for veth)."""

    def __init__(self, world, name, index, args):
        self.name = name
        self.ns = "msbb-%d" % index
        self.path = "/run/netns/" + self.ns
        self.proc = None
        self.world = world
        # /run/netns is the host's directory even in private namespaces: clear a stale name.
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
        r = subprocess.run(["ip", "netns", "add", self.ns], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("ip netns add %s: %s" % (self.ns, r.stderr.strip()))
        self.prefix = ["ip", "netns", "exec", self.ns]
        sh(*self.prefix, "ip", "link", "set", "lo", "up")
        if name == "veth":
            route_through_host(self.ns, "bveth0", "bveth1")
            return
        if name in MSB_FLAGS:
            argv = [args.gateway, "serve", "--netns", self.path, "--dns-nameserver", DNS1,
                    "--max-connections", str(args.flows + 1000)] + MSB_FLAGS[name]
        elif name == "pasta":
            # As root pasta would switch to nobody and then fail to enter the namespace.
            argv = ["pasta", "-f", "-q", "--runas", "0", "--config-net", "-t", "none", "-u", "none", "-T", "none",
                    "-U", "none", "--netns", self.path]
        else:
            argv = ["slirp4netns", "--configure", "--mtu=65520", "--netns-type=path", self.path,
                    "tap0"]
        # RSS is read from /proc (VmRSS, VmHWM: the stack's own memory since its exec).
        self.log = open(os.path.join(world.tmp, "stack-%d.log" % index), "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            r = subprocess.run(self.prefix + ["ip", "route", "show", "default"],
                               capture_output=True, text=True)
            if "default" in r.stdout:
                break
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited at start: %s" % (
                    name, open(self.log.name).read()[-300:]))
            time.sleep(0.05)
        else:
            raise RuntimeError("%s did not configure the namespace" % name)
        time.sleep(0.3)

    def cpu(self):
        return proc_cpu(self.proc.pid) if self.proc else None

    def rss(self):
        return proc_rss(self.proc.pid) if self.proc else None

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.name == "veth":
            subprocess.run(["ip", "link", "del", "bveth0"], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


def iperf(stack, seconds, reverse):
    """MB/s and the stack's CPU seconds per GiB for one iperf3 run."""
    import json
    cmd = stack.prefix + ["iperf3", "-c", SERVER, "-t", str(seconds), "-J", "-O", "1"]
    if reverse:
        cmd.append("-R")
    c0 = stack.cpu()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    c1 = stack.cpu()
    if p.returncode != 0:
        raise RuntimeError("iperf3 failed: %s %s" % (p.stdout[-300:], p.stderr[-300:]))
    d = json.loads(p.stdout[p.stdout.index("{"):])
    # Bytes over the whole run (the omitted second included), as the CPU time covers it all.
    total = d["end"]["sum_received"]["bytes"] + sum(
        i["sum"]["bytes"] for i in d["intervals"] if i["sum"].get("omitted"))
    mbps = d["end"]["sum_received"]["bits_per_second"] / 8 / 1e6
    cpu = (c1 - c0) / (total / GIB) if c0 is not None else None
    return mbps, cpu


def connect_rate(stack, n=2000):
    """Sequential guest connect + close to the echo service on SERVER2 (client.py rate)."""
    r = subprocess.run(stack.prefix + [PYTHON, CLIENT, "rate", SERVER2, "9", str(n)],
                       capture_output=True, text=True, timeout=300)
    if not r.stdout.startswith("rate "):
        raise RuntimeError("%s: connect rate: %s" % (stack.name, (r.stdout + r.stderr)[-200:]))
    return float(r.stdout.split()[1])


def idle_flows(stack, n):
    """RSS MiB before and with n idle echo connections open (client.py hold), and the new-
    connection rate without and with them (to another address, so the host kernel's port
    choice for the upstream connect is not what is measured)."""
    before = stack.rss()
    bare_rate = connect_rate(stack)
    p = subprocess.Popen(stack.prefix + [PYTHON, CLIENT, "hold", SERVER, "9", str(n)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    time.sleep(0.5)
    during = stack.rss()
    busy_rate = connect_rate(stack) if line == "open %d echoed %d" % (n, n) else None
    try:
        p.stdin.write("\n")
        p.stdin.flush()
        p.wait(timeout=120)
    except (BrokenPipeError, subprocess.TimeoutExpired):
        p.kill()
        p.wait()
    if line != "open %d echoed %d" % (n, n):
        raise RuntimeError("%s: %d idle flows: %s" % (stack.name, n, line or "client failed"))
    return before, during, bare_rate, busy_rate


def profile(world, names, args):
    """perf profiles of the gateway's bulk paths (see the module docstring)."""
    for i, name in enumerate(n for n in names if n in MSB_FLAGS):
        stack = Stack(world, name, i, args)
        try:
            for direction in ("upload", "download"):
                data = os.path.join(world.tmp, "perf-%d-%s.data" % (i, direction))
                cmd = stack.prefix + ["iperf3", "-c", SERVER, "-t", str(args.seconds + 2)]
                if direction == "download":
                    cmd.append("-R")
                client = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
                time.sleep(1)
                subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-g", "-p",
                                str(stack.proc.pid), "-o", data, "--", "sleep",
                                str(args.seconds)], capture_output=True)
                client.wait(timeout=60)
                r = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio",
                                    "--sort", "sym", "-g", "none", "--percent-limit", "1.5"],
                                   capture_output=True, text=True)
                print("### %s, %s: top frames by self time" % (name, direction))
                print()
                for line in r.stdout.splitlines():
                    if line.strip() and not line.startswith("#"):
                        print("    " + line.strip())
                print()
        finally:
            stack.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--flows", type=int, default=10000)
    ap.add_argument("--only", default=",".join(SETUPS))
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    names = [n for n in SETUPS if n in args.only.split(",")]
    res = {}
    failures = []

    def add(name, metric, value):
        if value is not None:
            res.setdefault((name, metric), []).append(value)

    with World(args.gateway) as world:
        n = ["ip", "netns", "exec", world.inet]
        server = subprocess.Popen(n + ["iperf3", "-s", "-B", SERVER], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        world._pids.append(server)
        certs, test_ca, root = make_site(world)
        with open(os.path.join(root, "1g"), "wb") as f:
            f.truncate(GIB)
        start_nginx(world, certs, root)
        if args.profile:
            profile(world, names, args)
            return
        for rnd in range(args.rounds):
            for i, name in enumerate(names):
                stack = None
                try:
                    stack = Stack(world, name, i, args)
                except Exception as e:  # noqa: BLE001 - reported, the others go on
                    failures.append("%s round %d: %s" % (name, rnd, e))
                    subprocess.run(["ip", "netns", "del", "msbb-%d" % i], capture_output=True)
                    subprocess.run(["ip", "link", "del", "bveth0"], capture_output=True)
                    continue
                try:
                    add(name, "idle RSS MiB", stack.rss())
                    up, cpu_up = iperf(stack, args.seconds, False)
                    down, cpu_down = iperf(stack, args.seconds, True)
                    add(name, "TCP up MB/s", up)
                    add(name, "TCP down MB/s", down)
                    add(name, "CPU s/GiB up", cpu_up)
                    add(name, "CPU s/GiB down", cpu_down)
                    setup = Setup(name, stack.prefix, test_ca)
                    r = setup.run(["curl", "-sS", "--http1.1", "--cacert", test_ca, "--resolve",
                                   "api.example.test:443:%s" % SERVER, "-o", "/dev/null", "-w",
                                   "%{speed_download}", "https://api.example.test/1g"])
                    if r.returncode == 0:
                        add(name, "HTTPS 1 GiB down MB/s", float(r.stdout) / 1e6)
                    else:
                        failures.append("%s https: %s" % (name, r.stderr[-200:]))
                    add(name, "new HTTPS conns/s", h2load(setup, 2000, 1, 1, True, close=True))
                    if rnd == 0 and args.flows:
                        before, during, bare, busy = idle_flows(stack, args.flows)
                        add(name, "new conns/s, no idle flows", bare)
                        add(name, "new conns/s, %d idle flows" % args.flows, busy)
                        if before is not None:
                            add(name, "RSS MiB, %d idle flows" % args.flows, during)
                            add(name, "KiB per idle flow", (during - before) * 1024 / args.flows)
                    add(name, "peak RSS MiB", stack.proc and proc_rss(stack.proc.pid, "VmHWM"))
                except Exception as e:  # noqa: BLE001
                    failures.append("%s round %d: %s" % (name, rnd, e))
                finally:
                    stack.close()
    print("machine: %s, %d CPUs, kernel %s; %s; %d rounds x %d s; medians" % (
        platform.node(), os.cpu_count(), platform.release(), time.strftime("%Y-%m-%d"),
        args.rounds, args.seconds))
    print()
    metrics = ["TCP up MB/s", "TCP down MB/s", "CPU s/GiB up", "CPU s/GiB down",
               "HTTPS 1 GiB down MB/s", "new HTTPS conns/s", "idle RSS MiB", "peak RSS MiB",
               "RSS MiB, %d idle flows" % args.flows, "KiB per idle flow",
               "new conns/s, no idle flows", "new conns/s, %d idle flows" % args.flows]
    print_results(res, names, metrics, "veth",
                  {"CPU s/GiB up", "CPU s/GiB down", "idle RSS MiB", "peak RSS MiB",
                   "RSS MiB, %d idle flows" % args.flows, "KiB per idle flow"}, failures)


if __name__ == "__main__":
    main()
