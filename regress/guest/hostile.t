# Guests that misbehave end as failed, with a reason and an audit
# record, and take nothing else down: one that writes garbage on the
# agent channel, one whose kernel panics, one that hangs at boot.  The
# images come from mvmctl image build (a layer whose /init replaces the
# agent), which this also tests.
. "$MVM_TOP/regress/lib.sh"
need_root guest-hostile
need_image guest-hostile

# its own images dir (hard links to the default image): built images
# must not land in the shared one
mkdir -p "$MVM_TMP/imgs"
cp -al "$MVM_IMAGES/default" "$MVM_TMP/imgs/default"
sv_start hostile ", \"boot_timeout_s\": 8, \"images_dir\": \"$MVM_TMP/imgs\"" ||
    { nok "supervisor starts"; exit 1; }
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log

# a guest that loads the virtio modules, finds the agent port and
# writes garbage on it instead of speaking the protocol
mk_layer() {
	mkdir -p "$MVM_TMP/$1"
	cat > "$MVM_TMP/$1/init"
	chmod 755 "$MVM_TMP/$1/init"
}
mk_layer evil <<'EOF'
#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
while read m; do insmod "$m" 2>/dev/null; done < /etc/mvm/modules
for i in $(seq 100); do
	for p in /sys/class/virtio-ports/*; do
		[ "$(cat $p/name 2>/dev/null)" = mvm.agent.0 ] &&
		    port=/dev/${p##*/}
	done
	[ -n "$port" ] && break
	sleep 0.1
done
while :; do printf '\377\377\377\377garbage' > "$port"; sleep 0.2; done
EOF
mk_layer panic <<'EOF'
#!/bin/sh
echo "mvm test: init exits now"
exit 1
EOF
mk_layer hang <<'EOF'
#!/bin/sh
exec sleep 100000
EOF
for i in evil panic hang; do
	$CTL image build $i --from "$MVM_TMP/$i" >/dev/null
	is $? 0 "image build $i"
done
is "$($CTL image ls --json | jq -r '[.[].name] | sort | join(" ")')" \
    "default evil hang panic" "image ls lists the built images"
is "$($CTL image ls --json | jq -r '.[] | select(.name=="evil") | .state')" \
    ok "built image verifies against its manifest"
$CTL image build evil --from "$MVM_TMP/evil" 2>/dev/null
is $? 123 "building an existing image name again: refused (123)"
check "image.built is recorded" grep -q '"type":"image.built"' "$LOG"

$CTL up bystander >/dev/null || nok "bystander guest starts"
bpid=$($CTL ls --json | jq -r '.[] | select(.name=="bystander") | .vmm_pid')

# garbage on the channel: failed, protocol, the rest carries on
$CTL run --image evil -- true 2>"$MVM_TMP/evil.err"
is $? 126 "garbage on the agent channel: the run fails (126)"
like "$(cat "$MVM_TMP/evil.err")" "protocol|HELLO|malformed" \
    "and says the guest broke the protocol"
like "$(grep '"type":"guest.failed"' "$LOG" | tail -1)" '"reason":"protocol"' \
    "guest.failed records reason protocol"
check "supervisor still up" $CTL status
is "$($CTL exec bystander -- echo alive </dev/null)" alive \
    "the other guest still runs commands"
is "$($CTL ls --json | jq -r '.[] | select(.name=="bystander") | .vmm_pid')" \
    "$bpid" "the other guest's vmm was not touched"

# kernel panic (init exits)
$CTL run --image panic -- true 2>"$MVM_TMP/panic.err"
is $? 126 "kernel panic: the run fails (126)"
like "$(grep '"type":"guest.failed"' "$LOG" | tail -1)" \
    '"reason":"(panic|qemu_exit)"' "guest.failed records the panic"

# hang at boot: the boot timeout ends it
t0=$SECONDS
$CTL run --image hang -- true 2>"$MVM_TMP/hang.err"
is $? 126 "hang at boot: the run fails (126)"
check "within the boot timeout and its grace ($((SECONDS - t0)) s)" \
    test $((SECONDS - t0)) -lt 30
like "$(grep '"type":"guest.failed"' "$LOG" | tail -1)" \
    '"reason":"boot_timeout"' "guest.failed records the boot timeout"

$CTL stop bystander >/dev/null
$CTL rm bystander >/dev/null
no_leftovers "after the hostile guests"
