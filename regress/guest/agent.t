# mvm-agent in a real guest: QEMU microvm under TCG boots the default
# image (plain QEMU, not the jailed mvm-vmm) and mvm-agentcli speaks the
# agent protocol over the virtio-serial port.  One boot serves every
# check; SHUTDOWN ends it.
. "$MVM_TOP/regress/lib.sh"
. "$MVM_TOP/regress/guest/guest.sh"

guest_need_qemu
guest_need_image
D=$MVM_TMP/guest
T0=$EPOCHREALTIME
guest_boot "$D"
out=$(agent hello)
T1=$EPOCHREALTIME
diag "launch to HELLO: $(awk -v a="$T0" -v b="$T1" 'BEGIN {
    printf "%.2f s", b - a }')"
if ! grep -q '^HELLO ' <<<"$out"; then
	nok "guest answers HELLO"
	diag "agentcli: $out"
	sed 's/^/#   console: /' "$D/console" | tail -n 30
	exit 1
fi

# --- HELLO
is "$(jget "$out" proto)" 1 "HELLO: proto 1"
is "$(jget "$out" caps)" \
    '["exec","stdin","signal","file","ping","shutdown","net","share"]' \
    "HELLO: caps"
check "HELLO: uptime_ms > 0" test "$(jget "$out" uptime_ms)" -gt 0
is "$(jget "$out" kernel)" \
    "$(jq -c .kernel_version "$GUEST_IMG/manifest.json")" \
    "HELLO: kernel matches the manifest"
is "$(jget "$out" agent)" '"mvm-agent 0.1.0"' "HELLO: agent version"

# --- exit codes, signals, timeout
X=$D/x
out=$(agent hello \
    exec '{"argv":["true"]}' "$X.0" \
    exec '{"argv":["sh","-c","exit 1"]}' "$X.1" \
    exec '{"argv":["sh","-c","exit 42"]}' "$X.42" \
    exec '{"argv":["sh","-c","kill -9 $$"]}' "$X.k9" \
    start '{"argv":["sleep","100"]}' "$X.s15" \
    signal "$X.s15" 15 wait "$X.s15")
is "$(jq -c .code "$X.0.exit")" 0 "exit code 0"
is "$(jq -c .code "$X.1.exit")" 1 "exit code 1"
is "$(jq -c .code "$X.42.exit")" 42 "exit code 42"
is "$(jq -c '[.code, .signal, .timed_out]' "$X.k9.exit")" '[null,9,false]' \
    "killed by signal 9: code null, signal 9"
like "$out" '^OK \{\}$' "SIGNAL answered OK"
is "$(jq -c '[.code, .signal]' "$X.s15.exit")" '[null,15]' \
    "SIGNAL 15 to a running EXEC: signal 15"

t0=$EPOCHREALTIME
agent hello exec '{"argv":["sleep","30"],"timeout_ms":500}' "$X.to" \
    >/dev/null
el=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print int((b - a) * 1000) }')
is "$(jq -c '[.timed_out, .signal, .code]' "$X.to.exit")" '[true,9,null]' \
    "timeout_ms 500: timed_out, SIGKILL"
check "timeout: EXIT within 3 s (${el} ms)" test "$el" -lt 3000

out=$(agent hello exec '{"argv":["/nonexistent"]}' "$X.nf" \
    exec '{"argv":["true"],"cwd":"/nonexistent"}' "$X.nc")
like "$out" '^ERROR \{"code":"not_found".*nonexistent' \
    "EXEC of a missing program: not_found"
like "$out" '^ERROR \{"code":"not_found","message":"cwd: ' \
    "EXEC in a missing cwd: not_found"

# --- environment, cwd, PATH
sh='echo $PATH; echo $HOME; echo $FOO; pwd; hostname'
env='"env":{"FOO":"bar baz"},"cwd":"/tmp"'
agent hello exec "{\"argv\":[\"sh\",\"-c\",\"$sh\"],$env}" \
    "$X.env" >/dev/null
