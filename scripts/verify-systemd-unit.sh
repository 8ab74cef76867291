#!/usr/bin/env bash
# Checks deploy/systemd/gateway.service with systemd-analyze verify. The unit names
# /usr/local/bin/gateway, so the check runs against a copy whose paths point at this build.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.build/release/gateway"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sed -e "s#/usr/local/bin/gateway#$bin#g" deploy/systemd/gateway.service >"$work/gateway.service"
out=$(systemd-analyze verify "$work/gateway.service" 2>&1 || true)
# Outside a booted systemd (containers, CI) verify also reports on the host's own units;
# only lines about our unit count.
mine=$(printf '%s\n' "$out" | grep 'gateway.service' || true)
if [[ -n $mine ]]; then
    printf '%s\n' "$mine" >&2
    exit 1
fi
echo "deploy/systemd/gateway.service: verified"
