#!/usr/bin/env bash
# Benchmarks/instructions_per_request.sh - instructions the gateway executes per proxied request,
# counted by valgrind's callgrind: deterministic where timings on a shared VM are not, so a cost
# of a few percent (metrics counting) shows. For each configuration, two runs under callgrind
# (WARM and WARM+N keep-alive requests through a public or an HS256 JWT route to a tiny nginx
# upstream); their difference over N is the per-request figure, free of start-up and exit.
#
#   Benchmarks/instructions_per_request.sh            # metrics on/off, public and JWT routes
#   N=20000 WARM=2000 Benchmarks/instructions_per_request.sh
# Needs valgrind and nginx (apt); the release build (swift build -c release).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/sbin
N=${N:-20000} WARM=${WARM:-2000}
BIN=${GATEWAY_BIN:-$PWD/.build/release/gateway}
work=$(mktemp -d)
up_port=$((20000 + RANDOM % 10000)) gw_port=$((up_port + 1))
cleanup() {
    [[ -f $work/up.pid ]] && kill "$(cat "$work/up.pid")" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/up.conf" <<CONF
worker_processes 1; daemon on; pid $work/up.pid; error_log $work/up.err;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$up_port; location / { return 200 "ok\n"; } } }
CONF
nginx -c "$work/up.conf" -p "$work"
secret=instructions-secret-0123456789abcdef0123
token=$(python3 -c 'import jwt, sys, time; print(jwt.encode({"iss": "https://idp.bench", "aud": "api", "sub": "u", "exp": int(time.time()) + 3600}, sys.argv[1], algorithm="HS256"))' "$secret")

# load N PATH [HEADER] : N keep-alive GETs, pipelined 50 at a time.
load() {
    python3 - "$gw_port" "$1" "$2" "${3:-}" <<'PY'
import socket, sys
port, n, path, header = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
request = f"GET {path} HTTP/1.1\r\nHost: bench\r\n{header + chr(13) + chr(10) if header else ''}\r\n".encode()
s = socket.create_connection(("127.0.0.1", port)); s.settimeout(120)
done = 0
while done < n:
    batch = min(50, n - done)
    s.sendall(request * batch)
    seen, buffer = 0, b""
    while seen < batch:
        data = s.recv(65536)
        if not data: sys.exit("connection closed")
        buffer += data
        seen = buffer.count(b" 200 OK\r\n")
    done += batch
PY
}

# count METRICS ROUTE REQUESTS : total instructions of one callgrind run.
count() {
    local rules="public; " header=""
    [[ $2 == jwt ]] && rules="" header="Authorization: Bearer $token"
    cat >"$work/gw.conf" <<CONF
listen 127.0.0.1:$gw_port; workers 1; access_log off; metrics $1;
jwt { issuer https://idp.bench; audience api; key k HS256 env:BENCH_SECRET; }
upstream up { server 127.0.0.1:$up_port; keepalive 16; }
route /** { ${rules}upstream up; }
CONF
    BENCH_SECRET=$secret valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$BIN" serve --config "$work/gw.conf" \
        >"$work/gw.log" 2>&1 &
    local pid=$! i
    for i in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$gw_port") 2>/dev/null && break
        sleep 0.2
    done
    load "$3" / "$header"
    kill -TERM "$pid"
    wait "$pid" || true
    awk '/^summary:|^totals:/ { print $2; exit }' "$work/cg.out"
}

printf '| route | metrics | instructions per request |\n|---|---|---:|\n'
for route in public jwt; do
    for metrics in on off; do
        small=$(count "$metrics" "$route" "$WARM")
        large=$(count "$metrics" "$route" $((WARM + N)))
        printf '| %s | %s | %s |\n' "$route" "$metrics" $(( (large - small) / N ))
    done
done
