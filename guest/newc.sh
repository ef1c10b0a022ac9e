# newc.sh: write a cpio "newc" archive (the initramfs format) from a
# spec, for mkimage.sh and mkmarker.sh.  Source it (bash).
#
# Every entry is described, not taken from a staging directory, so the
# archive is the same byte for byte for the same inputs: entries sorted
# by name, owner 0:0, mtime NEWC_MTIME, inode numbers in order, device
# nodes without mknod (no root needed).
#
# A spec has one entry a line, fields separated by tabs:
#	NAME	d	MODE			directory
#	NAME	f	MODE	SOURCE		regular file, contents of SOURCE
#	NAME	l	TARGET			symlink
#	NAME	c	MODE	MAJOR	MINOR	character device
# NAME is relative ("bin/sh"); MODE is octal permission bits.  Every
# parent directory must have its own "d" line.

: "${NEWC_MTIME:=0}"

# newc_hdr INO MODE NLINK SIZE RMAJ RMIN NAME: header, name, padding
newc_hdr() {
	local nsz=$((${#7} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
	    "$1" "$2" 0 0 "$3" "$NEWC_MTIME" "$4" 0 0 "$5" "$6" "$nsz" 0
	printf '%s\0' "$7"
	newc_pad $(((110 + nsz) % 4))
}

# newc_pad R: NUL bytes to the next multiple of 4, R = length mod 4
newc_pad() {
	case $1 in
	1) printf '\0\0\0' ;;
	2) printf '\0\0' ;;
	3) printf '\0' ;;
	esac
}

# newc_check SPEC: names unique, parents present, sources readable
newc_check() {
	LC_ALL=C awk -F '\t' '
		$1 in seen { print "newc: duplicate entry " $1; bad = 1 }
		{ seen[$1] = $2 }
		$2 == "f" && system("test -r \"" $4 "\"") != 0 {
			print "newc: cannot read " $4; bad = 1
		}
		END {
			for (n in seen) {
				p = n
				if (sub(/\/[^\/]*$/, "", p) && seen[p] != "d") {
					print "newc: no directory for " n
					bad = 1
				}
			}
			exit bad
		}' "$1" >&2
}

# newc_write SPEC: the archive on stdout
newc_write() {
	local spec=$1 name type a b c ino=0 size
	newc_check "$spec" || return 1
	while IFS=$'\t' read -r name type a b c; do
		ino=$((ino + 1))
		case $type in
		d)	newc_hdr "$ino" $((0040000 | 8#$a)) 2 0 0 0 "$name" ;;
		f)	size=$(stat -L -c %s "$b")
			newc_hdr "$ino" $((0100000 | 8#$a)) 1 "$size" 0 0 \
			    "$name"
			cat "$b"
			newc_pad $((size % 4)) ;;
		l)	newc_hdr "$ino" $((0120000 | 0777)) 1 ${#a} 0 0 "$name"
			printf '%s' "$a"
			newc_pad $((${#a} % 4)) ;;
		c)	newc_hdr "$ino" $((0020000 | 8#$a)) 1 0 "$b" "$c" \
			    "$name" ;;
		*)	echo "newc: bad type '$type' for $name" >&2
			return 1 ;;
		esac
	done < <(LC_ALL=C sort -t "$(printf '\t')" -k1,1 "$spec")
	newc_hdr 0 0 1 0 0 0 'TRAILER!!!'
}
