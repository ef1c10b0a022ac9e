#!/bin/bash
# What the whole mvm stack adds to a boot: `mvmctl run -- true` (launch
# to exit: admission and its audit record, the vmm and its jail, QEMU,
# the kernel, the agent, the command, run.exited and its record) against
# a bare qemu-system-x86_64 -M microvm boot of the same kernel with the
# marker initramfs (its init prints a marker and powers off), same QEMU
# options, same run, alternating.  Then the boot phases of N guests
# (mvmctl up + boot-report), p50 and p90.  Times are TCG times unless
# /dev/kvm works (the script says which).
#
# usage: bench/boot/run.sh [ROUNDS]   (default 10; make image image-marker)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MVM_BUILD:-$top/build}
images=${MVM_IMAGES:-$top/build/images}
N=${1:-10}
work=$(mktemp -d /tmp/mvm-bench-boot.XXXXXX)
state=$work/state
ctl="$build/mvmctl -S $state"
trap 'kill -TERM $sv 2>/dev/null; wait $sv 2>/dev/null;
    chattr -R -a "$work" 2>/dev/null; rm -rf "$work"' EXIT
for f in "$images/default/manifest.json" "$images/marker/initramfs.cpio"; do
	[ -e "$f" ] || { echo "missing $f: make image image-marker" >&2; exit 1; }
done
. "$(dirname "$0")/../../regress/accel.sh"
accel=$(host_accel)
tsc=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)

cat > "$work/mvm.conf" <<EOF
{ "images_dir": "$images", "uid_base": 3600000, "uid_count": 64 }
EOF
"$build/mvm-supervisor" -d -f "$work/mvm.conf" -S "$state" 2>"$work/sv.log" &
sv=$!
for _ in $(seq 100); do $ctl status >/dev/null 2>&1 && break; sleep 0.1; done

now() { date +%s.%N; }
# bare [extra QEMU options]: the marker boot, machine and kernel options
# as mvm-vmm uses them
bare() {
	local t0 t1
	t0=$(now)
	qemu-system-x86_64 -M microvm,x-option-roms=off,isa-serial=on,pit=off,pic=off \
	    -accel $accel -m 256 -smp 1 -nodefaults -no-user-config \
	    -nographic -display none -no-reboot \
	    -kernel "$images/default/vmlinux" \
	    -initrd "$images/marker/initramfs.cpio" \
	    -append "console=ttyS0 panic=-1 quiet loglevel=0 reboot=t tsc=reliable no_timer_check cryptomgr.notests random.trust_cpu=on i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd 8250.nr_uarts=1 rdinit=/init tsc_early_khz=$tsc" \
	    -serial file:"$work/marker.console" -device virtio-rng-device \
	    "$@" </dev/null >/dev/null 2>&1
	rm -f "$work"/*.sock
	t1=$(now)
	grep -q MVM-MARKER-OK "$work/marker.console" || { echo "marker missing" >&2; exit 1; }
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}
run() {
	local t0 t1
	t0=$(now)
	$ctl run -- true </dev/null || { echo "run failed" >&2; exit 1; }
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pct() {	# pct P values...
	local p=$1; shift
	printf '%s\n' "$@" | sort -g |
	    awk -v p="$p" '{a[NR]=$1} END {i=int((NR*p+99)/100); if(i<1)i=1; print a[i]}'
}

# the same, with the rest of mvm-vmm's QEMU options: the agent port,
# QMP and -sandbox (oddly, these make the marker boot faster here)
devs=(-device virtio-serial-device
    -chardev "socket,id=ag,path=$work/a.sock,server=on,wait=off"
    -device virtserialport,chardev=ag,name=mvm.agent.0
    -qmp "unix:$work/q.sock,server=on,wait=off"
    -sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny)

B=() D=() R=()
for i in $(seq "$N"); do
	B+=("$(bare)")
	D+=("$(bare "${devs[@]}")")
	R+=("$(run)")
done
mb=$(median "${B[@]}")
md=$(median "${D[@]}")
mr=$(median "${R[@]}")
echo "accel: $accel ($( [ $accel = tcg ] && echo 'software emulation: TCG times' || echo KVM times))"
echo "rounds: $N each, alternating"
printf 'bare QEMU marker boot (launch to exit):  median %.3f s  (min %.3f)\n' \
    "$mb" "$(pct 0 "${B[@]}")"
printf 'bare, with mvm-vmm devices + sandbox:    median %.3f s  (min %.3f)\n' \
    "$md" "$(pct 0 "${D[@]}")"
printf 'mvmctl run -- true     (launch to exit):  median %.3f s  (min %.3f)\n' \
    "$mr" "$(pct 0 "${R[@]}")"
echo "ratio run / bare:                $(awk -v r="$mr" -v b="$mb" 'BEGIN { printf "%.3f", r / b }')  (target <= 1.10)"
echo "ratio run / bare with devices:   $(awk -v r="$mr" -v b="$md" 'BEGIN { printf "%.3f", r / b }')"

# boot phases, as the boot report gives them (ms since the vmm started)
declare -A ph
for i in $(seq "$N"); do
	$ctl up b$i >/dev/null
	rep=$($ctl boot-report b$i --json)
	for k in qemu console agent_hello ready; do
		v=$(jq -r ".phases_ms.$k // empty" <<<"$rep")
		[ -n "$v" ] && ph[$k]+="$v "
	done
	$ctl stop b$i >/dev/null
	$ctl rm b$i >/dev/null
done
echo "boot phases over $N guests, ms since the vmm started ($accel):"
for k in qemu console agent_hello ready; do
	set -- ${ph[$k]:-}
	if [ $# -eq 0 ]; then
		printf '  %-12s (never: the console was silent)\n' "$k"
		continue
	fi
	printf '  %-12s p50 %5s  p90 %5s\n' "$k" "$(pct 50 "$@")" "$(pct 90 "$@")"
done
