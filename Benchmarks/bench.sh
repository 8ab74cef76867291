#!/usr/bin/env bash
# Benchmarks/bench.sh - the gateway side by side with nginx and HAProxy as reverse proxies:
# throughput and latency of each under the same load, on this machine, in one invocation.
#
# Starts a tiny nginx upstream (fixed "200 ok", keep-alive) on 127.0.0.1, then for every
# contender (a proxy on its own 127.0.0.1 port forwarding to that upstream):
#   1. starts it;
#   2. checks it with curl: the valid request gets 200; bad credentials (none, garbage,
#      tampered, wrong key, expired, alg=none, other algorithm, wrong API key) get 401/403;
#      where the proxy injects identity, the upstream sees X-Auth-User-Id = the token's sub
#      although the client sent a spoofed one;
#   3. runs wrk for WARMUP (discarded), then for DURATION;
#   4. stops it by PID and records rps, p50/p99 latency, non-2xx and socket errors.
# The suite runs RUNS times. Traffic stays on loopback, every load run is bounded (wrk -d and
# a timeout(1) guard), and only the processes this script started are signalled, by PID.
# The gateway's contenders are in Benchmarks/gateway.sh, which this script sources.
#
# Usage (the gateway contenders need `swift build -c release` first):
#   Benchmarks/bench.sh                     # every contender, 2 runs of 10 s (~8 min)
#   ONLY="nginx_plain gateway_public gateway_jwt_hs256" RUNS=3 DURATION=20s Benchmarks/bench.sh
#   PIN=0 ONLY="gateway_public gateway_auto" Benchmarks/bench.sh     # multi-core scaling
#   Benchmarks/bench.sh > table.md          # markdown on stdout, progress on stderr
#   Benchmarks/bench.sh --list              # contender names
#
# Output: a markdown table on stdout (per contender: median rps over the runs, min-max,
# p50/p99, ratios to BASELINE and to nginx_plain, proxy CPU per request) and, under
# RESULTS_DIR, bench-<UTC stamp>.md, .csv (a row per run), .json and .log (raw wrk output).
#
# Settings (environment variables, defaults shown):
#   RUNS=2 DURATION=10s WARMUP=2s   suite repetitions; wrk -d measured / discarded (0: none)
#   CONNS=64 THREADS=2 WRK_TIMEOUT=2s   wrk -c, -t, --timeout
#   PIN=1 SERVER_CPUS=0 WRK_CPUS=1  taskset the servers (upstream + proxy, one worker each)
#                       and wrk apart, so that wrk never competes with what it measures
#   ORDER=alternate     even runs go through the contenders backwards, so that the drift of
#                       a shared machine hits all alike ("fixed": listed order every run)
#   ONLY="a b"          these contenders, in this order (default: all)
#   BASELINE=gateway_public   what the first ratio column divides by
#   KEEPALIVE=$CONNS    idle upstream connections a proxy keeps
#   IDENTITY_HEADER=X-Auth-User-Id   the header carrying the token's sub upstream
#   COOLDOWN=1          idle seconds between contenders
#   GATEWAY_BIN=<project>/.build/release/gateway   EXTRA=file.sh (more contenders)
#   LABEL=<git revision>   RESULTS_DIR=Benchmarks/results   SKIP_INSTALL=0   KEEP_WORK=0

set -uo pipefail
export PATH=$PATH:/usr/sbin:/sbin   # nginx and haproxy live in sbin on Debian

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJECT_DIR=$(cd "$BENCH_DIR/.." && pwd)

RUNS=${RUNS:-2}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-64}
THREADS=${THREADS:-2}
WRK_TIMEOUT=${WRK_TIMEOUT:-2s}
PIN=${PIN:-1}
SERVER_CPUS=${SERVER_CPUS:-0}
WRK_CPUS=${WRK_CPUS:-1}
ORDER=${ORDER:-alternate}
ONLY=${ONLY:-}
BASELINE=${BASELINE:-gateway_public}
KEEPALIVE=${KEEPALIVE:-$CONNS}
IDENTITY_HEADER=${IDENTITY_HEADER:-X-Auth-User-Id}
COOLDOWN=${COOLDOWN:-1}
GATEWAY_BIN=${GATEWAY_BIN:-$PROJECT_DIR/.build/release/gateway}
EXTRA=${EXTRA:-}
LABEL=${LABEL:-$(git -C "$PROJECT_DIR" rev-parse --short HEAD 2>/dev/null || true)}
RESULTS_DIR=${RESULTS_DIR:-$BENCH_DIR/results}
SKIP_INSTALL=${SKIP_INSTALL:-0}
KEEP_WORK=${KEEP_WORK:-0}

# ---------------------------------------------------------------------------------------
# Contender interface. A contender N is a function contender_N, called with these set:
#   PORT        the port to listen on, 127.0.0.1 only (also $1)
#   UPSTREAM    "127.0.0.1:<port>" of the upstream (UPSTREAM_PORT: the port alone;
#               UPSTREAM_TLS_PORT: the same upstream over TLS, with $TLS_CERT)
#   WORK        private temporary directory (configs, logs, keys)
#   KEEPALIVE, IDENTITY_HEADER, GATEWAY_BIN
#   JWT_ISS JWT_AUD JWT_SUB     the claims of every valid token
#   JWT_SECRET                  HS256 secret (64 hex characters)
#   JWT_PUBKEY JWT_PRIVKEY      RSA-2048 key pair (PEM paths)
#   JWT_EC_KEY JWT_EC_OTHER_KEY two P-256 private keys (PEM, PKCS#8)
#   TOKEN_HS256 TOKEN_RS256     valid tokens (exp = now + 6 h)
# It starts its server(s) with `spawn CMD...` (pinned, output in $WORK/<name>.log, PID kept
# and stopped afterwards) or with nginx_start / haproxy_start / nginx_auth_request_start,
# and may set:
#   DESC           one line describing the configuration (shown with the results)
#   AUTH           hs256 | rs256: send that valid token and require 401/403 for that
#                  family's bad tokens; any other word only labels the results
#   IDENTITY       1: the upstream must see $IDENTITY_HEADER = $JWT_SUB; response: the
#                  response itself must carry it (a decision endpoint)
#   VALID_HEADER   the credential line of valid requests (instead of AUTH's)
#   BAD_HEADERS    refused requests, "label|header line" items (instead of AUTH's)
#   EXTRA_HEADERS  more header lines, sent with every check request and with the load
#   SCHEME         https: checks and load speak TLS to the contender (verifying $TLS_CERT, a
#                  self-signed ECDSA P-256 certificate for 127.0.0.1 whose key is $TLS_KEY)
#   TARGET_PORT    where the load goes when not to $PORT
#   FAIL_REASON    why, when it returns non-zero
# To add one: define it here, in Benchmarks/gateway.sh or in an EXTRA file, and append its
# name to CONTENDERS.
# ---------------------------------------------------------------------------------------
CONTENDERS=(direct nginx_plain haproxy_plain haproxy_jwt_hs256 haproxy_jwt_rs256 nginx_auth_request
    nginx_tls nginx_tls_reconnect nginx_https_upstream)

