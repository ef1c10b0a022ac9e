# The jail of each long-lived daemon, read from the kernel (/proc), not
# from what the daemons say about themselves.
. "$MVM_TOP/regress/lib.sh"
need_root jail

sv_start jail || { nok "supervisor starts"; exit 1; }
ok "supervisor starts"

sp=$(sv_pid_of mvm-signer)
ap=$(sv_pid_of mvm-auditd)
check "signer and auditd pids known" test -n "$sp" -a -n "$ap"
base=$(jq -r .uid_base "$SV_CONF")

uids=""
for p in "$sp" "$ap"; do
	n=$(tr -d '\0' < /proc/$p/comm)
	is "$(proc_field $p Seccomp)" 2 "$n: Seccomp: 2 (filter)"
	is "$(proc_field $p NoNewPrivs)" 1 "$n: NoNewPrivs: 1"
	is "$(proc_field $p CapEff)" 0000000000000000 "$n: CapEff all zero"
	is "$(proc_field $p CapPrm)" 0000000000000000 "$n: CapPrm all zero"
	is "$(proc_field $p CapBnd)" 0000000000000000 "$n: CapBnd all zero"
	u=$(awk '/^Uid:/ { print $2 $3 $4 $5 }' /proc/$p/status)
	g=$(awk '/^Gid:/ { print $2 $3 $4 $5 }' /proc/$p/status)
	uid=$(proc_field $p Uid)
	check "$n: uid $uid is not root" test "$uid" -ne 0
	is "$u" "$uid$uid$uid$uid" "$n: real, effective, saved, fs uid all equal"
	is "$g" "$uid$uid$uid$uid" "$n: gids equal the uid"
	is "$(awk '/^Groups:/ { print $2 }' /proc/$p/status)" "$uid" \
	    "$n: no supplementary groups but its own"
	uids="$uids $uid"
	host=$(stat -Lc %d:%i /)
	root=$(stat -Lc %d:%i /proc/$p/root/)
	check "$n: root ($root) is not the host root ($host)" \
	    test "$root" != "$host"
	check "$n: root is empty" test -z "$(ls -A /proc/$p/root/)"
	for ns in mnt pid net ipc uts; do
		check "$n: own $ns namespace" test \
		    "$(readlink /proc/$p/ns/$ns)" != "$(readlink /proc/1/ns/$ns)"
	done
	# only lo, and it is down: no network at all
	links=$(nsenter -t $p -n ip -o link 2>/dev/null | awk '{print $2}' |
	    tr -d ':' | tr '\n' ' ')
	is "$links" "lo " "$n: network namespace has only lo"
	# fds: stdin/stdout /dev/null, stderr log pipe, 3 socket, plus
	# only sockets, pipes, anon inodes, and for auditd its two logs
	bad=$(for f in /proc/$p/fd/*; do
		# /dev/null is char device 1:3 whatever its name in the jail
		[ "$(stat -Lc %F:%t:%T "$f")" = "character special file:1:3" ] &&
		    continue
		readlink "$f"
	    done | grep -vE '^(socket:|pipe:|anon_inode:)' |
	    grep -vE '/audit/local/(log|checkpoints)$')
	is "$bad" "" "$n: holds no unexpected fds"
done
is "$(proc_field $sp Uid)" "$base" "signer runs as uid_base + 0"
is "$(proc_field $ap Uid)" "$((base + 1))" "auditd runs as uid_base + 1"
set -- $uids
check "uids distinct ($1, $2)" test "$1" != "$2"

# PR_SET_DUMPABLE 0 on the key holder: its /proc files belong to root
is "$(stat -c %u /proc/$sp/status)" 0 "signer is not dumpable (/proc owned by root)"
# auditd's log fds are append-only opens
flags=$(awk '/^flags:/ { print $2 }' /proc/$ap/fdinfo/$(for f in /proc/$ap/fd/*;
    do case $(readlink $f) in */audit/local/log) echo ${f##*/};; esac; done))
check "auditd log fd is O_APPEND (flags $flags)" \
    test $(( 0$flags & 02000 )) -ne 0

# mvmctl status reports the same as /proc
st=$($MVMCTL status --json)
is "$(jq -r '.processes[] | select(.name=="mvm-signer") | .seccomp' <<<"$st")" 2 \
    "mvmctl status shows signer seccomp 2"
is "$(jq -r '[.processes[] | select(.name!="mvm-supervisor") | .jailed] | all' <<<"$st")" \
    true "mvmctl status shows both children jailed"

sv_stop
is "$SV_RC" 0 "supervisor stops with status 0 on SIGTERM"
check "signer gone after stop" wait_gone "$sp" 50
check "auditd gone after stop" wait_gone "$ap" 50
check "control socket removed" test ! -e "$SV_DIR/control.sock"
