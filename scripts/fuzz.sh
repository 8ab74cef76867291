#!/usr/bin/env bash
# scripts/fuzz.sh TARGET SECONDS [libFuzzer options...] - fuzzes one parser with libFuzzer and
# AddressSanitizer for SECONDS, starting from the committed seed corpus Tests/Fuzz/corpus/TARGET.
# New interesting inputs go to .build-fuzz/corpus/TARGET (not committed); a finding (crash,
# sanitizer report, broken invariant) is written to .build-fuzz/findings/ and the script fails.
#
#   scripts/fuzz.sh request-head 600            # ten minutes on the request head parser
#   scripts/fuzz.sh --list                      # the targets
#   scripts/fuzz.sh all 10                      # every target for 10 s (the CI smoke)
#   GATEWAY_FUZZ_JOBS=2 scripts/fuzz.sh chunked 300   # more processes
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(request-head response-head chunked config json jwt base64url path forwarded)
if [[ ${1:-} == --list || $# -lt 2 ]]; then
    printf '%s\n' "${targets[@]}"
    [[ ${1:-} == --list ]] && exit 0
    echo "usage: scripts/fuzz.sh TARGET|all SECONDS [libFuzzer options...]" >&2
    exit 2
fi
target=$1 seconds=$2
shift 2

build=.build-fuzz
echo "== build gateway-fuzz (-sanitize=fuzzer,address) into $build" >&2
GATEWAY_FUZZ=1 swift build -c release --build-path "$build" --product gateway-fuzz \
    -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' >&2 || true
bin="$build/release/gateway-fuzz"
[[ -x $bin ]] || { echo "build failed" >&2; exit 1; }

run_one() {
    local name=$1 corpus="$build/corpus/$1" findings="$build/findings/$1" log="$build/logs/$1.log"
    shift
    mkdir -p "$corpus" "$findings" "$(dirname "$log")"
    echo "== $name for ${seconds}s" >&2
    local status=0 parallel=() max_len=16384
    # A configuration's constructs fit in 4 KiB; longer inputs only slow the loader down.
    [[ $name == config ]] && max_len=4096
    if [[ ${GATEWAY_FUZZ_JOBS:-1} -gt 1 ]]; then parallel=(-fork="$GATEWAY_FUZZ_JOBS"); fi
    GATEWAY_FUZZ_TARGET=$name "$bin" "$corpus" "Tests/Fuzz/corpus/$name" \
        -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$findings/" "${parallel[@]}" "$@" >"$log" 2>&1 || status=$?
    local runs
    runs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s += $2} END {print s + 0}')
    if [[ $status -ne 0 ]]; then
        tail -n 40 "$log" >&2
        echo "FINDING in $name after $runs executions: see $findings/ and $log" >&2
        return 1
    fi
    echo "$name: $runs executions in ${seconds}s, no finding" >&2
    printf '%s %s\n' "$name" "$runs"
}

if [[ $target == all ]]; then
    failed=0
    for name in "${targets[@]}"; do run_one "$name" "$@" || failed=1; done
    exit $failed
fi
[[ " ${targets[*]} " == *" $target "* ]] || { echo "unknown target $target (scripts/fuzz.sh --list)" >&2; exit 2; }
run_one "$target" "$@"
