# Receipts from real guests: mvmctl run/exec --receipt writes a 0600
# one-line DSSE envelope that mvmctl receipt verify accepts, whose
# statement matches the output, the command and the audit log, that
# openssl checks with the recipe of mvm-receipt.5, that is not
# overwritten without --force, and that fails once edited; a newer
# checkpoint and a consistency proof still hold it.  Also run --json
# (fields, typed errors, --capture-output) and mvmctl metrics (format,
# counters that move by exactly the runs made).  Five guest boots.
. "$MVM_TOP/regress/lib.sh"
need_root receipt-run
need_image receipt-run

sv_start receipt || { nok "supervisor starts"; exit 1; }
ok "supervisor starts"
CTL=$MVMCTL
W=$MVM_TMP/w
mkdir -p "$W"
cd "$W" || exit 1
ACCEL=$(sv_accel)
LOG=$SV_DIR/audit/local/log
HEX64='^[0-9a-f]{64}$'
TIME='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$'

# metric NAME_WITH_LABELS FILE: the value of one sample
metric() { awk -v n="$1" '$1 == n { print $2 }' "$2"; }
$CTL metrics > metrics.0 || nok "metrics before the runs"
$CTL metrics --json > metrics.0.json || nok "metrics --json before the runs"

# stmt FILE: the statement of a receipt
stmt() { jq -r .payload "$1" | base64 -d; }
# exited_line RUNID: the run.exited record of that run, from the log
exited_line() {
	$CTL audit tail --json -n 1000 |
	    jq -c --arg r "$1" 'select(.type == "run.exited" and .subject.run == $r)'
}

# ---- a run with a receipt
$CTL run --receipt R -- sh -c 'echo out; echo err >&2; exit 3' \
    >OUT 2>ERR </dev/null
is "$?" 3 "run --receipt: the command's exit status, 3"
is "$(cat OUT):$(cat ERR)" "out:err" "stdout and stderr still come back"
check "the receipt exists" test -f R
is "$(stat -c %a R)" 600 "the receipt is mode 0600"
is "$(wc -l < R)" 1 "the receipt is one line"
is "$(jq -c . R)" "$(cat R)" "... of compact JSON"
is "$(jq -r 'keys | join(" ")' R)" "payload payloadType signatures" \
    "... with payload, payloadType and signatures"
check "no temporary receipt left" test -z "$(ls -a | grep '^R\.tmp\.')"
out=$($CTL receipt verify R --stdout OUT --stderr ERR)
is "$?" 0 "receipt verify with --stdout and --stderr: ok"
S=$(stmt R)
RUN=$(jq -r .predicate.run_id <<<"$S")
like "$RUN" '^[0-9a-f]{32}$' "the run id is 32 hex digits"
is "$out" "ok: run $RUN exit 3 key $(jq -r '.signatures[0].keyid' R)" \
    "verify prints the run id, exit 3 and the key id"
is "$(jq -r '.signatures[0].keyid' R)" \
    "$($CTL key show --json | jq -r .key_id)" \
    "the receipt's key id is the host key's"
$CTL receipt verify R --stdout ERR >/dev/null 2>&1
is "$?" 24 "verify with stderr given as --stdout: subject, 24"

# the statement
is "$(jq -r '._type' <<<"$S")" "https://in-toto.io/Statement/v1" "statement type"
is "$(jq -r '.predicateType' <<<"$S")" "urn:mvm:predicate:run-receipt:v1" \
    "predicate type"
is "$(jq -r '[.subject[] | .name] | join(" ")' <<<"$S")" "stdout stderr" \
    "subjects: stdout and stderr"
is "$(jq -r '.subject[0].digest.sha256' <<<"$S")" \
    "$(sha256sum < OUT | cut -c1-64)" "subject stdout: sha256 of the output"
is "$(jq -r '.subject[1].digest.sha256' <<<"$S")" \
    "$(sha256sum < ERR | cut -c1-64)" "subject stderr: sha256 of the output"
is "$(jq -r '.subject | map(.annotations.bytes) | join(" ")' <<<"$S")" \
    "$(stat -c %s OUT) $(stat -c %s ERR)" "subjects: byte counts"
P=$(jq -c .predicate <<<"$S")
is "$(jq -r '.outcome | [.exit_code, .signal, .timed_out] | map(tostring) |
    join(" ")' <<<"$P")" "3 null false" "outcome: exit code 3, no signal"