# The upstream alone: the ceiling for everything proxied here. It saturates both CPUs (wrk
# as much as the upstream), so its rps is noisier than the proxied rows.
contender_direct() {
    DESC="wrk straight at the upstream (nginx return 200, 1 worker)"
    TARGET_PORT=$UPSTREAM_PORT
}

contender_nginx_plain() {
    DESC="nginx $(tool_version nginx) proxy_pass, 1 worker, upstream keepalive $KEEPALIVE"
    nginx_start nginx_plain "
    $(nginx_backend_block)
    server {
        listen 127.0.0.1:$PORT;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
        }
    }"
}

# nginx terminating TLS (the same certificate as the gateway's TLS contenders), proxying as
# nginx_plain does. Session tickets on (nginx's default), like the gateway.
nginx_tls_server() {
    nginx_start "$1" "
    $(nginx_backend_block)
    server {
        listen 127.0.0.1:$PORT ssl;
        ssl_certificate $TLS_CERT;
        ssl_certificate_key $TLS_KEY;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
        }
    }"
}

contender_nginx_tls() {
    DESC="nginx $(tool_version nginx) ssl (ECDSA P-256, TLS 1.3) proxy_pass, keep-alive, 1 worker"
    SCHEME=https
    nginx_tls_server nginx_tls
}

# Every request on a new connection. wrk (4.1) negotiates TLS 1.3 and resumes with the ticket
# of its previous connection (once each, from its client session cache), so this measures
# resumed handshakes (still with an X25519 exchange); full handshakes are measured by
# Benchmarks/tls_handshakes.sh.
contender_nginx_tls_reconnect() {
    DESC="nginx $(tool_version nginx) ssl, Connection: close: a new connection per request (TLS 1.3, resumed with the previous ticket)"
    SCHEME=https EXTRA_HEADERS=("Connection: close")
    nginx_tls_server nginx_tls_reconnect
}

# nginx_plain, but to the upstream's TLS port: the reference for the cost of an HTTPS upstream.
contender_nginx_https_upstream() {
    DESC="nginx $(tool_version nginx) proxy_pass https (verified, keepalive $KEEPALIVE), 1 worker"
    nginx_start nginx_https_upstream "
    upstream backend_tls {
        server 127.0.0.1:$UPSTREAM_TLS_PORT;
        keepalive $KEEPALIVE;
        keepalive_requests 1000000000;
    }
    server {
        listen 127.0.0.1:$PORT;
        location / {
            proxy_pass https://backend_tls;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate $TLS_CERT;
            proxy_ssl_name 127.0.0.1;
        }
    }"
}

contender_haproxy_plain() {
    DESC="HAProxy $(tool_version haproxy) mode http, nbthread 1, default http-reuse safe"
    haproxy_start haproxy_plain "
frontend fe
    bind 127.0.0.1:$PORT
    default_backend be
$(haproxy_backend_section)"
}

# HAProxy's own JWT verification: the nearest peer of the gateway's JWT routes.
contender_haproxy_jwt_hs256() {
    AUTH=hs256 IDENTITY=1
    DESC="HAProxy $(tool_version haproxy) jwt_verify HS256 + alg/exp/iss/aud checks, $IDENTITY_HEADER from sub, nbthread 1"
    haproxy_start haproxy_jwt_hs256 "$(haproxy_jwt_frontend HS256 "$JWT_SECRET")
$(haproxy_backend_section)"
}

contender_haproxy_jwt_rs256() {
    AUTH=rs256 IDENTITY=1
    DESC="HAProxy $(tool_version haproxy) jwt_verify RS256 (RSA-2048 PEM public key) + alg/exp/iss/aud checks, $IDENTITY_HEADER from sub, nbthread 1"
    haproxy_start haproxy_jwt_rs256 "$(haproxy_jwt_frontend RS256 "$JWT_PUBKEY")
$(haproxy_backend_section)"
}

