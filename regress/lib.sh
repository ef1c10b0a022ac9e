# Shared helpers for regress/*.t (bash).  Source it first:
#	. "$MVM_TOP/regress/lib.sh"
# Output is TAP-style: "ok N - what", "not ok N - what", "# note".

: "${MVM_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${MVM_BUILD:=$MVM_TOP/build}"
: "${MVM_TEST_BUILD:=$MVM_TOP/build/test}"
: "${MVM_IMAGES:=$MVM_TOP/build/images}"

T_N=0
T_FAIL=0
ok()	{ T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
nok()	{ T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1)); echo "not ok $T_N - $*"; }
diag()	{ echo "# $*"; }
skip()	{ T_N=$((T_N + 1)); echo "ok $T_N - $* # SKIP"; }

# check "description" command args...: ok if the command succeeds
check() {
	local desc=$1; shift
	if "$@"; then ok "$desc"; else nok "$desc"; fi
}

# is GOT WANT "description"
is() {
	if [ "$1" = "$2" ]; then
		ok "$3"
	else
		nok "$3"
		diag "  got:  '$1'"
		diag "  want: '$2'"
	fi
}

# like TEXT REGEX "description"
like() {
	if grep -qE -- "$2" <<<"$1"; then
		ok "$3"
	else
		nok "$3"
		diag "  text: '$(head -c 400 <<<"$1")'"
		diag "  want match: '$2'"
	fi
}

# unlike TEXT REGEX "description"
unlike() {
	if grep -qE -- "$2" <<<"$1"; then
		nok "$3"
		diag "  unexpected match of '$2' in: '$(head -c 400 <<<"$1")'"
	else
		ok "$3"
	fi
}

. "$MVM_TOP/regress/accel.sh"

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "$1: needs root"
		exit 0
	fi
}

MVM_TMP=$(mktemp -d /tmp/mvm-regress.XXXXXX)
chmod 0755 "$MVM_TMP"
SV_PIDS=()
SV_INST=0

lib_cleanup() {
	local p
	for p in "${SV_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${SV_PIDS[@]}"; do
		for _ in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
	# audit logs carry the append-only attribute
	chattr -R -a "$MVM_TMP" 2>/dev/null
	rm -rf "$MVM_TMP"
}
trap lib_cleanup EXIT

# A uid range of 64 for this test process and instance number.
uid_base_for() {
	echo $(( 3000000 + ($$ % 5000) * 1000 + $1 * 64 ))
}

# sv_start NAME [extra JSON members, starting with a comma]
# Starts a private supervisor (release build unless SV_BUILD is set) and
# waits until it answers.  Sets SV_PID, SV_DIR (state dir), SV_LOG,
# SV_CONF and MVMCTL ("mvmctl -S dir").  Returns non-zero on failure.
sv_start() {
	local name=$1 extra=${2:-} build=${SV_BUILD:-$MVM_BUILD}
	local dir=$MVM_TMP/$name
	mkdir -p "$dir"
	SV_INST=$((SV_INST + 1))
	SV_CONF=$dir/mvm.conf
	case $extra in
	*images_dir*) ;;
	*) extra=", \"images_dir\": \"$MVM_IMAGES\" $extra" ;;
	esac
	cat >"$SV_CONF" <<JSON
{ "uid_base": $(uid_base_for $SV_INST), "uid_count": 64 $extra }
JSON
	SV_DIR=$dir/state
	SV_LOG=$dir/supervisor.log
	# SV_WRAP: a command line the supervisor runs under (e.g. unshare)
	${SV_WRAP:-} "$build/mvm-supervisor" -d -f "$SV_CONF" -S "$SV_DIR" \
	    ${SV_FLAGS:-} 2>>"$SV_LOG" &
	SV_PID=$!
	SV_PIDS+=("$SV_PID")
	MVMCTL="$MVM_BUILD/mvmctl -S $SV_DIR"
	local i
	for i in $(seq 200); do
		if [ -S "$SV_DIR/control.sock" ] &&
		    $MVMCTL status >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$SV_PID" 2>/dev/null || break
		sleep 0.1
	done
	diag "supervisor $name did not come up; log:"
	sed 's/^/#   /' "$SV_LOG"
	return 1
}

# sv_accel: the accel the supervisor found its guests may use, from its
# log: kvm only where a jailed uid may open /dev/kvm (not a node for
# root only), which [ -w /dev/kvm ] in a test run as root cannot tell
sv_accel() {
	grep -q 'guests: accel kvm' "$SV_LOG" && echo kvm || echo tcg
}

# sv_stop [PID]: SIGTERM and wait; the exit status goes to SV_RC
# (not a command substitution: only this shell can wait for it)
sv_stop() {
	local p=${1:-$SV_PID}
	kill -TERM "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	SV_RC=$?
}

