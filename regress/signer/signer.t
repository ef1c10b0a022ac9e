# mvm-signer: what it signs verifies (libsodium via our verifier key,
# openssl via the exported PEM key); what it must refuse gets no
# signature; unknown kinds make it exit without answering.
. "$MVM_TOP/regress/lib.sh"
need_root signer

IPC=$MVM_BUILD/regress/mvm-ipctest
SIGNER=$MVM_BUILD/mvm-signer
D=$MVM_TMP/s
mkdir -p "$D"
UID0=$(uid_base_for 1)
run() { "$IPC" "$SIGNER" signer "$D" "$UID0" hello config ready "$@"; }

out=$(run 2>/dev/null)
like "$out" "^ready mvm-test\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+ created$" \
    "first start creates a key and reports its verifier key"
vkey=$(awk '{print $2}' <<<"$out")
is "$(stat -c %a "$D/host.key")" 600 "key file stays 0600"
like "$(head -c 12 "$D/host.key")" "^PRIVATE\+KEY\+$" "key file is a note private key"
out=$(run 2>/dev/null)
is "$out" "ready $vkey" "second start loads the same key"

# a PEM public key for openssl, made from the verifier key by our code
"$MVM_BUILD/regress/mvm-keytool" pem "$vkey" > "$D/pub.pem"
check "PEM public key written" grep -q 'BEGIN PUBLIC KEY' "$D/pub.pem"

# receipt: a minimal in-toto statement with our predicate
cat > "$D/stmt.json" <<'JSON'
{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"stdout","digest":{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}],"predicateType":"urn:mvm:predicate:run-receipt:v1","predicate":{"run_id":"r1"}}
JSON
printf '%s' "$(cat "$D/stmt.json")" > "$D/stmt.json"
out=$(run sign 3 "$D/stmt.json" "$D/sig" 2>/dev/null | tail -1)
like "$out" "^signed 0 [0-9a-f]{8}$" "receipt statement is signed"
len=$(wc -c < "$D/stmt.json")
printf 'DSSEv1 28 application/vnd.in-toto+json %d ' "$len" > "$D/pae"
cat "$D/stmt.json" >> "$D/pae"
check "receipt signature verifies with openssl pkeyutl over the PAE" \
    openssl pkeyutl -verify -pubin -inkey "$D/pub.pem" -rawin \
    -in "$D/pae" -sigfile "$D/sig" -out /dev/null
check "receipt signature verifies with libsodium (mvm-keytool)" \
    "$MVM_BUILD/regress/mvm-keytool" verify "$vkey" "$D/pae" "$D/sig"
printf 'X' >> "$D/pae"
check "a changed message does not verify" \
    not "$MVM_BUILD/regress/mvm-keytool" verify "$vkey" "$D/pae" "$D/sig"

# malformed content: no signature, typed error, signer stays up
printf '{"_type":"https://in-toto.io/Statement/v1"}' > "$D/bad.json"
out=$(run sign 3 "$D/bad.json" "$D/sig2" sign 3 "$D/stmt.json" "$D/sig3" \
    2>/dev/null)
like "$out" "signed 1005 " "statement without our predicate: MVM_ESIGNCONTENT"
is "$(od -An -v -tx1 "$D/sig2" | tr -d ' \n' | tr -d 0)" "" \
    "refused request carries an all-zero signature"
like "$(tail -1 <<<"$out")" "^signed 0 " "signer still serves afterwards"
printf 'not json at all' > "$D/junk"
is "$(run sign 3 "$D/junk" "$D/sig2" 2>/dev/null | tail -1 | cut -d' ' -f1-2)" \
    "signed 1005" "garbage body: MVM_ESIGNCONTENT"
printf 'DSSEv1 5 hello' > "$D/raw"
is "$(run sign 4 "$D/raw" "$D/sig2" 2>/dev/null | tail -1 | cut -d' ' -f1-2)" \
    "signed 1005" "raw bytes as a snapshot manifest: refused"

# kinds per peer: the supervisor may not ask for audit records or
# checkpoints, auditd may not ask for receipts
printf '{}' > "$D/rec"
is "$(run sign 1 "$D/rec" "$D/sig2" 2>/dev/null | tail -1 | cut -d' ' -f1-2)" \
    "signed 1004" "audit record from the supervisor: MVM_ESIGNKIND"
is "$(run sign 3 "$D/stmt.json" "$D/sig2" peer 2>/dev/null | tail -1 |
    cut -d' ' -f1-2)" "signed 1004" "receipt from auditd: MVM_ESIGNKIND"

# audit record from auditd's socket: signed with the audit context
kid=$(cut -d+ -f2 <<<"$vkey")
printf '{"kid":"%s","labels":{"n":1},"prev":"%064d","seq":0,"tenant":"local","time":"2026-11-23T10:00:00.000Z","type":"host.started"}' \
    "$kid" 0 > "$D/rec"
out=$(run sign 1 "$D/rec" "$D/sig4" peer 2>/dev/null | tail -1)
like "$out" "^signed 0 $kid$" "audit record from auditd is signed"
{ printf 'mvm-audit-record-v1\n'; cat "$D/rec"; } > "$D/recmsg"
check "audit record signature covers the domain-separated record" \
    "$MVM_BUILD/regress/mvm-keytool" verify "$vkey" "$D/recmsg" "$D/sig4"
check "and not the bare record" \
    not "$MVM_BUILD/regress/mvm-keytool" verify "$vkey" "$D/rec" "$D/sig4"
sed 's/"kid":"[0-9a-f]*"/"kid":"00000000"/' "$D/rec" > "$D/rec2"
is "$(run sign 1 "$D/rec2" "$D/sig2" peer 2>/dev/null | tail -1 |
    cut -d' ' -f1-2)" "signed 1005" "record with another key id: refused"
sed 's/"labels":{"n":1}/"labels":{"argv":"rm -rf"}/' "$D/rec" > "$D/rec3"
is "$(run sign 1 "$D/rec3" "$D/sig2" peer 2>/dev/null | tail -1 |
    cut -d' ' -f1-2)" "signed 1005" "record with free text in a label: refused"
sed 's/{"kid"/{ "kid"/' "$D/rec" > "$D/rec4"
is "$(run sign 1 "$D/rec4" "$D/sig2" peer 2>/dev/null | tail -1 |
    cut -d' ' -f1-2)" "signed 1005" "record not in canonical form: refused"

# checkpoint: the signature is over the C2SP note body
root=$(printf 'root' | sha256sum | cut -c1-64)
out=$(run signck "host/mvm-audit/local" 5 "$root" "$D/sig5" 2>/dev/null | tail -1)
like "$out" "^signed 0 " "checkpoint is signed"
printf 'host/mvm-audit/local\n5\n%s\n' \
    "$(unhex "$root" | base64)" > "$D/note"
check "checkpoint signature covers the note body" \
    "$MVM_BUILD/regress/mvm-keytool" verify "$vkey" "$D/note" "$D/sig5"
is "$(run signck "DSSEv1 28 x" 5 "$root" "$D/sig2" 2>/dev/null | tail -1 |
    cut -d' ' -f1-2)" "signed 1005" "origin that looks like a PAE: refused"

# unknown kind: exit without answering
out=$(run sign 99 "$D/stmt.json" "$D/sig2" 2>&1)
check "unknown kind: no signature came back" not grep -q '^signed' <<<"$out"
like "$out" "unknown signing kind 99" "unknown kind: signer says why and exits"
