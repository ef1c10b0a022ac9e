# Host shares (--add-dir HOST:GUEST[:ro|rw]), with real guests: mvmctl
# reads the host directory and the guest sees it; under ro nothing comes
# back; under rw, after a clean exit, changed and new files and
# directories come back with their bytes and modes, renamed into place
# (no temporary left), files the guest did not touch are left alone and
# files it removed stay; a failed command brings nothing back.  Refused
# before any guest boots: ".." in HOST or GUEST, a host symlink that
# points outside, a FIFO, a tree over the bounds, and what the profile
# does not allow (restrictive: no shares, standard: ro only, dev: rw),
# the last with exit 120 and a policy.denied record of rule add-dir.  A
# symlink the guest makes to a host path is not written on the host
# (the agent leaves it out and says so), a directory swapped for a
# symlink on the host while the command runs is not written through,
# and a guest path through a symlink in the guest is refused.
# The host path is in no record, receipt or log: only its SHA-256.
. "$MVM_TOP/regress/lib.sh"
need_root policy-shares
need_image policy-shares

sv_start shr || { nok "supervisor starts"; exit 1; }
ok "supervisor starts"
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log
cd "$MVM_TMP" || exit 1

# unique host directory names, to look for in the evidence afterwards
TAG=hostdir-$RANDOM$RANDOM
RO=$MVM_TMP/$TAG-ro
RW=$MVM_TMP/$TAG-rw
OUT=$MVM_TMP/$TAG-outside
mkdir -p "$RO/sub/deeper" "$RW/sub" "$RW/keep" "$OUT"
printf 'hello from the host\n' > "$RO/hello.txt"
head -c 300000 /dev/urandom > "$RO/sub/blob"
printf 'x' > "$RO/sub/deeper/x"
chmod 0751 "$RO/sub"
chmod 0600 "$RO/hello.txt"
ln -s hello.txt "$RO/link"
ln -s ../hello.txt "$RO/sub/up"
printf 'old\n' > "$RW/change.txt"
printf 'untouched\n' > "$RW/keep/same.txt"
printf 'gone soon\n' > "$RW/remove.txt"
printf 'sub\n' > "$RW/sub/f"
printf 'secret outside\n' > "$OUT/passwd"

n_admitted() { grep -c '"type":"run.admitted"' "$LOG"; }
labels() {	# labels TYPE: the labels of the last record of that type
	grep "\"type\":\"$1\"" "$LOG" | tail -1 | jq -c .labels
}
digest() {	# digest DIR: a listing of paths, types, modes and bytes
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
		if [ -L "$p" ]; then
			echo "$p l $(readlink "$p")"
		elif [ -d "$p" ]; then
			echo "$p d $(stat -c %a "$p")"
		else
			echo "$p f $(stat -c %a "$p") $(sha256sum < "$p" |
			    cut -c1-16)"
		fi
	done)
}
# the same listing, made by the guest's busybox, of a guest directory
GDIGEST='cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
	if [ -L "$p" ]; then echo "$p l $(readlink "$p")"
	elif [ -d "$p" ]; then echo "$p d $(stat -c %a "$p")"
	else echo "$p f $(stat -c %a "$p") $(sha256sum < "$p" | cut -c1-16)"
	fi; done'

