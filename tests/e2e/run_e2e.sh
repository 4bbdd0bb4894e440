#!/usr/bin/env bash
# run_e2e.sh SUITE.py GATEWAY_BINARY: runs one end-to-end suite inside private network, mount and
# PID namespaces of its own, so nothing it starts can reach or outlive anything outside.
# Without root it skips (exit 77), unless MSB_E2E_REQUIRED=1 (CI), where skipping is a failure.
set -euo pipefail
suite="$1"
gateway="$2"
if [ "$(id -u)" -ne 0 ]; then
  if [ "${MSB_E2E_REQUIRED:-0}" = "1" ]; then
    echo "e2e: root is required (MSB_E2E_REQUIRED=1)" >&2
    exit 1
  fi
  echo "e2e: skipped (needs root)" >&2
  exit 77
fi
here="$(cd "$(dirname "$0")" && pwd)"
export MSB_GATEWAY="$gateway"
exec unshare --net --mount --pid --fork --mount-proc /usr/bin/python3 "$here/$suite" -v
