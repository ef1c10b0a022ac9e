#!/bin/bash
# mvmctl audit verify on N records (default 1,000,000) against a bare
# single-threaded loop of crypto_sign_verify_detached over the same
# records (regress/tools/mvm-verifyloop.c: no JSON, no chain, no tree),
# same files, same run, alternating.  Prints both times and the ratio.
# verify also parses and checks every record, rebuilds the Merkle tree
# and checks every checkpoint, but on every CPU.
#
# The log (a checkpoint every 256 records, about auditd's batch) is made
# by mvm-auditgen once per N and kept under $MVM_BENCH_DIR
# (/var/tmp/mvm-bench) so a rerun is quick.
#
# usage: bench/audit/verify.sh [N] [REPS]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MVM_BUILD:-$top/build}
N=${1:-1000000}
REPS=${2:-1}
work=${MVM_BENCH_DIR:-/var/tmp/mvm-bench}/verify
for p in mvmctl regress/mvm-auditgen regress/mvm-verifyloop \
    regress/mvm-keytool; do
	[ -x "$build/$p" ] || { echo "build first: make regress-progs" >&2; exit 1; }
done
state=$work/n$N
files=$state/audit/local
mkdir -p "$files" "$state/signer"

if [ ! -s "$work/key" ]; then
	"$build/regress/mvm-keytool" gen mvm-bench > "$work/key"
	rm -f "$work"/n*/made
fi
"$build/regress/mvm-keytool" pub "$work/key" > "$state/signer/host.pub"
if [ "$(cat "$state/made" 2>/dev/null)" != "$N" ]; then
	echo "generating $N records (once; kept in $work)"
	t0=$(date +%s.%N)
	"$build/regress/mvm-auditgen" "$work/key" "$files/log" \
	    "$files/checkpoints" "$N" --every 256
	t1=$(date +%s.%N)
	echo "$N" > "$state/made"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "generated in %.1f s\n", b - a }'
fi
echo "log: $(du -h "$files/log" | cut -f1)," \
    "$(wc -l < "$files/checkpoints") checkpoints, $(nproc) CPUs"
cat "$files/log" "$files/checkpoints" > /dev/null	# page cache
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# secs WANT CMD...: run, check the output for WANT, print "wall cpu"
# (seconds; cpu is user + sys, so cpu / wall shows the cores it got)
secs() {
	local want=$1 t; shift
	t=$(mktemp)
	{ TIMEFORMAT='%R %U %S'; time "$@" > "$t.out"; } 2> "$t"
	grep -q "$want" "$t.out" || { echo "unexpected: $(cat "$t.out")" >&2; exit 1; }
	awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$t"
	rm -f "$t" "$t.out"
}

v=()
l=()
vc=()
for r in $(seq "$REPS"); do
	set -- $(secs "^ok: $N records" "$build/mvmctl" -S "$state" audit verify \
	    --pubkey "$state/signer/host.pub")
	v+=("$1")
	vc+=("$(awk -v w="$1" -v c="$2" 'BEGIN { printf "%.2f", c / w }')")
	set -- $(secs "^$N verified 0 failed" "$build/regress/mvm-verifyloop" \
	    "$state/signer/host.pub" "$files/log")
	l+=("$1")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
vm=$(median "${v[@]}")
lm=$(median "${l[@]}")
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo "records: $N, runs: $REPS each"
echo "mvmctl audit verify:               ${vm} s  (runs: ${v[*]};" \
    "CPUs used: ${vc[*]})"
echo "bare verify loop, one thread:      ${lm} s  (runs: ${l[*]})"
awk -v v="$vm" -v l="$lm" \
    'BEGIN { printf "ratio (loop / verify): %.2fx  (target >= 1.5x)\n", l / v }'
