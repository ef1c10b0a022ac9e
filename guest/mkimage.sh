#!/bin/bash
# mkimage.sh OUTDIR: build the default mvm guest image into OUTDIR.
#
#	vmlinux		the uncompressed kernel, booted through its PVH entry
#	bzImage		the same kernel as Debian ships it
#	initramfs.cpio	newc, uncompressed: /init = mvm-agent, busybox,
#			the virtio modules and /etc/mvm/modules
#	manifest.json	names, SHA-256s, kernel version, agent version
#
# The kernel is Debian's cloud kernel (the package linux-image-cloud-amd64
# depends on), fetched with "apt-get download" into the cache directory
# once per version and never installed on the host.  The same inputs
# give the same files byte for byte.
#
# Environment: MVM_CACHE (default build/cache), MVM_AGENT (default
# build/mvm-agent), MVM_BUSYBOX (default /bin/busybox), SOURCE_DATE_EPOCH
# (for "created"; default now).
# Exit status: 0, 1 on error, 2 if no kernel package can be had
# (offline and nothing cached).
set -euo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/guest/newc.sh"

META=linux-image-cloud-amd64
# what the agent channel needs, loaded before the agent looks for its
# port; the rest is loaded in the background once the port is open
MODULES="virtio_mmio virtio_console"
MODULES_LATE="virtio_blk virtio_rng"
AGENT_VERSION="mvm-agent ${MVM_VERSION:-0.1.0}"

die() { echo "mkimage: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: mkimage.sh OUTDIR" >&2; exit 1; }
out=$1
cache=${MVM_CACHE:-$top/build/cache}
agent=${MVM_AGENT:-$top/build/mvm-agent}
busybox=${MVM_BUSYBOX:-/bin/busybox}
for t in dpkg-deb depmod modprobe lz4 sha256sum; do
	command -v "$t" >/dev/null || die "$t is missing (make deps)"
done
[ -x "$agent" ] || die "$agent: not built (make $agent)"
[ -x "$busybox" ] || die "$busybox: missing (busybox-static)"

# pkg_field PKG FIELD: a field of the candidate version, from apt's lists
pkg_field() {
	apt-cache show --no-all-versions "$1" 2>/dev/null |
	    awk -v f="$2:" '$1 == f { print $2; exit }'
}

