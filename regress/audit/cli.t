# mvmctl audit, offline: verify (ok on real logs, and every failure class
# as its exit status), the key in all three formats, tail (also -f over
# a torn line), show, prove and verify-proof, and verify writes nothing.
# Logs come from mvm-auditgen, mvm-audit-harness and a real supervisor.
. "$MVM_TOP/regress/lib.sh"
need_root audit-cli

CTL=$MVM_BUILD/mvmctl
GEN=$MVM_BUILD/regress/mvm-auditgen
KT=$MVM_BUILD/regress/mvm-keytool
N=300

# state dir NAME: a private copy of the generated files, host.pub set
state() {
	local d=$MVM_TMP/$1
	mkdir -p "$d/audit/local" "$d/signer"
	cp "$W/log" "$W/checkpoints" "$d/audit/local/"
	cp "$W/pub" "$d/signer/host.pub"
	echo "$d"
}

# verify_rc STATE [args]: "<exit status> <first word>"
verify_rc() {
	local s=$1 out rc; shift
	out=$($CTL -S "$s" audit verify "$@" 2>&1)
	rc=$?
	echo "$rc ${out%%:*}"
}

W=$MVM_TMP/gen
mkdir -p "$W"
$KT gen cli-test > "$W/key" && $KT pub "$W/key" > "$W/pub" &&
    $KT gen cli-other > "$W/key2" && $KT pub "$W/key2" > "$W/pub2" ||
    { nok "test keys"; exit 1; }
$GEN "$W/key" "$W/log" "$W/checkpoints" $N --every 50 ||
    { nok "mvm-auditgen"; exit 1; }
S=$(state good)
LOG=$S/audit/local/log
CK=$S/audit/local/checkpoints

# ---- verify: ok, formats, key formats
snap() {
	(cd "$S" && find . -printf '%p %s %T@ %C@\n' | sort &&
	    sha256sum audit/local/log audit/local/checkpoints signer/host.pub)
}
before=$(snap)
sleep 0.01
is "$($CTL -S "$S" audit verify)" \
    "ok: $N records, 6 checkpoints, newest covers $N" \
    "verify: a generated log, default key (signer/host.pub)"
js=$($CTL -S "$S" audit verify --json)
is "$(jq -r '[.class, .bad_seq, .records, .checkpoints, .newest_checkpoint,
    (.recovered | length), .torn_tail] | map(tostring) | join(" ")' <<<"$js")" \
    "ok -1 $N 6 $N 0 null" "verify --json: class, counts, no crash, no tail"
like "$(jq -r .root <<<"$js")" '^[0-9a-f]{64}$' "verify --json: root in hex"
$KT pem "$(cat "$W/pub")" > "$W/pub.pem"
cut -d+ -f3- "$W/pub" | base64 -d | tail -c 32 > "$W/pub.raw"
is "$(stat -c %s "$W/pub.raw")" 32 "raw key is 32 bytes"
for f in pub pub.pem pub.raw; do
	is "$(verify_rc "$S" --pubkey "$W/$f")" "0 ok" "verify --pubkey in format $f"
done
is "$(verify_rc "$S" --pubkey "$W/pub2")" "16 FAILED" \
    "another key (verifier key): unknown key, exit 16"
cut -d+ -f3- "$W/pub2" | base64 -d | tail -c 32 > "$W/pub2.raw"
out=$($CTL -S "$S" audit verify --pubkey "$W/pub2.raw" 2>&1)
rc=$?
is "$rc" 1 "another raw key: no key name to be found, exit 1"
like "$out" "name" "... and it says so: $out"
is "$(verify_rc "$S" --since /nonexistent)" "1 mvmctl" \
    "a missing --since file: exit 1"
out=$($CTL -S "$S" audit verify --bogus 2>&1)
is "$?" 2 "a bad option: exit 2"
like "$out" "^usage: mvmctl audit tail" "... with the usage"
is "$(verify_rc "$S" --tenant ../x)" "1 mvmctl" "a bad tenant name: exit 1"
after=$(snap)
is "$after" "$before" "verify wrote nothing: sizes, mtimes, ctimes, sums"

# ---- a real log from auditd itself (signer + auditd, no supervisor)
H=$MVM_TMP/harness
mkdir -p "$H"
"$MVM_BUILD/regress/mvm-audit-harness" "$MVM_BUILD" "$H" "$(uid_base_for 5)" \
    append 5 burst 300 checkpoint stop > "$H.out" 2>&1 ||
    { nok "harness"; sed 's/^/#   /' "$H.out"; }
$KT pub "$H/host.key" > "$H/pub"
HS=$(fake_state "$H")
like "$($CTL -S "$HS" audit verify --pubkey "$H/pub")" \
    "^ok: 305 records, [0-9]+ checkpoints, newest covers 305$" \
    "verify: a log written by mvm-auditd"