is "$(cat "$X.env.out")" \
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
/home/mvm
bar baz
/tmp
mvm" "default PATH and HOME (the default user's), env, cwd, hostname"

# --- binary-exact stdout and stderr
B=$D/bin
{ printf '\0\0\0'
  for i in $(seq 0 255); do printf "\\x$(printf %02x "$i")"; done
  head -c 300000 /dev/urandom; printf '\0'; } >"$B"
out=$(agent hello put "$B" /tmp/bin 600 \
    exec '{"argv":["sh","-c","cat /tmp/bin; cat /tmp/bin >&2"]}' "$X.bin")
check "binary stdout with NUL bytes is byte-exact" cmp -s "$B" "$X.bin.out"
check "binary stderr with NUL bytes is byte-exact" cmp -s "$B" "$X.bin.err"
is "$(jq -c '[.stdout_bytes, .stderr_bytes]' "$X.bin.exit")" \
    "[$(stat -c %s "$B"),$(stat -c %s "$B")]" "EXIT counts the bytes"

# --- 10 MiB each way
BIG=$D/big
head -c $((10 * 1024 * 1024)) /dev/urandom >"$BIG"
want=$(sha256sum <"$BIG" | cut -c1-64)
t0=$EPOCHREALTIME
out=$(agent hello put "$BIG" /tmp/big 644 \
    exec '{"argv":["cat","/tmp/big"]}' "$X.big" \
    exec '{"argv":["sha256sum","/tmp/big"]}' "$X.bigsum")
diag "10 MiB put + 10 MiB stdout: $(awk -v a="$t0" -v b="$EPOCHREALTIME" \
    'BEGIN { printf "%.2f s", b - a }')"
is "$(cut -c1-64 "$X.bigsum.out")" "$want" \
    "FILE_PUT of 10 MiB: guest sha256 matches"
is "$(sha256sum <"$X.big.out" | cut -c1-64)" "$want" \
    "10 MiB of stdout: sha256 matches"

# --- stdin
head -c 1000000 /dev/urandom >"$X.cat.in"
printf 'one\ntwo\n' >"$X.wc.in"
out=$(agent hello exec '{"argv":["cat"],"stdin":true}' "$X.cat" \
    exec '{"argv":["wc","-l"],"stdin":true}' "$X.wc" \
    exec '{"argv":["sh","-c","cat; echo eof"],"stdin":false}' "$X.nostdin")
check "stdin passthrough: 1 MB through cat is byte-exact" \
    cmp -s "$X.cat.in" "$X.cat.out"
is "$(tr -d ' ' <"$X.wc.out")" 2 "stdin is closed at the end (wc sees EOF)"
is "$(cat "$X.nostdin.out")" eof "without stdin: /dev/null"

# --- two EXECs at once
out=$(agent hello start '{"argv":["sh","-c","sleep 1; cat /proc/uptime"]}' \
    "$X.a" start '{"argv":["cat","/proc/uptime"]}' "$X.b" \
    wait "$X.b" wait "$X.a")
ua=$(cut -d' ' -f1 "$X.a.out")
ub=$(cut -d' ' -f1 "$X.b.out")
check "two EXECs at once: the second ran while the first slept ($ub < $ua)" \
    awk -v a="$ua" -v b="$ub" 'BEGIN { exit !(b + 0.5 < a) }'
is "$(grep -c '^EXIT .*"code":0' <<<"$out")" 2 "two EXECs at once: both EXIT 0"

# --- limits, held pipes, orphans
agent hello \
    exec '{"argv":["head","-c","100000","/dev/zero"],"stdout_max":1000}' \
    "$X.tr" \
    >/dev/null
is "$(jq -c '[.stdout_bytes, .stdout_truncated, .code]' "$X.tr.exit")" \
    '[1000,true,0]' "stdout_max: 1000 bytes forwarded, truncated"
is "$(stat -c %s "$X.tr.out")" 1000 "stdout_max: exactly 1000 bytes arrive"
t0=$EPOCHREALTIME
agent hello exec '{"argv":["sh","-c","sleep 30 & echo bg"]}' "$X.bg" \
    >/dev/null
el=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print int((b - a) * 1000) }')
check "a background child holding the pipes: EXIT anyway (${el} ms)" \
    test "$el" -lt 3000
is "$(cat "$X.bg.out")" bg "  ... with the output written before"
sh='for i in 1 2 3; do (sleep 0.1 &); done; sleep 1; ps -o stat,comm'
agent hello exec "{\"argv\":[\"sh\",\"-c\",\"$sh\"]}" \
    "$X.z" >/dev/null
