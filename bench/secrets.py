#!/usr/bin/python3
"""Secret injection through msb-gateway: what substituting a placeholder costs, side by side in
one run, the setups alternated round by round (the order rotates) so that machine noise hits all
alike.

Run through bench/secrets.sh (private namespaces, root). The world is bench/tls_intercept.py's
(bench/tls_world.py): nginx with a test-CA certificate on 198.51.100.10 in the e2e test internet,
every client inside `msb-gateway run --tls-intercept --tls-upstream-ca-cert CA`, API_KEY (a
40-byte value) in the gateway's environment.

  none          no secret configured
  headers       --secret API_KEY@api.example.test (header scope only)
  headers+body  a --config file: the same secret with "injection": {"headers": true, "body": true}

Measured: curl uploading 256 MiB (--data-binary, pseudo-random bytes) without a placeholder and
with one placeholder in the middle (a body-scoped upload above 4 MiB is re-framed as chunked by
the gateway); h2load keep-alive request rates (-c16, 1 KiB responses) over HTTP/1.1 and HTTP/2,
without and with `Authorization: Bearer $API_KEY` (the guest's shell expands it: the placeholder
where a secret is configured); the gateway's peak RSS and CPU from its last `gateway.stop` audit
record. Once per setup (round 1) the upstream's view is checked: the SHA-256 of both uploads
(servers.py behind nginx /hash) and the Authorization header it received (nginx /echo-auth).

Prints a Markdown table of medians and ratios to `none`.
"""
import argparse
import contextlib
import hashlib
import json
import os
import platform
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from harness import DNS1, World  # noqa: E402
sys.path.insert(0, HERE)
from tls_world import (GIB, NAME, Setup, cleanup, curl_time, fresh,  # noqa: E402
                       SMALL_PARENT, gateway_cpu_and_rss, guest_dir, h2load,
                       make_site, print_results, start_nginx)

VALUE = "sk-bench-" + "0123456789abcdefghijklmnopqrstu"  # 40 bytes
PLACEHOLDER = "$MSB_API_KEY"
HEADER = "Authorization: Bearer $API_KEY"
UPLOAD_MIB = 256
# TypeError: no gateway.stop record in the audit log (the gateway did not stop cleanly).
ERRORS = (RuntimeError, subprocess.TimeoutExpired, TypeError, ValueError)


def loadavg():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def upstream_hash(setup, path):
    """What the upstream received of an upload of `path`: "LEN SHA256"."""
    r = setup.run(["curl", "-sS", "--http1.1", "-H", "Expect:", "--cacert", setup.ca,
                   "--data-binary", "@" + path,
                   "-H", "Content-Type: application/octet-stream", "https://%s/hash" % NAME],
                  timeout=600)
    if r.returncode != 0:
        raise RuntimeError("%s: curl /hash failed: %s" % (setup.name, r.stderr[-300:]))
    return r.stdout.strip()


