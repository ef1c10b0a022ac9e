# mvm-agent's users and cgroups (mvm-agent.8, Users and Processes), in a
# real guest through mvm-agentcli: EXEC "uid" (default 1000, 2000-2999,
# 0; nothing else), no capability for a user, no_new_privs even without
# a filter and against a set-uid file, a per-exec uid one job's at a
# time, secret files the user's and no one else's, FILE_PUT files
# mvm's, DIR_PUT "uid" checked, and a cgroup per EXEC that is killed at
# its end (background, setsid, timeout, session end) and removed.
. "$MVM_TOP/regress/lib.sh"
. "$MVM_TOP/regress/guest/guest.sh"

guest_need_qemu
guest_need_image
D=$MVM_TMP/guest
X=$D/x
guest_boot "$D"
if ! grep -q '^HELLO ' <<<"$(agent hello)"; then
	nok "guest answers HELLO"
	sed 's/^/#   console: /' "$D/console" | tail -n 30
	exit 1
fi
ok "guest answers HELLO"

# ex UIDMEMBER SCRIPT PREFIX: run SCRIPT under sh, unrestricted tier
ex() {
	agent hello exec "$(jq -nc --arg s "$2" --argjson u "${1:-null}" \
	    '{argv: ["sh", "-c", $s], seccomp: "unrestricted"} +
	    (if $u == null then {} else {uid: $u} end)')" "$3" >/dev/null
}
st='id -u; id -G; grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):" \
    /proc/self/status | tr -s "\t " " " | paste -sd,'
none="CapInh: 0000000000000000,CapPrm: 0000000000000000,CapEff: 0000000000000000,CapBnd: 0000000000000000,CapAmb: 0000000000000000,NoNewPrivs: 1"
ex "" "$st" "$X.def"
is "$(cat "$X.def.out")" "1000
1000
$none" "no uid: the default user, group mvm only, no capability, no_new_privs"
ex 2345 "$st" "$X.own"
is "$(cat "$X.own.out")" "2345
1000
$none" "uid 2345: that uid, group mvm only, no capability"
ex 0 "$st" "$X.root"
is "$(sed -n 1p "$X.root.out"; sed -n 3p "$X.root.out" | cut -d, -f3,4,6)" \
    "0
CapEff: 000001ffffffffff,CapBnd: 000001ffffffffff,NoNewPrivs: 0" \
    "uid 0: root, every capability"

# only the guest users' uids
out=$(agent hello send EXEC 20 '{"argv":["true"],"seccomp":"minimal","uid":1}' \
    recv 20 send EXEC 21 '{"argv":["true"],"seccomp":"minimal","uid":999}' \
    recv 21 send EXEC 22 '{"argv":["true"],"seccomp":"minimal","uid":1001}' \
    recv 22 send EXEC 23 '{"argv":["true"],"seccomp":"minimal","uid":3000}' \
    recv 23 send EXEC 24 '{"argv":["true"],"seccomp":"minimal","uid":-1}' \
    recv 24 send EXEC 25 '{"argv":["true"],"seccomp":"minimal","uid":"0"}' \
    recv 25 send EXEC 26 '{"argv":["true"],"seccomp":"minimal","uid":4294967296}' \
    recv 26 send DIR_PUT 27 '{"path":"/x","size":0,"uid":65534}' recv 27 \
    send FILE_END 27 '' ping '{}')
is "$(grep -c '^ERROR 2[0-7] {"code":"bad_request"' <<<"$out")" 8 \
    "uids 1, 999, 1001, 3000, -1, \"0\", 2^32 and a DIR_PUT's 65534: bad_request"
like "$out" '^PONG' "  ... and the agent goes on"

# a per-exec uid is one job's at a time
out=$(agent hello start '{"argv":["sleep","2"],"uid":2001}' "$X.u1" \
    send EXEC 30 '{"argv":["true"],"seccomp":"minimal","uid":2001}' recv 30 \
    exec '{"argv":["id","-u"],"uid":2002}' "$X.u2" wait "$X.u1" \
    exec '{"argv":["id","-u"],"uid":2001}' "$X.u3")
like "$out" '^ERROR 30 \{"code":"busy","message":"uid 2001 is in use"\}' \
    "uid 2001 while a job has it: busy"
is "$(cat "$X.u2.out") $(cat "$X.u3.out")" "2002 2001" \
    "  ... 2002 meanwhile, and 2001 once its job is done"

# no_new_privs: a set-uid root program gives a user nothing.  The ELF
# exits with its euid's low byte: 0 as root, 232 as uid 1000.
elf "$D/euid" b86b0000000f0589c7b83c0000000f05
agent hello put "$D/euid" /suid 755 >/dev/null
ex 0 'chown 0:0 /suid && chmod 4755 /suid && ls -ln /suid' "$X.mk"
like "$(cat "$X.mk.out")" '^-rwsr-xr-x +1 0 +0 ' "a set-uid root file (root made it)"
agent hello exec '{"argv":["/suid"],"seccomp":"unrestricted"}' "$X.suid" \
    >/dev/null
is "$(jq .code "$X.suid.exit")" 232 \
    "run by the user without a filter: its euid stays 1000"

# FILE_PUT: the default user's
printf 'x\n' >"$D/f"
agent hello put "$D/f" /home/mvm/f 640 put "$D/f" /f 600 >/dev/null
ex 0 'stat -c "%u %g %a" /home/mvm/f /f' "$X.fp"
is "$(cat "$X.fp.out")" "1000 1000 640
1000 1000 600" "FILE_PUT: mvm's files, with their modes"