# nginx auth_request to a stub decider in the same nginx (204 + identity when Authorization
# equals the minted token: a string compare, no crypto), so this measures the auth_request
# round trip itself; nginx_auth_request_gateway (gateway.sh) asks the gateway instead.
contender_nginx_auth_request() {
    AUTH=hs256 IDENTITY=1
    local stub_port; stub_port=$(free_port) || return 1
    DESC="nginx $(tool_version nginx) auth_request -> stub 204 server (same process, keepalive), $IDENTITY_HEADER from the auth response, 1 worker"
    nginx_auth_request_start nginx_auth_request "127.0.0.1:$stub_port" /_decide "
    server {
        listen 127.0.0.1:$stub_port;
        location / {
            if (\$http_authorization != \"Bearer $TOKEN_HS256\") { return 401; }
            add_header $IDENTITY_HEADER \"$JWT_SUB\";
            return 204;
        }
    }"
}

# ---------------------------------------------------------------------------------------
# Server helpers for contenders
# ---------------------------------------------------------------------------------------

# spawn CMD... : start a server in the background, pinned to SERVER_CPUS, output to
# $WORK/<contender>.log; its PID is kept so that exactly this process is stopped later.
spawn() {
    "${SERVER_TASKSET[@]}" "$@" >>"$WORK/$CUR.log" 2>&1 &
    PIDS+=("$!")
}

# Connections per server: every wrk connection plus its upstream side, with room to spare.
max_conns() { echo $(( CONNS * 4 > 4096 ? CONNS * 4 : 4096 )); }

# nginx_start NAME HTTP_BODY : one nginx master + 1 worker in the foreground (so the PID we
# hold is the master's), nothing logged per request, client keep-alive never cut mid-run.
nginx_start() {
    local name=$1 body=$2 dir="$WORK/$1"
    mkdir -p "$dir"
    cat >"$dir/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $(max_conns); }
http {
    access_log off;
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
    client_body_temp_path $dir/tmp_body;
    proxy_temp_path       $dir/tmp_proxy;
    fastcgi_temp_path     $dir/tmp_fastcgi;
    uwsgi_temp_path       $dir/tmp_uwsgi;
    scgi_temp_path        $dir/tmp_scgi;
$body
}
EOF
    # Validate first, so that a config error is reported as such, not as a silent port.
    nginx -t -q -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >>"$WORK/$CUR.log" 2>&1 ||
        { FAIL_REASON="nginx rejected $name/nginx.conf: $(tail -n 2 "$WORK/$CUR.log" | head -n 1)"; return 1; }
    spawn nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
}

# The keep-alive pool to the upstream that every nginx contender proxies to.
nginx_backend_block() {
    cat <<EOF
upstream backend {
        server $UPSTREAM;
        keepalive $KEEPALIVE;
        keepalive_requests 1000000000;
    }
EOF
}

# nginx_auth_request_start NAME DECIDER_ADDR DECIDER_PATH [MORE_HTTP_BODY] : nginx asking
# DECIDER_ADDR (over a keep-alive pool) at DECIDER_PATH before each request. It forwards
# only on 2xx, passes 401/403 through, and sends the decider's $IDENTITY_HEADER upstream in
# place of any client-sent one.
nginx_auth_request_start() {
    local name=$1 decider=$2 path=$3 more=${4:-}
    nginx_start "$name" "
    $(nginx_backend_block)
    upstream decider {
        server $decider;
        keepalive $KEEPALIVE;
        keepalive_requests 1000000000;
    }
    server {
        listen 127.0.0.1:$PORT;
        location / {
            auth_request /_auth;
            auth_request_set \$auth_user \$upstream_http_$(nginx_var_name "$IDENTITY_HEADER");
            proxy_set_header $IDENTITY_HEADER \$auth_user;
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
        }
        location = /_auth {
            internal;
            proxy_pass http://decider$path;
            proxy_pass_request_body off;
            proxy_set_header Content-Length \"\";
            proxy_set_header X-Original-URI \$request_uri;
            proxy_set_header X-Original-Method \$request_method;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
        }
    }
$more"
}

# haproxy_start NAME SECTIONS : HAProxy in the foreground (-db), one thread, and no 'log'
# line, so nothing is logged per request (like nginx with access_log off).
haproxy_start() {
    local name=$1 body=$2 dir="$WORK/$1"
    mkdir -p "$dir"
    cat >"$dir/haproxy.cfg" <<EOF
global
    nbthread 1
    maxconn $(max_conns)

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 300s
$body
EOF
    haproxy -c -q -f "$dir/haproxy.cfg" >>"$WORK/$CUR.log" 2>&1 ||
        { FAIL_REASON="haproxy rejected $name/haproxy.cfg: $(tail -n 1 "$WORK/$CUR.log")"; return 1; }
    spawn haproxy -db -f "$dir/haproxy.cfg"
}

haproxy_backend_section() { printf 'backend be\n    server up %s\n' "$UPSTREAM"; }

# haproxy_jwt_frontend ALG KEY : refuses (401) every request whose bearer token is not a
# valid, unexpired ALG JWT from JWT_ISS for JWT_AUD, and sends its sub upstream as
# $IDENTITY_HEADER. KEY: the HS256 secret, or the RS256 public key's path (a literal, so
# HAProxy loads it once at start).
haproxy_jwt_frontend() {
    local alg=$1 key=$2
    cat <<EOF
frontend fe
    bind 127.0.0.1:$PORT
    http-request set-var(txn.bearer) http_auth_bearer
    # The algorithm is pinned: the token's own header never chooses the verifier.
    http-request deny deny_status 401 unless { var(txn.bearer),jwt_header_query('\$.alg') -m str $alg }
    # jwt_verify gives 1 only for a valid signature (negative numbers are errors).
    http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify("$alg","$key") -m int 1 }
    # exp - now > 0; a token without exp fails too.
    http-request set-var(txn.now) date
    http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('\$.exp','int'),sub(txn.now) -m int gt 0 }
    http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('\$.iss') -m str $JWT_ISS }
    http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('\$.aud') -m str $JWT_AUD }
    # set-header replaces any such header the client sent.
    http-request set-header $IDENTITY_HEADER %[var(txn.bearer),jwt_payload_query('\$.sub')]
    default_backend be
EOF
}

# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------
log()  { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
warn() { log "WARNING: $*"; }
die()  { log "ERROR: $*"; exit 1; }

tool_version() {
    case $1 in
        nginx)   nginx -v 2>&1 | sed -n 's|.*nginx/\([^ ]*\).*|\1|p' ;;
        haproxy) haproxy -v 2>/dev/null | sed -n '1s/^HAProxy version \([^ ]*\).*/\1/p' ;;
        wrk)     wrk -v 2>&1 | sed -n '1s/^wrk \([^ ]*\).*/\1/p' ;;
    esac
}

# X-Some-Header -> x_some_header, as in nginx's $http_x_some_header.
nginx_var_name() { local v=${1,,}; echo "${v//-/_}"; }

# free_port : a port on 127.0.0.1 that the kernel calls free, never handed out twice in one
# invocation (remembered in a file, since callers run it as p=$(free_port)).
free_port() {
    local p
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        p=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])') || return 1
        grep -qx "$p" "$WORK/ports" 2>/dev/null && continue
        echo "$p" | tee -a "$WORK/ports"
        return 0
    done
    return 1
}

# seconds 10s|2m|15 : a wrk duration in whole seconds (for the timeout guard).
seconds() {
    case $1 in
        *m) echo $(( ${1%m} * 60 )) ;;
        *s) echo "${1%s}" ;;
        *)  echo "$1" ;;
    esac
}

# stop_pids : TERM every recorded PID, give each 5 s, KILL what is left, reap them all.
stop_pids() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            warn "PID $pid ignored TERM; sending KILL"
            kill -KILL "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
    done
    PIDS=()
}

