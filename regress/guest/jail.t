# The guest's jail, read from the kernel: mvm-vmm and QEMU under
# seccomp with no_new_privs and no capabilities, as the guest's own uid,
# in a network namespace with only lo, with a root that is not the
# host's; four guests at once, each under its own uid and isolated.
. "$MVM_TOP/regress/lib.sh"
need_root guest-jail
need_image guest-jail

sv_start jail || { nok "supervisor starts"; exit 1; }
CTL=$MVMCTL
base=$(jq -r .uid_base "$SV_CONF")

# four at once
pids=()
for i in 1 2 3 4; do $CTL up g$i >/dev/null & pids+=($!); done
wait "${pids[@]}"
is "$($CTL ls --json | jq '[.[] | select(.state=="running")] | length')" 4 \
    "four guests running at once"

uids=""
for i in 1 2 3 4; do
	vmm=$($CTL ls --json | jq -r ".[] | select(.name==\"g$i\") | .vmm_pid")
	qemu=$(pgrep -P "$vmm" | head -1)
	uid=$($CTL ls --json | jq -r ".[] | select(.name==\"g$i\") | .uid")
	uids="$uids $uid"
	check "g$i: guest uid $uid is in the range and not root" \
	    test "$uid" -ge $((base + 16)) -a "$uid" -lt $((base + 64))
	for p in "$vmm" "$qemu"; do
		n=$(tr -d '\0' < /proc/$p/comm)
		is "$(proc_field $p Seccomp)" 2 "g$i $n: Seccomp: 2"
		is "$(proc_field $p NoNewPrivs)" 1 "g$i $n: NoNewPrivs: 1"
		is "$(proc_field $p CapEff)" 0000000000000000 "g$i $n: no capabilities"
		is "$(proc_field $p CapBnd)" 0000000000000000 "g$i $n: empty bounding set"
		is "$(awk '/^Uid:/ {print $2 $3 $4 $5}' /proc/$p/status)" \
		    "$uid$uid$uid$uid" "g$i $n: runs as the guest's uid"
		check "g$i $n: root is not the host's" test \
		    "$(stat -Lc %d:%i /proc/$p/root/)" != "$(stat -Lc %d:%i /)"
		links=$(nsenter -t $p -n ip -o link | awk '{print $2}' |
		    tr -d ':' | tr '\n' ' ')
		is "$links" "lo " "g$i $n: network namespace with only lo"
		for ns in mnt pid net ipc uts; do
			check "g$i $n: own $ns namespace" test "$(readlink \
			    /proc/$p/ns/$ns)" != "$(readlink /proc/1/ns/$ns)"
		done
	done
	# what the jail holds: no host /etc, no /home, no state dir
	check "g$i: no /etc/shadow in the jail" \
	    not test -e /proc/$vmm/root/etc/shadow
	check "g$i: no state dir in the jail" \
	    not test -e "/proc/$vmm/root$SV_DIR"
	check "g$i: jail holds the kernel and initramfs" \
	    test -f /proc/$vmm/root/kernel -a -f /proc/$vmm/root/initrd
	check "g$i: QEMU has no network device" \
	    not grep -q -- "-netdev\|-net " /proc/$qemu/cmdline
done
set -- $uids
check "four distinct guest uids ($uids )" \
    test "$(printf '%s\n' "$@" | sort -u | wc -l)" -eq 4
# cgroup limits are in place for each guest
vmm=$($CTL ls --json | jq -r '.[] | select(.name=="g1") | .vmm_pid')
cg=$(grep -E ':memory:|^0::' /proc/$vmm/cgroup | head -1 | cut -d: -f3)
check "g1's vmm is in a guest cgroup ($cg)" grep -q '/mvm/mvm-[0-9a-f]*/g' \
    <<<"$cg"

# isolation: what one guest writes, the others do not see
$CTL exec g1 -- sh -c 'echo secret-of-g1 > /tmp/mine' </dev/null
for i in 2 3 4; do
	out=$($CTL exec g$i -- sh -c 'cat /tmp/mine 2>&1; ls /tmp' </dev/null)
	unlike "$out" "secret-of-g1" "g$i does not see g1's file"
done
is "$($CTL exec g1 -- cat /tmp/mine </dev/null)" "secret-of-g1" \
    "g1 sees its own file"
# a guest cannot see the host's network either
out=$($CTL exec g2 -- sh -c 'ip link 2>/dev/null || cat /proc/net/dev' \
    </dev/null)
unlike "$out" "eth|ens|veth|wl" "the guest has no network device"

pids=()
for i in 1 2 3 4; do $CTL stop g$i >/dev/null & pids+=($!); done
wait "${pids[@]}"
for i in 1 2 3 4; do $CTL rm g$i >/dev/null; done
no_leftovers "after four guests"
