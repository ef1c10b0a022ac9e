# Ownership between local users (issue 12): guests and secrets belong
# to the uid that made them (SO_PEERCRED).  Two unprivileged users in
# socket_group: each command of one against the other's guest and
# secret is refused as if it were not there, and recorded; root acts
# on all, and its records name the owner.  mvm.conf says which users
# may use which profile (dev and permissive are root's by default).
. "$MVM_TOP/regress/lib.sh"
need_root supervisor-owners
need_image supervisor-owners

G=64700 UA=64701 UB=64702
sv_start owners ", \"socket_group\": $G,
    \"profiles\": { \"dev\": { \"users\": [$UB] } }" ||
    { nok "supervisor starts"; exit 1; }
chmod 0755 "$SV_DIR"
LOG=$SV_DIR/audit/local/log
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --groups="$G" $MVMCTL "$@"
}
echo data >"$MVM_TMP/file"
chmod 0644 "$MVM_TMP/file"
mkdir -p "$MVM_TMP/b"
chown $UB "$MVM_TMP/b"

# --- user A: a guest and a secret of its own ---
as $UA up ga >/dev/null; is $? 0 "user A: up ga"
printf 'canary-of-a' | as $UA secret put sa >/dev/null
is $? 0 "user A: secret put sa"
is "$(as $UA exec ga -- echo mine </dev/null)" mine "user A: exec in its guest"
is "$(as $UA ls --json | jq -r '.[] | "\(.name) \(.owner)"')" "ga $UA" \
    "user A: ls shows its guest with the owner"
is "$(as $UA secret ls --json | jq -r '.[] | "\(.name) \(.owner)"')" \
    "sa $UA" "user A: secret ls shows its secret with the owner"

# --- user B against them: all refused as not there, all recorded ---
n0=$(grep -c "\"uid\":$UB},.*\"type\":\"ctl\." "$LOG")
as $UB exec ga -- true </dev/null 2>/dev/null
is $? 117 "user B: exec in A's guest: no such guest (117)"
as $UB cp "$MVM_TMP/file" ga:/tmp/x 2>/dev/null
is $? 117 "user B: cp into A's guest: 117"
as $UB cp ga:/etc/hostname "$MVM_TMP/b/stolen" 2>/dev/null
is $? 117 "user B: cp out of A's guest: 117"
check "... and nothing was copied" test -z "$(ls "$MVM_TMP/b")"
as $UB logs ga >/dev/null 2>&1
is $? 117 "user B: logs of A's guest: 117"
as $UB boot-report ga >/dev/null 2>&1
is $? 117 "user B: boot-report of A's guest: 117"
as $UB stop ga 2>/dev/null
is $? 117 "user B: stop A's guest: 117"
as $UB rm ga 2>/dev/null
is $? 117 "user B: rm A's guest: 117"
is "$(as $UB ls --json | jq length)" 0 "user B: ls shows none of A's guests"
as $UB secret rm sa 2>/dev/null
is $? 112 "user B: secret rm of A's secret: no such secret (112)"
as $UB secret rm sa --owner $UA 2>/dev/null
is $? 112 "user B: secret rm --owner A: 112"
as $UB run --secret sa -- true </dev/null 2>/dev/null
is $? 112 "user B: run granted A's secret: 112"
is "$(as $UB secret ls --json | jq length)" 0 \
    "user B: secret ls shows none of A's secrets"
sleep 0.5
n1=$(grep -c "\"uid\":$UB},.*\"type\":\"ctl\." "$LOG")
is $((n1 - n0)) 10 "each of the 10 refusals is recorded with user B's uid"
check "a refusal names the guest it was about" grep -q \
    "\"error\":1013,\"outcome\":\"refused\",\"uid\":$UB},.*\"subject\":{\"guest\":\"ga\"},.*\"type\":\"ctl.stop\"" \
    "$LOG"
is "$(as $UA exec ga -- echo still </dev/null)" still \
    "user A's guest is untouched"

# --- profiles by user (mvm.conf users): dev is B's, not A's ---
as $UA run --profile dev -- true </dev/null 2>"$MVM_TMP/err"
is $? 120 "user A: profile dev is not for it (120)"
like "$(cat "$MVM_TMP/err")" "not for uid $UA" "... and says why"
check "... recorded as policy.denied, rule user" grep -q \
    "\"profile\":\"dev\",\"rule\":\"user\",\"uid\":$UA}" "$LOG"
as $UB run --profile dev -- true </dev/null
is $? 0 "user B: profile dev, as mvm.conf says"
as $UA run --profile permissive --ack-permissive -- true </dev/null \
    2>/dev/null
is $? 120 "user A: permissive is root's by default (120)"

# --- root: sees and acts on all; its records name the owner ---
is "$($MVMCTL ls --json | jq -r '.[] | select(.name == "ga") | .owner')" \
    $UA "root: ls shows A's guest and its owner"
is "$($MVMCTL secret ls --json | jq -r '.[] | "\(.name) \(.owner)"')" \
    "sa $UA" "root: secret ls shows A's secret and its owner"
is "$($MVMCTL exec ga -- echo root </dev/null)" root "root: exec in A's guest"
check "run.admitted of it names uid 0 and the owner" grep -q \
    "\"owner\":$UA,.*\"uid\":0},.*\"subject\":{\"guest\":\"ga\"" "$LOG"
$MVMCTL stop ga; is $? 0 "root: stop A's guest"
check "ctl.stop by root names the owner" grep -q \
    "\"outcome\":\"ok\",\"owner\":$UA,\"uid\":0},.*\"type\":\"ctl.stop\"" \
    "$LOG"
$MVMCTL secret rm sa --owner $UA; is $? 0 "root: secret rm --owner A"
check "secret.removed names the owner" grep -q \
    "\"owner\":$UA,.*\"uid\":0},.*\"type\":\"secret.removed\"" "$LOG"
as $UA rm ga; is $? 0 "user A: rm its stopped guest"

# a run with every option makes run.admitted's largest record (it used
# to have more labels than an event holds: the supervisor exited)
printf v | $MVMCTL secret put s1 >/dev/null
mkdir -p "$MVM_TMP/d"
$MVMCTL run --profile dev --env A=1 --secret s1 --allow 10.0.0.1:80 \
    --add-dir "$MVM_TMP/d:/work/d" -- true </dev/null
is $? 0 "a run with env, secret, egress and a share"
check "the supervisor lives on" kill -0 "$SV_PID"
$MVMCTL audit verify >/dev/null; is $? 0 "the audit log verifies"
exit 0