is "$(jq -r .backend.accel <<<"$P")" "$ACCEL" "backend.accel $ACCEL"
is "$(jq -r .invocation.argc <<<"$P")" 3 "invocation.argc 3"
is "$(jq -r .invocation.argv_sha256 <<<"$P")" \
    "$(printf 'sh\0-c\0echo out; echo err >&2; exit 3\0' | sha256sum |
    cut -c1-64)" "invocation.argv_sha256: of the NUL-terminated arguments"
is "$(jq -r .invocation.mode <<<"$P")" run "invocation.mode run"
is "$(jq -r .invocation.image.kernel_sha256 <<<"$P")" \
    "$(jq -r .kernel.sha256 "$MVM_IMAGES/default/manifest.json")" \
    "invocation.image: the kernel's sha256"
unlike "$S" 'echo out|echo err' "the statement does not hold the command"
seq=$(exited_line "$RUN" | jq -r .seq)
like "$seq" '^[0-9]+$' "audit tail --json has the run's run.exited record"
is "$(jq -r .audit.index <<<"$P")" "$seq" "audit.index is that record's seq"
REC=$(jq -r .audit.record <<<"$P")
is "$(grep -cxF -- "$REC" "$LOG")" 1 "audit.record is a line of the log"
is "$(sed -n "$((seq + 1))p" "$LOG")" "$REC" "... the line at that index"
is "$(jq -r .audit.leaf_sha256 <<<"$P")" \
    "$({ printf '\0'; printf '%s' "$REC"; } | sha256sum | cut -c1-64)" \
    "audit.leaf_sha256: the RFC 6962 leaf hash of the record"
CKSIZE=$(jq -r .audit.checkpoint <<<"$P" | sed -n 2p)
check "the receipt's checkpoint holds the record ($CKSIZE > $seq)" \
    test "$CKSIZE" -gt "$seq"

# ---- the openssl recipe of mvm-receipt.5, literally
(
	set -e
	jq -r .payload R | base64 -d > stmt
	printf 'DSSEv1 %d %s %d ' 28 application/vnd.in-toto+json "$(stat -c %s stmt)" > pae
	cat stmt >> pae
	jq -r '.signatures[0].sig' R | base64 -d > sig
	$MVMCTL key export --format pem > host.pem
) || nok "the openssl recipe's files"
out=$(openssl pkeyutl -verify -pubin -inkey host.pem -rawin -in pae -sigfile sig 2>&1)
is "$?" 0 "openssl pkeyutl verifies the signature over PAE"
like "$out" "Signature Verified Successfully" "... and says so"
off=$(( $(stat -c %s pae) - 10 ))
c=$(tail -c +$((off + 1)) pae | head -c 1)
[ "$c" = A ] && c=B || c=A
{ head -c "$off" pae; printf '%s' "$c"; tail -c +$((off + 2)) pae; } > pae.bad
is "$(stat -c %s pae.bad)" "$(stat -c %s pae)" "one byte of pae changed, same size"
check "... and it differs" not cmp -s pae pae.bad
out=$(openssl pkeyutl -verify -pubin -inkey host.pem -rawin -in pae.bad \
    -sigfile sig 2>&1)
check "openssl refuses the changed pae" test "$?" -ne 0
unlike "$out" "Verified Successfully" "... and does not say it verified"

# ---- no overwrite without --force
cp R R.first
before=$(sha256sum < R)
b0=$($CTL metrics | metric 'mvm_guest_boot_seconds_count{accel="'$ACCEL'"}' /dev/stdin)
like "$b0" '^[0-9]+$' "metrics has the boot count for $ACCEL"
$CTL run --receipt R -- true </dev/null >/dev/null 2>err.out
rc=$?
is "$rc" 1 "a second --receipt to the same path without --force: exit 1"
like "$(cat err.out)" "R exists; use --force" "... saying to use --force"
is "$(sha256sum < R)" "$before" "the old receipt is byte-identical"
check "no R.tmp.* left" test -z "$(ls -a | grep '^R\.tmp\.')"
is "$($CTL metrics | metric 'mvm_guest_boot_seconds_count{accel="'$ACCEL'"}' \
    /dev/stdin)" "$b0" "... and no guest was booted"

