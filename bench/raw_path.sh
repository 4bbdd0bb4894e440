#!/usr/bin/env bash
# bench/raw_path.sh [--rounds N] [--seconds S] [--flows N] [--only NAME,...] [--profile]: the raw path
# (frames -> stack -> host sockets) of msb-gateway beside pasta, slirp4netns and a plain veth, in
# private namespaces (needs root). Installs the peers (Debian's passt, slirp4netns) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
gw="$PWD/${MSB_BUILD_DIR:-build}/gateway/msb-gateway"
[ -x "$gw" ] || scripts/build >/dev/null
need=()
for tool in pasta:passt slirp4netns:slirp4netns iperf3:iperf3 nginx:nginx h2load:nghttp2-client \
  perf:linux-perf; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get install -y -q "${need[@]}" >/dev/null
fi
exec unshare --net --mount --pid --fork --mount-proc /usr/bin/python3 bench/raw_path.py \
  --gateway "$gw" "$@"
