#!/usr/bin/env bash
# bench/dns_qps.sh [--rounds N] [--count N] [--serial N]: DNS queries/s and latency through the
# gateway's interceptor vs. direct to the same nameserver, in private namespaces (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
gw="$PWD/${MSB_BUILD_DIR:-build}/gateway/msb-gateway"
[ -x "$gw" ] || scripts/build >/dev/null
exec unshare --net --mount --pid --fork --mount-proc /usr/bin/python3 bench/dns_qps.py \
  --gateway "$gw" "$@"
