# The default guest image: the manifest tells the truth, a rebuild from
# the cached kernel package gives the same bytes, the kernel can boot
# through PVH, mvm-agent is a hardened static PIE, and the marker image
# boots to its marker.
. "$MVM_TOP/regress/lib.sh"
. "$MVM_TOP/regress/guest/guest.sh"
# the agent and marker are static: always the release build, where
# make image made them (a sanitizer build cannot link statically)
IMGBUILD=$(dirname "$MVM_IMAGES")

guest_need_image
M=$GUEST_IMG/manifest.json

json_ok() { jq -e . "$1" >/dev/null 2>&1; }
check "manifest.json is JSON" json_ok "$M"
is "$(jq -r .name "$M")" default "manifest: name"
for k in kernel bzimage initramfs; do
	f=$GUEST_IMG/$(jq -r ".$k.file" "$M")
	is "$(sha256sum <"$f" | cut -c1-64)" "$(jq -r ".$k.sha256" "$M")" \
	    "manifest: $k sha256 matches $(basename "$f")"
done
like "$(jq -r .created "$M")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' \
    "manifest: created is RFC 3339 UTC"
kver=$(jq -r .kernel_version "$M")
check "vmlinux is Linux $kver" \
    grep -qa "Linux version $kver " "$GUEST_IMG/vmlinux"
check "vmlinux has a PVH entry note (Xen type 0x12)" \
    grep -q '(0x00000012)' <<<"$(readelf -n "$GUEST_IMG/vmlinux")"

# the same inputs give the same files; nothing is downloaded again
R=$MVM_TMP/rebuild
out=$(MVM_AGENT=$IMGBUILD/mvm-agent bash "$MVM_TOP/guest/mkimage.sh" "$R" 2>&1)
check "rebuild from the cache succeeds" test -f "$R/manifest.json"
unlike "$out" downloading "rebuild downloads nothing"
for k in kernel bzimage initramfs; do
	is "$(jq -r ".$k.sha256" "$R/manifest.json")" \
	    "$(jq -r ".$k.sha256" "$M")" "rebuild: same $k"
done

# the initramfs: /init, busybox, modules in load order
if command -v cpio >/dev/null; then
	list=$(cpio -it --quiet <"$GUEST_IMG/initramfs.cpio")
	for e in init bin/busybox bin/sh dev/console etc/mvm/modules \
	    etc/passwd proc sys tmp run root; do
		check "initramfs has /$e" grep -qx "$e" <<<"$list"
	done
	mods=$(cd "$MVM_TMP" && cpio -i --quiet --to-stdout etc/mvm/modules \
	    <"$GUEST_IMG/initramfs.cpio" | sed 's|.*/||; s|\.ko$||' |
	    tr '\n' ' ')
	is "$mods" "virtio_ring virtio virtio_mmio virtio_console " \
	    "/etc/mvm/modules: what the agent port needs, dependency order"
	late=$(cd "$MVM_TMP" && cpio -i --quiet --to-stdout \
	    etc/mvm/modules.late <"$GUEST_IMG/initramfs.cpio" |
	    sed 's|.*/||; s|\.ko$||' | tr '\n' ' ')
	is "$late" "virtio_blk virtio-rng " \
	    "/etc/mvm/modules.late: the rest, loaded after the port opens"
	ko=$(cd "$MVM_TMP" && cpio -i --quiet --to-stdout \
	    "$(cpio -it --quiet <"$GUEST_IMG/initramfs.cpio" |
	    grep -m1 'virtio_ring.ko$')" <"$GUEST_IMG/initramfs.cpio" | tail -c 28)
	check "modules carry no appended signature (checked by the image hash)" \
	    not grep -q "Module signature appended" <<<"$ko"
	missing=0
	while read -r m; do
		grep -qx "${m#/}" <<<"$list" || missing=$((missing + 1))
	done < <(cd "$MVM_TMP" && cpio -i --quiet --to-stdout \
	    etc/mvm/modules <"$GUEST_IMG/initramfs.cpio")
	is "$missing" 0 "every listed module is in the initramfs"
