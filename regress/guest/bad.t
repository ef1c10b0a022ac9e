# Bad input is a clear, typed error with its own exit status, and
# leaves nothing behind: unknown image, damaged image, missing QEMU,
# argv and env over the limits, unknown guest, duplicate name.  Also:
# no argv, env value or output ever reaches the audit log.
. "$MVM_TOP/regress/lib.sh"
need_root guest-bad
need_image guest-bad

sv_start bad || { nok "supervisor starts"; exit 1; }
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log

out=$($CTL run --image nosuch -- true 2>&1); rc=$?
is $rc 121 "unknown image: 121"
like "$out" "no such image" "unknown image: says so"

big=$(head -c 70000 /dev/zero | tr '\0' a)
out=$($CTL run -- echo "$big" "$big" 2>&1); rc=$?
is $rc 122 "argv over the limit: 122"
like "$out" "at most" "argv over the limit: says the limit"
args=$(seq 1100)
$CTL run -- echo $args >/dev/null 2>&1; is $? 122 "more than 1024 arguments: 122"
envs=""
for i in $(seq 260); do envs="$envs --env K$i=v"; done
$CTL run $envs -- true >/dev/null 2>&1; is $? 122 "more than 256 --env: 122"
$CTL run --env 1BAD=x -- true >/dev/null 2>&1; is $? 2 "bad env key: usage error 2"
$CTL run --memory 999999 -- true >/dev/null 2>&1; is $? 122 "memory over the limit: 122"
$CTL exec nosuch -- true >/dev/null 2>&1; is $? 117 "exec in an unknown guest: 117"
$CTL stop nosuch >/dev/null 2>&1; is $? 117 "stop an unknown guest: 117"
$CTL boot-report nosuch >/dev/null 2>&1; is $? 117 "boot-report of an unknown guest: 117"
$CTL up dup >/dev/null; is $? 0 "up dup"
$CTL up dup >/dev/null 2>&1; is $? 123 "up with a name in use: 123"
$CTL rm dup >/dev/null 2>&1; is $? 114 "rm of a running guest: refused (114)"
$CTL stop dup >/dev/null; $CTL rm dup >/dev/null
no_leftovers "after refused requests"

# a damaged image: the kernel no longer matches its manifest
cp -r "$MVM_IMAGES/default" "$MVM_TMP/dmg-default"
mkdir -p "$MVM_TMP/imgs"
cp -r "$MVM_IMAGES/default" "$MVM_TMP/imgs/default"
printf 'x' >> "$MVM_TMP/imgs/default/initramfs.cpio"
sv_stop
sv_start bad2 ", \"images_dir\": \"$MVM_TMP/imgs\"" 2>/dev/null ||
    nok "supervisor with a damaged image starts"
$MVMCTL run -- true >/dev/null 2>&1; is $? 119 "image not as its manifest says: 119"
rm "$MVM_TMP/imgs/default/vmlinux"
$MVMCTL run -- true >/dev/null 2>&1; is $? 119 "image without its kernel: 119"
no_leftovers "after a damaged image"
sv_stop

# QEMU missing
sv_start bad3 ', "qemu": "/nonexistent/qemu-system-x86_64"' ||
    nok "supervisor without QEMU starts"
$MVMCTL run -- true >/dev/null 2>&1; is $? 118 "QEMU missing: 118"
no_leftovers "after QEMU missing"
sv_stop

# canaries: argv, an env value and the output never reach evidence
sv_start canary || nok "supervisor starts"
C1=canary-argv-5d1f0e C2=canary-env-9a7b3c C3=canary-out-4c2e8d
out=$($MVMCTL run --env SECRETISH=$C2 -- sh -c "echo $C1 >/dev/null; echo \$SECRETISH-ignored; echo $C3" 2>&1)
like "$out" "$C3" "the canary output reached stdout"
sv_stop
for c in $C1 $C2 $C3; do
	check "$c not in the audit log" not grep -q "$c" "$SV_DIR/audit/local/log"
	check "$c not in the checkpoints" \
	    not grep -q "$c" "$SV_DIR/audit/local/checkpoints"
	check "$c not in the supervisor's log" not grep -q "$c" "$SV_LOG"
done
like "$(grep '"type":"run.admitted"' "$SV_DIR/audit/local/log")" \
    '"argv_sha256":"[0-9a-f]{64}".*"env_keys":"SECRETISH"' \
    "run.admitted records the argv hash and the env key name only"
like "$(grep '"type":"run.exited"' "$SV_DIR/audit/local/log")" \
    '"stdout_sha256":"[0-9a-f]{64}"' "run.exited records the output's hash"
