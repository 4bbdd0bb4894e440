#!/usr/bin/env bash
# bench/secrets.sh [--rounds N] [--requests N]: the cost of secret injection through msb-gateway
# (no secret, header scope, header and body scope), side by side in private namespaces (needs
# root; installs the peers from Debian's packages when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
gw="$PWD/${MSB_BUILD_DIR:-build}/gateway/msb-gateway"
[ -x "$gw" ] || scripts/build >/dev/null
missing=()
for p in nginx-light nghttp2-client python3-cryptography curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
exec unshare --net --mount --pid --fork --mount-proc /usr/bin/python3 bench/secrets.py \
  --gateway "$gw" "$@"
