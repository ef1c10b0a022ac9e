# make demo's script works, end to end, as the README promises.
. "$MVM_TOP/regress/lib.sh"
need_root demo
need_image demo

out=$(MVM_DEMO_DIR=$MVM_TMP/demo sh "$MVM_TOP/regress/demo.sh" "$MVM_BUILD" \
    "$MVM_IMAGES" 2>&1)
rc=$?
is "$rc" 0 "demo script succeeds"
[ $rc -eq 0 ] || diag "$(tail -20 <<<"$out")"
like "$out" "mvm-signer .* 2 +1 0000000000000000 +yes ready" \
    "demo shows a jailed signer"
like "$out" "hello from a microVM: Linux 6" "demo runs a command in a guest"
like "$out" "exit status 7 comes back" "demo execs in a named guest"
like "$out" "status: 7" "and its exit status comes back"
like "$out" "6 x 7 = 42" "demo runs a command with a receipt"
like "$out" "^-rw------- .* $MVM_TMP/demo/receipt.json" "the receipt is 0600"
like "$out" "^ok: run [0-9a-f]{32} exit 0 key [0-9a-f]{8}" \
    "demo verifies the receipt offline"
like "$out" 'mvm_runs_total\{outcome="exited"\} [1-9]' "demo shows the metrics"
like "$out" "agent hello" "demo shows the boot report"
like "$out" "^ok: [0-9]+ records" "demo verifies the audit log"
like "$out" "demo: ok" "demo finishes"