# wait_gone PID [tenths]: wait until a (non-child) process is gone
wait_gone() {
	local i
	for i in $(seq "${2:-100}"); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# pid of a process by name, from "mvmctl status --json"
sv_pid_of() {
	$MVMCTL status --json |
	    jq -r --arg n "$1" '.processes[] | select(.name == $n) | .pid'
}

# a field of /proc/PID/status
proc_field() {
	awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}

# not CMD...: succeeds if CMD fails
not() { ! "$@"; }

# hex to raw bytes on stdout, without xxd
unhex() { printf "$(sed 's/../\\x&/g' <<<"$1")"; }

# elf FILE HEX: a static x86-64 ELF that runs the machine code HEX
elf() {
	local n=$((120 + ${#2} / 2)) le
	le=$(printf '%02x%02x000000000000' $((n & 255)) $((n >> 8)))
	printf '%b' "$(sed 's/../\\x&/g' <<<"7f454c460201010000000000000000\
0002003e000100000078004000000000004000000000000000000000000000000000000000\
4000380001000000000000000100000005000000000000000000000000004000000000000000\
400000000000${le}${le}0010000000000000$2")" >"$1"
}

# chain_ok LOG: every line's "prev" is the SHA-256 of the line before and
# seq counts from 0 (structure only; signatures: mvmctl audit verify)
chain_ok() {
	local prev=0000000000000000000000000000000000000000000000000000000000000000
	local n=0 line p s
	while IFS= read -r line; do
		p=$(jq -r .prev <<<"$line") || return 1
		s=$(jq -r .seq <<<"$line") || return 1
		[ "$p" = "$prev" ] && [ "$s" = "$n" ] || return 1
		prev=$(printf '%s' "$line" | sha256sum | cut -c1-64)
		n=$((n + 1))
	done < "$1"
	return 0
}

# wait_for_line FILE REGEX [tenths]: until a line matches
wait_for_line() {
	local i
	for i in $(seq "${3:-50}"); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# fake_state DIR: a state-dir layout whose tenant "local" log and
# checkpoints are DIR/log and DIR/checkpoints (what the harness writes),
# so mvmctl -S can read them; prints the state dir
fake_state() {
	local s=$1/state
	mkdir -p "$s/audit/local"
	ln -sf "$1/log" "$s/audit/local/log"
	ln -sf "$1/checkpoints" "$s/audit/local/checkpoints"
	echo "$s"
}

# rss_check DESC CMD...: a memory bound; under ASan (make sanitize) its
# quarantine keeps freed memory, so the bound means nothing there
rss_check() {
	local d=$1
	shift
	if [ -n "${MVM_SANITIZE:-}" ]; then
		skip "$d: not measured under ASan"
	else
		check "$d" "$@"
	fi
}

# run_until_stopped WHY: the log's last block may still take the first
# records, so `mvmctl run` until one is refused with the audit error
# (116), at most 6 times; then status must say the log is stopped
run_until_stopped() {
	local rc=0 i
	for i in 1 2 3 4 5 6; do
		$MVMCTL run -- echo during >/dev/null 2>&1
		rc=$?
		[ $rc = 116 ] && break
	done
	is $rc 116 "runs while $1: refused with the audit error (116, run $i)"
	for _ in $(seq 50); do
		$MVMCTL status --json 2>/dev/null |
		    jq -e '.audit_ok == false' >/dev/null && break
		sleep 0.1
	done
	is "$($MVMCTL status --json | jq .audit_ok)" false \
	    "status: the audit log is stopped"
}

# need_image: skip the test file unless the default guest image is built
# guest_field NAME KEY: a member of guest NAME in ls --json (empty if
# there is no such guest); wait_state NAME STATE [tenths]: until it is
# in STATE (default 60 s)
guest_field() {
	$MVMCTL ls --json 2>/dev/null |
	    jq -r --arg n "$1" ".[] | select(.name == \$n) | .$2"
}
wait_state() {
	local i
	for i in $(seq "${3:-600}"); do
		[ "$(guest_field "$1" state)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

need_image() {
	if [ ! -f "$MVM_IMAGES/default/manifest.json" ]; then
		skip "$1: no guest image (make image)"
		exit 0
	fi
}

# no_leftovers: nothing of this supervisor's guests survives them:
# no vmm (and so no QEMU, which dies with its pid namespace), no guest
# cgroup, no jail mount visible on the host, no transient guest dir
no_leftovers() {
	local what=$1 inst
	inst=mvm-$(printf '%s' "$SV_DIR" | sha256sum | cut -c1-8)
	for _ in $(seq 100); do
		pgrep -P "$SV_PID" -x mvm-vmm >/dev/null || break
		sleep 0.1
	done
	check "$what: no vmm or QEMU left" \
	    not pgrep -P "$SV_PID" -x mvm-vmm
	check "$what: no guest cgroup left" test -z \
	    "$(find /sys/fs/cgroup -maxdepth 4 -path "*/mvm/$inst/g*" 2>/dev/null)"
	check "$what: no jail mount on the host" \
	    not grep -qE 'mvm-guest|mvm-run' /proc/self/mountinfo
	check "$what: no guest directory left" test -z \
	    "$(ls "$SV_DIR/guests" 2>/dev/null | grep -v -E "${2:-^$}")"
}