$KT pem "$(cat "$H/pub")" > "$H/pub.pem"
like "$($CTL -S "$HS" audit verify --pubkey "$H/pub.pem")" "^ok: 305 records" \
    "verify: the same with a PEM key (its name from the checkpoints)"

# ---- every failure class, from the command line
t=$(state malformed)
sed -i '101s/^{/x/' "$t/audit/local/log"
is "$(verify_rc "$t")" "10 FAILED" "a record that is not JSON: malformed, exit 10"
like "$($CTL -S "$t" audit verify)" "^FAILED: malformed at seq 100: " \
    "... reported at seq 100"
t=$(state link)
sed -i '101d' "$t/audit/local/log"
is "$(verify_rc "$t")" "11 FAILED" "a record deleted: link, exit 11"
like "$($CTL -S "$t" audit verify)" "^FAILED: link at seq 100: " "... at seq 100"
t=$(state signature)
sed -i '101s/"n":100,/"n":101,/' "$t/audit/local/log"
is "$(verify_rc "$t")" "12 FAILED" "a label edited: signature, exit 12"
like "$($CTL -S "$t" audit verify)" "^FAILED: signature at seq 100: " "... at seq 100"

# another tenant's records, checkpointed under this tenant's origin by
# the same key: validly signed roots that are not this log's
$GEN "$W/key" "$W/olog" "$W/ock" $N --every 50 --tenant other \
    --origin mvm-auditgen/mvm-audit/local
t=$(state root)
{ sed -n 1p "$W/ock"; sed 1d "$W/checkpoints"; } > "$t/audit/local/checkpoints"
is "$(verify_rc "$t")" "13 FAILED" "a signed checkpoint with a foreign root: root, exit 13"

t=$(state truncated)
head -n 200 "$W/log" > "$t/audit/local/log"
is "$(verify_rc "$t")" "14 FAILED" "log cut to 200 records: truncated, exit 14"
head -n 4 "$W/checkpoints" > "$t/audit/local/checkpoints"
is "$(verify_rc "$t")" "0 ok" \
    "cut to 200 with the checkpoints cut back too: ok (why --since exists)"
sed -n 5p "$W/checkpoints" | jq -j .note > "$W/kept250"
is "$(verify_rc "$t" --since "$W/kept250")" "14 FAILED" \
    "... but --since a kept checkpoint of 250: truncated, exit 14"
sed -n 4p "$W/checkpoints" | jq -j .note > "$W/kept200"
is "$(verify_rc "$t" --since "$W/kept200")" "0 ok" "... --since one of 200: ok"
sed -n 1p "$W/ock" | jq -j .note > "$W/foreign50"
is "$(verify_rc "$S" --since "$W/foreign50")" "15 FAILED" \
    "--since a checkpoint this log does not extend: exit 15"
sed '3s/^A/B/; t; 3s/^./A/' "$W/kept200" > "$W/forged"
cmp -s "$W/forged" "$W/kept200" && nok "test bug: forged note unchanged"
is "$(verify_rc "$S" --since "$W/forged")" "12 FAILED" \
    "--since a checkpoint with an edited root: signature, exit 12"

# ---- tail
out=$($CTL -S "$S" audit tail -n 3)
is "$(wc -l <<<"$out")" 3 "tail -n 3: three lines"
re='^2026-11-22T00:00:03\.887Z 299 test\.event guest=g[0-9]+ '
re+='.*run=run-0000004a .*n=299 outcome='
like "$(tail -1 <<<"$out")" "$re" \
    "tail: time, seq, type, subject then labels as k=v"
unlike "$out" 'sig|prev|kid|[{}"]' "tail: no signature, prev, key id or JSON"
is "$($CTL -S "$S" audit tail | wc -l)" 20 "tail: 20 lines by default"
is "$($CTL -S "$S" audit tail -n 3 --json)" "$(tail -n 3 "$LOG")" \
    "tail --json: the raw lines"
is "$($CTL -S "$S" audit tail -n 0)" "" "tail -n 0: nothing"
is "$($CTL -S "$S" audit tail -n 1000 | wc -l)" $N "tail -n more than there are: all"

# -f over a copy we append to, a torn line in between
t=$(state follow)
F=$t/audit/local/log
head -n 10 "$W/log" > "$F"
$CTL -S "$t" audit tail -f -n 1 > "$MVM_TMP/follow.out" 2>&1 &
fp=$!
line11=$(sed -n 11p "$W/log")
wait_for_line "$MVM_TMP/follow.out" ' 9 test.event' 30
printf '%s' "${line11:0:100}" >> "$F"
sleep 0.6
is "$(wc -l < "$MVM_TMP/follow.out")" 1 "tail -f: a torn line is not printed"
printf '%s\n%s\n' "${line11:100}" "$(sed -n 12p "$W/log")" >> "$F"
check "tail -f: once its newline arrives, it is, and the next" \
    wait_for_line "$MVM_TMP/follow.out" ' 11 test.event' 30