is "$(awk '$1 ~ /^Z/' "$X.z.out")" "" "orphans are reaped (no zombies)"

# --- files
printf 'secret\n' >"$D/small"
out=$(agent hello put "$D/small" /root/f 640 get /root/f "$D/small.back" 0 \
    get /root/f "$D/x" 3)
check "FILE_PUT then FILE_GET: same bytes" cmp -s "$D/small" "$D/small.back"
like "$out" '^FILE_END \{"size":7,"mode":416\}$' "FILE_GET: size and mode 0640"
like "$out" '^ERROR \{"code":"too_large"' "FILE_GET beyond max: too_large"
out=$(agent hello put "$D/small" tmp/rel 644 put "$D/small" /tmp/../etc/x 644 \
    get /tmp/./x "$D/x" 0 \
    exec '{"argv":["ln","-s","/etc/passwd","/tmp/link"]}' "$X.ln" \
    get /tmp/link "$D/x" 0 put "$D/small" /tmp/link 644 \
    get /nonexistent "$D/x" 0 \
    exec '{"argv":["head","-n1","/etc/passwd"]}' "$X.pw")
errs=$(grep '^ERROR' <<<"$out" | sed 's/^ERROR //' | jq -r .code | tr '\n' ' ')
is "$errs" "bad_request bad_request bad_request denied denied not_found " \
    "refused: relative, \"..\", \".\", symlink get, symlink put, missing"
is "$(cat "$X.pw.out")" "root:x:0:0:root:/root:/bin/sh" \
    "the symlink's target was not written"

# --- seccomp tiers (mvm-agent.8): every EXEC names one; a call outside
# it kills the process with SIGSYS (signal 31), as does a call of
# another architecture.  Deny first: no tier, no process.
out=$(agent hello send EXEC 20 '{"argv":["mkdir","/tmp/sc.none"]}' recv 20 \
    send EXEC 21 '{"argv":["true"],"seccomp":"lenient"}' recv 21 \
    send EXEC 22 '{"argv":["true"],"seccomp":"Standard"}' recv 22 \
    send EXEC 23 '{"argv":["true"],"seccomp":""}' recv 23 \
    send EXEC 24 '{"argv":["true"],"seccomp":4}' recv 24)
msg() { grep "^ERROR $1 " <<<"$out" | sed 's/^ERROR [0-9]* //' |
    jq -r '"\(.code): \(.message)"'; }
is "$(msg 20)" 'bad_request: member "seccomp" is missing' \
    "EXEC without seccomp: bad_request"
is "$(msg 21)" 'bad_request: unknown seccomp tier "lenient"' \
    "EXEC with an unknown tier: bad_request"
is "$(msg 22)" 'bad_request: unknown seccomp tier "Standard"' \
    "  ... tier names are case-sensitive"
is "$(msg 23)" 'bad_request: unknown seccomp tier ""' "  ... and not empty"
is "$(msg 24)" 'bad_request: member "seccomp" is not a string' \
    "  ... and strings"
like "$("$AGENTCLI" -s '' -t 30 "$GUEST_SOCK" hello \
    exec '{"argv":["true"]}' "$X.sc0")" \
    '^ERROR \{"code":"bad_request","message":"member \\"seccomp\\" is miss' \
    "mvm-agentcli -s '': its EXEC has no seccomp member"

