# The root supervisor keeps no secret where it could leak (issue 12):
# it writes no core file (RLIMIT_CORE 0, read from /proc/PID/limits,
# and none made when it crashes with a limit of unlimited inherited),
# it makes itself non-dumpable, and a secret's value does not stay in
# its memory once the secret was stored and the run that used it is
# over: every buffer that held it (the client's message, the command
# sent to the vmm, the guest's output that contained it) is wiped
# before it is freed (mvm-memscan reads /proc/PID/mem).
. "$MVM_TOP/regress/lib.sh"
need_root supervisor-nodump
need_image supervisor-nodump
MEMSCAN=$MVM_BUILD/regress/mvm-memscan

ulimit -c unlimited
mkdir -p "$MVM_TMP/cwd"
cd "$MVM_TMP/cwd" || exit 1
sv_start nodump || { nok "supervisor starts"; exit 1; }
CTL=$MVMCTL
like "$(grep 'Max core file size' "/proc/$SV_PID/limits")" \
    'Max core file size +0 +0 ' "RLIMIT_CORE is 0 (soft and hard)"

# a canary value, stored, granted, echoed by the command (redacted)
CANARY=mvmcanary$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s' "$CANARY" | $CTL secret put canary >/dev/null
is $? 0 "secret put"
out=$($CTL run --secret canary:VAL -- sh -c 'echo "$VAL" "$VAL"')
is $? 0 "a run granted it, which prints it"
is "$out" "[mvm:redacted] [mvm:redacted]" "its output is redacted"
$CTL status >/dev/null	# a few more messages through the same buffers
$MEMSCAN "$SV_PID" "$CANARY" >"$MVM_TMP/scan" 2>&1
is $? 0 "the value is nowhere in the supervisor's memory afterwards"
diag "$(cat "$MVM_TMP/scan")"

# a crash with an unlimited limit inherited makes no core file
if [ "$(cat /proc/sys/kernel/core_pattern)" = core ] ||
    [ "$(cat /proc/sys/kernel/core_pattern)" = core.%p ]; then
	kill -SEGV "$SV_PID"
	wait "$SV_PID" 2>/dev/null
	check "after SIGSEGV: no core file in its working directory" \
	    test -z "$(ls "$MVM_TMP/cwd")"
else
	diag "core_pattern is $(cat /proc/sys/kernel/core_pattern):" \
	    "the crash test needs a plain file pattern"
fi
exit 0
