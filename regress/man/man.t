# Man pages: mandoc -Tlint clean, and each program's usage() says what
# its SYNOPSIS says (STYLE.md section 11).
. "$MVM_TOP/regress/lib.sh"

cd "$MVM_TOP/man" || exit 1
for p in *.[1-9]; do
	out=$(mandoc -Tlint -Wwarning "$p" 2>&1)
	is "$out" "" "$p: mandoc -Tlint -Wwarning is clean"
done

# SYNOPSIS as rendered, one utility line per line, spaces squeezed
synopsis() {
	mandoc -Tascii "$1" | col -bx |
	    awk '/^SYNOPSIS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' |
	    sed 's/^ *//; s/  */ /g; /^$/d' |
	    awk -v n="$2" '$1 == n { if (l) print l; l = $0; next }
		{ l = l " " $0 } END { if (l) print l }'
}

# usage() as printed, in the same shape
usage_of() {
	local prog=$1; shift
	"$@" 2>&1 >/dev/null | grep -v 'invalid option' |
	    sed 's/^usage: //; s/^ *//; s/  */ /g' |
	    awk -v n="$prog" '/^commands:/ { next }
		$1 == n { print; next } { print n " " $0 }'
}

for prog in mvm-supervisor mvm-signer mvm-auditd mvmctl; do
	sec=8
	want=$(synopsis "$prog.$sec" "$prog")
	case $prog in
	mvmctl) got=$(usage_of $prog "$MVM_BUILD/$prog") ;;
	*) got=$(usage_of $prog "$MVM_BUILD/$prog" -Z) ;;
	esac
	is "$got" "$want" "$prog: usage() matches the SYNOPSIS of $prog.$sec"
done
