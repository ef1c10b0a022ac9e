# Secrets: stored encrypted, never printed back, granted to one command
# as an environment variable, and redacted from everything the host
# passes on or keeps: the delivered stdout and stderr (also when a value
# is split across chunks or lies inside another), receipts, --json, the
# audit log (which names a secret by a keyed hash only), checkpoints,
# metrics, the boot report and the supervisor's log.  A missing or
# ungranted secret fails before any guest boots.
. "$MVM_TOP/regress/lib.sh"
need_root policy-secrets
need_image policy-secrets

sv_start sec || { nok "supervisor starts"; exit 1; }
ok "supervisor starts"
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log
cd "$MVM_TMP" || exit 1

V1=canaryA-$RANDOM$RANDOM$RANDOM-zq
V2=canaryB-$RANDOM$RANDOM$RANDOM-xk
NAME1=api-token
printf '%s\n' "$V1" | $CTL secret put $NAME1 >/dev/null
is $? 0 "secret put from stdin"
printf '%s' "$V2" > v2file
$CTL secret put db.pass --from-file v2file >/dev/null
is $? 0 "secret put --from-file"
rm -f v2file
is "$($CTL secret ls --json | jq -c '[.[] | [.name, .bytes]] | sort')" \
    "$(jq -nc --argjson a ${#V1} --argjson b ${#V2} '[["api-token",$a],["db.pass",$b]]')" \
    "secret ls: names and sizes (the trailing newline of stdin dropped)"
$CTL secret put x1 "$V1" >/dev/null 2>&1
is $? 2 "a value on the command line is refused (usage)"
$CTL secret get $NAME1 >/dev/null 2>&1
is $? 2 "there is no command that prints a value"
check "the store does not hold a value in clear" \
    not grep -rqF -e "$V1" -e "$V2" "$SV_DIR/secrets"
is "$(stat -c %a "$SV_DIR/secrets/local/store.key") $(stat -c %a "$SV_DIR/secrets/local")" \
    "600 700" "store key 0600, its directory 0700"

# ---- a run granted both: the guest has the values, nobody else sees them
want=$(printf '%s' "$V1$V2" | sha256sum | cut -c1-64)
$CTL run --secret $NAME1 --secret db.pass:DB --receipt R --json \
    --capture-output 4096 -- sh -c '
	printf "%s%s" "$API_TOKEN" "$DB" | sha256sum | cut -c1-64
	echo "token=$API_TOKEN"
	echo "db=$DB" >&2
	printf "%s" "$API_TOKEN" | head -c 7; sleep 0.5
	printf "%s\n" "$API_TOKEN" | tail -c +8
	echo end' > J 2>E
is $? 0 "run with two secrets: exit 0"
out=$(jq -r .stdout.data J | base64 -d)
is "$(head -1 <<<"$out")" "$want" \
    "the guest saw both values (their digest, computed in the guest)"
is "$(sed -n 2p <<<"$out")" "token=[mvm:redacted]" "a value on stdout: redacted"
is "$(sed -n 3p <<<"$out")" "[mvm:redacted]" \
    "a value split across two chunks (half a second apart): redacted"
is "$(jq -r .stderr.data J | base64 -d)" "db=[mvm:redacted]" \
    "a value on stderr: redacted"
S=$(jq -r .payload R | base64 -d)
is "$(jq -r '"\(.predicate.invocation.secrets) \(.predicate.outcome.redactions)"' <<<"$S")" \
    "2 3" "receipt: 2 secrets granted, 3 values cut"
is "$(jq -r '.subject[] | select(.name=="stdout") | .digest.sha256' <<<"$S")" \
    "$(jq -r .stdout.sha256 J)" "the receipt hashes the delivered (redacted) stdout"
jq -r .stdout.data J | base64 -d > OUT
$CTL receipt verify R --stdout OUT >/dev/null
is $? 0 "the receipt verifies against the redacted output"
tags=$(grep '"type":"run.admitted"' "$LOG" | tail -1 | jq -r .labels.secrets)
like "$tags" "^[0-9a-f]{12}:[0-9a-f]{12}$" \
    "run.admitted names the secrets by keyed hashes only"
check "no secret name in the audit log" \
    not grep -qE "api-token|db\.pass|API_TOKEN" "$LOG"

# ---- a value inside another (a URL and its password): the URL whole,
# then a prefix of it that holds the password, in two pieces, at the
# very end of the stream.  Nothing of either gets out; 3 occurrences.
printf 'postgres://app:%s@db/prod' "$V2" | $CTL secret put db.url >/dev/null
$CTL run --secret db.pass:DB --secret db.url:URL --receipt R2 --json \
    --capture-output 4096 -- sh -c 'printf "%s|" "$URL"; u=${URL%/prod}
	printf "%s" "$u" | head -c 20; sleep 0.3; printf "%s" "$u" |
	tail -c +21' > J2
is "$(jq -r .stdout.data J2 | base64 -d)" \
    "[mvm:redacted]|postgres://app:[mvm:redacted]@db" \
    "a password inside a URL, and at the end of the stream: cut"
is "$(jq -r .payload R2 | base64 -d | jq .predicate.outcome.redactions)" 3 \
    "... counted per occurrence: the URL, the password in it, the password"
$CTL secret rm db.url >/dev/null

