# A vmm gone bad (as one taken over by its guest would be) costs only
# its own guest: garbage on its socket, an EXIT for a command it never
# started, or a forbidden system call (the jail kills it with SIGSYS).
# The supervisor stops that guest as failed, audits it, and keeps
# serving the other guest.  The trigger exists only in the test build;
# a release supervisor closes the connection that asks for it.
. "$MVM_TOP/regress/lib.sh"
need_root guest-vmmfault
need_image guest-vmmfault

POKE=$MVM_BUILD/regress/mvm-ctlpoke
SV_BUILD=$MVM_TEST_BUILD sv_start fault || { nok "supervisor starts"; exit 1; }
ok "test-build supervisor starts"
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log

$CTL up bystander >/dev/null || nok "bystander guest starts"
bpid=$($CTL ls --json | jq -r '.[] | select(.name=="bystander") | .vmm_pid')

state_of() {
	$CTL ls --json | jq -r ".[] | select(.name==\"$1\") | .$2"
}
# wait (10 s) for guest $1 to reach state $2
wait_state() {
	local i
	for i in $(seq 100); do
		[ "$(state_of "$1" state)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

for c in "7 garbage on the vmm's socket" \
    "8 an EXIT for a command never started" \
    "1 a forbidden socket() call in the vmm"; do
	w=${c%% *}; what=${c#* }
	g=victim$w
	$CTL up "$g" >/dev/null || nok "$g starts"
	vpid=$(state_of "$g" vmm_pid)
	qpid=$(pgrep -P "$vpid" | head -1)
	check "$g: its vmm ($vpid) and QEMU ($qpid) run" \
	    test -n "$qpid" -a -d "/proc/$qpid"
	is "$($POKE "$SV_DIR/control.sock" test "$g" "$w")" "reply 117" \
	    "$what: the hook is accepted (CTL_OK)"
	check "$what: $g ends failed" wait_state "$g" failed
	like "$(state_of "$g" reason)" "vmm" "$what: the reason names the vmm"
	check "$what: its vmm is gone" wait_gone "$vpid"
	check "$what: its QEMU is gone" wait_gone "$qpid"
	check "$what: guest.failed for $g is in the audit log" \
	    grep -q "\"guest\":\"$g\"}.*\"type\":\"guest.failed\"" "$LOG"
	check "$what: the supervisor still answers" $CTL status
	is "$($CTL exec bystander -- echo alive </dev/null)" alive \
	    "$what: the other guest still runs commands"
	is "$(state_of bystander vmm_pid)" "$bpid" \
	    "$what: the other guest's vmm was not touched"
	$CTL rm "$g" >/dev/null; is $? 0 "$g can be removed"
done
like "$(cat "$SV_LOG")" "victim1: vmm killed by SIGSYS" \
    "the supervisor log says the vmm was killed by SIGSYS"

# a hook for a guest that does not exist: a typed error, nothing else
is "$($POKE "$SV_DIR/control.sock" test nosuch 7)" "error 1013" \
    "hook for an unknown guest: ENOGUEST"
$CTL stop bystander >/dev/null
$CTL rm bystander >/dev/null
sv_stop
is "$SV_RC" 0 "the test supervisor stops cleanly"
no_leftovers "after the faulty vmms"

# the release supervisor does not know the message: connection closed
sv_start release || { nok "release supervisor starts"; exit 1; }
$MVMCTL up g1 >/dev/null || nok "g1 starts"
like "$($POKE "$SV_DIR/control.sock" test g1 7)" "^closed" \
    "release supervisor: CTL_TEST closes the connection unanswered"
is "$($MVMCTL ls --json | jq -r '.[] | select(.name=="g1") | .state')" \
    running "release supervisor: the guest was not touched"
$MVMCTL stop g1 >/dev/null; $MVMCTL rm g1 >/dev/null
sv_stop
no_leftovers "at the end"
