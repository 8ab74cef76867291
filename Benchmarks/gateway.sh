# Benchmarks/gateway.sh - the gateway's contenders for Benchmarks/bench.sh, which sources this
# file (run bench.sh, not this). The helpers and variables used here are described under
# "Contender interface" in bench.sh. Examples, from anywhere (after `swift build -c release`):
#   ONLY="nginx_plain haproxy_plain gateway_public gateway_10k_routes" Benchmarks/bench.sh
#   ONLY="haproxy_jwt_hs256 gateway_public gateway_jwt_hs256 gateway_apikey" Benchmarks/bench.sh
#   PIN=0 ONLY="gateway_public gateway_auto" Benchmarks/bench.sh      # scaling over the cores
# Like the peers, the gateway gets one worker (but in gateway_auto) and logs nothing per
# request (access_log off).

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    echo "Benchmarks/gateway.sh is sourced by Benchmarks/bench.sh: run that instead (--help)." >&2
    exit 2
fi

# gateway_conf PORT WORKERS RULES [EXTRA_ROUTES] : a gateway.conf whose catch-all route holds
# RULES ("public; " or the auth rules) and forwards to the upstream; EXTRA_ROUTES more routes
# that the requests never match, to weigh the route table. LISTEN_TLS=1 makes the listener a
# TLS one ($TLS_CERT); UPSTREAM_SERVER replaces the upstream's server line; METRICS=off
# leaves request counting out (metrics are on by default, as in production).
gateway_conf() {
    local listen="listen 127.0.0.1:$1;"
    [[ ${LISTEN_TLS:-0} == 1 ]] && listen="listen 127.0.0.1:$1 tls { certificate file:$TLS_CERT; key file:$TLS_KEY; }"
    cat <<CONF
$listen
workers $2;
access_log off;
metrics ${METRICS:-on};
upstream up { ${UPSTREAM_SERVER:-server $UPSTREAM;} keepalive $KEEPALIVE; }
route /** { $3upstream up; }
CONF
    local n=${4:-0} i
    for ((i = 0; i < n; i++)); do
        printf 'route /svc%d/{id}/items { public; respond 200 "x"; }\n' "$i"
    done
}

# gateway_jwt_conf PORT KEYLINE : a protected catch-all route and one issuer trusting exactly
# one key (like the HAProxy peers).
gateway_jwt_conf() {
    gateway_conf "$1" 1 ""
    printf 'jwt {\n    issuer %s;\n    audience %s;\n    %s\n}\n' "$JWT_ISS" "$JWT_AUD" "$2"
}

# gateway_ready : the release binary exists; its first version line for DESC.
gateway_ready() {
    [[ -x $GATEWAY_BIN ]] || { FAIL_REASON="no $GATEWAY_BIN: run swift build -c release"; return 1; }
    GATEWAY_VERSION=$("$GATEWAY_BIN" version | head -n 1)
}

# spawn_gateway CONF : serve CONF, with the HS256 secret in the environment (never in a file).
spawn_gateway() {
    spawn env GATEWAY_JWT_SECRET="$JWT_SECRET" "$GATEWAY_BIN" serve --config "$1"
}

# --- Proxy only ------------------------------------------------------------------------

contender_gateway_public() {
    gateway_ready || return 1
    DESC="$GATEWAY_VERSION public route (proxy only), workers 1, access_log off, upstream keepalive $KEEPALIVE"
    gateway_conf "$PORT" 1 "public; " >"$WORK/gateway-public.conf"
    spawn_gateway "$WORK/gateway-public.conf"
}

# The same two with `metrics off;`: against gateway_public and gateway_jwt_hs256 in the same
# run, the cost of counting requests for /metrics.
contender_gateway_public_nometrics() {
    gateway_ready || return 1
    DESC="$GATEWAY_VERSION public route, metrics off, workers 1, access_log off"
    METRICS=off gateway_conf "$PORT" 1 "public; " >"$WORK/gateway-public-nometrics.conf"
    spawn_gateway "$WORK/gateway-public-nometrics.conf"
}

contender_gateway_jwt_hs256_nometrics() {
    gateway_ready || return 1
    AUTH=hs256 IDENTITY=1
    DESC="$GATEWAY_VERSION JWT HS256 protected route, metrics off, workers 1, access_log off"
    METRICS=off gateway_jwt_conf "$PORT" "key hs HS256 env:GATEWAY_JWT_SECRET;" >"$WORK/gateway-jwt-nometrics.conf"
    spawn_gateway "$WORK/gateway-jwt-nometrics.conf"
}

CONTENDERS+=(gateway_public_nometrics gateway_jwt_hs256_nometrics)

# --- TLS ----------------------------------------------------------------------------------

contender_gateway_tls() {
    gateway_ready || return 1
    DESC="$GATEWAY_VERSION TLS listener (ECDSA P-256, TLS 1.3), public route, keep-alive, workers 1"
    SCHEME=https
    LISTEN_TLS=1 gateway_conf "$PORT" 1 "public; " >"$WORK/gateway-tls.conf"
    spawn_gateway "$WORK/gateway-tls.conf"
}

# Every request on a new connection (wrk resumes a TLS 1.3 session each time; see
# contender_nginx_tls_reconnect).
contender_gateway_tls_reconnect() {
    gateway_ready || return 1
    DESC="$GATEWAY_VERSION TLS listener, Connection: close: a new connection per request (TLS 1.3, resumed with the previous ticket)"
    SCHEME=https EXTRA_HEADERS=("Connection: close")
    LISTEN_TLS=1 gateway_conf "$PORT" 1 "public; " >"$WORK/gateway-tls-hs.conf"
    spawn_gateway "$WORK/gateway-tls-hs.conf"
}

# Plain listener, HTTPS upstream (the upstream nginx's TLS port), pooled: against
# gateway_public, the cost of TLS to the upstream.
contender_gateway_https_upstream() {
    gateway_ready || return 1
    DESC="$GATEWAY_VERSION public route to an HTTPS upstream (verified, pooled, keepalive $KEEPALIVE), workers 1"
    UPSTREAM_SERVER="server https://127.0.0.1:$UPSTREAM_TLS_PORT; ca file:$TLS_CERT;" \
        gateway_conf "$PORT" 1 "public; " >"$WORK/gateway-https-up.conf"
    spawn_gateway "$WORK/gateway-https-up.conf"
}

contender_gateway_10k_routes() {
    gateway_ready || return 1
    DESC="$GATEWAY_VERSION public route with 10,000 more routes in the table, workers 1, access_log off"
    gateway_conf "$PORT" 1 "public; " 10000 >"$WORK/gateway-10k.conf"
    spawn_gateway "$WORK/gateway-10k.conf"
}

contender_gateway_auto() {
    gateway_ready || return 1
    DESC="$GATEWAY_VERSION public route, workers auto ($(nproc) loops), access_log off"
    gateway_conf "$PORT" auto "public; " >"$WORK/gateway-auto.conf"
    spawn_gateway "$WORK/gateway-auto.conf"
}

CONTENDERS+=(gateway_public gateway_10k_routes gateway_auto gateway_tls gateway_tls_reconnect gateway_https_upstream)

# --- API keys (SPEC §5) ----------------------------------------------------------------

# apikey_contender NAME RULES EXTRA_CONFIG KEY_OPTIONS... : a catch-all route with RULES
# behind an API key minted by `gateway keys create` into a fresh store; EXTRA_CONFIG is
# appended to the file.
apikey_contender() {
    local name=$1 rules=$2 extra=$3 conf key flipped
    shift 3
    AUTH=apikey IDENTITY=1
    conf="$WORK/gateway-$name.conf"
    {
        gateway_conf "$PORT" 1 "$rules"
        printf 'store sqlite %s;\napi_keys { header X-API-Key; prefix gw_; }\n%s\n' "$WORK/gateway-$name.db" "$extra"
    } >"$conf"
    key=$(timeout 30 "$GATEWAY_BIN" keys create --name bench --principal "$JWT_SUB" "$@" --json --config "$conf" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])') ||
        { FAIL_REASON="gateway keys create failed"; return 1; }
    # One character of the secret part changed: the key's checksum no longer matches.
    flipped="${key:0:20}$([[ ${key:20:1} == A ]] && echo B || echo A)${key:21}"
    VALID_HEADER="X-API-Key: $key"
    BAD_HEADERS=("no key|" "garbage|X-API-Key: gw_garbage" "bad checksum|X-API-Key: $flipped"
                 "basic auth|Authorization: Basic dXNlcjpwYXNz")
    spawn_gateway "$conf"
}

contender_gateway_apikey() {
    gateway_ready || return 1
    DESC="$GATEWAY_VERSION API-key protected route (X-API-Key), workers 1, access_log off"
    apikey_contender apikey "" ""
}

# The same with authorization and a rate limit that never triggers (SPEC §6, §7): the cost
# of the rules, the role expansion and the limiter per request.
contender_gateway_apikey_rules() {
    gateway_ready || return 1
    DESC="$GATEWAY_VERSION API-key route + require (via a role) + rate_limit (never reached), workers 1, access_log off"
    apikey_contender apikey-rules "require bench:read; rate_limit 100000000/min; " \
        "roles { reader bench:read bench:list; writer @reader bench:write; }" --roles writer
}

CONTENDERS+=(gateway_apikey gateway_apikey_rules)

# --- JWT (SPEC §5) ---------------------------------------------------------------------
# bench.sh's tokens and its refused ones (none, garbage, tampered, wrong secret, expired,
# alg none, wrong audience, the other algorithm).

contender_gateway_jwt_hs256() {
    gateway_ready || return 1
    AUTH=hs256 IDENTITY=1
    DESC="$GATEWAY_VERSION JWT HS256 protected route (verified-token cache on), workers 1, access_log off"
    gateway_jwt_conf "$PORT" "key hs HS256 env:GATEWAY_JWT_SECRET;" >"$WORK/gateway-jwt.conf"
    spawn_gateway "$WORK/gateway-jwt.conf"
}

contender_gateway_jwt_rs256() {
    gateway_ready || return 1
    AUTH=rs256 IDENTITY=1
    DESC="$GATEWAY_VERSION JWT RS256 protected route (verified-token cache on), workers 1, access_log off"
    gateway_jwt_conf "$PORT" "key rs RS256 file:$JWT_PUBKEY;" >"$WORK/gateway-jwt-rs.conf"
    spawn_gateway "$WORK/gateway-jwt-rs.conf"
}

# gateway_es256_conf PORT SIGNING_KEY_PEM : a protected route whose tokens the gateway mints
# itself (tokens block) with an ES256 key.
gateway_es256_conf() {
    gateway_conf "$1" 1 ""
    printf 'tokens {\n    signing_key es ES256 file:%s;\n    issuer %s;\n    audience %s;\n    access_ttl 6h;\n}\n' \
        "$2" "$JWT_ISS" "$JWT_AUD"
}

# ES256 (P-256) with a token from `gateway token issue`, so that the gateway's own signer is
# what the verifier sees. Refused: none, garbage, tampered payload, a token of another ES256
# key, bench.sh's HS256 token.
contender_gateway_jwt_es256() {
    gateway_ready || return 1
    AUTH=es256 IDENTITY=1
    local conf="$WORK/gateway-jwt-es.conf" other="$WORK/gateway-jwt-es-other.conf" token stranger tampered
    gateway_es256_conf "$PORT" "$JWT_EC_KEY" >"$conf"
    gateway_es256_conf "$PORT" "$JWT_EC_OTHER_KEY" >"$other"
    token=$(timeout 30 "$GATEWAY_BIN" token issue --sub "$JWT_SUB" --config "$conf") &&
        stranger=$(timeout 30 "$GATEWAY_BIN" token issue --sub "$JWT_SUB" --config "$other") ||
        { FAIL_REASON="gateway token issue failed"; return 1; }
    tampered="${token%%.*}.$(printf '{"iss":"%s","aud":"%s","sub":"admin","exp":9999999999}' "$JWT_ISS" "$JWT_AUD" |
        base64 -w0 | tr '+/' '-_' | tr -d '=').${token##*.}"
    VALID_HEADER="Authorization: Bearer $token"
    BAD_HEADERS=("no token|" "garbage|Authorization: Bearer abc.def.ghi" "tampered|Authorization: Bearer $tampered"
                 "other key|Authorization: Bearer $stranger" "hs256 token|Authorization: Bearer $TOKEN_HS256")
    DESC="$GATEWAY_VERSION JWT ES256 protected route (own tokens block, verified-token cache on), workers 1, access_log off"
    spawn_gateway "$conf"
}

CONTENDERS+=(gateway_jwt_hs256 gateway_jwt_rs256 gateway_jwt_es256)

# --- Decision endpoint (SPEC §9) -------------------------------------------------------

# The gateway alone answering "may GET / pass?" as nginx would ask it: 200 + identity
# headers, nothing forwarded. It serves the endpoint at `/` (where bench.sh sends its
# requests) and every request describes the original one in two more headers. No upstream
# sees the identity: the answer itself must carry it (IDENTITY=response).
contender_gateway_decision() {
    gateway_ready || return 1
    AUTH=hs256 IDENTITY=response
    EXTRA_HEADERS=("X-Original-URI: /" "X-Original-Method: GET")
    DESC="$GATEWAY_VERSION decision endpoint (X-Original-URI: /, JWT HS256, verified-token cache on), workers 1, access_log off"
    {
        gateway_jwt_conf "$PORT" "key hs HS256 env:GATEWAY_JWT_SECRET;"
        printf 'trust_proxies 127.0.0.1/32;\ndecision_endpoint /;\n'
    } >"$WORK/gateway-decision.conf"
    spawn_gateway "$WORK/gateway-decision.conf"
}

# nginx auth_request -> the gateway's decision endpoint -> nginx proxies to the upstream with
# the identity the gateway answered: nginx_auth_request with the gateway in place of the
# static stub decider.
contender_nginx_auth_request_gateway() {
    gateway_ready || return 1
    AUTH=hs256 IDENTITY=1
    local gw; gw=$(free_port) || return 1
    DESC="nginx $(tool_version nginx) auth_request -> $GATEWAY_VERSION /_gateway/auth (JWT HS256, workers 1, access_log off), $IDENTITY_HEADER from the decision, 1 worker each"
    {
        gateway_jwt_conf "$gw" "key hs HS256 env:GATEWAY_JWT_SECRET;"
        printf 'trust_proxies 127.0.0.1/32;\n'
    } >"$WORK/gateway-authreq.conf"
    spawn_gateway "$WORK/gateway-authreq.conf"
    wait_port "$gw" || return 1   # bench.sh itself waits only for $PORT
    nginx_auth_request_start nginx_auth_request_gateway "127.0.0.1:$gw" /_gateway/auth
}

CONTENDERS+=(gateway_decision nginx_auth_request_gateway)
