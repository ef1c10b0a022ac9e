#!/bin/bash
# auditd append throughput: group commit (the default batch) against one
# fdatasync per record (batch of 1), same disk, same run, alternating so
# drift in the machine's load hits both.  Prints records/s and the ratio.
#
# usage: bench/audit/append.sh [N records per run] [REPS]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MVM_BUILD:-$top/build}
N=${1:-5000}
REPS=${2:-5}
work=${MVM_BENCH_DIR:-/var/tmp/mvm-bench}/append
H=$build/regress/mvm-audit-harness
[ -x "$H" ] || { echo "build first: make regress-progs" >&2; exit 1; }
mkdir -p "$work"
echo "disk: $(df -h "$work" | awk 'NR==2 {print $1, $6}')"

run() {	# batch_max -> us for N records
	local d=$work/b$1
	rm -rf "$d"
	mkdir -p "$d"
	"$H" -b "$1" -u "${MVM_BATCH_US:-10000}" "$build" "$d" 3700000 burst "$N" 2>/dev/null |
	    awk '/^acked/ { if ($4 != 0) exit 1; print $6 }'
}

group=()
single=()
for r in $(seq "$REPS"); do
	group+=("$(run 256)")
	single+=("$(run 1)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
g=$(median "${group[@]}")
s=$(median "${single[@]}")
echo "records per run: $N, runs: $REPS each"
echo "group commit (batch 256):   median $((g / 1000)) ms  = $((N * 1000000 / g)) records/s"
echo "one fdatasync per record:   median $((s / 1000)) ms  = $((N * 1000000 / s)) records/s"
awk -v g="$g" -v s="$s" 'BEGIN { printf "ratio (group / per-record throughput): %.1fx\n", s / g }'
rm -rf "$work"