# the man page lists each tier's calls as the agent has them
for t in essential minimal standard network; do
	src=$(awk -v t="tier_$t" '$0 ~ "const tier_" && index($0, t "[]") \
	    { on = 1; next } on && /};/ { on = 0 } on' \
	    "$MVM_TOP/guest/tiers.h" | grep -o '"[a-z0-9_]*"' | tr -d '"' |
	    tr '\n' ' ')
	man=$(awk -v t="$t" '$0 == ".It Cm " t { on = 1; next }
	    on && /^\.Bd/ { bd = 1; next } bd && /^\.Ed/ { exit } bd' \
	    "$MVM_TOP/man/mvm-agent.8" | tr ' ' '\n' | grep . | tr '\n' ' ')
	check "mvm-agent.8 lists the $t calls of guest/tiers.h" \
	    test -n "$src" -a "$src" = "$man"
done

# i386 exit(0) through int 0x80, x32 exit(0); if either returns, exit 7
elf "$D/i386" b80100000031dbcd80b83c000000bf070000000f05
elf "$D/x32" b83c00004031ff0f05b83c000000bf070000000f05
agent hello put "$D/i386" /tmp/i386 755 put "$D/x32" /tmp/x32 755 >/dev/null

# Which call was refused: the guest kernel's audit record of each kill
# (dmesg).  Few kills before it: printk_ratelimit drops such lines past
# 10 in 5 s.
# sc ARGV TIER [MEMBER]: an EXEC's JSON
sc() { printf '{"argv":%s,"seccomp":"%s"%s}' "$1" "$2" "${3:+,$3}"; }
agent hello exec "$(sc '["mkdir","/tmp/sc.a"]' minimal)" "$X.a1" \
    exec "$(sc '["nc","10.0.0.1","80"]' standard)" "$X.a2" \
    exec "$(sc '["mknod","/tmp/sc.a","p"]' network)" "$X.a3" \
    exec "$(sc '["/tmp/i386"]' essential)" "$X.a4" \
    exec "$(sc '["/tmp/x32"]' network)" "$X.a5" \
    exec '{"argv":["dmesg"],"seccomp":"unrestricted","uid":0}' "$X.dmesg" \
    >/dev/null
re='.* comm="\([^"]*\)".* arch=\([0-9a-f]*\) syscall=\([0-9]*\) .*'
want="mkdir c000003e 83,nc c000003e 41,mknod c000003e 259"
want="$want,i386 40000003 1,x32 c000003e 1073741884"
is "$(grep 'type=1326 ' "$X.dmesg.out" | sed -n "s/$re/\1 \2 \3/p" |
    paste -sd,)" "$want" \
    "killed at the call: mkdir, socket, mknodat, i386 exit, x32 exit"

# tier_row TIER [MEMBER]: how each probe ends under TIER (in the order
# of the legend below): an exit code, K if killed by SIGSYS, sigN for
# another signal; NoNewPrivs/Seccomp of /proc/self/status comes last.
# MEMBER goes into each EXEC ("uid":0: as root).
tier_row() {
	local t=$1 m=${2:-} p=$X.row.$1${2:+.m} g=/tmp/sc.$1${2:+.m} n r=
	agent hello exec "$(sc '["/bin/true"]' "$t" "$m")" "$p.true" \
	    exec "$(sc '["sh","-c","true | true"]' "$t" "$m")" "$p.pipe" \
	    exec "$(sc "[\"mkdir\",\"$g\"]" "$t" "$m")" "$p.mkdir" \
	    exec "$(sc '["nc","10.0.0.1","80"]' "$t" "$m")" "$p.socket" \
	    exec "$(sc "[\"mknod\",\"$g.p\",\"p\"]" "$t" "$m")" "$p.mknod" \
	    exec "$(sc '["/tmp/i386"]' "$t" "$m")" "$p.i386" \
	    exec "$(sc '["/tmp/x32"]' "$t" "$m")" "$p.x32" \
	    exec "$(sc '["grep","-E","^(NoNewPrivs|Seccomp):",
	    "/proc/self/status"]' "$t" "$m")" "$p.status" >/dev/null
	for n in true pipe mkdir socket mknod i386 x32 status; do
		r="$r $(jq -r 'if .signal == 31 then "K" elif .signal != null
		    then "sig\(.signal)" else .code end' "$p.$n.exit")"
	done
	[ "${r##* }" = 0 ] &&
	    r="${r% 0} $(awk '{ print $2 }' "$p.status.out" | paste -sd/)"
	echo "${r# }"
}
# (x32 is off in Debian's kernel: unfiltered, its exit fails with ENOSYS
# and the program exits 7; nc fails at connect(): the guest has no NIC)
#                  true pipe mkdir socket mknod i386 x32 NoNewPrivs/Seccomp
is "$(tier_row essential)" "0 K K K K K K 1/2" \
    "essential: /bin/true runs; a pipeline, mkdir, socket, mknod killed"
is "$(tier_row minimal)" "0 0 K K K K K 1/2" \
    "minimal: a pipeline runs; mkdir, socket, mknod killed"
is "$(tier_row standard)" "0 0 0 K K K K 1/2" \
    "standard: mkdir runs; socket, mknod killed"
