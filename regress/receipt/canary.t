# No secret leaves the guest through mvm's own evidence and logs: three
# unique canaries (one in argv, one in an --env value, one that only
# the guest's stdout holds) go through run --receipt --json and through
# exec --receipt in a named guest; none of them may appear in the
# receipts (nor their statements), the --json object, the audit log and
# checkpoints, the state dir, metrics (text and JSON), boot-report (text
# and JSON), ls/status, receipt verify's output or the supervisor's log
# (where the vmm's and QEMU's log lines land too).  Positive controls
# show the canaries did reach the guest and the caller.  Two guest boots.
. "$MVM_TOP/regress/lib.sh"
need_root receipt-canary
need_image receipt-canary

sv_start canary || { nok "supervisor starts"; exit 1; }
ok "supervisor starts"
CTL=$MVMCTL
W=$MVM_TMP/w
C=$W/collected
mkdir -p "$C"
cd "$W" || exit 1

ARGVC=CANARY-argv-$RANDOM$RANDOM$RANDOM
ENVC=CANARY-env-$RANDOM$RANDOM$RANDOM
OA=CANARY-o
OB=ut-$RANDOM$RANDOM$RANDOM
OUTC=$OA$OB			# only the guest puts these pieces together
CMD="printf '%s%s\\n' $OA $OB; : $ARGVC; "
CMD+='test -n "$SECRETVAR" && echo "${SECRETVAR#CANARY-}"'
case $CMD in *"$OUTC"*|*"$ENVC"*) nok "test bug: canary in the command" ;; esac
# what the guest prints: the stdout canary and the env canary's tail
EXPECT=$(printf '%s\n%s\n' "$OUTC" "${ENVC#CANARY-}")

# ---- a throwaway run: --receipt and --json (output not requested)
$CTL run --receipt R1 --json --env SECRETVAR="$ENVC" -- sh -c "$CMD" \
    </dev/null > "$C/run.json" 2> "$C/run.stderr"
is "$?" 0 "run --receipt --json with the canaries: exit 0"
is "$(jq -r .stdout.sha256 "$C/run.json")" \
    "$(printf '%s\n' "$EXPECT" | sha256sum | cut -c1-64)" \
    "control: the guest printed the stdout canary and got the env one"
cp R1 "$C/R1"
jq -r .payload R1 | base64 -d > "$C/R1.statement"
like "$(cat "$C/R1.statement")" '"env_keys":\["SECRETVAR"\]' \
    "control: the statement names the env key (not its value)"

# ---- a named guest: up, exec with a receipt, boot-report
$CTL up g1 >/dev/null; is $? 0 "up g1"
$CTL exec g1 --receipt R2 --env SECRETVAR="$ENVC" -- sh -c "$CMD" \
    </dev/null > exec.stdout 2> "$C/exec.stderr"
is "$?" 0 "exec g1 --receipt with the canaries: exit 0"
is "$(cat exec.stdout)" "$EXPECT" \
    "control: the stdout canary reached the caller's stdout"
check "control: grep finds it there" grep -qF -- "$OUTC" exec.stdout
$CTL receipt verify R2 --stdout exec.stdout > "$C/verify.txt" 2>&1
is "$?" 0 "the exec receipt verifies against that output"
$CTL receipt verify R2 --stdout exec.stdout --json > "$C/verify.json" 2>&1
cp R2 "$C/R2"
jq -r .payload R2 | base64 -d > "$C/R2.statement"
$CTL boot-report g1 > "$C/boot-report.txt" 2>&1
is "$?" 0 "boot-report g1"
$CTL boot-report g1 --json > "$C/boot-report.json" 2>&1
is "$?" 0 "boot-report g1 --json"
$CTL ls --json > "$C/ls.json" 2>&1
$CTL status --json > "$C/status.json" 2>&1
$CTL metrics > "$C/metrics.txt" 2>&1
is "$?" 0 "metrics"
$CTL metrics --json > "$C/metrics.json" 2>&1
is "$?" 0 "metrics --json"
$CTL audit tail -n 1000 > "$C/audit-tail.txt" 2>&1
$CTL audit checkpoint > "$C/checkpoint.note" 2>&1

# leaks WHERE...: the canaries found there, as "canary: file" lines
leaks() {
	local c
	for c in "$ARGVC" "$ENVC" "$OUTC"; do
		grep -rlF -D skip -- "$c" "$@" 2>&1 | sed "s|^|${c%%-[0-9]*}: |"
	done
}
# the state dir while g1 runs: its guest dir (console log included),
# the audit log and checkpoints, the signer's files
is "$(leaks "$SV_DIR")" "" "no canary in the state dir while g1 is up"
$CTL stop g1 >/dev/null; is $? 0 "stop g1"
$CTL rm g1 >/dev/null; is $? 0 "rm g1"

# control: the search finds a canary where there is one
mkdir -p "$W/control/sub"
cp exec.stdout "$W/control/sub/out"
is "$(leaks "$W/control")" "CANARY-out: $W/control/sub/out" \
    "control: the search finds the stdout canary in the caller's output"
for f in R1 R1.statement run.json R2 R2.statement verify.txt verify.json \
    boot-report.txt boot-report.json ls.json status.json metrics.txt \
    metrics.json audit-tail.txt checkpoint.note; do
	check "$f is not empty" test -s "$C/$f"
done
check "the audit log is not empty" test -s "$SV_DIR/audit/local/log"
check "the supervisor's log is not empty" test -s "$SV_LOG"
like "$(cat "$SV_LOG")" "g1: ready in" \
    "the supervisor's log has lines about the guests"
is "$(leaks "$C/R1" "$C/R1.statement")" "" "no canary in the run's receipt"
is "$(leaks "$C/R2" "$C/R2.statement")" "" "no canary in the exec's receipt"
is "$(leaks "$C/run.json" "$C/run.stderr")" "" "no canary in the --json output"
is "$(leaks "$C/exec.stderr")" "" "no canary on exec's stderr"
is "$(leaks "$C/verify.txt" "$C/verify.json")" "" \
    "no canary in receipt verify's output"
is "$(leaks "$SV_DIR/audit")" "" "no canary in the audit log or checkpoints"
is "$(leaks "$C/audit-tail.txt" "$C/checkpoint.note")" "" \
    "no canary in audit tail or a new checkpoint"
is "$(leaks "$C/metrics.txt" "$C/metrics.json")" "" \
    "no canary in metrics (text and JSON)"
is "$(leaks "$C/boot-report.txt" "$C/boot-report.json")" "" \
    "no canary in boot-report (text and JSON)"
is "$(leaks "$C/ls.json" "$C/status.json")" "" "no canary in ls or status"
is "$(leaks "$SV_DIR")" "" "no canary anywhere in the state dir"

no_leftovers "after the canary runs"
sv_stop
is "$SV_RC" 0 "supervisor stops cleanly"
# the log is complete once the supervisor and its children are gone
is "$(leaks "$SV_LOG")" "" \
    "no canary in the supervisor's log (vmm and QEMU lines included)"
