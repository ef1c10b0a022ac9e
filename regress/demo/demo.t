# make demo's script works, end to end, as the README promises.
. "$MVM_TOP/regress/lib.sh"
need_root demo

out=$(MVM_DEMO_DIR=$MVM_TMP/demo sh "$MVM_TOP/regress/demo.sh" "$MVM_BUILD" 2>&1)
rc=$?
is "$rc" 0 "demo script succeeds"
like "$out" "mvm-signer .* 2 +1 0000000000000000 +yes ready" \
    "demo shows a jailed signer"
like "$out" "BEGIN PUBLIC KEY" "demo exports the PEM key"
like "$out" "demo: ok" "demo finishes"
