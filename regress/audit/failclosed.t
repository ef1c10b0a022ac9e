# Fail closed: when the log cannot be written (a full file system), the
# log stops, nothing more is acknowledged, what was acknowledged stays
# intact, the supervisor says so and refuses what needs the log; after
# space returns, a restart recovers the torn tail and the log verifies.
. "$MVM_TOP/regress/lib.sh"
need_root audit-failclosed

SMALL=$MVM_TMP/small
mkdir -p "$SMALL"
mount -t tmpfs -o size=96k,mode=0755 mvm-test "$SMALL" ||
    { skip "cannot mount a tmpfs"; exit 0; }
trap 'umount -l "$SMALL" 2>/dev/null; lib_cleanup' EXIT

D=$SMALL/h
mkdir -p "$D"
H="$MVM_BUILD/regress/mvm-audit-harness"
UB=$(uid_base_for 1)
ACKS=$MVM_TMP/acks
out=$("$H" -a "$ACKS" "$MVM_BUILD" "$D" "$UB" burst 2000 2>/dev/null)
like "$out" "stopped" "auditd reports its log stopped when the disk is full"
acked=$(awk '/^acked/ {print $2}' <<<"$out")
errs=$(awk '/^acked/ {print $4}' <<<"$out")
check "some events were refused ($errs), not silently dropped" test "$errs" -gt 0
is $((acked + errs)) 2000 "every event was answered: acked or refused"
jq -R -r 'fromjson? | .seq' "$D/log" | sort -u > "$MVM_TMP/seqs"
missing=$(sort -u "$ACKS" | comm -23 - "$MVM_TMP/seqs" | wc -l)
is "$missing" 0 "every acknowledged record is in the log"

# room again: a restart recovers, appends, and the log verifies
rm -f "$MVM_TMP/pub"
"$MVM_BUILD/regress/mvm-keytool" pub "$D/host.key" > "$MVM_TMP/pub"
mount -o remount,size=4m "$SMALL"
out=$("$H" "$MVM_BUILD" "$D" "$UB" append 3 2>&1)
like "$out" "acked 3 errors 0" "after space returns, a restart appends again"
v=$("$MVM_BUILD/mvmctl" -S "$(fake_state "$D")" audit verify \
    --pubkey "$MVM_TMP/pub" 2>&1)
like "$v" "^ok: " "the log verifies after the stop and the restart ($v)"

# the supervisor: log stopped -> status says so, checkpoints refused
mount -o remount,size=256k "$SMALL"
sv_start_dir() {
	SV_DIR=$SMALL/state
	SV_LOG=$MVM_TMP/sv.log
	cat > "$MVM_TMP/mvm.conf" <<JSON
{ "uid_base": $(uid_base_for 2), "uid_count": 64 }
JSON
	"$MVM_BUILD/mvm-supervisor" -d -f "$MVM_TMP/mvm.conf" -S "$SV_DIR" \
	    2>>"$SV_LOG" &
	SV_PID=$!
	SV_PIDS+=("$SV_PID")
	MVMCTL="$MVM_BUILD/mvmctl -S $SV_DIR"
	for _ in $(seq 100); do
		$MVMCTL status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
check "supervisor starts on the small file system" sv_start_dir
# fill what is left, then make it record something
dd if=/dev/zero of="$SMALL/filler" bs=1k count=4096 2>/dev/null
for _ in $(seq 40); do $MVMCTL stop nosuch >/dev/null 2>&1; done
check "supervisor logs that the audit log stopped" \
    wait_for_line "$SV_LOG" "audit log of tenant local stopped"
is "$($MVMCTL status --json | jq -r .audit_ok)" false \
    "mvmctl status reports the audit log stopped"
out=$($MVMCTL audit checkpoint 2>&1)
check "a checkpoint is refused while the log is stopped" test $? -ne 0
like "$out" "audit log stopped" "with the typed error"
sv_stop
rm -f "$SMALL/filler"
