#!/bin/bash
# Run one libFuzzer target for SECONDS on its corpus, then replay the
# checked-in corpus once (make fuzz, make fuzz-smoke).  New inputs go to
# FUZZO/work/NAME (fuzz/corpus/NAME is only read), crashes to
# FUZZO/artifacts/NAME/, the log to FUZZO/logs/NAME.log.  Ends with the
# line "NAME: <runs> runs, <exec/s> exec/s, cov <n>, ft <n>, corpus <n>"
# from libFuzzer's final stats; exits non-zero if anything crashed,
# leaked or timed out.
#
# usage: fuzz/run.sh FUZZO NAME SECONDS
set -u

fo=$1
name=$2
secs=$3
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$fo/fuzz-$name
corpus=$top/fuzz/corpus/$name
work=$fo/work/$name
art=$fo/artifacts/$name
log=$fo/logs/$name.log
[ -x "$bin" ] || { echo "$bin: not built (make fuzz-build)" >&2; exit 2; }
[ -d "$corpus" ] || { echo "$corpus: no corpus" >&2; exit 2; }
mkdir -p "$work" "$art" "$(dirname "$log")"
dict=()
[ -f "$top/fuzz/$name.dict" ] && dict=(-dict="$top/fuzz/$name.dict")

echo "==== fuzz $name: $secs s ===="
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -use_value_profile=1 "${dict[@]}" \
    -artifact_prefix="$art/" "$work" "$corpus" >"$log" 2>&1
rc=$?
# the last status line carries cov: and ft:, the final stats the rest
last=$(grep -E '^#[0-9]+' "$log" | tail -1)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
ncorp=$(find "$work" -type f | wc -l)
echo "$name: ${runs:-?} runs, ${eps:-?} exec/s, cov ${cov:-?}," \
    "ft ${ft:-?}, corpus $ncorp (work) + $(find "$corpus" -type f |
    wc -l) (checked in)"
if [ $rc -ne 0 ]; then
	grep -E 'ERROR: |SUMMARY: |property failed|Test unit written' \
	    "$log" | head -20
	echo "$name: FAILED (status $rc), log in $log"
	exit 1
fi
# the checked-in corpus, once each
if ! "$bin" -runs=0 "$corpus" >>"$log" 2>&1; then
	echo "$name: replay of $corpus FAILED, log in $log"
	exit 1
fi
echo "$name: corpus replayed"
