#!/bin/sh
# run-fuzzers.sh BUILD_DIR SECONDS - run every libFuzzer target of a build
# configured with -DDM_FUZZ=ON for SECONDS each, starting from its seeds in
# tests/fuzz/seeds/<target>/. Exits non-zero if any target finds a crash, a
# leak or a timeout; the reproducer is left in the current directory. As many
# run at a time as there are cores.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS" >&2
    exit 2
fi
build=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dm-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT INT TERM

targets="bilibili_xml dandanplay_json niconico_json jsonl bilibili_protobuf artplayer_json dplayer_json ass
         net_message host_input subs_file bus_message
         bilibili_xml_allocfail dandanplay_json_allocfail niconico_json_allocfail jsonl_allocfail
         bilibili_protobuf_allocfail artplayer_json_allocfail dplayer_json_allocfail ass_allocfail
         net_message_allocfail host_input_allocfail"
# as many at a time as there are cores (each is one process on one core): the same
# SECONDS each, in a fraction of the wall time
jobs=$(nproc 2>/dev/null || echo 1)

# run_one TARGET: its exit status in $work/TARGET.rc, its output in $work/TARGET.log
run_one() {
    target=$1
    bin=$(find "$build" -type f -name "fuzz_$target" -perm -u+x | head -n 1)
    if [ -z "$bin" ]; then
        echo "run-fuzzers: fuzz_$target not found under $build (configure with -DDM_FUZZ=ON)" >"$work/$target.log"
        echo 1 >"$work/$target.rc"
        return
    fi
    # libFuzzer writes new inputs into the corpus: never into the seeds.
    corpus="$work/$target"
    mkdir -p "$corpus"
    # a variant's inputs start with two bytes that pick the allocation to fail: the seeds get 00 00
    seeds="$here/seeds/${target%_allocfail}"
    if [ "$target" = "${target%_allocfail}" ]; then
        cp "$seeds"/* "$corpus"/ 2>/dev/null || true
    else
        for f in "$seeds"/*; do
            [ -f "$f" ] && { printf '\000\000'; cat "$f"; } > "$corpus/$(basename "$f")"
        done
    fi
    "$bin" -max_total_time="$seconds" -max_len=1048576 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "$corpus" >"$work/$target.log" 2>&1
    echo $? >"$work/$target.rc"
}

# report TARGET: what it did, or (failed) the end of its output
report() {
    target=$1
    if [ "$(cat "$work/$target.rc")" != 0 ]; then
        tail -n 40 "$work/$target.log" >&2
        echo "run-fuzzers: fuzz_$target FAILED" >&2
        status=1
    else
        echo "run-fuzzers: fuzz_$target, $seconds s"
        grep -E "^(stat::number_of_executed_units|#[0-9]+ *DONE)" "$work/$target.log" | tail -n 2
    fi
}

status=0
batch=""
n=0
for target in $targets; do
    run_one "$target" &
    batch="$batch $target"
    n=$((n + 1))
    if [ "$n" -ge "$jobs" ]; then
        wait
        for t in $batch; do report "$t"; done
        batch=""
        n=0
    fi
done
wait
for t in $batch; do report "$t"; done
exit $status
