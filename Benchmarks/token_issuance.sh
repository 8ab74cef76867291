#!/usr/bin/env bash
# Benchmarks/token_issuance.sh - token issuance per second (SPEC §10): POST /_gateway/token
# with grant_type=client_credentials and an API key, ES256 access tokens, one worker, against
# the release build, on loopback. Each issuance authenticates the key in memory, writes a
# refresh family and token to SQLite (one fsync'd WAL commit on the store thread), signs an
# ES256 JWT and queues an audit event (a second commit). For the cost breakdown it also runs
# the same with an HS256 signing key (signing cost) and the JWKS document (request overhead).
#   DURATION=10s CONNS=16 Benchmarks/token_issuance.sh
# Prints requests/s per case; every run is bounded by wrk -d.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${GATEWAY_BIN:-$PWD/.build/release/gateway}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
PORT=${PORT:-18480}
export GATEWAY_BENCH_SECRET=bench-secret-0123456789abcdef0123456789
command -v wrk >/dev/null || { echo "wrk is needed (apt install wrk)" >&2; exit 2; }
[[ -x $BIN ]] || { echo "no $BIN: swift build -c release --product gateway" >&2; exit 2; }
WORK=$(mktemp -d)
PID=""
trap '[[ -n $PID ]] && kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/es256.pem" 2>/dev/null

run_case() {  # NAME SIGNING_KEY_LINE PATH METHOD
    local name=$1 keyline=$2 path=$3 method=$4
    rm -f "$WORK"/store.db*
    cat >"$WORK/gw.conf" <<CONF
listen 127.0.0.1:$PORT;
workers 1;
access_log off;
auth_failure_limit off;
store sqlite $WORK/store.db;
api_keys { }
tokens { $keyline issuer https://bench.test; audience bench; }
route /** { respond 200 "ok"; }
CONF
    local key
    key=$("$BIN" keys create --name bench --principal bench --permissions bench:read --json --config "$WORK/gw.conf" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
    "$BIN" serve --config "$WORK/gw.conf" >"$WORK/gw.log" 2>&1 &
    PID=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
    cat >"$WORK/post.lua" <<LUA
wrk.method = "$method"
wrk.headers["X-API-Key"] = "$key"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
if wrk.method == "POST" then wrk.body = "grant_type=client_credentials" end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f req/s, non2xx %d, p99 %.2f ms\n", summary.requests / (summary.duration / 1e6),
    summary.errors.status, latency:percentile(99) / 1000))
end
LUA
    printf '%-28s ' "$name"
    wrk -t 2 -c "$CONNS" -d "$DURATION" -s "$WORK/post.lua" "http://127.0.0.1:$PORT$path" | sed -n 's/^RESULT //p'
    kill $PID; wait $PID 2>/dev/null || true; PID=""
}

echo "token issuance, $(nproc) cores, wrk -c $CONNS -d $DURATION, $("$BIN" version | head -n 1)"
run_case "issuance ES256" "signing_key es ES256 file:$WORK/es256.pem;" /_gateway/token POST
run_case "issuance HS256" "signing_key hs HS256 env:GATEWAY_BENCH_SECRET;" /_gateway/token POST
run_case "GET jwks (no store, no sign)" "signing_key es ES256 file:$WORK/es256.pem;" /.well-known/jwks.json GET
