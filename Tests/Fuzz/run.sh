#!/usr/bin/env bash
# Builds the libFuzzer driver (Tests/Fuzz, into .build-fuzz) and runs each fuzz target
# for SECONDS, JOBS targets at a time. A crash (or a broken property, or a hang past
# 10 s on one input) fails the run; the input that did it is kept under
# .build-fuzz/artifacts/<target>/ and belongs in Tests/Fuzz/regressions/<target>/ once
# fixed, where the unit tests replay it.
#
# usage: Tests/Fuzz/run.sh [SECONDS] [JOBS] [TARGET...]   (default 60 s, 2 at a time, all)
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-60}
jobs=${2:-2}
shift $(( $# < 2 ? $# : 2 ))

started=$(date +%s)
mkdir -p .build-fuzz
if ! swift build --package-path Tests/Fuzz --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address \
        > .build-fuzz/build.log 2>&1; then
    grep -v '^\[' .build-fuzz/build.log | grep -v 'warning: Cannot export local symbol' >&2
    echo "fuzz: the driver did not build" >&2
    exit 1
fi
binary=.build-fuzz/debug/redis-manage-fuzz
built=$(date +%s)

if [ $# -gt 0 ]; then
    targets=("$@")
else
    read -r -a targets < <("$binary" 2>&1 | sed -n 's/^targets: //p')
fi

run_target() {
    local target=$1
    local work=.build-fuzz/corpus/$target artifacts=.build-fuzz/artifacts/$target/
    mkdir -p "$work" "$artifacts" "Tests/Fuzz/corpus/$target" "Tests/Fuzz/regressions/$target"
    # New inputs go to the first directory, so the committed seeds stay as they are.
    FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 \
        "$binary" -max_total_time="$seconds" -timeout=10 -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$artifacts" "$work" "Tests/Fuzz/corpus/$target" "Tests/Fuzz/regressions/$target" \
        > ".build-fuzz/$target.log" 2>&1
}

failed=()
declare -A pids=()
for target in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    run_target "$target" &
    pids[$target]=$!
done
for target in "${targets[@]}"; do
    if ! wait "${pids[$target]}"; then failed+=("$target"); fi
done

printf '%-10s %12s %10s %8s\n' target execs exec/s corpus
for target in "${targets[@]}"; do
    log=.build-fuzz/$target.log
    execs=$(sed -n 's/^stat::number_of_executed_units: //p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: //p' "$log")
    corpus=$(ls ".build-fuzz/corpus/$target" "Tests/Fuzz/corpus/$target" | grep -cv ':$' || true)
    printf '%-10s %12s %10s %8s\n' "$target" "${execs:-?}" "${rate:-?}" "$corpus"
done
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, $jobs at a time; build $((built - started))s, total $(($(date +%s) - started))s"

if [ ${#failed[@]} -gt 0 ]; then
    for target in "${failed[@]}"; do
        echo "===== fuzz target $target failed (.build-fuzz/$target.log):" >&2
        grep -E 'fuzz property broken|Fatal error|ERROR: |SUMMARY|Test unit written|^artifact' ".build-fuzz/$target.log" | head -20 >&2
    done
    echo "fuzz: FAILED: ${failed[*]}; reproduce with FUZZ_TARGET=<target> $binary <artifact>" >&2
    exit 1
fi
