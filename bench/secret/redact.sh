#!/bin/bash
# What redaction costs: the same command writing 10 MiB to stdout, run
# in a named guest (so no boot is timed) with and without a granted
# secret, alternating, ROUNDS each.  With a secret, every byte the guest
# writes goes through the host's redaction scan before it is hashed and
# delivered.  Prints the medians and their ratio (with / without).
# Times are TCG times unless /dev/kvm works.
#
# usage: bench/secret/redact.sh [ROUNDS]   (default 7; make image first)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MVM_BUILD:-$top/build}
images=${MVM_IMAGES:-$top/build/images}
N=${1:-7}
work=$(mktemp -d /tmp/mvm-bench-redact.XXXXXX)
state=$work/state
ctl="$build/mvmctl -S $state"
trap 'kill -TERM $sv 2>/dev/null; wait $sv 2>/dev/null;
    chattr -R -a "$work" 2>/dev/null; rm -rf "$work"' EXIT
. "$(dirname "$0")/../../regress/accel.sh"
accel=$(host_accel)
cat > "$work/mvm.conf" <<EOF2
{ "images_dir": "$images", "uid_base": 3700000, "uid_count": 64 }
EOF2
"$build/mvm-supervisor" -d -f "$work/mvm.conf" -S "$state" 2>"$work/log" &
sv=$!
for _ in $(seq 100); do $ctl status >/dev/null 2>&1 && break; sleep 0.1; done
printf 'bench-secret-%s' "$RANDOM$RANDOM" | $ctl secret put bench >/dev/null
$ctl up b >/dev/null
# 10 MiB of base64 text: letters, so the scan sees first-byte candidates
cmd='head -c 7864320 /dev/urandom | base64 -w 76'
now() { date +%s%N; }
t_plain=(); t_red=()
for i in $(seq "$N"); do
	t0=$(now); $ctl exec b -- sh -c "$cmd" </dev/null >/dev/null; t1=$(now)
	t_plain+=($(( (t1 - t0) / 1000000 )))
	t0=$(now); $ctl exec b --secret bench -- sh -c "$cmd" </dev/null \
	    >/dev/null; t1=$(now)
	t_red+=($(( (t1 - t0) / 1000000 )))
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mp=$(median "${t_plain[@]}"); mr=$(median "${t_red[@]}")
echo "accel: $accel, rounds: $N, 10 MiB of stdout per command"
echo "without a secret: median ${mp} ms (${t_plain[*]})"
echo "with a secret:    median ${mr} ms (${t_red[*]})"
awk -v a="$mr" -v b="$mp" 'BEGIN { printf "ratio with/without: %.3f\n", a / b }'