# kernel_deb: print the path of the kernel package in the cache,
# downloading it if this version is not there yet.
kernel_deb() {
	local pkg ver sha deb
	pkg=$(apt-cache depends "$META" 2>/dev/null |
	    awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
	if [ -n "$pkg" ]; then
		ver=$(pkg_field "$pkg" Version)
		sha=$(pkg_field "$pkg" SHA256)
		deb=$cache/${pkg}_${ver//:/%3a}_amd64.deb
		if [ ! -f "$deb" ]; then
			echo "mkimage: downloading $pkg $ver" >&2
			(cd "$cache" && apt-get download -q "$pkg=$ver" \
			    >&2) || rm -f "$deb"
		fi
		if [ -f "$deb" ] && [ -n "$sha" ] &&
		    [ "$(sha256sum <"$deb" | cut -c1-64)" != "$sha" ]; then
			rm -f "$deb"
			die "$deb: SHA-256 differs from the archive's; removed"
		fi
		[ -f "$deb" ] && { echo "$deb"; return 0; }
	fi
	# offline: the newest cached one, if any
	deb=$(ls "$cache"/linux-image-*-cloud-amd64_*_amd64.deb 2>/dev/null |
	    sort -V | tail -n 1)
	[ -n "$deb" ] || return 1
	echo "mkimage: cannot reach the archive; using cached $deb" >&2
	echo "$deb"
}

# extract_vmlinux BZIMAGE OUT: the LZ4 payload of a bzImage,
# uncompressed; tries each LZ4 legacy-frame magic until one yields ELF
extract_vmlinux() {
	local off
	for off in $(grep -obUaP '\x02\x21\x4c\x18' "$1" | cut -d: -f1); do
		tail -c +$((off + 1)) "$1" | lz4 -dcq >"$2" 2>/dev/null || true
		[ "$(head -c 4 "$2" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] &&
		    return 0
	done
	return 1
}

# module_order ROOT KVER NAMES: module files, dependencies first, once each
module_order() {
	local m
	for m in $3; do
		modprobe -d "$1" -S "$2" --show-depends "$m" ||
		    die "module $m not in the kernel package"
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

# unsign FILE: drop a module's appended signature, in place.  Debian
# signs its modules, and the kernel checks each signature as the module
# loads (an RSA verify, slow under TCG).  The initramfs that carries them
# is hashed in the manifest and checked before every boot, and the
# package they come from is checked against apt's SHA256, so the
# per-module signature adds nothing here but boot time.
unsign() {
	local f=$1 len siglen
	[ "$(tail -c 28 "$f")" = "~Module signature appended~" ] || return 0
	len=$(stat -c %s "$f")
	siglen=$(tail -c 32 "$f" | head -c 4 | od -An -tu1 |
	    awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
	head -c $((len - 28 - 12 - siglen)) "$f" >"$f.unsigned"
	mv "$f.unsigned" "$f"
}

# add_dirs SPEC PATH: "d" lines for PATH and each of its parents
add_dirs() {
	local p=$2
	while [ -n "$p" ] && [ "$p" != . ]; do
		printf '%s\td\t755\n' "$p" >>"$1"
		p=$(dirname "$p")
	done
}

# write_spec SPEC KVER ROOT MODLIST: the initramfs entries
write_spec() {
	local spec=$1 kver=$2 root=$3 modlist=$4 d a f rel
	: >"$spec"
	for d in bin sbin usr/bin usr/sbin etc/mvm proc sys dev tmp run \
	    mnt var; do
		add_dirs "$spec" "$d"
	done
	printf 'root\td\t700\n' >>"$spec"
	printf 'dev/console\tc\t600\t5\t1\n' >>"$spec"
	printf 'init\tf\t755\t%s\n' "$work/init" >>"$spec"
	printf 'bin/busybox\tf\t755\t%s\n' "$busybox" >>"$spec"
	"$busybox" --list-full | while read -r a; do
		case $a in bin/busybox|linuxrc|sbin/init|*/*/*/*) continue ;;
		esac
		printf '%s\tl\t/bin/busybox\n' "$a"
	done >>"$spec"
	for f in passwd group hosts; do
		printf 'etc/%s\tf\t644\t%s\n' "$f" "$work/etc/$f" >>"$spec"
	done
	printf 'etc/mvm/modules\tf\t644\t%s\n' "$modlist" >>"$spec"
	printf 'etc/mvm/modules.late\tf\t644\t%s\n' "$modlist.late" >>"$spec"
	cat "$modlist" "$modlist.late" | while read -r f; do
		rel=${f#/}
		add_dirs "$spec" "$(dirname "$rel")"
		printf '%s\tf\t644\t%s\n' "$rel" "$root/$rel" >>"$spec"
	done
	sort -u -o "$spec" "$spec"
}

# the default user of commands (mvm-agent.8, Users: uid and gid 1000,
# home made by the agent); per-exec uids have no names
write_etc() {
	mkdir -p "$work/etc"
	printf 'root:x:0:0:root:/root:/bin/sh\n%s\n%s\n' \
	    'mvm:x:1000:1000:mvm:/home/mvm:/bin/sh' \
	    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' \
	    >"$work/etc/passwd"
	printf 'root:x:0:\ntty:x:5:\nmvm:x:1000:\nnogroup:x:65534:\n' \
	    >"$work/etc/group"
	printf '127.0.0.1\tlocalhost mvm\n::1\t\tlocalhost\n' \
	    >"$work/etc/hosts"
}

sha() { sha256sum <"$1" | cut -c1-64; }

# install_new NAME: move the freshly built file into OUTDIR
install_new() { mv -f "$work/$1" "$out/$1"; }

mkdir -p "$cache" "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/mvm-mkimage.XXXXXX")
trap 'rm -rf "$work"' EXIT

deb=$(kernel_deb) || { echo "mkimage: no kernel package (offline?)" >&2
	exit 2; }
dpkg-deb -x "$deb" "$work/pkg"
[ -d "$work/pkg/lib/modules" ] || ln -s usr/lib "$work/pkg/lib"
kver=$(ls "$work/pkg/lib/modules")
[[ $kver =~ ^[A-Za-z0-9._+-]+$ ]] || die "odd kernel version '$kver'"
depmod -b "$work/pkg" "$kver"

cp "$work/pkg/boot/vmlinuz-$kver" "$work/bzImage"
extract_vmlinux "$work/bzImage" "$work/vmlinux" ||
    die "no LZ4-compressed ELF kernel in vmlinuz-$kver"

module_order "$work/pkg" "$kver" "$MODULES" | sed "s|^$work/pkg||" \
    >"$work/modules"
[ -s "$work/modules" ] || die "no modules found"
module_order "$work/pkg" "$kver" "$MODULES_LATE" | sed "s|^$work/pkg||" |
    grep -vxF -f "$work/modules" >"$work/modules.late" || true
while read -r f; do
	unsign "$work/pkg$f"
done < <(cat "$work/modules" "$work/modules.late")
strip --strip-all -o "$work/init" "$agent" 2>/dev/null ||
    cp "$agent" "$work/init"
write_etc
write_spec "$work/spec" "$kver" "$work/pkg" "$work/modules"
newc_write "$work/spec" >"$work/initramfs.cpio"

install_new vmlinux
install_new bzImage
install_new initramfs.cpio
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
else
	created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fi
cat >"$work/manifest.json" <<EOF
{"name":"default",
 "kernel":{"file":"vmlinux","sha256":"$(sha "$out/vmlinux")"},
 "bzimage":{"file":"bzImage","sha256":"$(sha "$out/bzImage")"},
 "initramfs":{"file":"initramfs.cpio","sha256":"$(sha "$out/initramfs.cpio")"},
 "kernel_version":"$kver",
 "agent":"$AGENT_VERSION",
 "created":"$created"}
EOF
install_new manifest.json
echo "mkimage: $out: kernel $kver, $(cat "$work/modules" \
    "$work/modules.late" | wc -l) modules," \
    "initramfs $(stat -c %s "$out/initramfs.cpio") bytes"
