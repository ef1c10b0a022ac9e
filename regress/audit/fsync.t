# fsync failure under a running supervisor: the log's write(2) succeeds
# and its fdatasync(2) fails.  The tenant's audit directory is an ext4
# file system (no journal) on a loop device whose backing file is on a
# tmpfs.  Once the supervisor is up, every block ext4 has free is
# punched out of the backing file and the tmpfs is filled: ext4 still
# has room and takes writes into the page cache, but writing a new block
# back fails (ENOSPC from the loop device), while the blocks in use
# (inodes, bitmaps, the log's last block) can still be written.  Then:
# the log stops, work is refused with the typed audit error, the
# committed records stay as they were, and `mvmctl audit resume`, once
# the tmpfs has room, brings the log back.  Last, the file system is
# mounted again, so the log is read from the disk and not from the page
# cache (which kept the batch whose sync failed as if it were written):
# it must still verify, and a supervisor must start on it and append.
# Before auditd dropped the page cache when it reads the log, the three
# checks that show this failed in 3 runs of 3.
#
# Only the audit directory is on that file system: with a journal, or
# with the whole state dir there, ext4 gives up at the first failed
# metadata write and turns read-only, which is a disk the log cannot be
# written to at all (failclosed.t and resume.t cover that).
. "$MVM_TOP/regress/lib.sh"
need_root audit-fsync
need_image audit-fsync

B=$MVM_TMP/backing
D=$MVM_TMP/fsync/state/audit/local
mkdir -p "$B" "$D"
LOOP=
cleanup() {
	sv_stop 2>/dev/null
	umount -l "$D" 2>/dev/null
	[ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
	umount -l "$B" 2>/dev/null
	lib_cleanup
}
trap cleanup EXIT
mount -t tmpfs -o size=80m,mode=0755 mvm-test "$B" ||
    { skip "cannot mount a tmpfs"; exit 0; }
# written, not only allocated, and not discarded or zeroed by mkfs or
# at mount (either punches holes): every block is backed so far
dd if=/dev/zero of="$B/img" bs=1M count=64 status=none &&
    mkfs.ext4 -q -b 4096 -O ^has_journal \
    -E nodiscard,lazy_itable_init=0 "$B/img" ||
    { skip "mkfs.ext4 failed"; exit 0; }
LOOP=$(losetup -f --show "$B/img" 2>/dev/null) ||
    { LOOP=; skip "no loop device"; exit 0; }
mount -t ext4 -o errors=continue,noinit_itable "$LOOP" "$D" ||
    { skip "cannot mount ext4 on $LOOP"; exit 0; }
# ext4 sets blocks aside for a small file's next writes (a locality
# group preallocation, 512 blocks by default) and marks them in use: the
# log could grow into them, backed, for many runs.  One block at a time.
echo 1 > "/sys/fs/ext4/${LOOP##*/}/mb_group_prealloc" 2>/dev/null

# punch_free: no backing for any block ext4 has free now
punch_free() {
	sync
	dumpe2fs "$LOOP" 2>/dev/null | awk '/^  Free blocks: [0-9]/ {
	    sub(/^  Free blocks: /, ""); n = split($0, r, /, /)
	    for (i = 1; i <= n; i++) {
		if (split(r[i], a, "-") == 1) a[2] = a[1]
		print a[1], a[2] - a[1] + 1 } }' |
	while read -r first count; do
		fallocate --punch-hole -o $((first * 4096)) \
		    -l $((count * 4096)) "$B/img" || return 1
	done
}

sv_start fsync || { nok "supervisor starts"; exit 1; }
ok "supervisor starts, its audit log on ext4 on $LOOP"
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log
cd "$MVM_TMP" || exit 1

is "$($CTL run -- echo before)" before "a run before the device fails"
# the guest's last records (guest.stopped) come after mvmctl returns: a
# block the log gets meanwhile could be punched out under a record
# already synced, which is the test's doing, not a lost record
for _ in $(seq 100); do
	grep -q '"type":"guest.stopped"' "$LOG" && break
	sleep 0.1
done
check "the run's guest.stopped record is in the log" \
    grep -q '"type":"guest.stopped"' "$LOG"
sleep 0.5
cp "$LOG" "$MVM_TMP/log.before"
check "free blocks punched out of the backing file" punch_free
check "... and nothing was written to the log meanwhile" \
    cmp -s "$MVM_TMP/log.before" "$LOG"
dd if=/dev/zero of="$B/fill" bs=64k >/dev/null 2>&1
check "the backing tmpfs is full" \
    test "$(df --output=avail "$B" | tail -1)" -lt 64
check "... while ext4 still has room" \
    test "$(df --output=avail "$D" | tail -1)" -gt 10000
check "a probe's write succeeds and its sync fails" eval \
    '! dd if=/dev/zero of="$D/probe" bs=64k count=1 conv=fsync 2>/dev/null &&
    test -s "$D/probe"'

run_until_stopped "syncs fail"
like "$(cat "$SV_LOG")" "audit log stopped: No space left on device" \
    "auditd's log names the failed sync"
$CTL run -- echo again >/dev/null 2>&1
is $? 116 "the next run is refused at once (fail closed)"
n=$(stat -c %s "$MVM_TMP/log.before")
check "the records committed before are unchanged" \
    cmp -n "$n" "$MVM_TMP/log.before" "$LOG"

$CTL audit resume >/dev/null 2>&1
is $? 116 "audit resume while syncs still fail: fails (116)"

rm -f "$B/fill"
out=$($CTL audit resume 2>err)
is $? 0 "audit resume once the device has room: exit 0"
is "$($CTL status --json | jq .audit_ok)" true "status: the audit log is writing"
# read from the disk, the batch whose sync failed ends in bytes that never
# got there: a torn tail, recorded as after a crash
rec=$(grep -a '"type":"audit.recovered"' "$LOG" | tail -1)
like "$rec" '"length":[1-9]' \
    "the batch whose sync failed is recorded as a torn tail (audit.recovered)"
is "$($CTL run -- echo after)" after "runs are admitted again, no restart"
$CTL audit verify >v 2>&1
is $? 0 "the log verifies" || sed 's/^/#   /' v
sv_stop
is "$SV_RC" 0 "supervisor stops cleanly"

# what is on the disk, not in the page cache
umount "$D" && mount -t ext4 -o errors=continue,noinit_itable "$LOOP" "$D"
check "ext4 unmounted and mounted again" mountpoint -q "$D"
cmp -n "$n" "$MVM_TMP/log.before" "$LOG"
is $? 0 "on disk: the records committed before the failure are intact"
"$MVM_BUILD/mvmctl" -S "$SV_DIR" audit verify >v 2>&1
is $? 0 "on disk: the log verifies" || sed 's/^/#   /' v
if sv_start fsync; then
	ok "a supervisor starts on the log as the disk has it"
else
	nok "a supervisor starts on the log as the disk has it"
fi
is "$($MVMCTL run -- echo later)" later "... and runs"
$MVMCTL audit verify >v 2>&1
is $? 0 "... and the log verifies" || sed 's/^/#   /' v
sv_stop
[ "$T_FAIL" = 0 ] || sed 's/^/#   sv: /' "$SV_LOG" | tail -30