def upstream_auth(setup, world):
    """The Authorization header the upstream received when the guest sent HEADER (nginx logs
    it: an echo would come back through the gateway's response scrubber)."""
    log = os.path.join(world.tmp, "auth.log")
    if os.path.exists(log):
        open(log, "w").close()  # truncated, not removed: nginx keeps it open
    r = setup.run(["sh", "-c", 'exec curl -sS --http1.1 --cacert "$0" -H "%s" '
                   'https://%s/log-auth' % (HEADER, NAME), setup.ca], timeout=60)
    if r.returncode != 0 or not os.path.exists(log):
        raise RuntimeError("%s: curl /log-auth failed: %s" % (setup.name, r.stderr[-300:]))
    return open(log).read().strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=20000)
    args = ap.parse_args()
    load_start = loadavg()
    os.environ["API_KEY"] = VALUE
    assert len(VALUE) == 40
    with World(args.gateway) as world, contextlib.ExitStack() as stack:
        stack.callback(cleanup, world)
        certs, test_ca, root = make_site(world)
        # Pseudo-random bytes (a '$' every 256 bytes on average, so the body scanner sees
        # candidate starts all along), not zeros; written and hashed 1 MiB at a time: this
        # process's peak RSS would otherwise show in the gateway's max_rss_kb (Linux carries the
        # high-water mark across fork and exec).
        gdir = guest_dir(world)
        bodies = {"plain": os.path.join(gdir, "plain.bin"),
                  "placeholder": os.path.join(gdir, "placeholder.bin")}
        hashes = {k: hashlib.sha256() for k in ("plain", "placeholder", "substituted")}
        sizes = dict.fromkeys(hashes, 0)
        rng = random.Random(12)
        tail = b""
        with open(bodies["plain"], "wb") as fp, open(bodies["placeholder"], "wb") as fh:
            for i in range(UPLOAD_MIB):
                chunk = rng.randbytes(1 << 20)
                if b"$MSB_" in tail + chunk[:16] or b"$MSB_" in chunk:
                    raise RuntimeError("the random body holds a placeholder; change the seed")
                tail = chunk[-16:]
                ph = chunk
                sub = chunk
                if i == UPLOAD_MIB // 2:
                    ph = PLACEHOLDER.encode() + chunk[len(PLACEHOLDER):]
                    sub = VALUE.encode() + chunk[len(PLACEHOLDER):]
                fp.write(chunk)
                fh.write(ph)
                for k, c in (("plain", chunk), ("placeholder", ph), ("substituted", sub)):
                    hashes[k].update(c)
                    sizes[k] += len(c)
        expect = {k: "%d %s" % (sizes[k], hashes[k].hexdigest()) for k in hashes}
        start_nginx(world, certs, root)

        audit = os.path.join(world.tmp, "gw-audit.jsonl")
        config = os.path.join(world.tmp, "secrets.json")
        with open(config, "w") as f:
            json.dump({"secrets": {"secrets": [{
                "env_var": "API_KEY", "source": {"kind": "env", "var": "API_KEY"},
                "allowed_hosts": [{"exact": NAME}],
                "injection": {"headers": True, "body": True}}]}}, f)
        gw = SMALL_PARENT + [
              args.gateway, "run", "--tls-intercept", "--tls-upstream-ca-cert", test_ca,
              "--state-dir", os.path.join(world.tmp, "state"), "--dns-nameserver", DNS1,
              "--max-connections", "65536", "--audit-log", audit]
        ca = "/etc/ssl/certs/ca-certificates.crt"  # the bundle `run` installs for the guest
        setups = [Setup("none", gw + ["--"], ca),
                  Setup("headers", gw + ["--secret", "API_KEY@" + NAME, "--"], ca),
                  Setup("headers+body", gw + ["--config", config, "--"], ca)]
        metrics = ["upload Gbit/s (no placeholder)", "upload Gbit/s (placeholder mid-body)",
                   "upload Gbit/s (chunked, no placeholder)",
                   "CPU s/GiB (upload)", "CPU s/GiB (chunked upload)",
                   "peak RSS MiB (256 MiB upload)",
                   "h1 req/s, no header", "h1 req/s, Authorization", "h2 req/s, no header",
                   "h2 req/s, Authorization", "peak RSS MiB (h1 c16, Authorization)"]
        no_ratio = ("CPU s/GiB (upload)", "CPU s/GiB (chunked upload)",
                    "peak RSS MiB (256 MiB upload)",
                    "peak RSS MiB (h1 c16, Authorization)")
        res = {(s.name, m): [] for s in setups for m in metrics}
        checks, failures = [], []

        def check(s):
            want_body = expect["substituted"] if s.name == "headers+body" else expect["placeholder"]
            got = {"plain": upstream_hash(s, bodies["plain"]),
                   "placeholder": upstream_hash(s, bodies["placeholder"])}
            ok_plain = got["plain"] == expect["plain"]
            ok_ph = got["placeholder"] == want_body
            auth = upstream_auth(s, world)
            if s.name == "none":
                # No secret: the guest's $API_KEY is whatever `run` gave it.
                ok_auth = auth.startswith("Bearer ")
            else:
                ok_auth = auth == "Bearer " + VALUE
            what = "value" if auth == "Bearer " + VALUE else (
                "placeholder" if auth == "Bearer " + PLACEHOLDER else repr(auth[:20]))
            checks.append("%s: upload without placeholder %s; with placeholder %s (%s); "
                          "Authorization upstream: Bearer <%s> %s" % (
                              s.name, "ok" if ok_plain else "WRONG " + got["plain"],
                              "ok" if ok_ph else "WRONG " + got["placeholder"],
                              "substituted" if want_body == expect["substituted"]
                              else "byte-exact", what, "ok" if ok_auth else "WRONG"))
            if not (ok_plain and ok_ph and ok_auth):
                failures.append(checks[-1])

        for rnd in range(args.rounds):
            order = setups[rnd % len(setups):] + setups[:rnd % len(setups)]
            for s in order:
                def attempt(label, fn):
                    try:
                        fn()
                    except ERRORS as e:
                        failures.append("%s %s (round %d): %s" % (s.name, label, rnd + 1,
                                                                  str(e)[:200]))

                def upload(key, metric, chunked=False):
                    def fn():
                        fresh(audit)
                        extra = ["-H", "Transfer-Encoding: chunked"] if chunked else []
                        t, _, up = curl_time(s, ["--data-binary", "@" + bodies[key], "-H",
                                                 "Content-Type: application/octet-stream"] +
                                             extra + ["https://%s/upload" % NAME], resolve=False)
                        if chunked and up >= UPLOAD_MIB << 20:
                            up = UPLOAD_MIB << 20  # curl counts the chunk framing it sent
                        if up != UPLOAD_MIB << 20:
                            reqs = [line for line in open(audit) if '"http.request"' in line]
                            raise RuntimeError("uploaded %d bytes; %s" % (
                                up, reqs[-1][-300:] if reqs else "no http.request record"))
                        res[(s.name, metric)].append(up * 8 / t / 1e9)
                        cpu, rss = gateway_cpu_and_rss(audit)
                        res[(s.name, "peak RSS MiB (256 MiB upload)")].append(rss)
                        if key == "plain" and not chunked:
                            res[(s.name, "CPU s/GiB (upload)")].append(cpu / (up / GIB))
                        elif key == "plain":
                            res[(s.name, "CPU s/GiB (chunked upload)")].append(cpu / (up / GIB))
                    return fn

                def rate(metric, h1, header):
                    def fn():
                        fresh(audit)
                        res[(s.name, metric)].append(h2load(s, args.requests, 16, 1 if h1 else 10,
                                                            h1, header=header))
                        if h1 and header:
                            _, rss = gateway_cpu_and_rss(audit)
                            res[(s.name, "peak RSS MiB (h1 c16, Authorization)")].append(rss)
                    return fn

                if rnd == 0:
                    attempt("check", lambda: check(s))
                attempt("upload", upload("plain", "upload Gbit/s (no placeholder)"))
                # The client sends the body chunked itself: every setup then sends chunked
                # upstream, which separates the cost of re-framing from the cost of scanning.
                attempt("upload", upload("plain", "upload Gbit/s (chunked, no placeholder)",
                                         chunked=True))
                attempt("upload placeholder",
                        upload("placeholder", "upload Gbit/s (placeholder mid-body)"))
                attempt("h1", rate("h1 req/s, no header", True, None))
                attempt("h1 header", rate("h1 req/s, Authorization", True, HEADER))
                attempt("h2", rate("h2 req/s, no header", False, None))
                attempt("h2 header", rate("h2 req/s, Authorization", False, HEADER))
            print("round %d done (load %s)" % (rnd + 1, loadavg()), file=sys.stderr, flush=True)
    load_end = loadavg()
    print("machine: %s, %d CPUs, kernel %s; %s; %d rounds, medians; upload %d MiB; %d requests "
          "of 1 KiB, c=16 (h2 m=10); load average (1/5/15 min) at start %s, at end %s" % (
              platform.node(), os.cpu_count(), platform.release(), time.strftime("%Y-%m-%d"),
              args.rounds, UPLOAD_MIB, args.requests, load_start, load_end))
    if float(load_start.split()[0]) > 0.5 or float(load_end.split()[0]) > 0.5:
        print("NOTE: the load average shows other work shared the CPUs during this run.")
    print()
    print_results(res, [s.name for s in setups], metrics, "none", no_ratio, failures, checks)


if __name__ == "__main__":
    main()
