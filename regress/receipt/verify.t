# mvmctl receipt verify, offline: no daemon, no guest.  A receipt, its
# audit log and forged twins from mvm-receiptgen; the genuine one
# verifies (with its output files, a newer checkpoint, a consistency
# proof), every twin is refused with its own class and exit status
# (receipt.h RV_*), in text and --json, and bad input is a plain error.
. "$MVM_TOP/regress/lib.sh"

CTL=$MVM_BUILD/mvmctl
KT=$MVM_BUILD/regress/mvm-keytool
GEN=$MVM_BUILD/regress/mvm-receiptgen
D=$MVM_TMP/gen
mkdir -p "$D"
$KT gen receipt-test > "$MVM_TMP/key" && $GEN "$MVM_TMP/key" "$D" ||
    { nok "mvm-receiptgen makes a receipt"; exit 1; }
ok "mvm-receiptgen makes a receipt and its twins"
S=$D/state
R=$D/receipt.json

# rv FILE [args]: runs verify with -S $ST (default: the generated state
# dir); sets RC, OUT (stdout), ERR (stderr)
rv() {
	OUT=$($CTL -S "${ST:-$S}" receipt verify "$@" 2>"$MVM_TMP/rv.err")
	RC=$?
	ERR=$(cat "$MVM_TMP/rv.err")
}

# fails FILE RC CLASS "what" [args]: refused with that status, one
# FAILED line on stderr naming the class, nothing on stdout; and --json
# says the same class
fails() {
	local f=$1 want=$2 class=$3 what=$4; shift 4
	rv "$f" "$@"
	is "$RC" "$want" "$what: exit $want"
	like "$ERR" "^FAILED: $class: ." "$what: the FAILED line names $class"
	is "$(grep -c . <<<"$ERR")" 1 "$what: one line on stderr"
	is "$OUT" "" "$what: nothing on stdout"
	rv "$f" --json "$@"
	is "$RC $(jq -r '[.class, .ok] | map(tostring) | join(" ")' <<<"$OUT")" \
	    "$want $class false" "$what: --json: class $class, ok false, exit $want"
}

kid=$(jq -r '.signatures[0].keyid' "$R")
like "$kid" '^[0-9a-f]{8}$' "the receipt's key id is 8 hex digits"
run=$(jq -r .predicate.run_id "$D/statement.json")
like "$run" '^[0-9a-f]{32}$' "the statement's run id is 32 hex digits"
is "$(jq -r .payload "$R" | base64 -d)" "$(cat "$D/statement.json")" \
    "the payload is the statement"

# ---- the genuine receipt
rv "$R"
is "$RC" 0 "genuine: exit 0"
is "$OUT" "ok: run $run exit 0 key $kid" "genuine: one line, run, exit, key"
is "$ERR" "" "genuine: nothing on stderr"
rv "$R" --stdout "$D/stdout" --stderr "$D/stderr"
is "$RC:$OUT" "0:ok: run $run exit 0 key $kid" \
    "genuine with --stdout and --stderr: ok"
rv "$R" --stdout "$D/stdout"
is "$RC" 0 "genuine with --stdout only: ok"
rv "$R" --stderr "$D/stderr"
is "$RC" 0 "genuine with --stderr only: ok"
rv "$R" --pubkey "$D/pub.pem"
is "$RC" 0 "genuine with --pubkey in PEM: ok"
rv "$R" --pubkey "$D/pub"
is "$RC" 0 "genuine with --pubkey as a verifier key: ok"
rv "$R" --checkpoint "$D/newer.note"
is "$RC:$OUT" "0:ok: run $run exit 0 key $kid" \
    "genuine, --checkpoint newer.note, the log read through -S: ok"
