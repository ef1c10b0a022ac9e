# Load: 50 "mvmctl run --json --capture-output" throwaway guests, 8 at a time (a first round of
# 8, then a pool that keeps 8 going), each with its own workload whose
# stdout, stderr and exit status are known in advance.  Every run must
# come back right (status, byte counts and SHA-256 of both streams as the
# supervisor counted them, and the captured bytes themselves, checked
# against what the host computes); the audit log must verify and
# hold exactly one run.admitted and one run.exited per run id; the
# metrics must count 50 more exited runs; the supervisor's memory and
# fds must be where they were after the first round; nothing is left.
. "$MVM_TOP/regress/lib.sh"
need_root fault-load
need_image fault-load

RUNS=50
PAR=8
# RSS growth allowed between the end of the first round and the end.
# The first round has already taken the allocator to its high-water
# mark for 8 runs at once; the 42 runs after it only repeat that, so a
# leak-free supervisor stays within allocator noise (a few pages).  The
# bound is above the supervisor's whole RSS when idle (about 3 MiB), so
# noise (some 400 kB either way, measured) cannot reach it, and below
# what the 42 later runs would leak if the supervisor kept anything per
# run of the size of a control read buffer (136 KiB) or of the run's
# output (the 42 carry 11 MB of stdout).
RSS_SLACK_KB=$((4 * 1024))
CAP=1048576	# --capture-output: the output comes back too, not only digests
T0=$SECONDS

sv_start load || { nok "supervisor starts"; exit 1; }
ok "supervisor starts"
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log
W=$MVM_TMP/w
mkdir -p "$W"

# Run N: N*10000 bytes of stdout made of its own line (so no two runs
# print the same bytes), one line on stderr, exit status N % 7.
bytes_of() { echo $(($1 * 10000)); }
status_of() { echo $(($1 % 7)); }
expect_out() { yes "run $1 of the load test" | head -c "$(bytes_of "$1")"; }
expect_err() { printf 'stderr of run %s\n' "$1"; }
start_run() {
	local n=$1
	$CTL run --json --capture-output $CAP -- sh -c "yes 'run $n of the load test' |
	    head -c $(bytes_of "$n"); printf 'stderr of run %s\n' $n >&2;
	    exit $(status_of "$n")" </dev/null >"$W/run.$n.json" 2>"$W/run.$n.err" &
	PID_RUN[$!]=$n
}
declare -a PID_RUN=() RC=()
# settle: the last guests' vmm processes are gone (their clients are)
settle() {
	local i
	for i in $(seq 100); do
		pgrep -P "$SV_PID" -x mvm-vmm >/dev/null || break
		sleep 0.1
	done
	sleep 0.2
}

$CTL metrics --json >"$W/metrics.0.json" || nok "metrics before the runs"
admitted0=$(jq -r .type "$LOG" | grep -cx run.admitted)
exited0=$(jq -r .type "$LOG" | grep -cx run.exited)

# ---- the first round: 8 at once, then measure
for n in $(seq 1 $PAR); do start_run "$n"; done
for p in "${!PID_RUN[@]}"; do
	wait "$p"
	RC[${PID_RUN[$p]}]=$?
done
PID_RUN=()
check "supervisor alive after the first round" kill -0 "$SV_PID"
settle
rss_warm=$(proc_field "$SV_PID" VmRSS)
fds_warm=$(ls "/proc/$SV_PID/fd" | wc -l)
diag "after the first round of $PAR ($((SECONDS - T0)) s): VmRSS $rss_warm kB, $fds_warm fds"

# ---- the rest: a pool that keeps PAR runs going
next=$((PAR + 1))
running=0
died=0
while [ "$next" -le "$RUNS" ] || [ "$running" -gt 0 ]; do
	while [ "$running" -lt "$PAR" ] && [ "$next" -le "$RUNS" ]; do
		start_run "$next"
		next=$((next + 1))
		running=$((running + 1))
	done
	wait -n -p done_pid
	rc=$?
	if [ -z "${PID_RUN[$done_pid]:-}" ]; then
		# not a run: the supervisor (our only other child) is gone
		died=1
		diag "child $done_pid (not a run) exited with $rc"
		break
	fi
	RC[${PID_RUN[$done_pid]}]=$rc
	unset "PID_RUN[$done_pid]"
	running=$((running - 1))
done
is "$died" 0 "the supervisor did not exit during the runs"
check "supervisor alive after $RUNS runs" kill -0 "$SV_PID"
wall=$((SECONDS - T0))
diag "$RUNS runs, $PAR at a time: $wall s since the supervisor started"

