# mvmctl cp from a guest whose agent lies.  The lying agent is the test
# build's (build/test/mvm-agent, guest/testhook.c) in an image of its
# own; it streams for ever, or announces another size than it sent, when
# the host asks for /mvm-test/... .  The vmm, the supervisor and mvmctl
# each hold a get to its cap (MVM_CP_MAX, 256 MiB) and to the size
# announced; a slow client slows the guest down instead of filling the
# supervisor's memory; mvmctl leaves no temporary file, whatever ends
# it; the guest's mode bits come back without set-id bits and under the
# umask.  The release agent has none of the lies.
. "$MVM_TOP/regress/lib.sh"
need_root guest-cp
need_image guest-cp

LIAR=$MVM_TEST_BUILD/mvm-agent
CAP=$((256 * 1024 * 1024))
BOUND=$((64 * 1024))		# KiB: RSS growth allowed above the start
PUSH=${MVM_CP_PUSH:-30}		# s: the agent pushes while RSS is sampled
POKE=$MVM_BUILD/regress/mvm-ctlpoke

# the release agent, as built and in the default image, has no hook
for f in "$MVM_BUILD/mvm-agent" "$MVM_IMAGES/default/initramfs.cpio"; do
	check "${f#"$MVM_TOP"/}: no test hook in it" \
	    not grep -q -a -e /mvm-test/ -e MVM_TEST_LIE -e "test hook" "$f"
done
if [ ! -x "$LIAR" ]; then
	skip "cp from a lying agent: no $LIAR (make variant-test)"
	exit 0
fi
check "the test agent has them (so the check above can see)" \
    grep -q -a -e /mvm-test/ "$LIAR"

mkdir -p "$MVM_TMP/imgs" "$MVM_TMP/liar"
cp -al "$MVM_IMAGES/default" "$MVM_TMP/imgs/default"
cp "$LIAR" "$MVM_TMP/liar/init"
IMGS=", \"images_dir\": \"$MVM_TMP/imgs\""
sv_start cp "$IMGS" || { nok "supervisor starts"; exit 1; }
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log
$CTL image build liar --from "$MVM_TMP/liar" >/dev/null
is $? 0 "image build liar (the test agent as /init)"

