# Bounded memory (issue 12): while the hostile side keeps pushing for
# 30 s on three paths at once, the root supervisor's RSS stays within
# 64 MiB of what it was, and each pusher is held back (what it managed
# to read is bounded): stdin into a command that never reads it (run
# -- sleep 3600 < /dev/zero), a client that sends request after request
# and reads no answer, and cp into a guest that takes nothing (its QEMU
# stopped).  cp out of a guest has its own test, guest/cp.t.  Before,
# each path queued without limit (the run stops early, at twice the
# bound, so as not to take the machine's memory).
. "$MVM_TOP/regress/lib.sh"
need_root fault-memory
need_image fault-memory
POKE=$MVM_BUILD/regress/mvm-ctlpoke
PUSH=${MVM_PUSH_S:-30}
BOUND=$((64 * 1024))		# KiB above the start
WBOUND=$((64 * 1024 * 1024))	# bytes a held-back pusher may read

sv_start memory || { nok "supervisor starts"; exit 1; }
SOCK=$SV_DIR/control.sock
$MVMCTL up sink --memory 512 >/dev/null; is $? 0 "up sink"
GUID=$($MVMCTL ls --json | jq -r '.[] | select(.name == "sink") | .uid')
QPID=$(pgrep -u "$GUID" -f qemu-system | head -1)
check "sink's QEMU ($QPID)" test -n "$QPID"
truncate -s 100M "$MVM_TMP/big"
RSS0=$(proc_field "$SV_PID" VmRSS)

$MVMCTL run -- sleep 3600 </dev/zero >/dev/null 2>&1 &
P_STDIN=$!
$POKE "$SOCK" noread "$PUSH" >"$MVM_TMP/noread" 2>&1 &
P_NOREAD=$!
kill -STOP "$QPID"
$MVMCTL cp "$MVM_TMP/big" sink:/tmp/big >/dev/null 2>&1 &
P_CP=$!

# what a pusher read from its source (/dev/zero, the file) so far
rchar() { awk '/^rchar/ {print $2}' "/proc/$1/io" 2>/dev/null; }
MAX=0
end=$((SECONDS + PUSH))
while [ $SECONDS -lt $end ]; do
	r=$(proc_field "$SV_PID" VmRSS)
	[ "${r:-0}" -gt $MAX ] && MAX=$r
	[ $((MAX - RSS0)) -gt $((2 * BOUND)) ] && break
	W_STDIN=$(rchar $P_STDIN)
	W_CP=$(rchar $P_CP)
	sleep 0.5
done
diag "supervisor VmRSS: $RSS0 KiB at the start, at most $MAX KiB in" \
    "$((PUSH - (end - SECONDS))) s"
rss_check "the supervisor's RSS stays within 64 MiB of the start" \
    test $((MAX - RSS0)) -le $BOUND
check "stdin: the client is held back (it read ${W_STDIN:-?} bytes)" \
    test "${W_STDIN:-0}" -gt 0 -a "${W_STDIN:-0}" -le $WBOUND
check "cp: the client is held back (it read ${W_CP:-?} bytes)" \
    test "${W_CP:-0}" -gt 0 -a "${W_CP:-0}" -le $WBOUND
kill "$P_STDIN" 2>/dev/null
wait "$P_NOREAD"
n=$(awk '/^sent/ {print $2}' "$MVM_TMP/noread")
diag "a client that reads nothing got $n requests in, in $PUSH s"
check "noread: the client is not read once its answers pile up ($n)" \
    test "${n:-0}" -gt 0 -a "${n:-0}" -le 100000
kill -CONT "$QPID"
wait "$P_CP"
is $? 0 "once the guest runs again, the cp completes"
wait "$P_STDIN" 2>/dev/null
# held back is not stuck: a command that writes back all it reads,
# its output unread while stdin is held, has 64 MiB both ways
head -c 64M /dev/urandom >"$MVM_TMP/in"
out=$(timeout 300 $MVMCTL run -- cat <"$MVM_TMP/in" | sha256sum)
is "${out%% *}" "$(sha256sum <"$MVM_TMP/in" | cut -d' ' -f1)" \
    "64 MiB through cat and back: the same bytes, no deadlock"
check "the supervisor lives on" kill -0 "$SV_PID"
$MVMCTL status >/dev/null; is $? 0 "and answers"
exit 0
