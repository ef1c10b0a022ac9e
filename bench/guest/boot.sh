#!/bin/bash
# Guest boot time under plain QEMU (not jailed), alternating so drift in
# the machine's load hits every variant:
#	vmlinux	default image, PVH vmlinux: launch to the agent's HELLO
#	bzImage	default image, bzImage: launch to HELLO
#	marker	marker image: launch to QEMU exiting after "MVM-MARKER-OK"
#		(the floor for this kernel; includes the power off)
# Prints each variant's median, minimum and maximum in seconds.
#
# usage: bench/guest/boot.sh [ROUNDS]	(make image image-marker
#					 regress-progs first)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export MVM_TOP=$top
ROUNDS=${1:-10}
. "$top/regress/lib.sh" >/dev/null
. "$top/regress/guest/guest.sh"
DEF=$MVM_BUILD/images/default
MK=$MVM_BUILD/images/marker
for f in "$DEF/manifest.json" "$MK/manifest.json" "$AGENTCLI"; do
	[ -e "$f" ] || { echo "missing $f" >&2; exit 1; }
done

since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }'; }

hello_time() {	# kernel file -> seconds to HELLO
	local t0=$EPOCHREALTIME s
	boot_kernel "$1" "$MVM_TMP/b"
	"$AGENTCLI" -w 10 -t 30 "$GUEST_SOCK" hello >/dev/null || return 1
	s=$(since "$t0")
	"$AGENTCLI" -t 30 "$GUEST_SOCK" hello shutdown eof >/dev/null
	wait "$GUEST_PID"
	echo "$s"
}

marker_time() {
	local t0=$EPOCHREALTIME
	GUEST_IMG=$MK
	guest_boot "$MVM_TMP/m"
	wait "$GUEST_PID"
	grep -q MVM-MARKER-OK "$MVM_TMP/m/console" || return 1
	since "$t0"
}

# boot_kernel FILE DIR: guest_boot the default image with its vmlinux or
# its bzImage (an image directory whose "vmlinux" is the bzImage)
boot_kernel() {
	GUEST_IMG=$DEF
	if [ "$1" = bzImage ]; then
		mkdir -p "$MVM_TMP/bz"
		ln -sf "$DEF/bzImage" "$MVM_TMP/bz/vmlinux"
		ln -sf "$DEF/initramfs.cpio" "$MVM_TMP/bz/initramfs.cpio"
		GUEST_IMG=$MVM_TMP/bz
	fi
	guest_boot "$2"
}

declare -A times
for _ in $(seq "$ROUNDS"); do
	times[vmlinux]+="$(hello_time vmlinux) "
	times[bzImage]+="$(hello_time bzImage) "
	times[marker]+="$(marker_time) "
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $ROUNDS rounds"
for v in vmlinux bzImage marker; do
	tr ' ' '\n' <<<"${times[$v]}" | grep . | sort -n |
	    awk -v v="$v" '{ a[NR] = $1 } END {
		m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf "%-8s median %.2f s  min %.2f  max %.2f\n", v, m, a[1], a[NR]
	    }'
done
