# Disk full under a running supervisor: the log stops, work is refused
# with the typed audit error, what was committed stays, and once there
# is room again `mvmctl audit resume` (no restart) brings the log back:
# the half-written batch is recorded as a torn tail, audit.resumed is
# written, runs are admitted again and the whole log verifies.
. "$MVM_TOP/regress/lib.sh"
need_root audit-resume
need_image audit-resume

D=$MVM_TMP/resume
mkdir -p "$D"
mount -t tmpfs -o size=3m,mode=0755 mvm-test "$D" ||
    { skip "cannot mount a tmpfs"; exit 0; }
trap 'sv_stop 2>/dev/null; umount -l "$D" 2>/dev/null; lib_cleanup' EXIT
sv_start resume || { nok "supervisor starts"; exit 1; }
ok "supervisor starts, its state on a 3 MiB tmpfs"
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log
cd "$MVM_TMP" || exit 1

is "$($CTL run -- echo before)" before "a run before the disk fills"
n0=$(wc -l < "$LOG")
dd if=/dev/zero of="$D/fill" bs=4k >/dev/null 2>&1
check "the file system is full" test "$(df --output=avail "$D" | tail -1)" -lt 8
run_until_stopped "the disk is full"
$CTL run -- echo again >/dev/null 2>&1
is $? 116 "the next run is refused at once (fail closed)"

$CTL audit resume >out 2>err
is $? 116 "audit resume while the disk is still full: fails (116)"
is "$($CTL status --json | jq .audit_ok)" false "... and the log stays stopped"

rm -f "$D/fill"
out=$($CTL audit resume 2>err)
is $? 0 "audit resume once there is room: exit 0"
is "$out" "audit log: writing" "... saying so"
is "$($CTL status --json | jq .audit_ok)" true "status: the audit log is writing"
check "an audit.resumed record" grep -q '"type":"audit.resumed"' "$LOG"
is "$($CTL run -- echo after)" after "runs are admitted again, no restart"
$CTL audit verify >v 2>&1
is $? 0 "the whole log verifies (a torn tail, if any, was recorded)"
$CTL audit resume >/dev/null
is $? 0 "audit resume with a log that is not stopped: nothing to do, exit 0"
$CTL audit resume --tenant other >/dev/null 2>&1
is $? 2 "audit resume of an unknown tenant: usage error"
sv_stop
is "$SV_RC" 0 "supervisor stops cleanly"
[ "$T_FAIL" = 0 ] || sed 's/^/#   sv: /' "$SV_LOG" | tail -20
