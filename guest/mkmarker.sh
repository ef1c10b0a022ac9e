#!/bin/bash
# mkmarker.sh OUTDIR: the boot benchmark's baseline image.  Its /init
# (mvm-marker) prints "MVM-MARKER-OK" on the console and powers off, so
# launch-to-marker is the floor for any guest on this kernel.
#
#	initramfs.cpio	newc: /init, /dev, /dev/console
#	vmlinux, bzImage	linked (or copied) from the default image
#	manifest.json	as for the default image, "agent":"none"
#
# Environment: MVM_MARKER (default build/mvm-marker), MVM_IMAGE (the
# default image, default build/images/default), SOURCE_DATE_EPOCH.
set -euo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/guest/newc.sh"

die() { echo "mkmarker: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: mkmarker.sh OUTDIR" >&2; exit 1; }
out=$1
marker=${MVM_MARKER:-$top/build/mvm-marker}
img=${MVM_IMAGE:-$top/build/images/default}
[ -x "$marker" ] || die "$marker: not built (make $marker)"
[ -f "$img/manifest.json" ] || die "$img: no default image (make image)"

sha() { sha256sum <"$1" | cut -c1-64; }

mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/mvm-mkmarker.XXXXXX")
trap 'rm -rf "$work"' EXIT

strip --strip-all -o "$work/init" "$marker" 2>/dev/null ||
    cp "$marker" "$work/init"
printf 'dev\td\t755\ndev/console\tc\t600\t5\t1\ninit\tf\t755\t%s\n' \
    "$work/init" >"$work/spec"
newc_write "$work/spec" >"$work/initramfs.cpio"
mv -f "$work/initramfs.cpio" "$out/initramfs.cpio"
for f in vmlinux bzImage; do
	[ "$img/$f" -ef "$out/$f" ] && continue
	ln -f "$img/$f" "$out/$f" 2>/dev/null || cp "$img/$f" "$out/$f"
done
kver=$(sed -n 's/.*"kernel_version":"\([^"]*\)".*/\1/p' "$img/manifest.json")
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
else
	created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
fi
cat >"$work/manifest.json" <<EOM
{"name":"marker",
 "kernel":{"file":"vmlinux","sha256":"$(sha "$out/vmlinux")"},
 "bzimage":{"file":"bzImage","sha256":"$(sha "$out/bzImage")"},
 "initramfs":{"file":"initramfs.cpio","sha256":"$(sha "$out/initramfs.cpio")"},
 "kernel_version":"$kver",
 "agent":"none",
 "created":"$created"}
EOM
mv -f "$work/manifest.json" "$out/manifest.json"
echo "mkmarker: $out: initramfs $(stat -c %s "$out/initramfs.cpio") bytes"
