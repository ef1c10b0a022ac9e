# The control socket (issue 12).  A client that passes fds where none
# is expected is dropped, and its fds are closed off the event loop: a
# TCP socket that lingers 20 s on close held every client for 20 s
# before.  The socket's group and mode are set without following a
# link: someone who can write its directory and swaps the socket for a
# link between bind and chown used to get root to hand the link's
# target to socket_group, mode 0660.
. "$MVM_TOP/regress/lib.sh"
need_root supervisor-socket
POKE=$MVM_BUILD/regress/mvm-ctlpoke

sv_start sock ', "socket_group": 65534' ||
    { nok "supervisor starts"; exit 1; }
SOCK=$SV_DIR/control.sock
is "$(stat -c '%a %g %F' "$SOCK")" "660 65534 socket" \
    "the socket: 0660, socket_group, a socket"

nfd() { ls "/proc/$SV_PID/fd" | wc -l; }
fd0=$(nfd)
$POKE "$SOCK" lingerfd 20 >"$MVM_TMP/linger" 2>&1 &
LP=$!
check "a client passed a socket that lingers 20 s on close" \
    wait_for_line "$MVM_TMP/linger" "^passed" 100
sleep 0.5
t0=$(date +%s%N)
timeout 30 $MVMCTL status >/dev/null
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
is $rc 0 "while it closes a lingering socket a client passed: status answers"
check "... within 2 s ($ms ms)" test "$ms" -lt 2000
check "the client that passed it is dropped" \
    wait_for_line "$MVM_TMP/linger" "^closed" 100
check "and recorded as malformed" wait_for_line \
    "$SV_DIR/audit/local/log" '"type":"ctl.malformed"'
$POKE "$SOCK" manyfds >"$MVM_TMP/many" 2>&1
like "$(cat "$MVM_TMP/many")" "^closed" "200 fds in one message: dropped"
for _ in $(seq 50); do [ "$(nfd)" -le "$fd0" ] && break; sleep 0.1; done
is "$(nfd)" "$fd0" "every fd passed is closed again"
kill "$LP" 2>/dev/null
wait "$LP" 2>/dev/null

# the socket swapped for a link to a file of root's (test builds)
if [ -x "$MVM_TEST_BUILD/mvm-supervisor" ]; then
	CANARY=$MVM_TMP/canary
	echo canary >"$CANARY"
	chmod 0600 "$CANARY"
	mkdir -p "$MVM_TMP/swap"
	cat >"$MVM_TMP/swap/mvm.conf" <<JSON
{ "uid_base": $(uid_base_for 9), "uid_count": 64, "socket_group": 65534 }
JSON
	MVM_TEST_SOCKSWAP=$CANARY timeout 30 \
	    "$MVM_TEST_BUILD/mvm-supervisor" -d -f "$MVM_TMP/swap/mvm.conf" \
	    -S "$MVM_TMP/swap/state" 2>"$MVM_TMP/swap/log"
	check "a socket swapped for a link: the supervisor does not start" \
	    test $? -ne 0 -a $? -ne 124
	like "$(cat "$MVM_TMP/swap/log")" "replaced while being set up" \
	    "... and says why"
	is "$(stat -c '%a %u %g' "$CANARY")" "600 0 0" \
	    "the link's target keeps its mode and group"
else
	nok "no test build ($MVM_TEST_BUILD): make variant-test"
fi
exit 0