rv "$R" --proof "$D/newer.proof"
is "$RC" 0 "genuine, --proof newer.proof (no log needed): ok"
rv "$R" --checkpoint "$D/newer.note" --proof "$D/newer.proof"
is "$RC" 0 "genuine, --checkpoint newer.note --proof newer.proof: ok"
mkdir -p "$MVM_TMP/keyonly/signer"
cp "$D/pub" "$MVM_TMP/keyonly/signer/host.pub"
ST=$MVM_TMP/keyonly rv "$R" --proof "$D/newer.proof"
is "$RC" 0 "genuine, --proof, a state dir without any log: ok"
ST=$MVM_TMP/keyonly rv "$R"
is "$RC" 0 "genuine, no newer checkpoint: the log is not needed"

js=$($CTL -S "$S" receipt verify "$R" --json)
is "$?" 0 "genuine --json: exit 0"
is "$(jq -s 'length == 1 and (.[0] | type == "object")' <<<"$js")" true \
    "genuine --json: one JSON object"
is "$(jq -r '[.ok, .class, .run_id, .exit_code, .signal, .timed_out,
    .key_id, .audit_index, .checkpoint_size] | map(tostring) | join(" ")' \
    <<<"$js")" "true ok $run 0 null false $kid 3 6" \
    "genuine --json: ok, class, run, outcome, key, index 3, checkpoint 6"

# ---- forged twins, one per check
fails "$D/forged-exitcode.json" 25 binding "exit code changed, signed again"
fails "$D/forged-subject.json" 25 binding "subject digests swapped"
fails "$D/forged-uid.json" 25 binding \
    "invocation.uid 0 added (the record has none), signed again"
fails "$D/forged-baduid.json" 23 predicate "invocation.uid 5: no guest user's"
fails "$D/forged-subject.json" 24 subject \
    "subject digests swapped, with --stdout" --stdout "$D/stdout"
fails "$D/forged-payloadtype.json" 22 payload-type "payloadType application/json"
fails "$D/forged-key.json" 21 signature "signed by another key"
fails "$R" 21 signature "genuine, --pubkey other.pub" --pubkey "$D/other.pub"
fails "$D/forged-inclusion.json" 26 inclusion "inclusion proof of another leaf"
fails "$D/forged-checkpoint.json" 27 checkpoint "checkpoint of another log"
fails "$R" 24 subject "genuine checked with --stdout stderr" \
    --stdout "$D/stderr"
fails "$R" 24 subject "genuine checked with --stderr stdout" \
    --stderr "$D/stdout"
ST=$D/cut fails "$R" 28 not-in-log \
    "truncated log: --checkpoint cut.note, -S cut" --checkpoint "$D/cut.note"
fails "$R" 28 not-in-log "truncated log: --proof cut.proof" \
    --proof "$D/cut.proof"
ST=$D/cut fails "$R" 28 not-in-log \
    "newer.note against the cut log (-S cut)" --checkpoint "$D/newer.note"

# ---- bytes changed in the envelope
# flip FILE OFFSET OUT: the byte at OFFSET (from 0) changed to another
# base64 letter
flip() {
	local c
	c=$(tail -c +$(($2 + 1)) "$1" | head -c 1)
	[ "$c" = A ] && c=B || c=A
	{ head -c "$2" "$1"; printf '%s' "$c"; tail -c +$(($2 + 2)) "$1"; } > "$3"
	cmp -s "$1" "$3" && nok "test bug: $3 is unchanged"
}
is "$(head -c 12 "$R")" '{"payload":"' "the envelope starts with the payload"
flip "$R" 112 "$MVM_TMP/flip-payload.json"
fails "$MVM_TMP/flip-payload.json" 21 signature \
    "a letter of the payload changed (still base64)"
