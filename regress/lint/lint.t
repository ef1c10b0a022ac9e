# Static analysis: `make lint` (cppcheck and clang-tidy with the
# checked-in configuration) finds nothing in any C file.  Run as a test
# so that make check counts a finding in its last line instead of
# stopping before it.  Skipped under make sanitize (same sources).
. "$MVM_TOP/regress/lib.sh"
if [ -n "${MVM_SANITIZE:-}" ]; then
	skip "lint: make check runs it"
	exit 0
fi
out=$(make -C "$MVM_TOP" --no-print-directory lint 2>&1)
rc=$?
summary=$(grep '^lint: ' <<<"$out" | tail -1)
diag "${summary:-no summary line}"
if [ $rc = 0 ]; then
	ok "make lint: no finding"
else
	nok "make lint: findings (exit $rc)"
	grep -E '^[^ ]+:-?[0-9]+:[0-9]+: [a-z]+: .*\]$' <<<"$out" |
	    sort -u | head -40 | sed 's/^/#   /'
fi
