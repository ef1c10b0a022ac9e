# Object lifetimes in the root supervisor (issue 12): a request that
# waits on a guest gets exactly one answer whatever happens to the guest
# meanwhile, and a guest or command torn down inside a callback chain is
# never used again.  The san/ pass of make check runs this file on the
# ASan build too, where a use after free or double free is a report
# that fails it.  Before the fix: stop of a run whose client does not
# read was never answered (the vmm died of SIGSYS in a blocking flush,
# guest_reap freed the guest twice, guest.stopped was refused), and a
# cp whose guest was removed wrote through the freed guest.
. "$MVM_TOP/regress/lib.sh"
need_root guest-lifetime
need_image guest-lifetime

sv_start lifetime || { nok "supervisor starts"; exit 1; }
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log

gone() {
	local i
	for i in $(seq "${2:-100}"); do
		[ -z "$(guest_field "$1" state)" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- a run whose client does not read, stopped from another client ---
# yes fills the client's queue; the supervisor stops reading that
# guest's vmm (exec_throttle), so its DONE and EOF would sit unread
mkfifo "$MVM_TMP/slowpipe"
sleep 600 <"$MVM_TMP/slowpipe" &	# holds the pipe, reads nothing
HOLD=$!
$CTL run --name slow -- yes >"$MVM_TMP/slowpipe" 2>"$MVM_TMP/slow.err" &
SLOW=$!
check "a run whose client does not read starts" wait_state slow running
sleep 4		# its output backs up: the vmm is paused
t0=$SECONDS
timeout 60 $CTL stop slow
is $? 0 "stop from another client is answered (exit 0)"
check "... within 30 s" test $((SECONDS - t0)) -lt 30
check "the supervisor lives on" kill -0 "$SV_PID"
check "the throwaway guest is gone" gone slow
unlike "$(cat "$SV_LOG")" "SIGSYS" \
    "its vmm was not killed by its own filter (no blocking flush)"
check "guest.stopped of it is in the log" wait_for_line "$LOG" \
    '"subject":\{"guest":"slow"\}.*"type":"guest.stopped"'
unlike "$(cat "$SV_LOG")" "refused: not valid|audit event [0-9]+ refused" \
    "auditd refused no record"
kill "$SLOW" "$HOLD" 2>/dev/null
wait "$SLOW" "$HOLD" 2>/dev/null

# --- two clients stop one guest; its exec client hears the end ---
$CTL up g2 >/dev/null; is $? 0 "up g2"
( $CTL exec g2 -- sleep 1000 </dev/null >/dev/null 2>&1; echo $? \
    >"$MVM_TMP/exec.rc" ) &
EX=$!
sleep 1
timeout 60 $CTL stop g2 & S1=$!
timeout 60 $CTL stop g2 & S2=$!
wait $S1; is $? 0 "first of two concurrent stops answered (exit 0)"
wait $S2; is $? 0 "second of two concurrent stops answered (exit 0)"
check "the exec in it ends" wait_gone "$EX" 300
rc=$(cat "$MVM_TMP/exec.rc" 2>/dev/null)
check "... with an error, not a hang or success ($rc)" test -n "$rc" -a \
    "${rc:-0}" != 0
is "$(guest_field g2 state)" stopped "g2 is stopped"
$CTL rm g2; is $? 0 "rm g2"
$CTL stop g2 2>/dev/null; is $? 117 "stop of a removed guest: no such guest (117)"

# --- cp into a guest that is stopped and removed under it ---
$CTL up g3 >/dev/null; is $? 0 "up g3"
truncate -s 200M "$MVM_TMP/big"
( timeout 60 $CTL cp "$MVM_TMP/big" g3:/tmp/big 2>"$MVM_TMP/cp.err";
    echo $? >"$MVM_TMP/cp.rc" ) &
CP=$!
sleep 0.5
$CTL stop g3 >/dev/null; is $? 0 "stop g3 while a cp goes into it"
$CTL rm g3; is $? 0 "rm g3 at once"
check "the cp ends" wait_gone "$CP" 600
rc=$(cat "$MVM_TMP/cp.rc" 2>/dev/null)
check "... with an error ($rc), not a hang" test -n "$rc" -a \
    "${rc:-0}" != 0 -a "${rc:-0}" != 124
check "the supervisor lives on" kill -0 "$SV_PID"
$CTL status >/dev/null; is $? 0 "and answers"

$CTL audit verify >/dev/null; is $? 0 "the audit log verifies"
no_leftovers "after the lifetime tests"
sv_stop
is "$SV_RC" 0 "supervisor stops cleanly"
[ -n "${MVM_SANITIZE:-}" ] && unlike "$(cat "$SV_LOG")" \
    "ERROR: AddressSanitizer|runtime error:" "no sanitizer report"
exit 0