# secret files: the job user's, 0400; parents 0711, root's
b64=$(printf 'sekrit-%s' "$RANDOM$RANDOM" | base64)
sec="{\"path\":\"/run/a/b/tok\",\"data\":\"$b64\"}"
out=$(agent hello start "{\"argv\":[\"sh\",\"-c\",\"cat /run/a/b/tok >/dev/null && sleep 3\"],\"uid\":2003,\"env\":{\"TOKV\":\"sekrit\"},\"files\":[$sec]}" "$X.s" \
    sleep 500 \
    exec '{"argv":["sh","-c","cat /run/a/b/tok; ls /run/a/b; grep -l TOKV= /proc/[0-9]*/environ; echo end"]}' "$X.spy1" \
    exec '{"argv":["sh","-c","cat /run/a/b/tok; grep -l TOKV= /proc/[0-9]*/environ; echo end"],"uid":2004}' "$X.spy2" \
    exec '{"argv":["sh","-c","stat -c \"%a %u %g\" /run/a /run/a/b /run/a/b/tok; p=$(pidof sleep); tr \"\\0\" \"\\n\" </proc/$p/environ | grep -c TOKV="],"uid":0}' "$X.rs" \
    wait "$X.s" \
    exec '{"argv":["ls","-A","/run/a/b"],"uid":0}' "$X.gone")
is "$(cat "$X.rs.out")" "711 0 0
711 0 0
400 2003 1000
1" "a secret file: 0400, uid 2003's, group mvm; parents 0711, root's"
is "$(cat "$X.spy1.out")" end \
    "the default user: not its file, not its directory, not its environment"
like "$(cat "$X.spy1.err")" "tok'?: Permission denied" "  ... permission denied"
is "$(cat "$X.spy2.out")" end "another per-exec uid (2004): the same"
is "$(jq .code "$X.s.exit")" 0 "the job read its own file"
is "$(cat "$X.gone.out")" "" "the file is gone after the job"
# a parent the user replaced with a link is not followed
ex "" 'mkdir -p /tmp/q && ln -s /etc /tmp/q/ln' "$X.ln"
out=$(agent hello exec "{\"argv\":[\"true\"],\"uid\":2005,\"files\":[{\"path\":\"/tmp/q/ln/x\",\"data\":\"$b64\"}]}" "$X.lnx" \
    exec '{"argv":["ls","/etc/x"],"uid":0}' "$X.etc")
like "$out" '^ERROR \{"code":"(denied|not_found)","message":"/tmp/q/ln/x: ' \
    "a secret file under a symlink a user made: denied"
is "$(jq .code "$X.etc.exit")" 1 "  ... nothing written through it"

# cgroups: what a job left is killed before its EXIT; then it is removed
ex "" 'sleep 1000 & setsid sleep 1001 & (trap "" HUP TERM; exec sleep 1002) &
    echo bg' "$X.bg"
is "$(cat "$X.bg.out")" bg "a job leaves a sleep, a setsid one, one ignoring TERM"
ex 0 'ps -o args | grep -c "^sleep 100[0-2]$"; ls /sys/fs/cgroup/mvm |
    grep -c "^j"' "$X.bgc"
is "$(cat "$X.bgc.out")" "0
1" "  ... all gone at its EXIT; its cgroup too (root's job's is the one)"
t0=$EPOCHREALTIME
agent hello exec '{"argv":["sh","-c","setsid sleep 1000 & sleep 1000"],"timeout_ms":500,"uid":2006}' "$X.to" >/dev/null
el=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print int((b - a) * 1000) }')
is "$(jq -c '[.timed_out, .signal]' "$X.to.exit")" '[true,9]' \
    "timeout_ms 500 ($el ms): SIGKILL"
ex 0 'ps -o args | grep -c "^sleep 1000$"' "$X.toc"
is "$(cat "$X.toc.out")" 0 "  ... and its setsid child too"
ex "" 'cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/pids.max' "$X.pm"
is "$(cat "$X.pm.out")" 1024 "a job may have 1024 processes and threads"
# the session ends: its jobs are killed, their cgroups removed
agent hello start '{"argv":["sh","-c","setsid sleep 1000 & sleep 1000"],"uid":2007}' \
    "$X.se" start '{"argv":["sleep","1000"]}' "$X.se2" reconnect 0 \
    hello sleep 400 \
    exec '{"argv":["sh","-c","ps -o args | grep -c \"^sleep 1000$\"; ls /sys/fs/cgroup/mvm | grep -c ^j"],"uid":0}' "$X.sec" >/dev/null
is "$(cat "$X.sec.out")" "0
1" "a new session: the old one's jobs, setsid too, and cgroups are gone"

# the knobs the agent set at boot
ex "" 'cat /proc/sys/fs/protected_symlinks /proc/sys/fs/protected_hardlinks \
    /proc/sys/fs/protected_fifos /proc/sys/fs/protected_regular
    unshare -U true || echo no userns' "$X.k"
is "$(paste -sd' ' "$X.k.out")" "1 1 1 1 no userns" \
    "protected symlinks, hardlinks, FIFOs, regular files; no user namespace"
ex 0 'unshare -U true && echo userns' "$X.kr"
is "$(cat "$X.kr.out")" userns "  ... which root may still make"

out=$(agent hello shutdown eof)
like "$out" '^OK \{\}' "SHUTDOWN"
is "$(grep -c . "$D/console")" 0 "the console stayed quiet"