else
	skip "initramfs contents: cpio not installed"
fi

# mvm-agent: static, PIE, full RELRO, non-executable stack
A=$IMGBUILD/mvm-agent
check "mvm-agent: no program interpreter (static)" \
    not grep -q INTERP <<<"$(readelf -lW "$A")"
check "mvm-agent: ELF type DYN (static-pie)" \
    grep -q 'Type:.*DYN' <<<"$(readelf -h "$A")"
check "mvm-agent: GNU_RELRO and BIND_NOW" \
    grep -q BIND_NOW <<<"$(readelf -dW "$A")"
check "mvm-agent: non-executable stack" \
    not grep -qE 'GNU_STACK.*RWE' <<<"$(readelf -lW "$A")"
syms=$(nm "$A" 2>/dev/null)
check "mvm-agent: stack protector (__stack_chk_fail)" \
    grep -q ' __stack_chk_fail$' <<<"$syms"
check "mvm-agent: fortified libc calls (__*_chk)" \
    grep -qE ' T __[a-z]+_chk$' <<<"$syms"

# the seccomp tiers' BPF programs are made at build time (mktiers, from
# guest/tiers.h): the agent has no libseccomp, the generated header is
# what mktiers makes now, and the agent carries its programs
G=$IMGBUILD/gen
check "mvm-agent: no libseccomp in it" \
    not grep -qE ' seccomp_(init|export_bpf)$' <<<"$syms"
check "tierbpf.h is newer than guest/tiers.h" \
    test "$G/tierbpf.h" -nt "$MVM_TOP/guest/tiers.h"
check "tierbpf.h is what mktiers makes of guest/tiers.h" \
    cmp -s "$G/tierbpf.h" <("$G/mktiers")
# tier_hex NAME: the program tier_bpf_NAME of tierbpf.h as the bytes of
# its struct sock_filter array (little-endian), in hex
tier_hex() {
	local code jt jf k
	sed -n "/ tier_bpf_$1\[\] = {/,/^};/p" "$G/tierbpf.h" |
	    grep '^	{ 0x' | tr -d '{},' | while read -r code jt jf k; do
		printf '%02x%02x%02x%02x%02x%02x%02x%02x' $((code & 255)) \
		    $((code >> 8)) "$jt" "$jf" $((k & 255)) \
		    $((k >> 8 & 255)) $((k >> 16 & 255)) $((k >> 24 & 255))
	done
}
ahex=$(od -An -v -tx1 "$A" | tr -d ' \n')
for t in essential minimal standard network; do
	h=$(tier_hex "$t")
	check "mvm-agent carries the $t program of tierbpf.h" \
	    grep -qF -- "${h:-none}" <<<"$ahex"
done

# the marker image boots to its marker and powers off
if ! command -v qemu-system-x86_64 >/dev/null; then
	skip "marker boot: qemu-system-x86_64 not installed"
	exit 0
fi
make -s -C "$MVM_TOP" build/mvm-marker >/dev/null 2>&1
MK=$MVM_TMP/marker
out=$(MVM_MARKER=$IMGBUILD/mvm-marker MVM_IMAGE=$GUEST_IMG \
    bash "$MVM_TOP/guest/mkmarker.sh" "$MK" 2>&1)
check "mkmarker.sh builds the marker image" test -f "$MK/manifest.json"
GUEST_IMG=$MK
t0=$EPOCHREALTIME
guest_boot "$MVM_TMP/mboot"
gone=no
for _ in $(seq 300); do
	kill -0 "$GUEST_PID" 2>/dev/null || { gone=yes; break; }
	sleep 0.05
done
el=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
is "$gone" yes "marker guest powers off by itself ($el s)"
is "$(tr -d '\r' <"$MVM_TMP/mboot/console")" MVM-MARKER-OK \
    "marker guest prints MVM-MARKER-OK, and only that"