# wait_port PORT : until something answers HTTP on 127.0.0.1:PORT (10 s at most); fails
# early when a spawned process has already exited.
# tls_curl_args : curl's trust arguments for the current SCHEME (none for http).
tls_curl_args() { [[ ${SCHEME:-http} == https ]] && echo "--cacert $TLS_CERT" || true; }

wait_port() {
    local port=$1 pid
    for _ in $(seq 100); do
        curl -s -o /dev/null --max-time 1 $(tls_curl_args) "${SCHEME:-http}://127.0.0.1:$port/" && return 0
        for pid in "${PIDS[@]}"; do
            kill -0 "$pid" 2>/dev/null || { FAIL_REASON="process $pid exited at start"; return 1; }
        done
        sleep 0.1
    done
    FAIL_REASON="nothing answered on port $port within 10 s"
    return 1
}

# cpu_snapshot : "cpuN total idle" per CPU from /proc/stat.
cpu_snapshot() {
    awk '/^cpu[0-9]+ / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $1, t, $5 + $6 }' /proc/stat
}

# cpu_busy BEFORE AFTER : busy percent of each CPU in between, "cpu0/cpu1/...": shows
# whether wrk's CPU, rather than the servers', was the limit.
cpu_busy() {
    paste -d' ' <(echo "$1") <(echo "$2") |
        awk '{ d = $5 - $2; printf "%s%.0f", (NR > 1 ? "/" : ""), (d > 0 ? 100 * (1 - ($6 - $3) / d) : 0) }'
}

# with_children PID... : these processes and their children (nginx workers), one per line.
with_children() {
    local pid
    for pid in "$@"; do
        echo "$pid"
        ps -o pid= --ppid "$pid"
    done
}