# the labels of the last guest.file_get of GUEST
get_audit() {
	jq -c --arg g "$1" 'select(.type == "guest.file_get" and
	    .subject.guest == $g) | .labels' "$LOG" | tail -1
}
# started GLOB PID: a temporary file of PID's copy has data (10 s)
started() {
	local i f
	for i in $(seq 200); do
		for f in $1; do
			[ -s "$f" ] && return 0
		done
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# stopped_cp GUEST:PATH FILE: a cp (its pid in cpid) stopped (SIGSTOP)
# once its data comes.  The guest may still be busy with the copy before
# (EBUSY, 125): try again, for 10 s.
stopped_cp() {
	local end=$((SECONDS + 10))
	while [ $SECONDS -lt $end ]; do
		rm -f "$2"
		$CTL cp "$1" "$2" 2>/dev/null & cpid=$!
		if started "$2.mvmctl-*" $cpid; then
			kill -STOP $cpid
			return 0
		fi
		wait $cpid
	done
	return 1
}
# sample SECONDS CLIENT GLOB: until SECONDS pass or CLIENT ends, every
# half second, the largest VmRSS (KiB) of the supervisor (S_SV) and of
# the guest's vmm $VPID (S_VMM), and the largest file matching GLOB
# (beyond the cap the test has failed: it stops there, not to fill the
# disk)
sample() {
	local end=$((SECONDS + $1)) r f
	S_SV=0 S_VMM=0 S_FILE=0
	while [ $SECONDS -lt $end ] && kill -0 "$2" 2>/dev/null &&
	    [ $S_FILE -le $CAP ]; do
		r=$(proc_field "$SV_PID" VmRSS)
		[ "${r:-0}" -gt $S_SV ] && S_SV=$r
		r=$(proc_field "$VPID" VmRSS 2>/dev/null)
		[ "${r:-0}" -gt $S_VMM ] && S_VMM=$r
		for f in $3; do
			r=$(stat -c %s "$f" 2>/dev/null)
			[ "${r:-0}" -gt $S_FILE ] && S_FILE=$r
		done
		sleep 0.5
	done
	S_SECS=$(($1 - (end - SECONDS)))
}
# bounded WHAT: what sample saw is within the bounds
bounded() {
	diag "$1, $S_SECS s: supervisor $SV0 -> max $S_SV KiB," \
	    "vmm $VMM0 -> max $S_VMM KiB, file max $S_FILE bytes"
	rss_check "$1: the supervisor's RSS stays within 64 MiB of its start" \
	    test $((S_SV - SV0)) -le $BOUND
	rss_check "$1: the vmm's RSS stays within 64 MiB of its start" \
	    test $((S_VMM - VMM0)) -le $BOUND
	check "$1: the file never passed the cap" test "$S_FILE" -le $CAP
}
# ended CLIENT WHAT: the client ended by itself; else it is killed
ended() {
	if kill -0 "$1" 2>/dev/null; then
		nok "$2: the copy ended by itself"
		kill -KILL "$1"
	else
		ok "$2: the copy ended by itself"
	fi
	{ wait "$1"; } 2>/dev/null
}
# up GUEST: a guest of the lying image; its vmm in VPID, RSS at start
up() {
	$CTL up "$1" --image liar >/dev/null || nok "$1 starts"
	VPID=$(guest_field "$1" vmm_pid)
	SV0=$(proc_field "$SV_PID" VmRSS)
	VMM0=$(proc_field "$VPID" VmRSS)
}
leftovers() {
	ls "$MVM_TMP" | grep -E "^$1(\.mvmctl-|$)"
}

# the lying agent is an agent: what it does not lie about works
up h
$CTL cp h:/mvm-test/size/1000/1000 "$MVM_TMP/h.out"
is $? 0 "a get within the cap and the size announced: ok"
is "$(stat -c %s "$MVM_TMP/h.out")" 1000 "all 1000 bytes came"
$CTL cp h:/mvm-test/nosuch "$MVM_TMP/h.none" 2>/dev/null
is $? 127 "an unknown test path is not found (127)"
# the lying EXIT: what the guest says is evidence only where the host
# saw it too (issue 12); before, it was in the record and the receipt
out=$($CTL exec h --json --receipt "$MVM_TMP/lie.json" \
    --env MVM_TEST_LIE=1 -- true </dev/null)
is "$(jq -r '"\(.timed_out) \(.exit_code)"' <<<"$out")" "false 0" \
    "MVM_TEST_LIE=1: the EXIT says timed out; the host did not see it"
rec=$(grep '"type":"run.exited"' "$LOG" | tail -1)
is "$(jq -r '"\(.labels.outcome) \(.labels.truncated)"' <<<"$rec")" \
    "exited null" "run.exited: exited, not truncated"
is "$(jq -r .labels.guest_claims <<<"$rec")" \
    timed_out:stdout_truncated:stderr_truncated \
    "run.exited: the guest's claims, as its claims"
S=$(jq -r .payload "$MVM_TMP/lie.json" | base64 -d)
is "$(jq -c '.predicate.outcome | [.timed_out, .stdout_truncated,
    .stderr_truncated, .guest_claims]' <<<"$S")" \
    '[false,false,false,["timed_out","stdout_truncated","stderr_truncated"]]' \
    "receipt: the outcome is the host's; the guest's claims listed apart"
$CTL receipt verify "$MVM_TMP/lie.json" >/dev/null
is $? 0 "that receipt verifies"
out=$($CTL exec h --json -- true </dev/null)
is "$(jq -r .timed_out <<<"$out")" false "without it: the truth"
is "$(grep '"type":"run.exited"' "$LOG" | jq -r --arg r \
    "$(jq -r .run_id <<<"$out")" 'select(.subject.run == $r) |
    .labels.guest_claims')" null "... and no claims"