is "$(tier_row network)" "0 0 0 1 K K K 1/2" \
    "network: socket allowed (nc fails, not killed); mknod killed"
like "$(cat "$X.row.network.socket.err")" 'Network is unreachable' \
    "  ... nc got as far as connect()"
is "$(tier_row unrestricted)" "0 0 0 1 0 0 7 1/0" \
    "unrestricted: no filter, all run; no_new_privs from the user (mvm)"
is "$(tier_row unrestricted '"uid":0')" "0 0 0 1 0 0 7 0/0" \
    "unrestricted as root: no filter, no no_new_privs; all run"
agent hello exec '{"argv":["ls","-d","/tmp/sc.none"]}' "$X.none" >/dev/null
is "$(jq -c .code "$X.none.exit")" 1 \
    "the EXEC without seccomp did not run (no /tmp/sc.none)"

# --- protocol errors (raw frames)
out=$(agent hello send 77 7 '{}' recv 7 send EXEC 8 '{bad' recv 8 \
    send EXEC 9 '{"argv":["true"],"seccomp":"standard","bogus":1}' recv 9 \
    send EXEC 10 '{"argv":"true","seccomp":"standard"}' recv 10 \
    send EXEC 11 '{"argv":["a"],"argv":["b"]}' recv 11 \
    send SIGNAL 12 '{"signal":9}' recv 12 \
    ping '{"echo":[1,"two"]}')
code() { grep "^ERROR $1 " <<<"$out" | sed 's/^ERROR [0-9]* //' | jq -r .code; }
is "$(code 7)" unknown_type "unknown frame type: unknown_type"
is "$(code 8)" bad_request "bad JSON: bad_request"
is "$(code 9)" bad_request "unknown member: bad_request"
is "$(code 10)" bad_request "wrong type: bad_request"
is "$(code 11)" bad_request "duplicate member: bad_request"
is "$(code 12)" not_found "SIGNAL to no EXEC: not_found"
like "$out" '^PONG \{"echo":\[1,"two"\]\}$' "PING: PONG with the same payload"

# every request type with hostile payloads: typed errors, agent alive
deep=$(printf '%.0s[' $(seq 3000))$(printf '%.0s]' $(seq 3000))
steps=()
n=100
for t in 1 2 3 4 5 6 7 8 9 10 11 0 101 104 4294967295; do
	for p in '' 'null' '[]' '"x"' '{}' '{"argv":[],"seccomp":"minimal"}' \
	    '{"argv":[1],"seccomp":"minimal"}' \
	    '{"argv":[""],"seccomp":"minimal"}' \
	    '{"argv":["x"],"seccomp":"minimal","env":{"A=B":"c"}}' \
	    '{"argv":["x"],"seccomp":"minimal","env":{"A":1}}' \
	    '{"argv":["x"],"seccomp":"minimal","cwd":"rel"}' \
	    '{"argv":["x"],"seccomp":"minimal","timeout_ms":-1}' \
	    '{"argv":["x"],"seccomp":"minimal","stdin":1}' \
	    '{"argv":["x"],"seccomp":null}' \
	    '{"argv":["x"],"seccomp":"\u0000"}' \
	    '{"argv":["x"],"seccomp":["minimal"]}' \
	    '{"path":"/tmp/g","size":-1}' '{"path":"/tmp/g","size":1.5}' \
	    '{"path":"/tmp/g","mode":4096,"size":1}' '{"path":"\u0000"}' \
	    '{"signal":0}' '{"signal":65}' '{"signal":"9"}' \
	    '{"proto_min":1}' '{"proto_min":1,"proto_max":1,"host":7}' \
	    '{"a":"\u0000"}' '{"a":1}{"b":2}' $'\xff\xfe' "$deep"; do
		# (a valid SHUTDOWN would end the guest)
		[ "$t" = 10 ] && [ "$p" = '{}' ] && continue
		steps+=(send "$t" "$n" "$p")
		n=$((n + 1))
	done
done
for i in $(seq 100 $((n - 1))); do
	steps+=(recv "$i")
done
out=$(AGENT_TIMEOUT=10 agent hello "${steps[@]}" ping '{"alive":true}')
like "$out" '^PONG \{"alive":true\}$' \
    "$((n - 100)) hostile frames later the agent still answers"
