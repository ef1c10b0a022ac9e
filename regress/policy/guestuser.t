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
# the same probes can see an escape: as guest root every one works
attacks "--guest-root" --profile permissive --ack-permissive --guest-root
is "$(grep -c ': ESCAPED' <<<"$A")" 5 "as guest root all five probes escape"

# ---- secrets: an exec granted one has a uid of its own
$CTL up g >/dev/null
is $? 0 "up g: standard"
printf 'tokval-%s' "$RANDOM$RANDOM$RANDOM" >tokfile
$CTL secret put tok --from-file tokfile >/dev/null
is $? 0 "secret put tok"
# SPY: reads every secret file and environment it can, until told
SPY='echo spying; for i in $(seq 40); do
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
ms() { awk -v a="$1" -v b="$EPOCHREALTIME" \
    'BEGIN { print int((b - a) * 1000) }'; }
t0=$EPOCHREALTIME
$CTL exec g -- true </dev/null
base=$(ms "$t0")
# gone GUEST REGEX DESC: at the next exec no process's arguments match
# REGEX, and that exec is not slowed
gone() {
	local t0 n el
	t0=$EPOCHREALTIME
	n=$($CTL exec "$1" -- sh -c "ps -o args | grep -c '$2'" </dev/null)
	el=$(ms "$t0")
	is "$n" 0 "$3: gone at the next exec"
	check "  ... which is not slowed ($el ms; a bare exec: $base ms)" \
	    test "$el" -lt $((base * 3 + 2000))
}
$CTL exec g -- sh -c 'sleep 1000 & setsid sleep 1001 & echo started' \
    </dev/null >/dev/null
gone g '^sleep 100[01]$' "sleep 1000 & and a setsid escape"
$CTL exec g -- sh -c 'b() { [ $1 -gt 0 ] || exec sleep 1000
	b $(($1 - 1)) & b $(($1 - 1)) & wait; }; b 6 & sleep 1; echo started' \
    </dev/null >/dev/null
gone g '^sleep 1000$' "a fork bomb of 127 processes"

# ---- the default user
out=$($CTL exec g -- sh -c 'id -u; id -g; id -un; id -G; echo "$HOME"; pwd
	touch here && ls -ln here | awk "{ print \$3, \$4 }"
	grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):" /proc/self/status |
	    tr -s "\t " " " | paste -sd,' </dev/null)
is "$out" "1000
1000
mvm
1000
/home/mvm
/home/mvm
1000 1000
CapInh: 0000000000000000,CapPrm: 0000000000000000,CapEff: 0000000000000000,CapBnd: 0000000000000000,CapAmb: 0000000000000000,NoNewPrivs: 1" \
    "id -u 1000 (mvm, group mvm only); HOME and workdir /home/mvm, writable; no capability in any set, no_new_privs"
is "$($CTL run --profile permissive --ack-permissive -- sh -c 'id -u
	grep -E "^(CapBnd|NoNewPrivs|Seccomp):" /proc/self/status |
	    tr -s "\t " " " | paste -sd,' </dev/null)" \
    "1000
CapBnd: 0000000000000000,NoNewPrivs: 1,Seccomp: 0" \
    "no seccomp filter (permissive): still the user, no_new_privs, no capability"
out=$($CTL exec g --secret tok -- sh -c 'id -u; id -G; echo $HOME; pwd' \
    </dev/null)
like "$(head -n1 <<<"$out")" '^2[0-9]{3}$' \
    "an exec granted a secret: a uid of its own, 2000-2999"
is "$(sed 1d <<<"$out" | paste -sd' ')" "1000 /home/mvm /home/mvm" \
    "  ... group mvm only, the same home and workdir"

# ---- guest root: only where the profile allows it, audited
denied() {	# denied DESC WANT-MESSAGE MVMCTL-ARGS...
	local d=$1 m=$2 out rc n0 n1
	shift 2
	n0=$(grep -c '"type":"policy.denied"' "$LOG")
	out=$($CTL "$@" </dev/null 2>&1)
	rc=$?
	is "$rc" 120 "$d: denied (120)"
	like "$out" "$m" "$d: $m"
	for _ in $(seq 50); do
		n1=$(grep -c '"type":"policy.denied"' "$LOG")
		[ "$n1" -gt "$n0" ] && break
		sleep 0.1
	done
	check "$d: policy.denied, rule guest-root" grep -q \
	    '"rule":"guest-root".*"type":"policy.denied"' \
	    <(tail -n $((n1 - n0)) "$LOG")
}
denied "run --guest-root (standard)" "profile standard allows no root" \
    run --guest-root -- id -u
denied "run --guest-root (restrictive)" "profile restrictive allows no root" \
    run --profile restrictive --guest-root -- id -u
denied "up --guest-root (standard)" "profile standard allows no root" \
    up gs --guest-root
denied "exec --guest-root in a standard guest" \
    "profile standard allows no root" exec g --guest-root -- id -u
$CTL up gd --profile dev >/dev/null
is $? 0 "up gd --profile dev (no --guest-root)"
denied "exec --guest-root in a dev guest up without it" \
    "the guest was started without it" exec gd --guest-root -- id -u
is "$($CTL run --profile dev --guest-root -- id -u </dev/null)" 0 \
    "run --profile dev --guest-root: id -u 0"
$CTL up gr --profile dev --guest-root >/dev/null
is $? 0 "up gr --profile dev --guest-root"
is "$($CTL exec gr --guest-root -- sh -c 'id -u; echo $HOME; pwd
	grep ^CapEff: /proc/self/status' </dev/null | paste -sd' ')" \
    "0 /root /root CapEff:	000001ffffffffff" \
    "exec gr --guest-root: root, its home, its capabilities"
