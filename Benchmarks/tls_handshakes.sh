#!/usr/bin/env bash
# Benchmarks/tls_handshakes.sh - full TLS 1.3 handshakes per second (ECDSA P-256 certificate, no
# resumption), the gateway against nginx terminating TLS, in one run.
#
# Both servers answer a local 200 (no upstream: the handshake is what is measured), one worker
# each, pinned to SERVER_CPU; the clients are CLIENTS `openssl s_time -new -tls1_3 -www /`
# processes pinned to CLIENT_CPU (s_time makes a new session for every connection, sends one
# request and reads the answer). Rounds alternate the order. Loopback only; every client run
# is bounded by -time and a timeout(1) guard; only the processes started here are signalled.
#
# Usage (after `swift build -c release`):
#   Benchmarks/tls_handshakes.sh                   # ROUNDS=3 SECONDS_EACH=5 CLIENTS=2
# Prints per round: connections/s of each, and the median ratio gateway / nginx.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/sbin:/sbin

ROUNDS=${ROUNDS:-3} SECONDS_EACH=${SECONDS_EACH:-5} CLIENTS=${CLIENTS:-2}
SERVER_CPU=${SERVER_CPU:-0} CLIENT_CPU=${CLIENT_CPU:-1}
GATEWAY_BIN=${GATEWAY_BIN:-$PWD/.build/release/gateway}
[[ -x $GATEWAY_BIN ]] || { echo "no $GATEWAY_BIN: run swift build -c release" >&2; exit 1; }
command -v nginx >/dev/null || { echo "nginx is needed (apt install nginx)" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1

NGINX_PORT=$(free_port) GATEWAY_PORT=$(free_port)
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $WORK/nginx/nginx.pid; error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$NGINX_PORT ssl;
        ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / { return 200 "ok"; }
    }
}
CONF
cat >"$WORK/gateway.conf" <<CONF
listen 127.0.0.1:$GATEWAY_PORT tls { certificate file:$WORK/cert.pem; key file:$WORK/key.pem; }
workers 1;
access_log off;
route /** { public; respond 200 "ok"; }
CONF
taskset -c "$SERVER_CPU" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" 2>>"$WORK/nginx.log" & PIDS+=($!)
taskset -c "$SERVER_CPU" "$GATEWAY_BIN" serve --config "$WORK/gateway.conf" >"$WORK/gateway.log" 2>&1 & PIDS+=($!)
for port in $NGINX_PORT $GATEWAY_PORT; do
    for _ in $(seq 100); do curl -ks -o /dev/null "https://127.0.0.1:$port/" && break; sleep 0.1; done
done

# rate PORT : connections per second of CLIENTS parallel s_time runs.
rate() {
    local port=$1 i total=0
    for i in $(seq "$CLIENTS"); do
        timeout $((SECONDS_EACH + 20)) taskset -c "$CLIENT_CPU" openssl s_time -connect "127.0.0.1:$port" -new -tls1_3 \
            -www / -time "$SECONDS_EACH" >"$WORK/s_time.$i" 2>&1 &
    done
    wait
    for i in $(seq "$CLIENTS"); do
        total=$((total + $(awk '/connections in .* real seconds/ { print $1; exit }' "$WORK/s_time.$i")))
    done
    awk -v t="$total" -v s="$SECONDS_EACH" 'BEGIN { printf "%.0f", t / s }'
}

echo "full TLS 1.3 handshakes/s (ECDSA P-256, no resumption): $CLIENTS x openssl s_time on CPU $CLIENT_CPU, servers on CPU $SERVER_CPU"
ratios=()
for round in $(seq "$ROUNDS"); do
    if (( round % 2 )); then n=$(rate "$NGINX_PORT"); g=$(rate "$GATEWAY_PORT")
    else g=$(rate "$GATEWAY_PORT"); n=$(rate "$NGINX_PORT"); fi
    ratio=$(awk -v g="$g" -v n="$n" 'BEGIN { printf "%.2f", g / n }')
    ratios+=("$ratio")
    echo "round $round: nginx $n/s, gateway $g/s, gateway/nginx $ratio"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { print "median gateway/nginx: " a[int((NR + 1) / 2)] }'
