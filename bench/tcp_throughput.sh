#!/usr/bin/env bash
# bench/tcp_throughput.sh [--rounds N] [--seconds S] [--jumbo]: bulk TCP throughput through
# msb-gateway and through a plain veth route, side by side, in private namespaces (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
gw="$PWD/${MSB_BUILD_DIR:-build}/gateway/msb-gateway"
[ -x "$gw" ] || scripts/build >/dev/null
exec unshare --net --mount --pid --fork --mount-proc /usr/bin/python3 bench/tcp_throughput.py \
  --gateway "$gw" "$@"
