# Benchmarks/gateway.sh - the gateway as contenders of ../shared/bench/peers.sh.
# Use from the project root, after `swift build -c release`:
#   EXTRA=Benchmarks/gateway.sh ../shared/bench/peers.sh
#   ONLY="nginx_plain haproxy_plain gateway_public gateway_10k_routes" EXTRA=Benchmarks/gateway.sh ../shared/bench/peers.sh
#   PIN=0 ONLY="gateway_public gateway_auto" EXTRA=Benchmarks/gateway.sh ../shared/bench/peers.sh   # scaling
# Like the peers, the gateway gets one worker and logs nothing per request (access_log off).
GATEWAY_BIN=${GATEWAY_BIN:-$PWD/.build/release/gateway}

# gateway_conf PORT WORKERS [EXTRA_ROUTES] : a gateway.conf with one public catch-all route.
gateway_conf() {
    cat <<CONF
listen 127.0.0.1:$1;
workers $2;
access_log off;
upstream up { server $UPSTREAM; keepalive $KEEPALIVE; }
route /** { public; upstream up; }
CONF
    local n=${3:-0} i
    for ((i = 0; i < n; i++)); do
        printf 'route /svc%d/{id}/items { public; respond 200 "x"; }\n' "$i"
    done
}

gateway_version() { "$GATEWAY_BIN" version | head -n 1; }

contender_gateway_public() {
    DESC="$(gateway_version) public route (proxy only), workers 1, access_log off, upstream keepalive $KEEPALIVE"
    gateway_conf "$PORT" 1 >"$WORK/gateway-public.conf"
    spawn "$GATEWAY_BIN" serve --config "$WORK/gateway-public.conf"
}

contender_gateway_10k_routes() {
    DESC="$(gateway_version) public route with 10,000 more routes in the table, workers 1, access_log off"
    gateway_conf "$PORT" 1 10000 >"$WORK/gateway-10k.conf"
    spawn "$GATEWAY_BIN" serve --config "$WORK/gateway-10k.conf"
}

contender_gateway_auto() {
    DESC="$(gateway_version) public route, workers auto ($(nproc) loops), access_log off"
    gateway_conf "$PORT" auto >"$WORK/gateway-auto.conf"
    spawn "$GATEWAY_BIN" serve --config "$WORK/gateway-auto.conf"
}

CONTENDERS+=(gateway_public gateway_10k_routes gateway_auto)

# API-key protected route (SPEC §5): a key minted by `gateway keys create` into a fresh store.
# apikey_contender NAME ROUTE_RULES EXTRA_CONFIG KEY_OPTIONS... : the route `/**` with
# ROUTE_RULES inside, EXTRA_CONFIG appended to the file.
apikey_contender() {
    local name=$1 rules=$2 extra=$3 conf key flipped
    shift 3
    IDENTITY=1
    conf="$WORK/gateway-$name.conf"
    {
        gateway_conf "$PORT" 1 | sed "s|route /\*\* { public; upstream up; }|route /** { ${rules}upstream up; }|"
        printf 'store sqlite %s;\napi_keys { header X-API-Key; prefix gw_; }\n%s\n' "$WORK/gateway-$name.db" "$extra"
    } >"$conf"
    key=$("$GATEWAY_BIN" keys create --name bench --principal "$JWT_SUB" "$@" --json --config "$conf" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])') || return 1
    flipped="${key:0:20}$([[ ${key:20:1} == A ]] && echo B || echo A)${key:21}"
    VALID_HEADER="X-API-Key: $key"
    BAD_HEADERS=("no key|" "garbage|X-API-Key: gw_garbage" "bad checksum|X-API-Key: $flipped"
                 "basic auth|Authorization: Basic dXNlcjpwYXNz")
    spawn "$GATEWAY_BIN" serve --config "$conf"
}

contender_gateway_apikey() {
    DESC="$(gateway_version) API-key protected route (X-API-Key), workers 1, access_log off"
    apikey_contender apikey "" ""
}

# The same route with authorization and a rate limit that never triggers (SPEC §6, §7): the
# cost of the rules, the role expansion and the limiter per request.
contender_gateway_apikey_rules() {
    DESC="$(gateway_version) API-key route + require (via a role) + rate_limit (never reached), workers 1, access_log off"
    apikey_contender apikey-rules "require bench:read; rate_limit 100000000/min; " \
        "roles { reader bench:read bench:list; writer @reader bench:write; }" --roles writer
}

CONTENDERS+=(gateway_apikey gateway_apikey_rules)

# JWT-protected routes (SPEC §5) with the harness's tokens; the harness checks its bad tokens
# (none, garbage, tampered, wrong secret, expired, alg none, wrong audience, other algorithm).
# gateway_jwt_conf PORT KEYLINE : one issuer trusting exactly one key (like the HAProxy peers).
gateway_jwt_conf() {
    gateway_conf "$1" 1 | sed 's/route \/\*\* { public; upstream up; }/route \/** { upstream up; }/'
    printf 'jwt {\n    issuer %s;\n    audience %s;\n    %s\n}\n' "$JWT_ISS" "$JWT_AUD" "$2"
}

contender_gateway_jwt_hs256() {
    AUTH=hs256 IDENTITY=1
    DESC="$(gateway_version) JWT HS256 protected route (verified-token cache on), workers 1, access_log off"
    gateway_jwt_conf "$PORT" "key hs HS256 env:GATEWAY_JWT_SECRET;" >"$WORK/gateway-jwt.conf"
    spawn env GATEWAY_JWT_SECRET="$JWT_SECRET" "$GATEWAY_BIN" serve --config "$WORK/gateway-jwt.conf"
}

contender_gateway_jwt_rs256() {
    AUTH=rs256 IDENTITY=1
    DESC="$(gateway_version) JWT RS256 protected route (verified-token cache on), workers 1, access_log off"
    gateway_jwt_conf "$PORT" "key rs RS256 file:$JWT_PUBKEY;" >"$WORK/gateway-jwt-rs.conf"
    spawn "$GATEWAY_BIN" serve --config "$WORK/gateway-jwt-rs.conf"
}

# ES256 (P-256), with the token minted by the gateway itself (`tokens` block + `token issue`):
# the harness mints only HS256/RS256. Bad tokens: none, garbage, tampered payload, a token of
# another ES256 key, an HS256 token of the harness.
contender_gateway_jwt_es256() {
    IDENTITY=1
    local conf="$WORK/gateway-jwt-es.conf" other="$WORK/gateway-jwt-es-other.conf" token stranger tampered
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/es256.pem" 2>/dev/null || return 1
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/es256-other.pem" 2>/dev/null || return 1
    {
        gateway_conf "$PORT" 1 | sed 's/route \/\*\* { public; upstream up; }/route \/** { upstream up; }/'
        printf 'tokens {\n    signing_key es ES256 file:%s;\n    issuer %s;\n    audience %s;\n    access_ttl 6h;\n}\n' \
            "$WORK/es256.pem" "$JWT_ISS" "$JWT_AUD"
    } >"$conf"
    sed "s|$WORK/es256.pem|$WORK/es256-other.pem|" "$conf" >"$other"
    token=$("$GATEWAY_BIN" token issue --sub "$JWT_SUB" --config "$conf") || return 1
    stranger=$("$GATEWAY_BIN" token issue --sub "$JWT_SUB" --config "$other") || return 1
    tampered="${token%%.*}.$(printf '{"iss":"%s","aud":"%s","sub":"admin","exp":9999999999}' "$JWT_ISS" "$JWT_AUD" |
        base64 -w0 | tr '+/' '-_' | tr -d '=').${token##*.}"
    VALID_HEADER="Authorization: Bearer $token"
    BAD_HEADERS=("no token|" "garbage|Authorization: Bearer abc.def.ghi" "tampered|Authorization: Bearer $tampered"
                 "other key|Authorization: Bearer $stranger" "hs256 token|Authorization: Bearer $TOKEN_HS256")
    DESC="$(gateway_version) JWT ES256 protected route (own tokens block, verified-token cache on), workers 1, access_log off"
    spawn "$GATEWAY_BIN" serve --config "$conf"
}

CONTENDERS+=(gateway_jwt_hs256 gateway_jwt_rs256 gateway_jwt_es256)

# The decision endpoint (SPEC §9) with the harness's HS256 token: the gateway alone answering
# "may GET / pass?" as nginx would ask it (X-Original-URI / X-Original-Method), 200 + identity
# headers, nothing forwarded. The harness requests `/` with one header line, so this gateway
# serves its decision endpoint at `/` and the two description headers ride along (below).
# IDENTITY=0: no upstream sees the identity, the decision answer carries it.
contender_gateway_decision() {
    AUTH=hs256
    DESC="$(gateway_version) decision endpoint (X-Original-URI: /, JWT HS256, verified-token cache on), workers 1, access_log off"
    {
        gateway_jwt_conf "$PORT" "key hs HS256 env:GATEWAY_JWT_SECRET;"
        printf 'trust_proxies 127.0.0.1/32;\ndecision_endpoint /;\n'
    } >"$WORK/gateway-decision.conf"
    spawn env GATEWAY_JWT_SECRET="$JWT_SECRET" "$GATEWAY_BIN" serve --config "$WORK/gateway-decision.conf"
}

# nginx auth_request -> the gateway's decision endpoint -> nginx proxies to the upstream with
# the identity the gateway answered (the harness's nginx_auth_request setup, with the gateway
# instead of its static stub decider: compare with nginx_auth_request).
contender_nginx_auth_request_gateway() {
    AUTH=hs256 IDENTITY=1
    local gw; gw=$(free_port) || return 1
    DESC="nginx $(tool_version nginx) auth_request -> $(gateway_version) /_gateway/auth (JWT HS256, workers 1, access_log off), $IDENTITY_HEADER from the decision, 1 worker each"
    {
        gateway_jwt_conf "$gw" "key hs HS256 env:GATEWAY_JWT_SECRET;"
        printf 'trust_proxies 127.0.0.1/32;\n'
    } >"$WORK/gateway-authreq.conf"
    spawn env GATEWAY_JWT_SECRET="$JWT_SECRET" "$GATEWAY_BIN" serve --config "$WORK/gateway-authreq.conf"
    wait_port "$gw" || return 1
    nginx_auth_request_start nginx_auth_request_gateway "127.0.0.1:$gw" /_gateway/auth
}

CONTENDERS+=(gateway_decision nginx_auth_request_gateway)

# The harness sends a single header line (VALID_HEADER) with its checks and its load; the
# decision endpoint also needs the original request's description. These wrappers add the
# lines of DECISION_HEADERS[contender] to both, for the contenders listed there only.
declare -A DECISION_HEADERS=([gateway_decision]="X-Original-URI: /|X-Original-Method: GET")

eval "harness_$(declare -f http_status)"
http_status() {
    local extra=() line
    if [[ -n ${DECISION_HEADERS[$CUR]:-} ]]; then
        IFS='|' read -r -a extra <<<"${DECISION_HEADERS[$CUR]}"
    fi
    harness_http_status "$@" "${extra[@]}"
}

eval "harness_$(declare -f run_wrk)"
run_wrk() {
    local -x BENCH_EXTRA_HEADERS=${DECISION_HEADERS[$CUR]:-}
    harness_run_wrk "$@"
}

# report.lua is the harness's; append the extra headers (read from the environment that
# run_wrk above exports) to every request wrk sends.
eval "harness_$(declare -f write_wrk_script)"
write_wrk_script() {
    harness_write_wrk_script
    cat >>"$WORK/report.lua" <<'LUA'
-- added by Benchmarks/gateway.sh: extra request headers ("Name: value|Name: value")
for item in string.gmatch(os.getenv("BENCH_EXTRA_HEADERS") or "", "[^|]+") do
    local name, value = item:match("^([^:]+):%s*(.*)$")
    if name then wrk.headers[name] = value end
end
LUA
}