# ---- --force and --json: replaced; the object describes the run
js=$($CTL run --receipt R --force --json -- sh -c 'echo out2; echo err2 >&2' \
    </dev/null)
is "$?" 0 "run --receipt R --force --json: exit 0"
check "the receipt was replaced" not cmp -s R R.first
is "$(stat -c %a R)" 600 "the new receipt is mode 0600"
check "no R.tmp.* left" test -z "$(ls -a | grep '^R\.tmp\.')"
printf 'out2\n' > OUT2
printf 'err2\n' > ERR2
out=$($CTL receipt verify R --stdout OUT2 --stderr ERR2)
is "$?" 0 "the new receipt verifies with the output it had (not shown)"
S2=$(stmt R)
R2ID=$(jq -r .predicate.run_id <<<"$S2")
is "$(jq -s 'length == 1 and (.[0] | type == "object")' <<<"$js")" true \
    "--json: one JSON object"
is "$(jq -r .status <<<"$js")" 0 "--json: status 0"
is "$(jq -r .run_id <<<"$js")" "$R2ID" "--json: run_id, the receipt's"
like "$(jq -r .run_id <<<"$js")" '^[0-9a-f]{32}$' "--json: run_id is 32 hex"
is "$(jq -r .guest <<<"$js")" "$(jq -r .predicate.guest <<<"$S2")" \
    "--json: guest, the receipt's"
like "$(jq -r .guest <<<"$js")" '^run-' "--json: a throwaway guest's name"
is "$(jq -r .receipt <<<"$js")" R "--json: receipt, the path given"
is "$(jq -r '.audit.tenant' <<<"$js")" local "--json: audit.tenant"
is "$(jq -r '.audit.seq' <<<"$js")" "$(exited_line "$R2ID" | jq -r .seq)" \
    "--json: audit.seq, the run.exited record's"
is "$(jq -r '.audit.seq' <<<"$js")" "$(jq -r .predicate.audit.index <<<"$S2")" \
    "--json: audit.seq is the receipt's audit.index"
is "$(jq -r '[.exit_code, .signal, .timed_out, .accel] | map(tostring) |
    join(" ")' <<<"$js")" "0 null false $ACCEL" \
    "--json: exit_code 0, signal null, timed_out false, accel"
like "$(jq -r .timing.started <<<"$js")" "$TIME" "--json: timing.started"
like "$(jq -r .timing.ended <<<"$js")" "$TIME" "--json: timing.ended"
is "$(jq -c .timing <<<"$js")" "$(jq -c .predicate.timing <<<"$S2")" \
    "--json: timing, the receipt's"
is "$(jq '.timing | .boot_ms > 0 and .run_ms >= 0 and .ended >= .started' \
    <<<"$js")" true "--json: boot_ms > 0, run_ms >= 0, ended >= started"
is "$(jq -r '[.stdout.bytes, .stdout.sha256, .stderr.bytes, .stderr.sha256] |
    join(" ")' <<<"$js")" \
    "5 $(sha256sum < OUT2 | cut -c1-64) 5 $(sha256sum < ERR2 | cut -c1-64)" \
    "--json: stdout and stderr bytes and sha256"
is "$(jq -c '[.stdout, .stderr] | map(has("data") or has("truncated"))' \
    <<<"$js")" "[false,false]" "--json: no data without --capture-output"
is "$(jq -c .error <<<"$js")" null "--json: error null on exit 0"
is "$(jq -r 'keys | join(" ")' <<<"$js")" \
    "accel audit error exit_code guest receipt run_id signal status stderr stdout timed_out timing" \
    "--json: these members, no more"

# --capture-output, a non-zero exit, with a receipt
js=$($CTL run --receipt R3 --json --capture-output 4 -- \
    sh -c 'printf 0123456789; exit 3' </dev/null)
is "$?" 3 "--json --capture-output 4, exit 3: status 3"
is "$(jq -r .status <<<"$js")" 3 "--json: status 3"
is "$(jq -r .stdout.data <<<"$js" | base64 -d)" 0123 \
    "--capture-output 4: data is the first 4 bytes"
is "$(jq -r .stdout.truncated <<<"$js")" true "... truncated true"
is "$(jq -r .stdout.sha256 <<<"$js")" \
    "$(printf 0123456789 | sha256sum | cut -c1-64)" \
    "... sha256 of all 10 bytes"