is "$(awk '{print $2}' "$MVM_TMP/follow.out" | tr '\n' ' ')" "9 10 11 " \
    "tail -f: each record once, in order"
kill "$fp"
wait "$fp" 2>/dev/null

# ---- show
out=$($CTL -S "$S" audit show run-00000010)
is "$(awk '{print $2}' <<<"$out" | tr '\n' ' ')" "64 65 66 67 " \
    "show: every record with that subject id"
is "$($CTL -S "$S" audit show run-00000010 --json | jq -r .subject.run | sort -u)" \
    run-00000010 "show --json: raw lines of those records"
$CTL -S "$S" audit show no-such-id >/dev/null 2>&1
is "$?" 1 "show: an unknown id, exit 1"

# ---- prove and verify-proof
$CTL -S "$S" audit prove --index 123 > "$W/p123"
is "$(head -2 "$W/p123" | tr '\n' ' ')" "c2sp.org/tlog-proof@v1 index 123 " \
    "prove --index: a c2sp.org/tlog-proof@v1 text"
sed -n 124p "$W/log" > "$W/line123"
out=$($CTL -S "$S" audit verify-proof "$W/p123" --record "$W/line123")
is "$?" 0 "verify-proof: the record is in the log"
like "$out" "^ok: the record is leaf 123 of mvm-auditgen/mvm-audit/local at size $N" \
    "verify-proof says what it proved"
printf '%s' "$(cat "$W/line123")" > "$W/line123.nonl"
$CTL -S "$S" audit verify-proof "$W/p123" --record "$W/line123.nonl" \
    >/dev/null
is "$?" 0 "verify-proof: the trailing newline is optional"
sed -n 125p "$W/log" > "$W/line124"
$CTL -S "$S" audit verify-proof "$W/p123" --record "$W/line124" >/dev/null
is "$?" 17 "verify-proof with another record: exit 17"
$CTL -S "$S" audit verify-proof "$W/p123" --record "$W/line123" \
    --pubkey "$W/pub2" >/dev/null
is "$?" 12 "verify-proof with another key: signature, exit 12"
$CTL -S "$S" audit verify-proof "$W/p123" --record "$W/line123" \
    --pubkey "$W/pub.raw" >/dev/null
is "$?" 0 "verify-proof with the raw key"
$CTL -S "$S" audit prove --index $N >/dev/null 2>&1
is "$?" 1 "prove --index beyond the newest checkpoint: exit 1"

$CTL -S "$S" audit prove --since-size 100 > "$W/c100"
is "$(head -2 "$W/c100" | tr '\n' ' ')" \
    "mvm.audit/consistency-proof@v1 old-size 100 " "prove --since-size"
sed -n 2p "$W/checkpoints" | jq -j .note > "$W/kept100"
out=$($CTL -S "$S" audit verify-proof "$W/c100" --since "$W/kept100")
is "$?" 0 "verify-proof --since: the log extends the old checkpoint"
like "$out" "^ok: mvm-auditgen/mvm-audit/local size $N extends size 100" \
    "... and says so"
$CTL -S "$S" audit verify-proof "$W/c100" --since "$W/kept200" >/dev/null
is "$?" 17 "verify-proof --since a checkpoint of another size: exit 17"
$CTL -S "$S" audit verify-proof "$W/c100" --since "$W/foreign50" >/dev/null
is "$?" 17 "verify-proof --since a checkpoint of another tree: exit 17"
$CTL -S "$S" audit verify-proof "$W/c100" --record "$W/line123" >/dev/null 2>&1
is "$?" 1 "verify-proof: a consistency proof given --record: exit 1"
t=$MVM_TMP/link
$CTL -S "$t" audit prove --index 5 >/dev/null 2>&1
is "$?" 11 "prove refuses a log that fails verification"

# proofs from the harness log verify too
$CTL -S "$HS" audit prove --index 7 > "$H/p7"
sed -n 8p "$H/log" > "$H/line7"
like "$($CTL -S "$HS" audit verify-proof "$H/p7" --record "$H/line7" \
    --pubkey "$H/pub")" "^ok: the record is leaf 7 of harness/mvm-audit/local" \
    "an inclusion proof from auditd's log"

# ---- checkpoint: from a running supervisor
sv_start cli || { nok "supervisor starts"; exit 1; }
$MVMCTL audit checkpoint > "$MVM_TMP/sv.note"
is "$?" 0 "audit checkpoint: a fresh checkpoint from the supervisor"
like "$(head -1 "$MVM_TMP/sv.note")" "/mvm-audit/local$" "... for tenant local"
like "$($MVMCTL audit verify --since "$MVM_TMP/sv.note")" "^ok: " \
    "the supervisor's log verifies with host.pub, --since that checkpoint"
$MVMCTL audit checkpoint --tenant nosuch >/dev/null 2>&1
is "$?" 1 "audit checkpoint for an unknown tenant: exit 1"
sv_stop