# ---- ro: the guest sees the tree as it is on the host
want=$(digest "$RO")
sum_ro=$(find "$RO" -exec stat -c '%n %Y %s' {} + | sort | sha256sum)
got=$($CTL run --receipt R1 --add-dir "$RO:/mnt/ro:ro" -- sh -c "
	set -- /mnt/ro; $GDIGEST
	echo changed > /mnt/ro/hello.txt; rm /mnt/ro/sub/blob
	echo new > /mnt/ro/new; mkdir /mnt/ro/newdir" </dev/null)
is $? 0 "ro: the command runs"
is "$got" "$want" "ro: the guest's tree is the host's (paths, types, modes, bytes, links)"
is "$(find "$RO" -exec stat -c '%n %Y %s' {} + | sort | sha256sum)" \
    "$sum_ro" "ro: what the guest changed did not come back"
is "$(labels share.put | jq -r '"\(.guest_path) \(.mode) \(.files) \(.outcome)"')" \
    "/mnt/ro ro 7 ok" "ro: share.put with guest path, mode, 7 entries"
tag=$(labels share.put | jq -r .host_path_tag)
like "$tag" '^[0-9a-f]{64}$' "share.put names the host path by a tag only"
isnt_plain() {
	[ "$1" != "$(printf '%s' "$(realpath "$2")" | sha256sum | cut -c1-64)" ]
}
check "... not the path's plain SHA-256, which a guess would confirm" \
    isnt_plain "$tag" "$RO"
check "ro: nothing came back (no share.returned)" \
    not grep -q '"type":"share.returned"' "$LOG"
is "$(labels run.admitted | jq -r .shares)" 1 "run.admitted counts the shares"
S=$(jq -r .payload R1 | base64 -d)
is "$(jq -c '.predicate.invocation.add_dirs[0] | [.guest_path, .mode, .files]' <<<"$S")" \
    '["/mnt/ro","ro",7]' "ro: the receipt lists the share"
is "$(jq -c .predicate.outcome.add_dirs <<<"$S")" "[]" \
    "ro: the receipt says nothing came back"
$CTL receipt verify R1 >/dev/null
is $? 0 "ro: the receipt verifies"

# ---- rw: changes, new files and directories come back
ino_keep=$(stat -c %i "$RW/keep/same.txt")
# permissive: mkfifo(2) is outside the tiers of the others
$CTL run --profile permissive --ack-permissive --receipt R2 --json \
    --add-dir "$RW:/work:rw" -- sh -c '
	cd /work || exit 3
	printf "new content\n" > change.txt
	printf "brand new\n" > added.txt; chmod 640 added.txt
	mkdir -m 750 newdir; mkdir newdir/inner
	printf "deep\n" > newdir/inner/f; chmod 604 newdir/inner/f
	ln -s ../change.txt newdir/rel
	ln -s /etc/passwd out
	rm remove.txt
	mkfifo fifo' > J2 2>E2 </dev/null
is $? 0 "rw: the command runs"
is "$(cat "$RW/change.txt")" "new content" "rw: a changed file came back"
is "$(cat "$RW/added.txt") $(stat -c %a "$RW/added.txt")" "brand new 640" \
    "rw: a new file came back with its mode"
is "$(stat -c %a "$RW/newdir") $(cat "$RW/newdir/inner/f") $(stat -c %a "$RW/newdir/inner/f")" \
    "750 deep 604" "rw: a new directory tree came back with its modes"
is "$(readlink "$RW/newdir/rel")" "../change.txt" \
    "rw: a new link inside the tree came back"
check "rw: the guest's link to /etc/passwd was not made on the host" \
    not test -e "$RW/out" -o -L "$RW/out"
check "rw: the guest's FIFO was not made on the host" \
    not test -e "$RW/fifo"
like "$(cat E2)" "2 entries stayed in the guest" \
    "rw: mvmctl says what stayed in the guest"
is "$(cat "$RW/remove.txt")" "gone soon" \
    "rw: a file removed in the guest stays on the host"
is "$(stat -c %i "$RW/keep/same.txt")" "$ino_keep" \
    "rw: a file the guest did not change was not rewritten"
is "$(find "$RW" -name '.mvmctl-share.*' | wc -l)" 0 \
    "rw: no temporary file left"
check "rw: nothing written outside" test "$(ls "$OUT")" = passwd
is "$(labels share.returned | jq -r '"\(.guest_path) \(.outcome) \(.skipped)"')" \
    "/work ok 2" "rw: share.returned, 2 entries left out"
is "$(labels run.exited | jq -r .shares_returned)" 1 \
    "run.exited counts the shares that came back"
S=$(jq -r .payload R2 | base64 -d)
is "$(jq -r '.predicate.outcome.add_dirs[0].stream_sha256' <<<"$S")" \
    "$(labels share.returned | jq -r .stream_sha256)" \
    "rw: the receipt's digest of what came back is the audit record's"
is "$(jq -r '.predicate.invocation.add_dirs[0].host_path_tag' <<<"$S")" \
    "$(labels share.put | tail -1 | jq -r .host_path_tag)" \
    "rw: the receipt names the host path by the tag of its record"
check "... not by its plain SHA-256" isnt_plain \
    "$(jq -r '.predicate.invocation.add_dirs[0].host_path_tag' <<<"$S")" \
    "$RW"
$CTL receipt verify R2 >/dev/null
is $? 0 "rw: the receipt verifies"
is "$(jq -c '.add_dirs[0] | [.mode, .back.written, .error]' J2)" \
    '["rw",6,null]' "--json: what came back and what was written"

# ---- a failed command brings nothing back
before=$(digest "$RW")
$CTL run --profile dev --add-dir "$RW:/work:rw" -- \
    sh -c 'echo lost > /work/change.txt; echo lost > /work/lost; exit 1' \
    </dev/null
is $? 1 "rw, exit 1: the command's status"
is "$(digest "$RW")" "$before" "rw, exit 1: nothing came back"
n_ret=$(grep -c '"type":"share.returned"' "$LOG")
is "$n_ret" 1 "rw, exit 1: no share.returned"

# ---- a directory swapped for a symlink meanwhile is not written through
mkdir -p "$RW/swap"
np=$(grep -c '"type":"share.put"' "$LOG")
$CTL run --profile dev --add-dir "$RW:/work:rw" -- sh -c '
	sleep 6; echo through > /work/swap/planted' </dev/null 2>E3 &
bg=$!
for _ in $(seq 600); do
	[ "$(grep -c '"type":"share.put"' "$LOG")" -gt "$np" ] && break
	sleep 0.1
done
mv "$RW/swap" "$RW/swap.orig" && ln -s "$OUT" "$RW/swap"
wait $bg
is $? 111 "a directory turned into a symlink on the host: exit 111"
check "... nothing written through it" not test -e "$OUT/planted"
like "$(cat E3)" "written back only in part: swap: Not a directory" \
    "... the message names the entry"
rm "$RW/swap"; mv "$RW/swap.orig" "$RW/swap"

# ---- refused before any guest boots
n0=$(n_admitted)
$CTL run --add-dir "$RO/../$TAG-ro:/mnt/x" -- true 2>ERR
is $? 2 "\"..\" in HOST: usage (2)"
like "$(cat ERR)" '"\.\." in HOST' "... says why"
$CTL run --add-dir "$RO:/mnt/../etc" -- true 2>ERR
is $? 2 "\"..\" in GUEST: usage (2)"
like "$(cat ERR)" '"\.\." in GUEST' "... says why"
$CTL run --add-dir "$RO:relative" -- true 2>/dev/null
is $? 2 "a relative GUEST: usage (2)"
$CTL run --add-dir "$RO:/a" --add-dir "$RW:/a/b" -- true 2>/dev/null
is $? 2 "one GUEST inside another: usage (2)"
BAD=$MVM_TMP/$TAG-bad
mkdir -p "$BAD/d"; echo x > "$BAD/d/f"
ln -s ../../$TAG-outside/passwd "$BAD/d/escape"
$CTL run --add-dir "$BAD:/mnt/bad" -- true 2>ERR
is $? 2 "a host symlink pointing outside: usage (2)"
like "$(cat ERR)" "d/escape is a symlink that points outside" \
    "... the message names it"
rm "$BAD/d/escape"; ln -s /etc/passwd "$BAD/abs"
$CTL run --add-dir "$BAD:/mnt/bad" -- true 2>/dev/null
is $? 2 "a host symlink to an absolute path: usage (2)"
rm "$BAD/abs"; mkfifo "$BAD/fifo"
$CTL run --add-dir "$BAD:/mnt/bad" -- true 2>ERR
is $? 2 "a FIFO in the host directory: usage (2)"
rm "$BAD/fifo"
mkdir "$BAD/many"; (cd "$BAD/many" && seq 10001 | xargs touch)
$CTL run --add-dir "$BAD:/mnt/bad" -- true 2>ERR
is $? 122 "more than 10000 entries: over the limits (122)"
cp ERR ERRHOST		# mvmctl's own message names the host path
rm -rf "$BAD/many"
$CTL run --add-dir "$MVM_TMP/nosuchdir:/mnt/x" -- true 2>/dev/null
is $? 2 "a HOST that is not there: usage (2)"
$CTL up g0 --add-dir "$RO:/mnt/x" 2>/dev/null
is $? 2 "up --add-dir: usage (2)"
is "$(n_admitted)" "$n0" "none of them ran"

# ---- the profile decides, before any guest boots
deny() {	# deny PROFILE MODE
	local n0 n1
	n0=$(grep -c '"type":"policy.denied"' "$LOG")
	out=$($CTL run --profile "$1" --add-dir "$RO:/mnt/x:$2" -- true 2>&1)
	is $? 120 "$1, $2 share: denied (120)"
	like "$out" "profile $1" "$1, $2 share: the message names the profile"
	for _ in $(seq 50); do
		n1=$(grep -c '"type":"policy.denied"' "$LOG")
		[ "$n1" -gt "$n0" ] && break
		sleep 0.1
	done
	check "$1, $2 share: policy.denied with rule add-dir" grep -q \
	    "\"labels\":{\"mode\":\"run\",\"profile\":\"$1\",\"rule\":\"add-dir\",\"uid\":0}.*\"type\":\"policy.denied\"" \
	    <(tail -n $((n1 - n0)) "$LOG")
}
n0=$(n_admitted)
deny restrictive ro
deny restrictive rw
deny standard rw
j=$($CTL run --add-dir "$RW:/w:rw" --json -- true 2>/dev/null)
is "$?:$(jq -r .error.type <<<"$j")" "120:policy" \
    "the default profile (standard), rw: denied, --json error type policy"
is "$(n_admitted)" "$n0" "no denied run was admitted"
# standard ro and dev rw ran above
is "$(grep -c '"profile":"standard".*"shares":1.*"type":"run.admitted"' "$LOG")" \
    1 "standard allowed ro"
check "dev allowed rw" grep -q \
    '"profile":"dev".*"shares":1.*"type":"run.admitted"' "$LOG"
check "permissive allowed rw" grep -q \
    '"profile":"permissive".*"shares":1.*"type":"run.admitted"' "$LOG"

# ---- exec in a named guest, rw; its profile decides
$CTL up g1 --profile dev >/dev/null; is $? 0 "up g1 --profile dev"
printf 'one\n' > "$RW/exec.txt"
$CTL exec g1 --add-dir "$RW:/srv/w:rw" -- \
    sh -c 'cat /srv/w/exec.txt; echo two >> /srv/w/exec.txt' </dev/null >O
is "$?:$(cat O)" "0:one" "exec --add-dir: the guest sees the file"
is "$(tr '\n' ' ' < "$RW/exec.txt")" "one two " "exec --add-dir rw: it came back"
OTHER=$MVM_TMP/$TAG-other
mkdir -p "$OTHER"; printf 'other\n' > "$OTHER/o.txt"
got=$($CTL exec g1 --add-dir "$OTHER:/srv/w:rw" -- ls /srv/w </dev/null)
is "$?:$got" "0:o.txt" \
    "exec: the same guest path again holds the new tree and nothing else"
is "$(ls "$OTHER")" "o.txt" "... so nothing of the first share came back into the second"
# (where the command's user may make a link: its home)
$CTL exec g1 -- ln -s /etc /home/mvm/link </dev/null
is $? 0 "the guest makes a link to /etc"
$CTL exec g1 --add-dir "$OTHER:/home/mvm/link/sub" -- true </dev/null 2>ERR
is $? 111 "a guest path through a symlink in the guest: refused (111)"
like "$(cat ERR)" "did not take it" "... the guest said it did not take it"
is "$($CTL exec g1 -- sh -c 'test -e /etc/sub && echo yes || echo no' \
    </dev/null)" no "... and nothing was made where the link points"
$CTL stop g1 >/dev/null; $CTL rm g1 >/dev/null
$CTL up g2 >/dev/null
$CTL exec g2 --add-dir "$RW:/srv/w:rw" -- true </dev/null 2>/dev/null
is $? 120 "exec rw in a standard guest: denied"
$CTL stop g2 >/dev/null; $CTL rm g2 >/dev/null

# ---- the host paths are in no evidence
$CTL audit checkpoint > C
$CTL audit verify >/dev/null
is $? 0 "audit verify"
for f in "$LOG" "$SV_DIR/audit/local/checkpoints" R1 R2 J2 C; do
	check "no host path in ${f##*/}" not grep -qF "$TAG" "$f"
done
for r in R1 R2; do
	check "no host path in the statement of $r" not grep -qF "$TAG" \
	    <(jq -r .payload $r | base64 -d)
done
check "no host path anywhere in the state dir" \
    not grep -rqF "$TAG" "$SV_DIR"
# the search can fail: the host path is in mvmctl's own messages
check "the search finds a host path where one is" grep -qF "$TAG" ERRHOST
sv_stop
is "$SV_RC" 0 "supervisor stops cleanly"
check "no host path in the supervisor's log" not grep -qF "$TAG" "$SV_LOG"
no_leftovers "after the share runs"