is "$(grep -cE '^(ERROR|PONG) [0-9]+ ' <<<"$out")" "$((n - 100))" \
    "  ... having answered each exactly once"
want='^ERROR [0-9]* {"code":"\(bad_request\|unknown_type\|not_found\)"'
is "$(grep -c "$want" <<<"$out")" "$(grep -c '^ERROR [0-9]* ' <<<"$out")" \
    "  ... with bad_request, unknown_type or not_found"
like "$(agent hello exec '{"argv":["true"]}' "$X.alive")" '^EXIT .*"code":0' \
    "  ... and runs processes"

sleep 0.3		# let the agent see the last client go
out=$(agent send PING 5 '{}' recv 5 send HELLO 6 \
    '{"proto_min":2,"proto_max":3}' recv 6)
is "$(code 5)" not_ready "a request before HELLO: not_ready"
is "$(code 6)" version "HELLO with proto_min 2: version"

out=$(AGENT_TIMEOUT=2 agent hello sendhex 7fffffff0000000900000001 recv 0 \
    send PING 13 '{}' recv 13)
is "$(code 0)" malformed "an oversize length: malformed"
like "$out" '^TIMEOUT recv' "  ... and nothing more is read on that connection"
sleep 0.3
like "$(agent hello ping '{}')" '^PONG \{\}$' \
    "a new connection gets a fresh session"

# --- reconnects: each connection is a session of its own.  When a host
# connects right after another went, the guest kernel may never show the
# agent that the port had no host (guest/loop.c): the new host's bytes
# just follow.  Forty connections, each opened microseconds after the last
# closed (mvm-agentcli's reconnect), each setting grants (a second
# NET_GRANTS in one session is refused), then leaving: with a process
# running, with a PING unanswered, or after its answer.
G1='{"grants":[{"host":"a.test","port":1}],"proxy":0}'
steps=()
for i in $(seq 40); do
	steps+=(hello netgrants "$G1")
	case $((i % 3)) in
	0) steps+=(start '{"argv":["sleep","1000"]}' "$X.rc$i") ;;
	1) steps+=(send PING $((5000 + i)) '{}') ;;
	2) steps+=(ping '{}') ;;
	esac
	steps+=(reconnect 0)
done
# ... then five that go in the middle of a frame (22 bytes of a PING of
# 112).  Where such a host's bytes end the guest cannot tell, so each
# leaves the port without a host for 300 ms, as a host must.
for i in $(seq 5); do
	steps+=(hello sendhex 0000006c00000009000000017b2261223a2231323334 \
	    reconnect 300)
done
t0=$EPOCHREALTIME
out=$(AGENT_TIMEOUT=5 agent "${steps[@]}" hello ping '{"last":1}' \
    exec '{"argv":["sh","-c","ps -o args | grep -c \"^sleep 1000$\""]}' \
    "$X.rcps")
diag "45 reconnects: $(awk -v a="$t0" -v b="$EPOCHREALTIME" \
    'BEGIN { printf "%.2f s", b - a }')"
unlike "$out" '^(TIMEOUT|EOF) ' "45 reconnects: no step timed out (5 s)"
is "$(grep -c '^HELLO ' <<<"$out")" 46 "  ... every HELLO answered"
is "$(grep -c '^OK {}$' <<<"$out")" 40 \
    "  ... every NET_GRANTS OK: each connection a fresh session"
is "$(grep -c '^STARTED ' <<<"$out")" 13 "  ... every process started"
like "$out" '^PONG \{"last":1\}$' "  ... the last PING answered"
is "$(cat "$X.rcps.out")" 0 "  ... and the processes of the old sessions killed"

# --- shutdown
t0=$EPOCHREALTIME
out=$(agent hello shutdown eof)
like "$out" '^OK \{\}' "SHUTDOWN answered OK"
gone=no
for _ in $(seq 50); do
	kill -0 "$GUEST_PID" 2>/dev/null || { gone=yes; break; }
	sleep 0.1
done
wait "$GUEST_PID" 2>/dev/null
rc=$?
el=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
is "$gone" yes "SHUTDOWN: QEMU exits on its own ($el s)"
is "$rc" 0 "  ... with status 0"
is "$(grep -c . "$D/console")" 0 "the console stayed quiet"
