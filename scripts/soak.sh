#!/usr/bin/env bash
# scripts/soak.sh [pytest -k EXPR] - the soak and fault tests of Tests/integration/test_soak.py
# in their full form (10,000 held connections, 60 s of SIGHUP every 100 ms, 20 upstream
# restarts, a 10-minute mixed run, kill -9 during 30 s of writes; about 15 minutes in all),
# against the release build, on loopback. The normal suite runs the same tests in a short form.
# Prints one SOAK line of figures per test and keeps them in .build/soak-<UTC>.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product gateway 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
ulimit -n "$(ulimit -Hn)"
report=".build/soak-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
select=()
[[ $# -gt 0 ]] && select=(-k "$1")
GATEWAY_SOAK=long GATEWAY_SOAK_REPORT="$PWD/$report" GATEWAY_BIN="$PWD/.build/release/gateway" \
    python3 -m pytest Tests/integration/test_soak.py -q -s -p no:cacheprovider "${select[@]}" | grep -E '^SOAK |passed|failed'
echo "figures: $report"
