# The control socket: bad clients are disconnected without an answer and
# the supervisor keeps serving; only root and socket_group may connect.
. "$MVM_TOP/regress/lib.sh"
need_root control

POKE=$MVM_BUILD/regress/mvm-ctlpoke
sv_start ctl ', "socket_group": 65534' ||
    { nok "supervisor starts"; exit 1; }
ok "supervisor starts"
SOCK=$SV_DIR/control.sock

for m in garbage nohello oversize trunc unknown wrongsize \
    sharedata sharerun sharepath sharemode sharetwice; do
	out=$($POKE "$SOCK" $m)
	is "$out" "closed answered 0" "$m: connection closed, nothing answered"
	check "$m: supervisor alive" kill -0 "$SV_PID"
	check "$m: next client is served" $MVMCTL status
done
is "$($POKE "$SOCK" badversion)" "error 1000" \
    "wrong protocol version: typed error MVM_EVERSION"
is "$($POKE "$SOCK" stall 8)" "closed answered 0" \
    "silent client is dropped after the HELLO timeout"
check "supervisor alive after all that" $MVMCTL status
like "$(cat "$SV_LOG")" "malformed request, connection closed" \
    "malformed requests are logged"

# permissions: socket is 0660 root:65534 with a socket_group
is "$(stat -c '%a %u %g' "$SOCK")" "660 0 65534" "socket mode 0660 root:group"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
    $MVM_BUILD/mvmctl -S "$SV_DIR" status 2>&1)
check "member of socket_group may connect" test $? -eq 0
out=$(setpriv --reuid=65534 --regid=12345 --groups=65534 \
    $MVM_BUILD/mvmctl -S "$SV_DIR" status 2>&1)
check "supplementary member of socket_group may connect" test $? -eq 0
out=$(setpriv --reuid=12345 --regid=12345 --clear-groups \
    $MVM_BUILD/mvmctl -S "$SV_DIR" status 2>&1)
check "other users may not connect" test $? -ne 0
like "$out" "Permission denied" "and are told so"
# even when the file mode would let them in, SO_PEERCRED keeps them out
chmod 0666 "$SOCK"
out=$(setpriv --reuid=12345 --regid=12345 --clear-groups \
    $MVM_BUILD/mvmctl -S "$SV_DIR" status 2>&1)
check "SO_PEERCRED refuses other uids even on a 0666 socket" test $? -ne 0
like "$(cat "$SV_LOG")" "refused control connection from uid 12345" \
    "and the refusal is logged"
sv_stop

# without a group the socket is root-only
sv_start ctl2 || nok "second supervisor starts"
is "$(stat -c '%a %u %g' "$SV_DIR/control.sock")" "600 0 0" \
    "socket mode 0600 root:root without a group"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
    $MVM_BUILD/mvmctl -S "$SV_DIR" status 2>&1)
check "non-root may not connect" test $? -ne 0

# many clients at once: the limit holds and the supervisor carries on
pids=()
for i in $(seq 70); do
	$POKE "$SV_DIR/control.sock" hold 3 >"$MVM_TMP/hold.$i" 2>&1 &
	pids+=($!)
done
sleep 1
n=$(ls /proc/$SV_PID/fd | wc -l)
check "fds bounded with 70 clients holding connections ($n)" test "$n" -lt 90
wait "${pids[@]}"
check "served again once they are gone" $MVMCTL status
