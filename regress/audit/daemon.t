# The supervisor and auditd together: what gets recorded, in what order,
# on disk and checkpointed; the files are append-only; nothing a client
# sends that is not an id or a state reaches the log.
. "$MVM_TOP/regress/lib.sh"
need_root audit-daemon

sv_start a || { nok "supervisor starts"; exit 1; }
LOG=$SV_DIR/audit/local/log
CK=$SV_DIR/audit/local/checkpoints
types=$(jq -r .type "$LOG" | head -2 | tr '\n' ' ')
is "$types" "key.created host.started " \
    "first start records key.created then host.started"
kid=$($MVMCTL key show --json | jq -r .key_id)
is "$(jq -r .kid "$LOG" | sort -u)" "$kid" "records carry the host key id"
is "$(jq -r .tenant "$LOG" | sort -u)" "local" "records carry the tenant"
check "chain links and seq are intact" chain_ok "$LOG"
like "$(lsattr "$LOG" 2>&1)" "^-*a" "log has the append-only attribute"
like "$(lsattr "$CK" 2>&1)" "^-*a" "checkpoints have the append-only attribute"
check "root cannot truncate the log while it is append-only" \
    not truncate -s 0 "$LOG"
is "$(stat -c %a "$LOG")" 644 "log is readable by auditors, mode 0644"

$MVMCTL status >/dev/null
$MVMCTL key show >/dev/null
$MVMCTL stop nosuch 2>/dev/null
check "a refused request is recorded with its code and who asked" \
    wait_for_line "$LOG" '"labels":\{"error":1013,"outcome":"refused","uid":0\},.*"subject":\{"guest":"nosuch"\}.*"type":"ctl.stop"'
check "requests that only read (status, key) make no record" \
    not grep -qE '"type":"ctl\.(status|key)"' "$LOG"
# a profile name that is no token, with a grant that policy denies:
# the supervisor used to compose a policy.denied that auditd refused
$MVMCTL run --profile 'no such' --allow 127.0.0.1:80 -- true 2>/dev/null
is $? 2 "run --profile 'no such': refused as invalid (2)"
check "... and recorded (ctl.run refused)" wait_for_line "$LOG" \
    '"outcome":"refused","uid":0\},.*"type":"ctl.run"'
unlike "$(cat "$SV_LOG")" "not a valid record" "auditd refused no record"
POKE=$MVM_BUILD/regress/mvm-ctlpoke
$POKE "$SV_DIR/control.sock" garbage >/dev/null
check "a malformed client is recorded as ctl.malformed" \
    wait_for_line "$LOG" '"outcome":"closed".*"type":"ctl.malformed"'

# canary: a client-supplied string that is not ours never reaches evidence
CANARY=canary-7f3a9c1e5b
out=$($POKE "$SV_DIR/control.sock" tenant "$CANARY")
is "$out" "error 1002" "checkpoint for an unknown tenant: typed error"
sleep 0.3
check "canary not in the audit log" not grep -q "$CANARY" "$LOG"
check "canary not in the checkpoints" not grep -q "$CANARY" "$CK"
check "canary not in the supervisor's log" not grep -q "$CANARY" "$SV_LOG"

# checkpoints follow commits: the newest covers every record
n=$(wc -l < "$LOG")
last=$(tail -1 "$CK" | jq -r .note | sed -n 2p)
check "newest checkpoint covers the whole log ($last of $n)" test "$last" -eq "$n"
like "$(tail -1 "$CK" | jq -r .note | head -1)" "/mvm-audit/local$" \
    "checkpoint origin names host and tenant"
like "$(tail -1 "$CK" | jq -r .note | grep '^—')" "^— mvm-" \
    "checkpoint carries a signature line for the host key"

sv_stop
is "$SV_RC" 0 "supervisor stops"
is "$(tail -1 "$LOG" | jq -r .type)" "host.stopped" "host.stopped is the last record"
n=$(wc -l < "$LOG")
last=$(tail -1 "$CK" | jq -r .note | sed -n 2p)
is "$last" "$n" "final checkpoint on shutdown covers host.stopped"

SV_BUILD=$MVM_BUILD sv_start a || nok "restart"
is "$(jq -r .type "$LOG" | grep -c key.created)" 1 \
    "a restart with the same key records no second key.created"
is "$(jq -r .type "$LOG" | grep -c host.started)" 2 \
    "restart records host.started again"
check "chain intact across the restart" chain_ok "$LOG"
sv_stop
