# Supervisor lifecycle: side-by-side instances, one supervisor per state
# dir, fail-closed shutdown when a child dies, clean SIGTERM.
. "$MVM_TOP/regress/lib.sh"
need_root lifecycle

sv_start a || { nok "instance a starts"; exit 1; }
ok "instance a starts"
A_PID=$SV_PID A_DIR=$SV_DIR A_CTL=$MVMCTL
sv_start b || { nok "instance b starts beside a"; exit 1; }
ok "instance b starts beside a"
B_PID=$SV_PID B_DIR=$SV_DIR B_CTL=$MVMCTL

ka=$($A_CTL key show --json | jq -r .key_id)
kb=$($B_CTL key show --json | jq -r .key_id)
check "each instance has its own host key ($ka, $kb)" test "$ka" != "$kb"
sa=$(MVMCTL=$A_CTL sv_pid_of mvm-signer)
sb=$(MVMCTL=$B_CTL sv_pid_of mvm-signer)
check "each instance has its own signer" test "$sa" != "$sb"
check "signers run under different uids" test \
    "$(proc_field $sa Uid)" != "$(proc_field $sb Uid)"

# a second supervisor on a's state dir must refuse
out=$("$MVM_BUILD/mvm-supervisor" -d -f "$MVM_TMP/a/mvm.conf" -S "$A_DIR" 2>&1)
rc=$?
check "second supervisor on the same state dir exits non-zero" test $rc -ne 0
like "$out" "another mvm-supervisor is using" "and says why"
check "instance a still answers" $A_CTL status

# the key survives a restart
sv_stop "$A_PID"
is "$SV_RC" 0 "instance a stops cleanly"
SV_BUILD=$MVM_BUILD sv_start a || nok "instance a restarts"
A_PID=$SV_PID
is "$($A_CTL key show --json | jq -r .key_id)" "$ka" "key id unchanged after restart"
is "$(cat "$A_DIR/signer/host.pub")" "$($A_CTL key export --format note)" \
    "signer/host.pub is the exported verifier key"
is "$(stat -c %a "$A_DIR/signer/host.key")" 600 "host.key is mode 0600"

# fail closed: SIGKILL the signer; the supervisor must stop, non-zero
sa=$(MVMCTL=$A_CTL sv_pid_of mvm-signer)
aa=$(MVMCTL=$A_CTL sv_pid_of mvm-auditd)
kill -KILL "$sa"
wait "$A_PID"
rc=$?
check "supervisor exits non-zero when the signer dies (status $rc)" test $rc -ne 0
like "$(cat "$MVM_TMP/a/supervisor.log")" "signer killed by SIGKILL" \
    "log names the signer's death"
check "auditd stopped with it" wait_gone "$aa" 50
check "no control socket left behind" test ! -e "$A_DIR/control.sock"

# same for auditd
bb=$(MVMCTL=$B_CTL sv_pid_of mvm-auditd)
bs=$(MVMCTL=$B_CTL sv_pid_of mvm-signer)
kill -KILL "$bb"
wait "$B_PID"
rc=$?
check "supervisor exits non-zero when auditd dies (status $rc)" test $rc -ne 0
check "signer stopped with it" wait_gone "$bs" 50

# a damaged key is never replaced: the signer refuses, service stops
printf 'PRIVATE+KEY+x+00000000+AAAA\n' > "$A_DIR/signer/host.key"
"$MVM_BUILD/mvm-supervisor" -d -f "$MVM_TMP/a/mvm.conf" -S "$A_DIR" \
    2>"$MVM_TMP/damaged.log"
rc=$?
check "damaged host key: supervisor exits non-zero" test $rc -ne 0
like "$(cat "$MVM_TMP/damaged.log")" "host key file is damaged" \
    "damaged host key: signer says why"
is "$(head -c 16 "$A_DIR/signer/host.key")" "PRIVATE+KEY+x+00" \
    "damaged host key: file left as it was"

# loose permissions on the key file are refused before the signer starts
sv_start c || nok "instance c starts"
sv_stop
chmod 0644 "$SV_DIR/signer/host.key"
out=$("$MVM_BUILD/mvm-supervisor" -d -f "$MVM_TMP/c/mvm.conf" -S "$SV_DIR" 2>&1)
check "host key readable by others: refused" test $? -ne 0
like "$out" "mode 0600" "and says why"

# a state dir owned by someone else is refused, not taken over
mkdir -p "$MVM_TMP/foreign" && chown 65534 "$MVM_TMP/foreign"
out=$("$MVM_BUILD/mvm-supervisor" -d -f "$MVM_TMP/c/mvm.conf" \
    -S "$MVM_TMP/foreign" 2>&1)
check "foreign-owned state dir: refused" test $? -ne 0
is "$(stat -c %u "$MVM_TMP/foreign")" 65534 "foreign-owned state dir: owner unchanged"
