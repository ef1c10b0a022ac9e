# SIGKILL in the middle of work, for each process: the supervisor, the
# signer, auditd, one vmm, one QEMU.  What must hold: no acknowledged
# audit record is lost (the log before the kill is a prefix of the log
# after), no half-written receipt, the guests of a dead supervisor are
# stopped (not orphaned), and after a restart no QEMU, vmm, cgroup,
# mount or guest directory is left; the restart records each lost guest.
. "$MVM_TOP/regress/lib.sh"
need_root fault-kill
need_image fault-kill

# all vmm pids of this supervisor, and their QEMUs
vmms() { pgrep -P "$1" -x mvm-vmm | tr '\n' ' '; }
qemus() { local v; for v in $1; do pgrep -P "$v"; done | tr '\n' ' '; }
all_gone() {	# all_gone PIDS...: within 15 s
	local p i
	for i in $(seq 150); do
		for p in "$@"; do kill -0 "$p" 2>/dev/null && break; done
		kill -0 "$p" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
wait_log() {	# wait_log FILE REGEX: 15 s
	local i
	for i in $(seq 150); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
child_pid() { $MVMCTL status | awk -v n="$1" '$1 == n {print $2}'; }

# ---- 1. the supervisor, with a named guest and a run in progress
sv_start k1 || { nok "supervisor starts"; exit 1; }
LOG=$SV_DIR/audit/local/log
$MVMCTL up g1 >/dev/null || nok "up g1"
$MVMCTL run --receipt "$MVM_TMP/R1" -- sleep 60 >/dev/null 2>"$MVM_TMP/err1" &
rp=$!
check "the run's command has started" wait_log "$LOG" '"type":"run.started"|"mode":"run".*"type":"run.admitted"'
sleep 2
sig=$(child_pid mvm-signer); aud=$(child_pid mvm-auditd)
v=$(vmms "$SV_PID"); q=$(qemus "$v")
is "$(wc -w <<<"$v") $(wc -w <<<"$q")" "2 2" "two guests: two vmms, two QEMUs"
cp "$LOG" "$MVM_TMP/log.before"
kill -9 "$SV_PID"
check "supervisor killed: every vmm and QEMU stops by itself" all_gone $v $q
check "... and the signer and auditd exit" all_gone $sig $aud
wait "$rp"; rc=$?
is "$rc" 125 "the waiting mvmctl run fails as a transport error (125)"
check "no receipt, not even a temporary one" \
    test -z "$(ls "$MVM_TMP" | grep '^R1')"
is "$(head -c "$(stat -c %s "$MVM_TMP/log.before")" "$LOG" | sha256sum)" \
    "$(sha256sum < "$MVM_TMP/log.before")" "the log before the kill is intact"
sv_start k1 || { nok "supervisor restarts"; exit 1; }
check "restart: guest.lost for g1" wait_log "$LOG" '"guest":"g1"}.*"type":"guest.lost"'
check "restart: guest.lost for the run's guest" \
    wait_log "$LOG" '"guest":"run-[0-9a-f]+"}.*"type":"guest.lost"'
is "$($MVMCTL ls --json | jq length)" 0 "restart: no guest listed"
no_leftovers "after a supervisor was killed and restarted"
like "$($MVMCTL audit verify)" "^ok:" "the log verifies after the restart"
is "$(head -c "$(stat -c %s "$MVM_TMP/log.before")" "$LOG" | sha256sum)" \
    "$(sha256sum < "$MVM_TMP/log.before")" "... and still starts with what was acknowledged"

# ---- 2. one QEMU, then one vmm: only that guest fails
$MVMCTL up g2 >/dev/null; $MVMCTL up g3 >/dev/null; $MVMCTL up g4 >/dev/null
st() { $MVMCTL ls --json | jq -r ".[] | select(.name==\"$1\") | .$2"; }
wait_state() { local i; for i in $(seq 150); do [ "$(st "$1" state)" = "$2" ] && return 0; sleep 0.1; done; return 1; }
v2=$(st g2 vmm_pid); q2=$(pgrep -P "$v2")
kill -9 "$q2"
check "QEMU of g2 killed: g2 ends failed" wait_state g2 failed
like "$(st g2 reason)" "." "... with a reason: $(st g2 reason)"
check "... its vmm is gone too" all_gone "$v2"
v3=$(st g3 vmm_pid); q3=$(pgrep -P "$v3")
kill -9 "$v3"
check "vmm of g3 killed: g3 ends failed" wait_state g3 failed
check "... its QEMU dies with it" all_gone "$q3"
is "$($MVMCTL exec g4 -- echo alive </dev/null)" alive "g4 is untouched"
check "guest.failed for g2 and g3 recorded" sh -c \
    "grep -q '\"guest\":\"g2\"}.*guest.failed' '$LOG' && grep -q '\"guest\":\"g3\"}.*guest.failed' '$LOG'"
for g in g2 g3; do $MVMCTL rm $g >/dev/null; done

# ---- 3. the signer, with a receipt being made: fail closed
$MVMCTL run --receipt "$MVM_TMP/R3" -- sleep 60 >/dev/null 2>&1 &
rp=$!
check "a second run has started" wait_log "$LOG" '"type":"run.admitted".*' 
sleep 3
v=$(vmms "$SV_PID"); q=$(qemus "$v")
cp "$LOG" "$MVM_TMP/log.before"
kill -9 "$(child_pid mvm-signer)"
check "signer killed: the supervisor shuts down (fail closed)" all_gone "$SV_PID"
check "... and every guest with it" all_gone $v $q
wait "$rp"
check "the run fails" test $? -ne 0
check "no receipt file" test -z "$(ls "$MVM_TMP" | grep '^R3')"
sv_start k1 || { nok "supervisor restarts after the signer"; exit 1; }
like "$($MVMCTL audit verify)" "^ok:" "the log verifies after the restart"
is "$(head -c "$(stat -c %s "$MVM_TMP/log.before")" "$LOG" | sha256sum)" \
    "$(sha256sum < "$MVM_TMP/log.before")" "no acknowledged record lost"
no_leftovers "after the signer was killed"

# ---- 4. auditd, while a guest runs: fail closed, nothing lost
$MVMCTL up g5 >/dev/null
v=$(vmms "$SV_PID"); q=$(qemus "$v")
cp "$LOG" "$MVM_TMP/log.before"
kill -9 "$(child_pid mvm-auditd)"
check "auditd killed: the supervisor shuts down" all_gone "$SV_PID"
check "... and its guest with it" all_gone $v $q
sv_start k1 || { nok "supervisor restarts after auditd"; exit 1; }
like "$($MVMCTL audit verify)" "^ok:" "the log verifies after the restart"
is "$(head -c "$(stat -c %s "$MVM_TMP/log.before")" "$LOG" | sha256sum)" \
    "$(sha256sum < "$MVM_TMP/log.before")" "no acknowledged record lost"
$MVMCTL stop g4 >/dev/null 2>&1
sv_stop
is "$SV_RC" 0 "the last supervisor stops cleanly"
no_leftovers "at the end"