is "$(jq -r .stdout.bytes <<<"$js")" 10 "... bytes 10"
is "$(jq -r '[.stderr.data, .stderr.truncated] | map(tostring) | join(" ")' \
    <<<"$js")" " false" "... empty stderr: data \"\", not truncated"
is "$(jq -r .error.type <<<"$js")" command-failure \
    "--json: error.type command-failure on a non-zero exit"
like "$(jq -r .error.message <<<"$js")" "status 3" "... with a message"
check "the receipt of a failed command was written" test -f R3
$CTL receipt verify R3 >/dev/null
is "$?" 0 "... and verifies"
is "$(jq -r .run_id <<<"$js")" "$(stmt R3 | jq -r .predicate.run_id)" \
    "--json run_id is the receipt's"
# mvmctl/run.c json_result: "receipt" is the path only when etype is
# NULL, so a receipt written for a command that exited non-zero is
# reported as null
is "$(jq -r .receipt <<<"$js")" R3 \
    "--json: receipt is the path when the receipt was written (exit 3)"

# timeout
js=$($CTL run --json --timeout 1 -- sleep 30 </dev/null)
is "$?" 124 "--json --timeout 1 -- sleep 30: exit 124"
is "$(jq -r '[.status, .error.type, .timed_out, .exit_code, .receipt] |
    map(tostring) | join(" ")' <<<"$js")" "124 timeout true null null" \
    "--json: status 124, error.type timeout, timed_out, no exit code, no receipt"
# an image that does not exist: no guest, still one object
js=$($CTL run --json --image no-such-image -- true </dev/null 2>err.out)
rc=$?
check "--json, an image that does not exist: non-zero exit ($rc)" test "$rc" -ne 0
is "$(jq -s 'length == 1 and (.[0] | type == "object")' <<<"$js")" true \
    "... still one JSON object on stdout"
is "$(jq -r '[.status, .error.type, .run_id, .guest] | map(tostring) |
    join(" ")' <<<"$js")" "$rc boot null null" \
    "... status $rc, error.type boot, no run, no guest"
like "$(jq -r .error.message <<<"$js")" "image" "... the message names the image"

# ---- tamper: the exit code changed in the statement, not signed again
stmt R.first | sed 's/"exit_code":3,/"exit_code":0,/' > stmt.edited
check "the edit changed the statement" not cmp -s stmt stmt.edited
jq -c --arg p "$(base64 -w0 < stmt.edited)" '.payload = $p' R.first > R.edited
$CTL receipt verify R.edited >/dev/null 2>err.out
is "$?" 21 "exit code edited, not signed again: signature, 21"
like "$(cat err.out)" "^FAILED: signature" "... FAILED: signature"

# ---- exec in a named guest
$CTL up g1 >/dev/null; is $? 0 "up g1"
$CTL exec g1 --receipt R4 --env B=1 --env A1=envvalue-A1 --env A=3 -- echo hi \
    </dev/null > OUT4
is "$?" 0 "exec g1 --receipt: exit 0"
is "$(cat OUT4)" hi "exec output"
out=$($CTL receipt verify R4 --stdout OUT4)
is "$?" 0 "the exec receipt verifies with its output"
S4=$(stmt R4)
is "$(jq -r .predicate.invocation.mode <<<"$S4")" exec "invocation.mode exec"
is "$(jq -r .predicate.guest <<<"$S4")" g1 "predicate.guest g1"
is "$(jq -c .predicate.invocation.env_keys <<<"$S4")" '["A","A1","B"]' \
    "env_keys: the key names sorted by name, whatever the values"
unlike "$S4" "envvalue-A1" "no env value in the statement"
like "$out" "^ok: run $(jq -r .predicate.run_id <<<"$S4") exit 0 key " \
    "verify: that run, exit 0"
$CTL stop g1 >/dev/null; is $? 0 "stop g1"
$CTL rm g1 >/dev/null; is $? 0 "rm g1"

# ---- a newer checkpoint, after more runs
$CTL audit checkpoint > C
is "$?" 0 "audit checkpoint"
csize=$(sed -n 2p C)
check "the new checkpoint is larger than the receipt's ($csize > $CKSIZE)" \
    test "$csize" -gt "$CKSIZE"