# cpu_ticks PID... : user+system clock ticks of these processes and their children (nginx
# workers). Per request, this is what the proxy costs, however the core is shared.
cpu_ticks() {
    local pid t=0
    for pid in $(with_children "$@"); do
        [[ -r /proc/$pid/stat ]] || continue
        # after "pid (comm) " the fields start at #3: utime is #14, stime #15
        t=$(( t + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat") ))
    done
    echo "$t"
}

# peak_rss_mb PID... : the peak resident memory (VmHWM) of these processes and their children,
# summed, in MB: what the proxy needed at most under this load.
peak_rss_mb() {
    local pid kb=0
    for pid in $(with_children "$@"); do
        [[ -r /proc/$pid/status ]] || continue
        kb=$(( kb + $(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status") ))
    done
    awk -v kb="$kb" 'BEGIN { printf "%.1f", kb / 1024 }'
}

# ---------------------------------------------------------------------------------------
# Setup: tools, tokens, pinning, upstream
# ---------------------------------------------------------------------------------------

# ensure_tools : apt-get install missing commands (root only), then PyJWT + cryptography.
ensure_tools() {
    local missing=() item
    for item in wrk:wrk nginx:nginx haproxy:haproxy curl:curl python3:python3 \
                taskset:util-linux timeout:coreutils; do
        command -v "${item%%:*}" >/dev/null || missing+=("${item#*:}")
    done
    if (( ${#missing[@]} )); then
        [[ $SKIP_INSTALL == 1 ]] && die "missing: ${missing[*]} (SKIP_INSTALL=1)"
        (( EUID == 0 )) || die "missing: ${missing[*]}: install them, or run as root to have them installed"
        apt_install "${missing[@]}"
    fi
    python3 -c 'import jwt, cryptography' 2>/dev/null && return 0
    [[ $SKIP_INSTALL == 1 ]] && die "python3 lacks PyJWT/cryptography (SKIP_INSTALL=1)"
    log "pip-installing PyJWT and cryptography"
    # A Debian system python refuses pip (PEP 668): then its own packages, as root.
    python3 -m pip install -q PyJWT cryptography >&2 ||
        { (( EUID == 0 )) && apt_install python3-jwt python3-cryptography; }
    python3 -c 'import jwt, cryptography' 2>/dev/null || die "python3 still lacks PyJWT/cryptography"
}

# apt_install PACKAGE... : "nginx" becomes nginx-light where nginx itself is not installable.
apt_install() {
    local pkgs=("$@") i
    export DEBIAN_FRONTEND=noninteractive
    log "apt-get install ${pkgs[*]}"
    apt-get update -qq >&2 || die "apt-get update failed"
    for i in "${!pkgs[@]}"; do
        if [[ ${pkgs[i]} == nginx ]] && ! apt-cache policy nginx | grep -q 'Candidate: [0-9]'; then
            pkgs[i]=nginx-light
        fi
    done
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2 || die "apt-get install ${pkgs[*]} failed"
}

# mint_tokens : keys and tokens, one "kind<TAB>name<TAB>value" line each: "set" lines are
# variables; "hs256"/"rs256" lines are tokens that verifier must refuse. The malformed
# ones are assembled by hand, since PyJWT rightly refuses to make them.
mint_tokens() {
    timeout 60 python3 - "$WORK" "$JWT_ISS" "$JWT_AUD" "$JWT_SUB" <<'EOF'
import base64, hashlib, hmac, json, secrets, sys, time
import jwt
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, rsa

work, iss, aud, sub = sys.argv[1:5]
now = int(time.time())

def b64(data): return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
def part(obj): return b64(json.dumps(obj, separators=(",", ":")).encode())
def claims(ttl, sub=sub, aud=aud): return {"iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + ttl}
def write(path, data):
    with open(path, "wb") as f: f.write(data)
    return path
def private_pem(key): return key.private_bytes(ser.Encoding.PEM, ser.PrivateFormat.PKCS8, ser.NoEncryption())

secret = secrets.token_hex(32)
rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
rsa_pub = rsa_key.public_key().public_bytes(ser.Encoding.PEM, ser.PublicFormat.SubjectPublicKeyInfo)

def hs256(c, key=secret): return jwt.encode(c, key, algorithm="HS256")
def rs256(c): return jwt.encode(c, rsa_key, algorithm="RS256")
def unsigned(c): return f'{part({"alg": "none", "typ": "JWT"})}.{part(c)}.'
def tampered(token):   # the payload swapped for sub=admin, the signature kept
    head, _, sig = token.split(".")
    return f"{head}.{part(claims(21600, sub='admin'))}.{sig}"
def hs256_with_public_key(c):   # key confusion: the RSA public key used as an HMAC secret
    signing_input = f'{part({"alg": "HS256", "typ": "JWT"})}.{part(c)}'
    return f"{signing_input}.{b64(hmac.new(rsa_pub, signing_input.encode(), hashlib.sha256).digest())}"

valid, expired, other_aud = claims(21600), claims(-60), claims(21600, aud="other-api")
token_hs, token_rs = hs256(valid), rs256(valid)
for row in [
    ("set", "JWT_SECRET", secret), ("set", "TOKEN_HS256", token_hs), ("set", "TOKEN_RS256", token_rs),
    ("set", "JWT_PRIVKEY", write(f"{work}/rs256-private.pem", private_pem(rsa_key))),
    ("set", "JWT_PUBKEY", write(f"{work}/rs256-public.pem", rsa_pub)),
    ("set", "JWT_EC_KEY", write(f"{work}/es256.pem", private_pem(ec.generate_private_key(ec.SECP256R1())))),
    ("set", "JWT_EC_OTHER_KEY", write(f"{work}/es256-other.pem", private_pem(ec.generate_private_key(ec.SECP256R1())))),
    ("hs256", "garbage", "not-a-jwt"), ("hs256", "tampered", tampered(token_hs)),
    ("hs256", "wrong-secret", hs256(valid, secrets.token_hex(32))), ("hs256", "expired", hs256(expired)),
    ("hs256", "alg-none", unsigned(valid)), ("hs256", "rs256-token", token_rs),
    ("hs256", "wrong-aud", hs256(other_aud)),
    ("rs256", "garbage", "not-a-jwt"), ("rs256", "tampered", tampered(token_rs)),
    ("rs256", "expired", rs256(expired)), ("rs256", "alg-none", unsigned(valid)),
    ("rs256", "hs256-with-public-key", hs256_with_public_key(valid)), ("rs256", "wrong-aud", rs256(other_aud)),
]:
    print("\t".join(row))
EOF
}

# setup_tokens : the claims; mint_tokens' variables; the refused-token lists BAD_HS256 and
# BAD_RS256 ("label|header line"; "missing" sends no credential at all).
setup_tokens() {
    JWT_ISS=bench-issuer JWT_AUD=bench-api JWT_SUB=user-42
    mint_tokens >"$WORK/tokens.tsv" || die "minting tokens failed"
    BAD_HS256=("missing|") BAD_RS256=("missing|")
    local kind name value
    while IFS=$'\t' read -r kind name value; do
        case $kind in
            set)   printf -v "$name" '%s' "$value" ;;
            hs256) BAD_HS256+=("$name|Authorization: Bearer $value") ;;
            rs256) BAD_RS256+=("$name|Authorization: Bearer $value") ;;
        esac
    done <"$WORK/tokens.tsv"
    [[ -n ${TOKEN_HS256:-} && -n ${TOKEN_RS256:-} ]] || die "minting tokens gave no tokens"
}

# setup_pinning : the taskset prefixes of servers and wrk, and how the report says it.
setup_pinning() {
    if [[ $PIN == 1 ]] && (( $(nproc) < 2 )); then
        warn "fewer than 2 CPUs: not pinning"; PIN=0
    fi
    if [[ $PIN == 1 ]]; then
        SERVER_TASKSET=(taskset -c "$SERVER_CPUS") WRK_TASKSET=(taskset -c "$WRK_CPUS")
        PINNING="upstream + proxy on CPU $SERVER_CPUS, wrk on CPU $WRK_CPUS (taskset); each server 1 worker/thread"
    else
        SERVER_TASKSET=() WRK_TASKSET=()
        PINNING="none (the scheduler decides); each server 1 worker/thread"
    fi
}

# setup_tls : the self-signed ECDSA P-256 certificate every TLS contender serves.
setup_tls() {
    TLS_CERT=$WORK/tls-cert.pem TLS_KEY=$WORK/tls-key.pem
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$TLS_KEY" -out "$TLS_CERT" >/dev/null 2>&1 ||
        die "openssl could not make the benchmark certificate"
}

# The upstream: nginx, one worker, "200 ok" with keep-alive. It echoes the $IDENTITY_HEADER
# it received as X-Seen-Identity, so that verify() sees what a proxy injected.
start_upstream() {
    CUR=upstream PIDS=()
    UPSTREAM_PORT=$(free_port) || die "no free port"
    UPSTREAM_TLS_PORT=$(free_port) || die "no free port"
    while [[ $UPSTREAM_TLS_PORT == "$UPSTREAM_PORT" ]]; do UPSTREAM_TLS_PORT=$(free_port) || die "no free port"; done
    UPSTREAM=127.0.0.1:$UPSTREAM_PORT
    # The same answer over TLS on a second port, for the HTTPS-upstream contenders.
    nginx_start upstream "
    server {
        listen 127.0.0.1:$UPSTREAM_PORT backlog=4096;
        listen 127.0.0.1:$UPSTREAM_TLS_PORT ssl backlog=4096;
        ssl_certificate $TLS_CERT;
        ssl_certificate_key $TLS_KEY;
        location / {
            add_header X-Seen-Identity \$http_$(nginx_var_name "$IDENTITY_HEADER");
            return 200 \"ok\\n\";
        }
    }" || die "upstream: $FAIL_REASON"
    wait_port "$UPSTREAM_PORT" || { tail -n 20 "$WORK/upstream.log" >&2; die "upstream: $FAIL_REASON"; }
    UPSTREAM_PIDS=("${PIDS[@]}") PIDS=()
    log "upstream nginx on $UPSTREAM (PID ${UPSTREAM_PIDS[*]})"
}

# write_wrk_script : wrk's done() hook prints one machine-readable line, so that nothing is
# parsed out of wrk's human-readable units. non2xx is wrk's own count (status >= 400):
# counting 3xx too would need a Lua response() hook, which slows wrk by ~10%.
write_wrk_script() {
    cat >"$WORK/report.lua" <<'EOF'
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH_RESULT requests=%d rps=%.0f p50_ms=%.3f p99_ms=%.3f non2xx=%d sock_errors=%d\n",
        summary.requests, summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        e.status, e.connect + e.read + e.write + e.timeout))
end
EOF
}

# ---------------------------------------------------------------------------------------
# One contender: start, check, load, stop, record
# ---------------------------------------------------------------------------------------

# start_contender NAME : reset the per-contender settings, call contender_NAME, fill in the
# credentials its AUTH implies unless it chose its own, wait until it answers.
start_contender() {
    local name=$1 def_valid="" def_bad=()
    CUR=$name PIDS=() FAIL_REASON=""
    DESC="" AUTH=none IDENTITY=0 TARGET_PORT="" EXTRA_HEADERS=() SCHEME=http
    unset VALID_HEADER BAD_HEADERS
    PORT=$(free_port) || { FAIL_REASON="no free port"; return 1; }
    "contender_$name" "$PORT" >&2 || { FAIL_REASON=${FAIL_REASON:-"contender_$name failed (see the log)"}; return 1; }
    TARGET_PORT=${TARGET_PORT:-$PORT}
    case $AUTH in
        hs256) def_valid="Authorization: Bearer $TOKEN_HS256" def_bad=("${BAD_HS256[@]}") ;;
        rs256) def_valid="Authorization: Bearer $TOKEN_RS256" def_bad=("${BAD_RS256[@]}") ;;
    esac
    # A contender's own VALID_HEADER / BAD_HEADERS, even empty ones, win over AUTH's.
    declare -p VALID_HEADER &>/dev/null || VALID_HEADER=$def_valid
    declare -p BAD_HEADERS &>/dev/null || BAD_HEADERS=("${def_bad[@]}")
    if [[ $AUTH != none ]] && (( ${#BAD_HEADERS[@]} == 0 )); then
        FAIL_REASON="AUTH=$AUTH but no bad credentials to check"; return 1
    fi
    wait_port "$TARGET_PORT"
}

# http_status PORT HEADERS_FILE [HEADER_LINE...] : the status of GET / with these header
# lines (empty ones skipped) and EXTRA_HEADERS; the response headers go to the file.
http_status() {
    local port=$1 hfile=$2 args=() h
    shift 2
    for h in "$@" "${EXTRA_HEADERS[@]}"; do [[ -n $h ]] && args+=(-H "$h"); done
    curl -sS -o /dev/null -D "$hfile" -w '%{http_code}' --max-time 5 $(tls_curl_args) "${args[@]}" \
        "$SCHEME://127.0.0.1:$port/" 2>>"$WORK/$CUR.log" || echo 000
}

# verify PORT : the valid request passes (carrying the identity where the contender injects
# it, in place of a spoofed one); every bad credential gets 401 or 403.
verify() {
    local port=$1 code seen item where=x-seen-identity hfile="$WORK/$CUR.headers"
    code=$(http_status "$port" "$hfile" "$VALID_HEADER" "$IDENTITY_HEADER: spoofed")
    [[ $code == 200 ]] || { FAIL_REASON="valid request got $code, not 200"; return 1; }
    if [[ $IDENTITY != 0 ]]; then
        [[ $IDENTITY == response ]] && where=${IDENTITY_HEADER,,}
        seen=$(tr -d '\r' <"$hfile" | grep -i "^$where:" | head -n 1 | cut -d: -f2- | tr -d ' ')
        [[ $seen == "$JWT_SUB" ]] ||
            { FAIL_REASON="$IDENTITY_HEADER seen (as $where) was '$seen', not '$JWT_SUB'"; return 1; }
    fi
    for item in "${BAD_HEADERS[@]}"; do
        code=$(http_status "$port" "$hfile" "${item#*|}")
        [[ $code == 401 || $code == 403 ]] ||
            { FAIL_REASON="bad request '${item%%|*}' got $code, not 401/403"; return 1; }
    done
}

# run_wrk PORT DURATION WHAT : wrk, pinned to WRK_CPUS, sending the valid request; raw output
# to the results log (header values left out: they hold credentials), the BENCH_RESULT
# line to stdout. timeout(1) stops a wrk that would not stop by itself.
run_wrk() {
    local port=$1 dur=$2 what=$3 cmd h n=0
    cmd=(wrk -t"$THREADS" -c"$CONNS" -d"$dur" --timeout "$WRK_TIMEOUT" --latency -s "$WORK/report.lua")
    for h in "$VALID_HEADER" "${EXTRA_HEADERS[@]}"; do [[ -n $h ]] && cmd+=(-H "$h") && n=$((n + 1)); done
    {
        echo "----- run $RUN_NO $CUR, $what: wrk -t$THREADS -c$CONNS -d$dur ($n header lines) $SCHEME://127.0.0.1:$port/"
        timeout -k 5 $(( $(seconds "$dur") + 30 )) "${WRK_TASKSET[@]}" "${cmd[@]}" "$SCHEME://127.0.0.1:$port/" 2>&1
    } | tee -a "$RESULTS_LOG" | grep '^BENCH_RESULT '
}

# measure : the warm-up, then the measured run with CPU accounting around it; fills R[].
measure() {
    local line kv cpu0 ticks0=0 ticks1=0 up0 up1
    [[ $WARMUP == 0 || $WARMUP == 0s ]] || run_wrk "$TARGET_PORT" "$WARMUP" warm-up >/dev/null
    cpu0=$(cpu_snapshot)
    (( ${#PIDS[@]} )) && ticks0=$(cpu_ticks "${PIDS[@]}")
    up0=$(cpu_ticks "${UPSTREAM_PIDS[@]}")
    line=$(run_wrk "$TARGET_PORT" "$DURATION" measured)
    (( ${#PIDS[@]} )) && ticks1=$(cpu_ticks "${PIDS[@]}")
    up1=$(cpu_ticks "${UPSTREAM_PIDS[@]}")
    (( ${#PIDS[@]} )) && R[rss_mb]=$(peak_rss_mb "${PIDS[@]}")
    R[cpu]=$(cpu_busy "$cpu0" "$(cpu_snapshot)")
    [[ -n $line ]] || { FAIL_REASON="wrk gave no result (see the .log)"; return 1; }
    for kv in ${line#BENCH_RESULT }; do R[${kv%%=*}]=${kv#*=}; done
    if (( R[requests] > 0 )); then
        (( ${#PIDS[@]} )) && R[proxy_us]=$(us_per_request $(( ticks1 - ticks0 )) "${R[requests]}")
        R[upstream_us]=$(us_per_request $(( up1 - up0 )) "${R[requests]}")
    fi
}

# us_per_request TICKS REQUESTS : CPU microseconds per request, from clock ticks.
us_per_request() {
    awk -v t="$1" -v hz="$CLK_TCK" -v r="$2" 'BEGIN { printf "%.1f", t / hz * 1e6 / r }'
}

# run_one NAME : one contender's whole life in one run, ending in a row of rows.tsv. A run
# with any error response or socket error is marked CHECK and left out of the summary.
run_one() {
    declare -gA R=()
    local status=ok k
    if ! start_contender "$1" || ! verify "$TARGET_PORT" || ! measure; then
        status="FAIL: $FAIL_REASON"
    elif (( R[non2xx] + R[sock_errors] > 0 )); then
        status="CHECK: ${R[non2xx]} non-2xx, ${R[sock_errors]} socket errors"
    fi
    stop_pids
    for k in rps p50_ms p99_ms non2xx sock_errors requests proxy_us upstream_us cpu rss_mb; do R[$k]=${R[$k]:-}; done
    if [[ $status == ok ]]; then
        log "run $RUN_NO  $(printf '%-27s' "$CUR") ${R[rps]} rps  p50 ${R[p50_ms]} ms  p99 ${R[p99_ms]} ms  proxy ${R[proxy_us]:--} us/req  upstream ${R[upstream_us]:--} us/req  cpu% ${R[cpu]}  peak RSS ${R[rss_mb]:--} MB"
    else
        warn "run $RUN_NO  $CUR: $status"
        [[ -s $WORK/$CUR.log ]] && tail -n 5 "$WORK/$CUR.log" | sed 's/^/    | /' >&2
    fi
    printf '%s\t' "$RUN_NO" "$CUR" "${R[rps]}" "${R[p50_ms]}" "${R[p99_ms]}" "${R[non2xx]}" \
        "${R[sock_errors]}" "${R[requests]}" "${R[proxy_us]}" "${R[upstream_us]}" "${R[cpu]}" "${R[rss_mb]}" "$AUTH" "$status" >>"$WORK/rows.tsv"
    printf '%s\n' "${DESC//$'\t'/ }" >>"$WORK/rows.tsv"
    sleep "$COOLDOWN"
}

# ---------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------

# write_meta SELECTED... : the settings and versions the report prints and stores.
write_meta() {
    local gw="gateway (not built)"
    [[ -x $GATEWAY_BIN ]] && gw=$("$GATEWAY_BIN" version 2>/dev/null | head -n 1)
    {
        printf 'started_utc\t%s\nelapsed_s\t%s\nlabel\t%s\n' "$STARTED" "$(( $(date +%s) - T0 ))" "$LABEL"
        printf 'cpus\t%s\ncpu_model\t%s\nkernel\t%s\n' "$(nproc)" \
            "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)" "$(uname -r)"
        printf 'threads\t%s\nconns\t%s\nduration\t%s\nwarmup\t%s\nruns\t%s\norder\t%s\n' \
            "$THREADS" "$CONNS" "$DURATION" "$WARMUP" "$RUNS" "$ORDER"
        printf 'pinning\t%s\nbaseline\t%s\ncontenders\t%s\n' "$PINNING" "$BASELINE" "$*"
        printf 'gateway\t%s\nnginx\t%s\nhaproxy\t%s\nwrk\t%s\n' "$gw" \
            "$(tool_version nginx)" "$(tool_version haproxy)" "$(tool_version wrk)"
    } >"$WORK/meta.tsv"
}

# report : rows.tsv + meta.tsv -> the markdown summary (stdout and .md), .csv and .json.
report() {
    python3 - "$WORK/rows.tsv" "$WORK/meta.tsv" "$RESULTS_BASE" <<'EOF'
import csv, json, statistics, sys

rows_path, meta_path, base = sys.argv[1:4]
meta = dict(line.rstrip("\n").split("\t", 1) for line in open(meta_path))
COLS = ["run", "contender", "rps", "p50_ms", "p99_ms", "non2xx", "sock_errors", "requests",
        "proxy_cpu_us_per_req", "upstream_cpu_us_per_req", "cpu_busy_pct", "peak_rss_mb", "auth", "status", "description"]

def parse(line):
    r = dict(zip(COLS, line.rstrip("\n").split("\t")))
    for k in ("run", "rps", "non2xx", "sock_errors", "requests"):
        r[k] = int(r[k]) if r[k] else None
    for k in ("p50_ms", "p99_ms", "proxy_cpu_us_per_req", "upstream_cpu_us_per_req", "peak_rss_mb"):
        r[k] = float(r[k]) if r[k] else None
    return r

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None

rows = [parse(line) for line in open(rows_path) if line.strip()]
order = list(dict.fromkeys(meta["contenders"].split()))
rows.sort(key=lambda r: (r["run"], order.index(r["contender"])))

# Per contender: medians over the runs that passed the checks with no errors ("ok").
summary = []
for name in order:
    mine = [r for r in rows if r["contender"] == name]
    ok = [r for r in mine if r["status"] == "ok"]
    rps = [r["rps"] for r in ok]
    summary.append({
        "contender": name, "runs": len(mine), "runs_ok": len(ok), "auth": mine[0]["auth"],
        "rps_median": round(statistics.median(rps)) if rps else None,
        "rps_min": min(rps, default=None), "rps_max": max(rps, default=None),
        "p50_ms": median(r["p50_ms"] for r in ok), "p99_ms": median(r["p99_ms"] for r in ok),
        "proxy_cpu_us_per_req": median(r["proxy_cpu_us_per_req"] for r in ok),
        "upstream_cpu_us_per_req": median(r["upstream_cpu_us_per_req"] for r in ok),
        "peak_rss_mb": max((r["peak_rss_mb"] for r in ok if r["peak_rss_mb"] is not None), default=None),
        "non2xx": sum(r["non2xx"] or 0 for r in mine),
        "sock_errors": sum(r["sock_errors"] or 0 for r in mine),
        "status": next((r["status"] for r in mine if r["status"] != "ok"), "ok"),
        "description": next((r["description"] for r in mine if r["description"]), ""),
    })
refs = list(dict.fromkeys([meta["baseline"], "nginx_plain"]))   # one column when the same
medians = {s["contender"]: s["rps_median"] for s in summary}
for s in summary:
    for ref in refs:
        b = medians.get(ref)
        s["vs_" + ref] = round(s["rps_median"] / b, 3) if b and s["rps_median"] else None

def num(v, digits=None):
    return "-" if v is None else f"{v:,}" if digits is None else f"{v:.{digits}f}"

warm = f" after a {meta['warmup']} warm-up" if meta["warmup"] not in ("0", "0s") else ""
out = [f"## Reverse-proxy benchmark, {meta['started_utc']}", "",
       f"- machine: {meta['cpus']} CPUs ({meta['cpu_model']}), kernel {meta['kernel']}"
       + (f"; revision {meta['label']}" if meta["label"] else ""),
       f"- load: wrk -t{meta['threads']} -c{meta['conns']} -d{meta['duration']}{warm}, keep-alive "
       f"GET /, 3-byte body; {meta['runs']} run(s), order {meta['order']}",
       f"- pinning: {meta['pinning']}",
       f"- versions: {meta['gateway']}, nginx {meta['nginx']}, HAProxy {meta['haproxy']}, wrk {meta['wrk']}",
       "- rps, p50, p99, proxy CPU: medians over the runs that passed the checks with no error "
       "(runs ok); min-max: the range of their rps; "
       + "; ".join(f"vs {ref}: rps / rps of {ref}" + ("" if medians.get(ref) else " (not measured here)")
                   for ref in refs),
       "- proxy CPU: user+system CPU time of the contender's processes per request; peak RSS: "
       "the highest VmHWM (summed over the contender's processes) of its runs; upstream CPU: the same for "
       "the upstream nginx, which shares the proxy's CPU when pinned",
       "- errors: responses with status >= 400 (wrk's count) / socket errors, over all runs", ""]
head = ["contender", "runs ok", "rps", "rps min-max", "p50 ms", "p99 ms"] \
    + [f"vs {ref}" for ref in refs] + ["proxy CPU us/req", "upstream CPU us/req", "peak RSS MB", "errors", "status"]
out += ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 2) + "---|"]
for s in summary:
    cells = [f"`{s['contender']}`", f"{s['runs_ok']}/{s['runs']}", num(s["rps_median"]),
             f"{num(s['rps_min'])}-{num(s['rps_max'])}" if s["runs_ok"] else "-",
             num(s["p50_ms"], 2), num(s["p99_ms"], 2)]
    cells += [num(s["vs_" + ref], 2) for ref in refs]
    cells += [num(s["proxy_cpu_us_per_req"], 1), num(s["upstream_cpu_us_per_req"], 1), num(s["peak_rss_mb"], 1), f"{s['non2xx']}/{s['sock_errors']}",
              s["status"].replace("|", "\\|")]
    out.append("| " + " | ".join(cells) + " |")
out += ["", "Contenders:", ""]
out += [f"- `{s['contender']}` (auth: {s['auth']}): {s['description']}" for s in summary]
out += ["", f"Per-run rows: {base}.csv; raw wrk output: {base}.log; wall time {meta['elapsed_s']} s."]
md = "\n".join(out) + "\n"

with open(base + ".csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["started_utc"] + COLS)
    for r in rows:
        w.writerow([meta["started_utc"]] + ["" if r[c] is None else r[c] for c in COLS])
with open(base + ".json", "w") as f:
    json.dump({"meta": meta, "rows": rows, "summary": summary}, f, indent=2)
    f.write("\n")
with open(base + ".md", "w") as f:
    f.write(md)
sys.stdout.write(md)
EOF
}

# ---------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------

# cleanup : on any exit, stop what this script started (by PID) and drop the work dir.
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    (( ${#PIDS[@]} )) && stop_pids
    PIDS=("${UPSTREAM_PIDS[@]}")
    (( ${#PIDS[@]} )) && stop_pids
    if [[ -n ${WORK:-} && -d $WORK ]]; then
        if [[ $KEEP_WORK == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    fi
    exit "$rc"
}

usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

main() {
    case ${1:-} in
        -h|--help) usage; exit 0 ;;
        --list)    printf '%s\n' "${CONTENDERS[@]}"; exit 0 ;;
        "")        ;;
        *)         die "unknown argument '$1' (settings are environment variables; see --help)" ;;
    esac
    local selected=("${CONTENDERS[@]}") name i n
    [[ -n $ONLY ]] && read -r -a selected <<<"$ONLY"
    for name in "${selected[@]}"; do
        declare -F "contender_$name" >/dev/null || die "unknown contender '$name' (see --list)"
    done

    ensure_tools
    mkdir -p "$RESULTS_DIR" || die "cannot create $RESULTS_DIR"
    umask 077   # the work dir holds the secret and the private keys
    WORK=$(mktemp -d -t gateway-bench.XXXXXX) || die "mktemp failed"
    chmod 711 "$WORK"   # nginx workers (user nobody) must reach their temp dirs inside
    PIDS=() UPSTREAM_PIDS=()
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true   # wrk's connections need descriptors
    CLK_TCK=$(getconf CLK_TCK)
    setup_pinning
    STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ) T0=$(date +%s)
    RESULTS_BASE=$RESULTS_DIR/bench-$(date -u +%Y%m%dT%H%M%SZ) RESULTS_LOG=$RESULTS_BASE.log
    ( umask 022; : >"$RESULTS_LOG" )

    log "contenders: ${selected[*]}; $RUNS run(s) of wrk -t$THREADS -c$CONNS -d$DURATION (warm-up $WARMUP); pinning: $PINNING"
    setup_tokens
    setup_tls
    write_wrk_script
    start_upstream
    : >"$WORK/rows.tsv"
    n=${#selected[@]}
    for RUN_NO in $(seq "$RUNS"); do
        for (( i = 0; i < n; i++ )); do
            if [[ $ORDER == alternate ]] && (( RUN_NO % 2 == 0 )); then
                run_one "${selected[n - 1 - i]}"
            else
                run_one "${selected[i]}"
            fi
        done
    done

    write_meta "${selected[@]}"
    umask 022
    report || die "report failed"
    log "results: $RESULTS_BASE.{md,csv,json,log}; total $(( $(date +%s) - T0 )) s"
}

# The gateway's contenders, then any of the user's own.
# shellcheck source=Benchmarks/gateway.sh
source "$BENCH_DIR/gateway.sh" || die "could not source $BENCH_DIR/gateway.sh"
if [[ -n $EXTRA ]]; then
    # shellcheck source=/dev/null
    source "$EXTRA" || die "could not source EXTRA=$EXTRA"
fi

main "$@"
