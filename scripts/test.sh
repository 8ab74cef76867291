#!/usr/bin/env bash
# The whole test suite: Swift unit tests, then the black-box integration suite against the
# release binary (real sockets on loopback). Run from anywhere: scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# The integration suite needs pytest (present on the standard image; installed if not).
# PyJWT + cryptography mint the test tokens (an implementation independent of ours), and
# authlib is the real OAuth 2 client the token-service tests drive; openapi-spec-validator and
# schemathesis check the admin API against its OpenAPI document.
python3 -m pytest --version >/dev/null 2>&1 || python3 -m pip install -q pytest
python3 -c 'import jwt, cryptography' 2>/dev/null || python3 -m pip install -q pyjwt cryptography
python3 -c 'import authlib, requests' 2>/dev/null || python3 -m pip install -q authlib requests
python3 -c 'import openapi_spec_validator' 2>/dev/null || python3 -m pip install -q openapi-spec-validator
python3 -c 'import schemathesis' 2>/dev/null || python3 -m pip install -q schemathesis
# The official Prometheus client's strict OpenMetrics parser reads the gateway's /metrics.
python3 -c 'import prometheus_client' 2>/dev/null || python3 -m pip install -q prometheus_client

echo "== build (release)"
swift build -c release --product gateway 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
test -x .build/release/gateway || { echo "build failed" >&2; exit 1; }

echo "== unit tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
swift test -c release >"$log" 2>&1 || status=$?
# Passing cases are many (parameterized); show failures and the summary.
grep -E '✘|error:|warning:|Test run with' "$log" | tail -n 200 || true
if [[ $status -ne 0 ]]; then
    tail -n 80 "$log"
    exit "$status"
fi

echo "== configuration example"
.build/release/gateway check-config --config gateway.conf.example

echo "== systemd unit"
if command -v systemd-analyze >/dev/null 2>&1; then
    scripts/verify-systemd-unit.sh
else
    echo "systemd-analyze not available: skipped"
fi

echo "== integration tests"
GATEWAY_BIN="$PWD/.build/release/gateway" python3 -m pytest Tests/integration -q -p no:cacheprovider

echo "== integration tests again through a TLS listener (behaviour that must not differ)"
GATEWAY_TEST_TLS=1 GATEWAY_BIN="$PWD/.build/release/gateway" python3 -m pytest -q -p no:cacheprovider \
    Tests/integration/test_streaming.py Tests/integration/test_review_http.py \
    Tests/integration/test_strictness.py Tests/integration/test_forwarding.py