# 1. the client stopped: the endless stream waits for it
up a
check "client stopped: the copy started" \
    stopped_cp a:/mvm-test/endless "$MVM_TMP/a.out"
sample "$PUSH" $cpid "$MVM_TMP/a.out.mvmctl-*"
bounded "client stopped"
is "$(guest_field a state)" running "client stopped: the guest waits, still running"
kill -TERM $cpid
kill -CONT $cpid
{ wait $cpid; } 2>/dev/null
is $? 143 "SIGTERM to the stopped client: it dies of it"
is "$(leftovers a.out)" "" "SIGTERM mid-copy: no temporary file left"
# the copy runs out without its client, up to the cap: then the vmm
# fails the guest
check "the guest goes on to the cap and fails" wait_state a failed
like "$(guest_field a reason)" "more than the $CAP bytes" \
    "its reason: the agent sent more than the cap"
like "$(get_audit a)" '"outcome":"protocol"' \
    "guest.file_get is audited, outcome protocol"
like "$(grep '"type":"guest.failed"' "$LOG" | grep '"guest":"a"')" \
    '"reason":"protocol"' "guest.failed is audited, reason protocol"

# 2. the client reading: the cap ends it
up b
$CTL cp b:/mvm-test/endless "$MVM_TMP/b.out" 2>"$MVM_TMP/b.err" & cpid=$!
sample "$PUSH" $cpid "$MVM_TMP/b.out*"
ended $cpid "client reading"
rc=$?
bounded "client reading"
is $rc 126 "client reading: a typed error, the guest failed (126)"
like "$(cat "$MVM_TMP/b.err")" "more than the $CAP bytes" \
    "and it says the agent sent more than the cap"
is "$(leftovers b.out)" "" "no file and no temporary file left"
like "$(get_audit b)" '"outcome":"protocol"' \
    "guest.file_get is audited, outcome protocol"
check "the byte count audited is within the cap" \
    test "$(get_audit b | jq .bytes)" -le $CAP
check "the guest failed" wait_state b failed

# 3. an end that announces another size than came
for s in 100/200 200/100; do
	g=s${s%/*}
	w="sent ${s%/*}, announced ${s#*/}"
	up $g
	$CTL cp "$g:/mvm-test/size/$s" "$MVM_TMP/$g.out" 2>"$MVM_TMP/$g.err"
	is $? 126 "$w: a typed error (126)"
	like "$(cat "$MVM_TMP/$g.err")" \
	    "sent ${s%/*} bytes and announced ${s#*/}" "$w: says so"
	is "$(leftovers "$g.out")" "" "$w: no file left"
	like "$(get_audit $g)" '"outcome":"protocol"' \
	    "$w: audited, outcome protocol"
	check "$w: the guest failed" wait_state $g failed
done

# 4. signals mid-copy: an honest 200 MiB, the client stopped, signalled,
# let go; the copy runs out in the guest, which stays up
BIG=$((200 * 1024 * 1024))
up k
for c in INT:130 TERM:143 HUP:129 PIPE:141; do
	sig=${c%:*}
	stopped_cp k:/mvm-test/size/$BIG/$BIG "$MVM_TMP/k.out" ||
	    nok "SIG$sig: the copy started"
	kill -$sig $cpid
	kill -CONT $cpid
	{ wait $cpid; } 2>/dev/null
	is $? "${c#*:}" "SIG$sig mid-copy: mvmctl dies of it"
	is "$(leftovers k.out)" "" "SIG$sig mid-copy: no temporary file left"
done
for _ in $(seq 100); do
	$CTL cp k:/mvm-test/size/1000/1000 "$MVM_TMP/k.out" 2>/dev/null && break
	sleep 0.1
done
is "$(stat -c %s "$MVM_TMP/k.out" 2>/dev/null)" 1000 \
    "after the copies ran out, the guest copies again"