sigat=$(grep -bo '"sig":"' "$R" | cut -d: -f1)
check "the envelope has a sig member" test -n "$sigat"
flip "$R" $((sigat + 7 + 20)) "$MVM_TMP/flip-sig.json"
fails "$MVM_TMP/flip-sig.json" 21 signature "a letter of the signature changed"
flip "$R" 0 "$MVM_TMP/flip-brace.json"
fails "$MVM_TMP/flip-brace.json" 20 envelope "the opening brace changed: not JSON"
sed 's/"payloadType"/"payloadTypf"/' "$R" > "$MVM_TMP/flip-member.json"
fails "$MVM_TMP/flip-member.json" 20 envelope "a member name changed"
jq -c '. + {"extra": 1}' "$R" > "$MVM_TMP/extra.json"
fails "$MVM_TMP/extra.json" 20 envelope "an extra member"
jq -c '.signatures = []' "$R" > "$MVM_TMP/nosig.json"
fails "$MVM_TMP/nosig.json" 20 envelope "no signatures"
jq -c '.payload |= sub("=*$"; "")' "$R" > "$MVM_TMP/unpadded.json"
if cmp -s "$R" "$MVM_TMP/unpadded.json"; then
	# no padding to drop: drop one letter instead (a length base64 lacks)
	jq -c '.payload |= .[:-1]' "$R" > "$MVM_TMP/unpadded.json"
fi
fails "$MVM_TMP/unpadded.json" 20 envelope "the payload is not canonical base64"
head -c 100 "$R" > "$MVM_TMP/cut.json"
fails "$MVM_TMP/cut.json" 20 envelope "the envelope cut short"
: > "$MVM_TMP/empty.json"
fails "$MVM_TMP/empty.json" 20 envelope "an empty file"
{ head -c 300000 /dev/zero | tr '\0' ' '; cat "$R"; } > "$MVM_TMP/big.json"
fails "$MVM_TMP/big.json" 20 envelope "more than RECEIPT_MAX bytes"

# ---- errors that are not verdicts: exit 1 (error) and 2 (usage)
snap() {
	(cd "$D" && find . -printf '%p %s %T@ %C@\n' | sort &&
	    find . -type f -exec sha256sum {} + | sort)
}
before=$(snap)
rv "$D/nosuch.json"
is "$RC" 1 "a missing receipt: exit 1"
like "$ERR" "nosuch\.json: No such file or directory" "... naming the file"
is "$OUT" "" "... and nothing on stdout"
rv "$R" --stdout "$D/nosuch.out"
is "$RC" 1 "a missing --stdout file: exit 1"
like "$ERR" "nosuch\.out: No such file or directory" "... naming the file"
rv "$R" --checkpoint "$D/nosuch.note"
is "$RC" 1 "a missing --checkpoint file: exit 1"
like "$ERR" "nosuch\.note" "... naming the file"
rv "$R" --proof "$D/newer.note"
is "$RC" 1 "--proof given a note, not a proof: exit 1"
like "$ERR" "not a consistency proof" "... and it says so"
ST=$MVM_TMP/keyonly rv "$R" --checkpoint "$D/newer.note"
is "$RC" 1 "--checkpoint without a proof or a readable log: exit 1"
like "$ERR" "needs a consistency proof" "... and it says what is needed"
ST=$MVM_TMP/nosuch rv "$R"
is "$RC" 1 "no host key in the state dir: exit 1"
like "$ERR" "signer/host\.pub" "... naming the key file"
rv "$R" --bogus
is "$RC" 2 "a bad option: exit 2"
like "$ERR" "bad option.*--bogus" "... naming the option"
like "$ERR" "usage: mvmctl receipt verify" "... with the usage"
rv "$R" --stdout
is "$RC" 2 "--stdout without its argument: exit 2"
rv
is "$RC" 2 "no receipt named: exit 2"
like "$ERR" "^usage: mvmctl receipt verify" "... with the usage"
rv "$R" "$R"
is "$RC" 2 "two receipts: exit 2"
$CTL -S "$S" receipt frob >/dev/null 2>"$MVM_TMP/frob.err"
is "$?" 2 "an unknown receipt command: exit 2"
like "$(cat "$MVM_TMP/frob.err")" "unknown receipt command: frob" \
    "... naming it"
after=$(snap)
is "$after" "$before" "verify wrote nothing: sizes, mtimes, ctimes, sums"
