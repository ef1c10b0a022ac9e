# Commands run as an unprivileged guest user (mvm-agent.8, Users): the
# escapes a guest root had (core_pattern, /proc/1/mem, the agent's
# environment, ptrace of PID 1) fail for them, also with no seccomp
# filter at all; an exec granted secrets runs under a uid of its own,
# so no other command reads its secret file or environment; what an
# exec leaves running (a background sleep, a setsid escape, a fork
# bomb) is gone before the next one starts.  Root in the guest only
# with --guest-root, where the profile allows it (permissive, dev):
# elsewhere exit 120 and policy.denied with rule guest-root.
. "$MVM_TOP/regress/lib.sh"
need_root policy-guestuser
need_image policy-guestuser

sv_start gu || { nok "supervisor starts"; exit 1; }
ok "supervisor starts"
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log
cd "$MVM_TMP" || exit 1

# The attacks, shared into the guest: each prints ESCAPED if it worked.
mkdir probe
# ptrace(PTRACE_SEIZE, 1, 0, 0): exits 0 if it attached (SEIZE does not
# stop the agent), else with the errno
elf probe/ptrace \
    b865000000bf06420000be0100000031d24531d20f0589c7f7dfb83c0000000f05
cat >probe/core <<'EOF2'
echo "|/bin/false" >/proc/sys/kernel/core_pattern && echo ESCAPED
EOF2
cat >probe/mem <<'EOF2'
a=$(head -n1 /proc/1/maps | cut -d- -f1)
a=$((0x${a:-400000}))
dd if=/proc/1/mem of=/tmp/b.$$ bs=1 skip=$a count=1 2>/dev/null
dd if=/tmp/b.$$ of=/proc/1/mem bs=1 seek=$a count=1 conv=notrunc \
    2>/dev/null && [ -s /tmp/b.$$ ] && echo ESCAPED
EOF2
echo 'cat /proc/1/environ >/dev/null && echo ESCAPED' >probe/environ
echo 'ls /proc/1/ >/dev/null && echo ESCAPED' >probe/proc1
echo '/probe/ptrace && echo ESCAPED; echo "errno $?"' >probe/ptrace.sh
cat >probe/all <<'EOF2'
for a in core mem environ ptrace.sh proc1; do
	echo "$a: $(sh /probe/$a 2>&1 | tr '\n' ' ')"
done
echo "core_pattern: $(cat /proc/sys/kernel/core_pattern)"
EOF2
chmod 755 probe/ptrace

# attacks DESC FLAGS...: a run of probe/all; sets A
attacks() {
	local d=$1
	shift
	A=$($CTL run "$@" --add-dir "$MVM_TMP/probe:/probe" -- sh /probe/all \
	    </dev/null 2>&1)
	is $? 0 "$d: the probes ran"
}
# escaped NAME: its line of A
escaped() { grep "^$1: " <<<"$A"; }
attacks "permissive, no seccomp filter" --profile permissive --ack-permissive
unlike "$(escaped core)" ESCAPED "writing /proc/sys/kernel/core_pattern fails"
unlike "$(escaped mem)" ESCAPED "writing the agent's memory (/proc/1/mem) fails"
unlike "$(escaped environ)" ESCAPED \
    "reading the agent's environment (/proc/1/environ) fails"
unlike "$(escaped ptrace.sh)" ESCAPED "ptrace of PID 1 fails"
unlike "$(escaped proc1)" ESCAPED "listing /proc/1 fails"
is "$(escaped core_pattern)" "core_pattern: core" \
    "  ... and core_pattern is still the kernel's"
diag "$(tr '\n' '|' <<<"$A")"
attacks "standard" --profile standard
unlike "$(escaped core)" ESCAPED \
    "standard tier: writing /proc/sys/kernel/core_pattern fails"

# ---- secrets: an exec granted one has a uid of its own
$CTL up g >/dev/null
is $? 0 "up g: standard"
printf 'tokval-%s' "$RANDOM$RANDOM$RANDOM" >tokfile
$CTL secret put tok --from-file tokfile >/dev/null
is $? 0 "secret put tok"
# SPY: reads every secret file and environment it can, until told
SPY='echo spying; for i in $(seq 150); do
	cat /run/s/tok 2>/dev/null && exit 0
	for f in /proc/[0-9]*/environ; do
		grep -q TOKV= "$f" 2>/dev/null && exit 0
	done
	sleep 0.1
done; exit 7'
# spy_on GUEST DESC SPYFLAGS: SPY runs, then an exec granted tok
spy_on() {
	local spy rc
	$CTL exec "$1" $3 -- sh -c "$SPY" </dev/null >SPY.out 2>&1 &
	spy=$!
	wait_for_line SPY.out spying 300
	$CTL exec "$1" --secret-file tok:/run/s/tok --secret tok:TOKV -- \
	    sh -c 'cat /run/s/tok >/dev/null && sleep 3' </dev/null
	is $? 0 "$2: the exec granted tok read its file"
	wait "$spy"
	rc=$?
	is "$rc" 7 "$2: could not read its secret file or environment"
}
spy_on g "an earlier exec"
spy_on g "an earlier exec granted a secret of its own" "--secret tok:OTHER"
# the other way round: the exec with the secret first
$CTL exec g --secret-file tok:/run/s/tok --secret tok:TOKV -- \
    sh -c 'echo up; sleep 4' </dev/null >SEC.out 2>&1 &
sec=$!
wait_for_line SEC.out up 300
out=$($CTL exec g -- sh -c 'cat /run/s/tok; grep -l TOKV= \
    /proc/[0-9]*/environ; ls -l /run/s/tok; echo end' </dev/null 2>&1)
unlike "$out" "tokval-" "a later exec: the secret's value is not readable"
unlike "$out" "environ" "a later exec: no environment with it is readable"
like "$out" "Permission denied" "  ... the file: permission denied"
wait "$sec"
is $? 0 "  ... while the exec granted it ran on"

# ---- what an exec leaves behind is gone before the next one
$CTL exec g -- sh -c 'sleep 1000 & setsid sleep 1001 & echo started' \
    </dev/null >/dev/null
is "$($CTL exec g -- sh -c 'ps -o args | grep -c "^sleep 100[01]$"' \
    </dev/null)" 0 "sleep 1000 & and a setsid escape: gone at the next exec"
ms() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { print int((b - a) * 1000) }'; }
t0=$EPOCHREALTIME
$CTL exec g -- true </dev/null
base=$(ms "$t0")
$CTL exec g -- sh -c 'b() { [ $1 -gt 0 ] || exec sleep 1000
	b $(($1 - 1)) & b $(($1 - 1)) & wait; }; b 6 & sleep 1; echo started' \
    </dev/null >/dev/null
t0=$EPOCHREALTIME
left=$($CTL exec g -- sh -c 'ps -o args | grep -c "^sleep 1000$"' </dev/null)
el=$(ms "$t0")
is "$left" 0 "a fork bomb of 127 processes: gone at the next exec"
check "  ... which is not slowed ($el ms; a bare exec: $base ms)" \
    test "$el" -lt $((base * 3 + 2000))
