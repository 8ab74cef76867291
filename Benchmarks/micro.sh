#!/usr/bin/env bash
# Benchmarks/micro.sh - micro-benchmarks of authentication (release build), compared with
# `openssl speed` on the same machine. Run from anywhere:
#   Benchmarks/micro.sh                       # 3 rounds: 1 s per case, openssl speed 2 s per primitive
#   RUNS=5 MICRO_SECONDS=2 OPENSSL_SECONDS=3 Benchmarks/micro.sh
# Each round runs gateway-microbench, then `openssl speed`, so both sides see the same load;
# the tables keep each figure's best round (the least disturbed on a shared machine).
# Both sides divide by wall-clock time (`openssl speed -elapsed`), one thread each.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
MICRO_SECONDS=${MICRO_SECONDS:-1}
OPENSSL_SECONDS=${OPENSSL_SECONDS:-2}

# Builds share the machine: take the project's build lock when flock exists.
build=(swift build -c release --product gateway-microbench)
if command -v flock >/dev/null 2>&1; then
    build=(flock /tmp/gw-swift-build.lock "${build[@]}")
fi
echo "== build (release)"
"${build[@]}" 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
bench=.build/release/gateway-microbench
test -x "$bench" || { echo "build failed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl version

for ((round = 1; round <= RUNS; round++)); do
    echo "== round $round of $RUNS: gateway-microbench --seconds $MICRO_SECONDS"
    "$bench" --seconds "$MICRO_SECONDS" | tee "$work/ours.$round.txt"
    # The HS256 signing input length, so openssl's HMAC runs over the same number of bytes.
    input_bytes=$(awk '/^# hs256 token:/ { print $(NF - 1) }' "$work/ours.$round.txt")
    echo "== round $round of $RUNS: openssl speed -seconds $OPENSSL_SECONDS -elapsed"
    openssl speed -mr -elapsed -seconds "$OPENSSL_SECONDS" rsa2048 ecdsap256 ed25519 >"$work/pk.$round.txt" 2>/dev/null
    openssl speed -mr -elapsed -seconds "$OPENSSL_SECONDS" -bytes "$input_bytes" -hmac sha256 >"$work/hmac.$round.txt" 2>/dev/null
done

# Best rounds. Machine-readable openssl lines: +F2:i:bits:sign/s:verify/s (RSA), +F4:... (ECDSA),
# +F6:i:bits:name:sign/s:verify/s (EdDSA), +F:i:hmac(sha256):bytes/s.
maximum() { sort -g | tail -n 1 | xargs printf '%.0f'; }
rsa=$(awk -F: '$1 == "+F2" && $3 == "2048" { print $5 }' "$work"/pk.*.txt | maximum)
ecdsa=$(awk -F: '$1 == "+F4" && $3 == "256" { print $5 }' "$work"/pk.*.txt | maximum)
ed25519=$(awk -F: '$1 == "+F6" && $4 == "Ed25519" { print $6 }' "$work"/pk.*.txt | maximum)
hmac=$(awk -F: -v n="$input_bytes" '$1 == "+F" { print $4 / n }' "$work"/hmac.*.txt | maximum)
ours() { awk -v name="$1" '$1 == name { print $2 }' "$work"/ours.*.txt | maximum; }

# An awk function for thousands separators (mawk has no %'d): grouped(1838282) = 1,838,282.
grouped='function grouped(n,   digits, out) {
    digits = sprintf("%d", n); out = ""
    while (length(digits) > 3) { out = "," substr(digits, length(digits) - 2) out; digits = substr(digits, 1, length(digits) - 3) }
    return digits out }'
row() { # label case-prefix full-case openssl-figure
    awk -v label="$1" -v s="$(ours "$2_signature_only")" -v f="$(ours "$3")" -v o="$4" "$grouped"'
        BEGIN { printf "| %s | %s | %s | %s | %.2f |\n", label, grouped(s), grouped(f), grouped(o), s / o }'
}

echo
echo "== verify/s, best of $RUNS rounds: gateway vs openssl speed (same machine, one thread each)"
echo "| primitive | gateway signature only | gateway whole JWT (uncached) | \`openssl speed\` verify | signature only / openssl |"
echo "|---|---:|---:|---:|---:|"
row "HMAC-SHA256 (HS256, ${input_bytes} B input)" hs256 hs256_verify_uncached "$hmac"
row "RSA 2048 PKCS#1 v1.5 (RS256)" rs256 rs256_verify "$rsa"
row "RSA 2048 PSS (PS256; openssl: rsa2048)" ps256 ps256_verify "$rsa"
row "ECDSA P-256 (ES256)" es256 es256_verify "$ecdsa"
row "Ed25519 (EdDSA)" eddsa eddsa_verify "$ed25519"

echo
echo "== every gateway case, best of $RUNS rounds"
echo "| case | ops/s | ns/op |"
echo "|---|---:|---:|"
awk '!/^#/ { print $1 }' "$work/ours.1.txt" | while read -r name; do
    awk -v name="$name" -v ops="$(ours "$name")" "$grouped"'
        BEGIN { printf "| `%s` | %s | %.1f |\n", name, grouped(ops), 1e9 / ops }'
done
