# Malformed IPC is never answered: each daemon, given a truncated
# header, an oversize length, an unknown type or a wrong-size payload,
# exits non-zero without writing a byte back.
. "$MVM_TOP/regress/lib.sh"
need_root malformed

IPC=$MVM_BUILD/regress/mvm-ipctest
UID0=$(uid_base_for 1)
for role in signer auditd; do
	bin=$MVM_BUILD/mvm-$role
	D=$MVM_TMP/$role
	mkdir -p "$D"
	# once jailed and serving
	for m in trunc oversize unknown; do
		out=$("$IPC" "$bin" $role "$D" "$UID0" hello config ready $m \
		    exit 2>/dev/null | tail -1)
		is "$out" "exit exited 1 answered 0" "$role, serving: $m"
	done
	# before its configuration
	for m in trunc oversize unknown wrongsize; do
		out=$("$IPC" "$bin" $role "$D" "$UID0" hello $m exit \
		    2>/dev/null | tail -1)
		is "$out" "exit exited 1 answered 0" "$role, starting: $m"
	done
	# a configuration message out of turn, once serving
	out=$("$IPC" "$bin" $role "$D" "$UID0" hello config ready config \
	    exit 2>/dev/null | tail -1)
	is "$out" "exit exited 1 answered 0" "$role, serving: CONFIG again"
	# the orderly end, for contrast
	out=$("$IPC" "$bin" $role "$D" "$UID0" hello config ready close exit \
	    2>/dev/null | tail -1)
	is "$out" "exit exited 0 answered 0" "$role: EOF on fd 3 is a clean exit"
done
out=$("$IPC" "$MVM_BUILD/mvm-signer" signer "$MVM_TMP/signer" "$UID0" \
    hello config ready shortsign exit 2>/dev/null | tail -1)
is "$out" "exit exited 1 answered 0" "signer, serving: SIGN_REQ of the wrong size"
out=$("$IPC" "$MVM_BUILD/mvm-auditd" auditd "$MVM_TMP/auditd" "$UID0" \
    hello config ready shortevent exit 2>/dev/null | tail -1)
is "$out" "exit exited 1 answered 0" "auditd, serving: AUDIT_EVENT of the wrong size"