# ---- every run: status, JSON, byte counts and digests
bad_rc= bad_json= bad_out= bad_err= bad_cap= bad_msg=
for n in $(seq 1 $RUNS); do
	j=$W/run.$n.json
	want=$(status_of "$n")
	[ "${RC[$n]:-x}" = "$want" ] || bad_rc+=" $n:${RC[$n]:-none}/$want"
	if ! jq -e --argjson s "$want" '.status == $s and .exit_code == $s and
	    .signal == null and .timed_out == false and
	    (.run_id | test("^[0-9a-f]{32}$"))' "$j" >/dev/null 2>&1; then
		bad_json+=" $n"
		continue
	fi
	o=$(jq -r '"\(.stdout.bytes) \(.stdout.sha256)"' "$j")
	[ "$o" = "$(bytes_of "$n") $(expect_out "$n" | sha256sum | cut -c1-64)" ] ||
	    bad_out+=" $n"
	e=$(jq -r '"\(.stderr.bytes) \(.stderr.sha256)"' "$j")
	[ "$e" = "$(expect_err "$n" | wc -c) $(expect_err "$n" | sha256sum | cut -c1-64)" ] ||
	    bad_err+=" $n"
	# the captured bytes themselves, streamed back whole
	[ "$(jq -j '.stdout.data | @base64d' "$j" | sha256sum)" = \
	    "$(expect_out "$n" | sha256sum)" ] &&
	    [ "$(jq -j '.stderr.data | @base64d' "$j")" = "$(expect_err "$n")" ] &&
	    jq -e '.stdout.truncated == false and .stderr.truncated == false' \
	    "$j" >/dev/null || bad_cap+=" $n"
	# --json: mvmctl writes nothing on its stderr for a run that ended
	[ -s "$W/run.$n.err" ] && bad_msg+=" $n"
done
is "$bad_rc" "" "all $RUNS runs: mvmctl exits with the command's status (N % 7)"
is "$bad_json" "" "all $RUNS runs: --json has the status, exit_code, a run id"
is "$bad_out" "" "all $RUNS runs: stdout byte count and SHA-256 as computed on the host"
is "$bad_err" "" "all $RUNS runs: stderr byte count and SHA-256 as computed on the host"
is "$bad_cap" "" "all $RUNS runs: --capture-output data is the expected stdout and stderr"
is "$bad_msg" "" "all $RUNS runs: nothing on mvmctl's stderr"
for n in $bad_json; do
	diag "run $n: rc ${RC[$n]:-none} json: $(head -c 300 "$W/run.$n.json")"
	diag "run $n: stderr: $(head -c 300 "$W/run.$n.err")"
done
ids=$(cat "$W"/run.*.json | jq -r .run_id | sort -u | grep -c '^[0-9a-f]\{32\}$')
is "$ids" "$RUNS" "$RUNS distinct run ids"

# ---- the audit log
out=$($CTL audit verify 2>&1)
is "$?" 0 "audit verify: exit 0"
like "$out" '^ok: ' "audit verify: ok ($out)"
is "$(( $(jq -r .type "$LOG" | grep -cx run.admitted) - admitted0 ))" "$RUNS" \
    "the log holds $RUNS more run.admitted records"
is "$(( $(jq -r .type "$LOG" | grep -cx run.exited) - exited0 ))" "$RUNS" \
    "the log holds $RUNS more run.exited records"
missing=
for id in $(cat "$W"/run.*.json | jq -r .run_id); do
	for t in run.admitted run.exited; do
		c=$(grep -F "\"$id\"" "$LOG" | jq -r .type | grep -cx "$t")
		[ "$c" = 1 ] || missing+=" $id:$t:$c"
	done
done
is "$missing" "" "each run id has exactly one run.admitted and one run.exited"

# ---- metrics
$CTL metrics --json >"$W/metrics.1.json"
is "$?" 0 "metrics --json after the runs"
d() { echo $(( $(jq -r "$1" "$W/metrics.1.json") - $(jq -r "$1" "$W/metrics.0.json") )); }
is "$(d .runs.exited)" "$RUNS" "metrics: runs exited grew by $RUNS"
is "$(d '.runs.failed + .runs.signaled + .runs.timeout + .runs.cancelled')" 0 \
    "metrics: no run failed, was signaled, timed out or was cancelled"
is "$(jq -r '[.guests[]] | add' "$W/metrics.1.json")" 0 \
    "metrics: no guest left in any state"

# ---- memory and fds, against the end of the first round
settle
fds_end=$(ls "/proc/$SV_PID/fd" | wc -l)
rss_end=$(proc_field "$SV_PID" VmRSS)
hwm=$(proc_field "$SV_PID" VmHWM)
diag "VmRSS after the first round $rss_warm kB, after $RUNS runs $rss_end kB" \
    "(growth $((rss_end - rss_warm)) kB, bound $RSS_SLACK_KB kB); VmHWM $hwm kB"
diag "fds after the first round $fds_warm, after $RUNS runs $fds_end"
rss_check "supervisor RSS grew by at most $RSS_SLACK_KB kB after the first round" \
    test $((rss_end - rss_warm)) -le "$RSS_SLACK_KB"
check "supervisor fds back to the first round's count ($fds_warm +-2, now $fds_end)" \
    test "$fds_end" -ge $((fds_warm - 2)) -a "$fds_end" -le $((fds_warm + 2))
is "$($CTL ls --json | jq length)" 0 "no guests left in ls"
no_leftovers "after $RUNS runs"

check "the supervisor still answers" $CTL status
sv_stop
is "$SV_RC" 0 "supervisor stops cleanly"
wall=$((SECONDS - T0))
diag "wall time: $wall s"