# ---- exec in a named guest, with stdout streamed (no --json)
# (dev, --guest-root: only root may list the secret files' directories)
$CTL up g1 --profile dev --guest-root >/dev/null; is $? 0 "up g1"
got=$($CTL exec g1 --secret db.pass -- sh -c 'echo "[$DB_PASS]"' </dev/null)
is "$got" "[[mvm:redacted]]" "exec --secret: streamed stdout redacted"
# secrets as files: 0400 and the command's (its own uid), the value,
# gone once the command ends
got=$($CTL exec g1 --secret-file db.pass:/run/secrets/db \
    --secret-file $NAME1:/tmp/deep/er/tok -- sh -c '
	stat -c "%a %s %u" /run/secrets/db /tmp/deep/er/tok |
	    sed "s/ $(id -u)\$/ me/"
	stat -c "%a %U" /tmp/deep/er
	printf "%s" "$(cat /run/secrets/db)$(cat /tmp/deep/er/tok)" |
	    sha256sum | cut -c1-64
	cat /run/secrets/db; echo' </dev/null)
is "$(sed -n 1,2p <<<"$got")" "400 ${#V2} me
400 ${#V1} me" "--secret-file: files of mode 0400 with the values' sizes, the command's"
is "$(sed -n 3p <<<"$got")" "711 root" \
    "... in parent directories made 0711, root's (passable, not listable)"
is "$(sed -n 4p <<<"$got")" "$(printf '%s%s' "$V2" "$V1" | sha256sum | cut -c1-64)" \
    "... holding the values (digest computed in the guest)"
is "$(sed -n 5p <<<"$got")" "[mvm:redacted]" "... and redacted when printed"
is "$($CTL exec g1 --guest-root -- sh -c '
    ls /run/secrets/db /tmp/deep/er/tok 2>&1 | wc -l
    { ls -A /run/secrets; ls -A /tmp/deep/er; } | wc -w' </dev/null)" "2
0" "the files are gone once the command has ended"
$CTL exec g1 -- sh -c 'mkdir -p /tmp/sec; ln -s /etc/passwd /tmp/sec/l' </dev/null
$CTL exec g1 --secret-file db.pass:/tmp/sec/l -- true </dev/null 2>ERR
is $? 126 "--secret-file onto an existing path (a symlink): refused, the command does not run (126)"
is "$($CTL exec g1 -- sh -c 'head -c 5 /etc/passwd' </dev/null)" "root:" \
    "... and nothing was written through it"
$CTL exec g1 --secret-file db.pass:/run/../etc/x -- true </dev/null 2>/dev/null
is $? 2 "--secret-file with '..': usage (2)"
$CTL exec g1 --secret-file db.pass:relative -- true </dev/null 2>/dev/null
is $? 2 "--secret-file with a relative path: usage (2)"
$CTL boot-report g1 > BR; $CTL boot-report g1 --json >> BR
$CTL stop g1 >/dev/null; $CTL rm g1 >/dev/null

# ---- nowhere on the host but the encrypted store
$CTL metrics > M; $CTL metrics --json >> M
$CTL audit checkpoint > C
for f in R J E OUT R2 J2 BR M C "$LOG" "$SV_DIR/audit/local/checkpoints"; do
	check "no value in ${f##*/}" not grep -qF -e "$V1" -e "$V2" "$f"
done
check "no value anywhere in the state dir" \
    not grep -rqF -e "$V1" -e "$V2" "$SV_DIR"
# a planted copy is found: the search can fail
mkdir -p "$MVM_TMP/plant/x"; printf 'a%sb' "$V2" > "$MVM_TMP/plant/x/f"
check "the search finds a planted value" grep -rqF -e "$V2" "$MVM_TMP/plant"

# ---- refusals, before any guest boots
n0=$(grep -c '"type":"run.admitted"' "$LOG")
$CTL run --secret nosuch -- true 2>ERR
is $? 112 "an unknown secret: exit 112"
like "$(cat ERR)" "secret nosuch: no such secret" "... naming it"
$CTL run --profile restrictive --secret $NAME1 -- true 2>ERR
is $? 120 "restrictive allows no secret: policy (120)"
check "... audited with rule secret" grep -q \
    '"profile":"restrictive","rule":"secret"' "$LOG"
$CTL run --secret $NAME1:HOME2 --env HOME2=x -- true 2>/dev/null
is $? 2 "a secret's variable that is also an --env key: usage (2)"
$CTL run --secret "$NAME1:1BAD" -- true 2>/dev/null
is $? 2 "a bad variable name: usage (2)"
is "$(grep -c '"type":"run.admitted"' "$LOG")" "$n0" "none of them ran"
# a damaged store file does not open: refused, not delivered garbled
f=$SV_DIR/secrets/local/db.pass.secret
printf '\x01' | dd of="$f" bs=1 seek=40 conv=notrunc 2>/dev/null
$CTL run --secret db.pass -- true 2>/dev/null
is $? 112 "a tampered secret file does not open: refused"
$CTL secret rm $NAME1; is $? 0 "secret rm"
$CTL secret rm $NAME1 2>/dev/null; is $? 112 "secret rm again: no such secret"
is "$($CTL secret ls --json | jq -r '.[].name')" db.pass "ls after rm"
sv_stop
check "no value in the supervisor's log" not grep -qF -e "$V1" -e "$V2" "$SV_LOG"
no_leftovers "after the secret runs"