out=$($CTL receipt verify R.first --checkpoint C --stdout OUT --stderr ERR)
is "$?" 0 "the first receipt, --checkpoint newer (log read through -S): ok"
$CTL audit prove --since-size "$CKSIZE" > PROOF
is "$?" 0 "audit prove --since-size $CKSIZE"
$CTL receipt verify R.first --proof PROOF >/dev/null
is "$?" 0 "the first receipt, --proof from its checkpoint: ok"
sed '1,/^$/d' PROOF > C.proof
is "$(head -1 C.proof)" "$(head -1 C)" "the proof ends with its checkpoint"
$CTL receipt verify R.first --checkpoint C.proof --proof PROOF >/dev/null
is "$?" 0 "... --checkpoint (the proof's) and --proof together: ok"
mkdir -p keyonly/signer
cp "$SV_DIR/signer/host.pub" keyonly/signer/
$MVM_BUILD/mvmctl -S "$W/keyonly" receipt verify R.first --proof PROOF \
    >/dev/null
is "$?" 0 "... --proof with no log at hand (only the key): ok"
$CTL audit prove --since-size "$((CKSIZE + 1))" > PROOF.other
$CTL receipt verify R.first --proof PROOF.other >/dev/null 2>&1
is "$?" 28 "a proof from another size: not-in-log, 28"

# ---- metrics
$CTL metrics > metrics.1
is "$?" 0 "metrics: exit 0"
$CTL metrics --json > metrics.1.json
is "$?" 0 "metrics --json: exit 0"
d() { echo $(( $(metric "$1" metrics.1) - $(metric "$1" metrics.0) )); }
# exited: R, R --force, R3, the exec; timeout: the sleep
is "$(d 'mvm_runs_total{outcome="exited"}')" 4 \
    "mvm_runs_total{outcome=\"exited\"} grew by the 4 runs that exited"
is "$(d 'mvm_runs_total{outcome="timeout"}')" 1 \
    "mvm_runs_total{outcome=\"timeout\"} grew by 1"
is "$(d mvm_receipts_issued_total)" 4 "mvm_receipts_issued_total grew by 4"
is "$(d "mvm_guest_boot_seconds_count{accel=\"$ACCEL\"}")" 5 \
    "mvm_guest_boot_seconds_count{accel=\"$ACCEL\"} grew by the 5 boots"
is "$(metric mvm_up metrics.1)" 1 "mvm_up 1"
bad=$(grep -v '^#' metrics.1 | grep -vE \
    '^mvm_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.e+-]+$')
is "$bad" "" "every sample line has the exposition format"
check "there are samples" test "$(grep -vc '^#' metrics.1)" -gt 20
missing=
for n in $(grep -v '^#' metrics.1 | sed 's/[{ ].*//' | sort -u); do
	b=$n
	case $n in
	*_bucket|*_sum|*_count)
		grep -q "^# TYPE ${n%_*} histogram$" metrics.1 && b=${n%_*} ;;
	esac
	grep -q "^# HELP $b ." metrics.1 && grep -q "^# TYPE $b " metrics.1 ||
	    missing+=" $n"
done
is "$missing" "" "every metric has # HELP and # TYPE"
unlike "$(cat metrics.1)" "$RUN|$R2ID|g1|run-" "no run ids or guest names in labels"
is "$(jq -r '[.runs.exited, .runs.timeout, .receipts.issued,
    .receipts.errors] | join(" ")' metrics.1.json)" \
    "$(metric 'mvm_runs_total{outcome="exited"}' metrics.1) $(metric \
    'mvm_runs_total{outcome="timeout"}' metrics.1) $(metric \
    mvm_receipts_issued_total metrics.1) $(metric mvm_receipt_errors_total \
    metrics.1)" "metrics --json: runs and receipts as in the text"
is "$(jq -r ".boot.$ACCEL.count" metrics.1.json)" \
    "$(metric "mvm_guest_boot_seconds_count{accel=\"$ACCEL\"}" metrics.1)" \
    "metrics --json: boot count as in the text"
is "$(( $(jq -r .receipts.issued metrics.1.json) -
    $(jq -r .receipts.issued metrics.0.json) ))" 4 \
    "metrics --json: receipts.issued grew by 4"

cd /
no_leftovers "after the receipt runs"
sv_stop
is "$SV_RC" 0 "supervisor stops cleanly"
