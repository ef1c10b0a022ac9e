# A forbidden system call kills the jailed process.  The trigger exists
# only in the test build (-DMVM_TEST_HOOKS); the release build treats the
# same message as unknown and exits without making the call.
. "$MVM_TOP/regress/lib.sh"
need_root forbidden

IPC=$MVM_BUILD/regress/mvm-ipctest
UID0=$(uid_base_for 1)
for role in signer auditd; do
	D=$MVM_TMP/$role
	mkdir -p "$D"
	# 1 socket(AF_INET), 2 open("/etc/passwd"), 3 ftruncate, 4 pwrite,
	# 5 fallocate, 6 fcntl(F_SETFL): what could rewrite an O_APPEND log
	for which in 1 2 3 4 5 6; do
		out=$("$IPC" "$MVM_TEST_BUILD/mvm-$role" $role "$D" "$UID0" \
		    hello config ready forbid $which exit 2>&1)
		like "$out" "exit killed by SIGSYS answered 0" \
		    "$role (test build): forbidden syscall $which kills it"
		unlike "$out" "was allowed" "$role: syscall $which never returned"
	done
	out=$("$IPC" "$MVM_BUILD/mvm-$role" $role "$D" "$UID0" \
	    hello config ready forbid 1 exit 2>&1)
	like "$out" "exit exited 1 answered 0" \
	    "$role (release build): no trigger, message refused"
	check "$role (release build): no test hook compiled in" \
	    not grep -q "test hook" "$MVM_BUILD/mvm-$role"
	check "$role (test build): the hook is there" \
	    grep -q "test hook" "$MVM_TEST_BUILD/mvm-$role"
done
