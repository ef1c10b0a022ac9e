# mvmctl run and exec in real QEMU guests (TCG here): exit statuses,
# byte-exact stdio, stdin, large output, timeouts, signals, Ctrl-C, and
# nothing left behind.
. "$MVM_TOP/regress/lib.sh"
need_root guest-run
need_image guest-run

sv_start run || { nok "supervisor starts"; exit 1; }
ok "supervisor starts"
CTL=$MVMCTL

# throwaway guests: the exit status is the command's
$CTL run -- true; is $? 0 "run true: 0"
$CTL run -- sh -c 'exit 1'; is $? 1 "run exit 1: 1"
out=$($CTL run -- sh -c 'echo out; echo err >&2; exit 42' 2>"$MVM_TMP/err")
is $? 42 "run exit 42: 42"
is "$out" "out" "stdout comes back on stdout"
is "$(cat "$MVM_TMP/err")" "err" "stderr comes back on stderr"

# the command really runs in a VM: another kernel (the image's), another
# boot, a QEMU CPU, the guest's memory, and our agent as PID 1's child
inside=$($CTL run -- sh -c 'uname -r; cat /proc/sys/kernel/random/boot_id;
    grep -m1 "model name" /proc/cpuinfo; awk "/MemTotal/ {print \$2}" /proc/meminfo')
is "$(sed -n 1p <<<"$inside")" \
    "$(jq -r .kernel_version "$MVM_IMAGES/default/manifest.json")" \
    "in the guest, uname -r is the image's kernel"
check "the guest has its own boot id (host: another kernel instance)" \
    test "$(sed -n 2p <<<"$inside")" != "$(cat /proc/sys/kernel/random/boot_id)"
like "$(sed -n 3p <<<"$inside")" "QEMU Virtual CPU|KVM" "the CPU is QEMU's"
check "the guest's memory is the configured 256 MiB, not the host's" \
    test "$(sed -n 4p <<<"$inside")" -lt 262144
no_leftovers "after throwaway runs"

# one named guest for the rest (dev, --guest-root: writing the console
# below takes root)
$CTL up g1 --profile dev --guest-root >/dev/null; is $? 0 "up g1"
st=$($CTL ls --json | jq -r '.[] | select(.name=="g1") | .state')
is "$st" running "ls shows g1 running"

head -c 300000 /dev/urandom > "$MVM_TMP/bin"
printf 'a\0b\0\0c\377\n' >> "$MVM_TMP/bin"
$CTL exec g1 -- cat < "$MVM_TMP/bin" > "$MVM_TMP/bin.out"
is "$(sha256sum < "$MVM_TMP/bin.out")" "$(sha256sum < "$MVM_TMP/bin")" \
    "stdin to stdout: binary data with NUL bytes, byte-exact"
$CTL exec g1 -- sh -c 'cat >&2' < "$MVM_TMP/bin" 2> "$MVM_TMP/bin.err"
is "$(sha256sum < "$MVM_TMP/bin.err")" "$(sha256sum < "$MVM_TMP/bin")" \
    "stdin to stderr: byte-exact"
h=$($CTL exec g1 -- head -c 10485760 /dev/zero < /dev/null | sha256sum)
is "$h" "$(head -c 10485760 /dev/zero | sha256sum)" "10 MiB of output, byte-exact"
n=$($CTL exec g1 -- sh -c 'head -c 4194304 /dev/urandom >&2' 2>&1 \
    </dev/null >/dev/null | wc -c)
is "$n" 4194304 "4 MiB on stderr, every byte"

t0=$SECONDS
$CTL exec g1 --timeout 2 -- sleep 60 </dev/null
rc=$?
is $rc 124 "timeout: status 124"
check "timeout: within bounds ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -lt 20
$CTL exec g1 -- sh -c 'kill -9 $$' </dev/null; is $? 137 "killed by SIGKILL: 137"
$CTL exec g1 -- sh -c 'kill -15 $$' </dev/null; is $? 143 "killed by SIGTERM: 143"
$CTL exec g1 -- /no/such/command </dev/null 2>"$MVM_TMP/nf"
is $? 127 "command not in the guest: 127"
out=$($CTL exec g1 --env FOO=bar --workdir /tmp -- sh -c 'echo $FOO; pwd' \
    </dev/null)
is "$out" "bar
/tmp" "--env and --workdir reach the command"

# Ctrl-C: the client exits 130, the command is killed, the guest lives
$CTL exec g1 -- sleep 60 </dev/null & cp=$!
sleep 2
kill -INT $cp
wait $cp
is $? 130 "Ctrl-C: status 130"
is "$($CTL exec g1 -- sh -c 'ps -o comm | grep -c "^sleep$"' </dev/null)" 0 \
    "Ctrl-C killed the command in the guest"

# cp both ways, logs, boot report
printf 'to the guest\n' > "$MVM_TMP/cpin"
$CTL cp "$MVM_TMP/cpin" g1:/tmp/cpin; is $? 0 "cp host to guest"
is "$($CTL exec g1 -- cat /tmp/cpin </dev/null)" "to the guest" \
    "the file is in the guest"
$CTL exec g1 -- sh -c 'printf "from the guest" > /tmp/out; chmod 640 /tmp/out' \
    </dev/null
$CTL cp g1:/tmp/out "$MVM_TMP/cpout"; is $? 0 "cp guest to host"
is "$(cat "$MVM_TMP/cpout")" "from the guest" "the file is on the host"
is "$(stat -c %a "$MVM_TMP/cpout")" 640 "with its mode"
$CTL cp g1:/no/such/file "$MVM_TMP/nothing" 2>/dev/null
is $? 127 "cp of a missing guest file: 127"
check "no partial file left on the host" not test -e "$MVM_TMP/nothing"
rep=$($CTL boot-report g1 --json)
is "$(jq -r .backend.accel <<<"$rep")" "$(sv_accel)" \
    "boot report names the accel"
like "$(jq -r .backend.qemu <<<"$rep")" '^[0-9]+\.[0-9]+\.[0-9]+$' \
    "boot report has QEMU's version"
is "$(jq -r .backend.kernel_sha256 <<<"$rep")" \
    "$(jq -r .kernel.sha256 "$MVM_IMAGES/default/manifest.json")" \
    "boot report has the kernel's sha256"
is "$(jq -r .backend.initramfs_sha256 <<<"$rep")" \
    "$(jq -r .initramfs.sha256 "$MVM_IMAGES/default/manifest.json")" \
    "boot report has the initramfs's sha256"
check "boot phases are in order" jq -e \
    '.phases_ms | (.console == null or
     (.qemu <= .console and .console <= .agent_hello)) and
     .qemu <= .agent_hello and .agent_hello <= .ready and .ready > 0' \
    <<<"$rep" >/dev/null
like "$(jq -r .agent <<<"$rep")" "^mvm-agent " "boot report has the agent version"
like "$($CTL boot-report g1)" "tcg|kvm" "text report names the accel"
$CTL exec g1 --guest-root -- sh -c 'echo console-marker-4711 > /dev/console' \
    </dev/null
like "$($CTL logs g1 | head -c 100000)" "console-marker-4711" \
    "logs shows what the guest wrote on its console"

$CTL stop g1; is $? 0 "stop g1"
is "$($CTL ls --json | jq -r '.[] | select(.name=="g1") | .state')" stopped \
    "g1 is stopped"
$CTL rm g1; is $? 0 "rm g1"
is "$($CTL ls --json | jq length)" 0 "no guests left"
no_leftovers "after up, exec, stop, rm"

# the throwaway guest of an interrupted run goes away
$CTL run -- sleep 60 </dev/null & cp=$!
sleep 6
kill -INT $cp
wait $cp
is $? 130 "Ctrl-C during run: 130"
sleep 1
no_leftovers "after an interrupted run"
sv_stop
is "$SV_RC" 0 "supervisor stops cleanly"
