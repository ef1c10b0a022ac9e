# Helpers for regress/guest/*.t: the default image, and a plain QEMU
# guest (not jailed) with the agent port on a unix socket.  Source it
# after lib.sh.

GUEST_IMG=${MVM_GUEST_IMAGE:-$MVM_IMAGES/default}
AGENTCLI=$MVM_BUILD/regress/mvm-agentcli

# guest_need_image: the default image, built if missing; skips the whole
# test file (exit 0) if it cannot be had
guest_need_image() {
	local out rc
	[ -f "$GUEST_IMG/manifest.json" ] && return 0
	out=$(make -s -C "$MVM_TOP" image 2>&1)
	rc=$?
	[ -f "$GUEST_IMG/manifest.json" ] && return 0
	if grep -q 'no kernel package' <<<"$out"; then
		skip "guest image: no kernel package (archive unreachable," \
		    "none cached)"
	else
		skip "guest image: make image failed ($rc)"
		sed 's/^/#   /' <<<"$out" | tail -n 20
	fi
	exit 0
}

# guest_need_qemu: skips the test file without QEMU or the test client
guest_need_qemu() {
	if ! command -v qemu-system-x86_64 >/dev/null; then
		skip "qemu-system-x86_64 not installed (make deps)"
		exit 0
	fi
	if [ ! -x "$AGENTCLI" ]; then
		skip "$AGENTCLI not built (make regress-progs)"
		exit 0
	fi
}

# tsc_khz: the host TSC rate for tsc_early_khz= (QEMU-NOTES: without it
# about one TCG boot in ten hangs calibrating against the PIT)
tsc_khz() {
	local mhz
	mhz=$(dmesg 2>/dev/null | awk '/tsc: Refined TSC clocksource/ {
	    m = $(NF - 1) } /tsc: Detected/ && !m { m = $(NF - 2) }
	    END { print m }')
	[ -n "$mhz" ] ||
	    mhz=$(awk -F': ' '/^cpu MHz/ { print $2; exit }' /proc/cpuinfo)
	awk -v m="$mhz" 'BEGIN { printf "%d\n", m * 1000 }'
}

GUEST_APPEND="console=ttyS0 panic=-1 quiet loglevel=0 reboot=t \
tsc=reliable no_timer_check cryptomgr.notests random.trust_cpu=on \
i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd 8250.nr_uarts=1"

# guest_boot DIR: start QEMU (microvm, PVH vmlinux, initramfs) in the
# background; the agent port is DIR/agent.sock, the console DIR/console.
# Sets GUEST_PID and GUEST_SOCK; the EXIT trap of lib.sh kills it.
guest_boot() {
	local dir=$1
	mkdir -p "$dir"
	rm -f "$dir/agent.sock"
	GUEST_SOCK=$dir/agent.sock
	qemu-system-x86_64 \
	    -M microvm,x-option-roms=off,isa-serial=on,pit=off,pic=off \
	    -m 256 -nodefaults -no-user-config -display none -no-reboot \
	    -kernel "$GUEST_IMG/vmlinux" -initrd "$GUEST_IMG/initramfs.cpio" \
	    -append "$GUEST_APPEND tsc_early_khz=$(tsc_khz)" \
	    -serial "file:$dir/console" \
	    -chardev "socket,id=agent,path=$GUEST_SOCK,server=on,wait=off" \
	    -device virtio-serial-device \
	    -device virtserialport,chardev=agent,name=mvm.agent.0 \
	    -device virtio-rng-device \
	    </dev/null >"$dir/qemu.log" 2>&1 &
	GUEST_PID=$!
	SV_PIDS+=("$GUEST_PID")
}

# agent STEP...: mvm-agentcli on the guest's port
agent() {
	"$AGENTCLI" -t "${AGENT_TIMEOUT:-30}" -w 10 "$GUEST_SOCK" "$@"
}

# jget JSON KEY: one member of the JSON text after "TYPE "
jget() {
	sed 's/^[A-Z_]* \([0-9]* \)\{0,1\}//' <<<"$1" | jq -c ".$2"
}
