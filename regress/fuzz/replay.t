# Fuzz corpora: every input in fuzz/corpus/<target>/ (the seeds and the
# inputs that once crashed a parser) runs once through its fuzz target,
# built with the ordinary compiler and fuzz/replay.c (make regress-progs
# builds $MVM_BUILD/regress/fuzz-<target>; no clang needed).  A crash,
# a failed property or a non-zero exit is "not ok".  Under make sanitize
# the same replays run with ASan and UBSan.
. "$MVM_TOP/regress/lib.sh"

for c in "$MVM_TOP"/fuzz/corpus/*/; do
	t=$(basename "$c")
	bin=$MVM_BUILD/regress/fuzz-$t
	if [ ! -x "$bin" ]; then
		nok "fuzz-$t: built (make regress-progs)"
		continue
	fi
	n=$(find "$c" -type f | wc -l)
	out=$("$bin" "$c" 2>&1)
	rc=$?
	# fuzz/imsg.c must know every reader msg.c has
	missing=
	if [ "$t" = imsg ]; then
		for r in $(grep -o '^msg_get_[a-z_]*' "$MVM_TOP/libshared/msg.c")
		do
			grep -qE "RD\\(${r#msg_get_},|$r\\(" \
			    "$MVM_TOP/fuzz/imsg.c" || missing="$missing $r"
		done
	fi
	if [ $rc -eq 0 ] && [ "$out" = "replayed $n inputs" ] &&
	    [ -z "$missing" ]; then
		ok "fuzz-$t: $n inputs replayed"
	else
		nok "fuzz-$t: $n inputs replayed (status $rc)"
		diag "$(tail -n 20 <<<"$out")"
		[ -n "$missing" ] && diag "not in fuzz/imsg.c:$missing"
	fi
done