is "$($CTL exec gr -- id -u </dev/null)" 1000 \
    "exec gr without --guest-root: the default user"
is "$($CTL exec gr --guest-root --secret tok -- id -u </dev/null)" 0 \
    "exec gr --guest-root --secret: root, not a uid of its own"
# a permissive guest's execs were acknowledged at its up
$CTL up gp --profile permissive --ack-permissive >/dev/null
is "$($CTL exec gp -- id -u </dev/null)" 1000 \
    "exec in a permissive guest (acknowledged at up): runs, as the user"
uids=$(grep '"type":"run.admitted"' "$LOG" | jq -r .labels.guest_uid | sort -un |
    awk '$1 == 0 || $1 == 1000 { print; next } { o = "2xxx" } END { if (o) print o }' |
    paste -sd' ')
is "$uids" "0 1000 2xxx" "run.admitted says the uid: 0, 1000 and own ones"
grep '"type":"run.exited"' "$LOG" | jq -r .labels.guest_uid >U
check "run.exited says the uid too" test "$(grep -vc '^null$' U)" -gt 10

# ---- shares and files from cp: the command's user's
mkdir -p sh/sub
printf 'one\n' >sh/f
printf 'two\n' >sh/sub/g
chmod 0755 sh sh/sub
chmod 0644 sh/f sh/sub/g
for who in "" "--secret tok"; do
	out=$($CTL exec gd $who --add-dir "$MVM_TMP/sh:/work:rw" -- sh -c '
	    u=$(id -u); stat -c "%u %g %a" /work /work/f /work/sub /work/sub/g |
	    sed "s/^$u /U /" | paste -sd,
	    echo "$u" >>/work/f; echo new >/work/sub/new; rm /work/sub/g' \
	    </dev/null)
	is "$out" "U 1000 755,U 1000 644,U 1000 755,U 1000 644" \
	    "an rw share (${who:-default user}): the command's user's, modes kept"
	check "  ... its new file came back" test -f sh/sub/new
	rm -f sh/sub/new
done
is "$(sed 1d sh/f | sed 's/^2[0-9][0-9][0-9]$/2xxx/' | paste -sd' ')" \
    "1000 2xxx" "  ... both wrote to it"
printf 'data\n' >cpf
chmod 0640 cpf
$CTL cp cpf gd:/home/mvm/cpf
is $? 0 "cp a file (mode 0640) to /home/mvm"
is "$($CTL exec gd -- sh -c 'stat -c "%U %G %a" cpf; cat cpf; echo x >>cpf &&
    echo written' </dev/null)" "mvm mvm 640
data
written" "  ... the default user's: readable and writable"
is "$($CTL exec gd --secret tok -- cat /home/mvm/cpf </dev/null)" "data
x" "  ... an exec with a uid of its own reads it (group mvm)"

# ---- a fork bomb without bounds: stopped by pids.max, killed at the end
t0=$EPOCHREALTIME
$CTL exec gd --timeout 60 -- sh -c 'f() { f | f & }; f; sleep 3; echo end' \
    </dev/null >BOMB 2>/dev/null
rc=$?
el=$(ms "$t0")
is "$rc:$(tail -n1 BOMB)" "0:end" "a fork bomb runs 3 s and ends ($el ms)"
gone gd '[f] | f &' "  ... all of it"

# ---- receipts say the uid
$CTL run --receipt R1 -- true </dev/null
$CTL run --receipt R2 --secret tok -- true </dev/null
for r in R1 R2; do
	$CTL receipt verify "$r" >/dev/null
	is $? 0 "receipt $r verifies"
done
is "$(jq -r .payload R1 | base64 -d | jq .predicate.invocation.uid)" 1000 \
    "receipt: invocation.uid 1000"
like "$(jq -r .payload R2 | base64 -d | jq .predicate.invocation.uid)" \
    '^2[0-9]{3}$' "receipt of a run granted a secret: its own uid"
# every label of run.admitted at once (19: guest_uid, the uid that
# asked; 17 took the supervisor down before the bound grew past 16)
$CTL run --profile dev --allow example.com:443 --secret tok --env A=1 \
    --add-dir "$MVM_TMP/sh:/w" -- true </dev/null
is $? 0 "a run with egress, a secret, an env key and a share runs"
is "$(grep '"type":"run.admitted"' "$LOG" | tail -n1 | jq '.labels | length')" \
    19 "  ... its run.admitted has 19 labels"
for n in gd gr gp g; do
	$CTL stop $n >/dev/null; $CTL rm $n >/dev/null
done
sv_stop
no_leftovers "after the guest user runs"

# ---- mvm.conf may turn guest root off (dev), never on (conf/cases)
sv_start gu2 ', "profiles": {"dev": {"guest_root": false}}' ||
    { nok "supervisor 2 starts"; exit 1; }
is "$($MVMCTL policy ls --json | jq -c '[.[] | [.name, .guest_root]]')" \
    '[["restrictive",false],["standard",false],["dev",false],["permissive",true]]' \
    "policy ls: guest_root per profile, dev turned off by mvm.conf"
like "$($MVMCTL policy show dev)" "guest_root: +no" "policy show dev: no"
$MVMCTL run --profile dev --guest-root -- true </dev/null 2>ERR
is $? 120 "run --profile dev --guest-root: denied (120)"
like "$(cat ERR)" "profile dev allows no root" "  ... by the profile"
sv_stop