is "$(guest_field k state)" running "the guest whose clients went is still up"
like "$(get_audit k)" '"outcome":"ok"' "the last copy: audited ok"
is "$(jq -c 'select(.type == "guest.file_get" and .subject.guest == "k")
    | .labels.outcome' "$LOG" | grep -c cancelled)" 4 \
    "each copy whose client went: audited, outcome cancelled"

# 5. a lost connection: the supervisor goes mid-copy
stopped_cp k:/mvm-test/size/$BIG/$BIG "$MVM_TMP/l.out" ||
    nok "the copy started"
sv_stop
kill -CONT $cpid
sleep 1
ended $cpid "the supervisor gone"
is $? 125 "the supervisor gone mid-copy: mvmctl fails (125)"
is "$(leftovers l.out)" "" "and leaves no temporary file"

# 6. a vmm gone bad passes the lies on: the supervisor holds it to the
# cap and to the size (test builds: MVM_TEST_VMM_NOCAP)
SV_BUILD=$MVM_TEST_BUILD sv_start cpvmm "$IMGS" ||
    { nok "test supervisor starts"; exit 1; }
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log
for c in vend:endless vsize:size/100/200; do
	g=${c%%:*} p=${c#*:}
	up $g
	is "$($POKE "$SV_DIR/control.sock" test $g 9)" "reply 117" \
	    "$g: the vmm stops checking gets (test hook)"
	$CTL cp "$g:/mvm-test/$p" "$MVM_TMP/$g.out" 2>"$MVM_TMP/$g.err" &
	cpid=$!
	sample "$PUSH" $cpid "$MVM_TMP/$g.out*"
	ended $cpid "$p through a vmm gone bad"
	is $? 126 "$p through a vmm gone bad: a typed error (126)"
	check "$p through a vmm gone bad: the file never passed the cap" \
	    test "$S_FILE" -le $CAP
	is "$(leftovers "$g.out")" "" "$p through a vmm gone bad: no file left"
	like "$(get_audit $g)" '"outcome":"protocol"' \
	    "$p through a vmm gone bad: audited, outcome protocol"
	check "$p through a vmm gone bad: the guest fails" wait_state $g failed
	like "$(guest_field $g reason)" "vmm" "$p: the reason names the vmm"
done
like "$(cat "$SV_LOG")" "vend: cp from the guest: the vmm passed more" \
    "the supervisor log says the vmm passed more than the max"
like "$(cat "$SV_LOG")" "vsize: cp from the guest: the vmm announced another" \
    "the supervisor log says the vmm announced another size"

# 7. modes: cp and rw shares, with the release agent
$CTL up m >/dev/null || nok "m starts"
$CTL exec m -- sh -c 'echo x > /tmp/f; chmod 6777 /tmp/f' </dev/null
(umask 022; $CTL cp m:/tmp/f "$MVM_TMP/m022")
is "$(stat -c %a "$MVM_TMP/m022")" 755 "cp: 6777 in the guest, umask 022: 755"
(umask 077; $CTL cp m:/tmp/f "$MVM_TMP/m077")
is "$(stat -c %a "$MVM_TMP/m077")" 700 "cp: 6777 in the guest, umask 077: 700"
$CTL stop m >/dev/null
mkdir -p "$MVM_TMP/share"
(umask 027; $CTL run --profile dev --add-dir "$MVM_TMP/share:/s:rw" -- \
    sh -c 'echo x >/s/f; chmod 6777 /s/f; mkdir /s/d; chmod 7777 /s/d' \
    </dev/null)
is $? 0 "a run that makes a file and a directory 6777 and 7777 in an rw share"
is "$(stat -c %a "$MVM_TMP/share/f" 2>/dev/null)" 750 \
    "rw share: the file comes back 750 under umask 027"
is "$(stat -c %a "$MVM_TMP/share/d" 2>/dev/null)" 750 \
    "rw share: the directory comes back 750 under umask 027"

for g in vend vsize; do
	$CTL stop $g >/dev/null 2>&1
done
sv_stop
is "$SV_RC" 0 "the test supervisor stops cleanly"
