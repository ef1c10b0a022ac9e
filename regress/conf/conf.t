# mvm.conf: each case file is checked with mvm-supervisor -n and the
# output compared with its golden .ok file (STYLE.md section 10).
. "$MVM_TOP/regress/lib.sh"

SV=$MVM_BUILD/mvm-supervisor
cd "$MVM_TOP/regress/conf/cases" || exit 1
for f in *.json; do
	base=${f%.json}
	got=$("$SV" -n -f "$f" 2>&1)
	rc=$?
	if [ -n "${MVM_REGEN:-}" ]; then
		printf '%s\n' "$got" > "$base.ok"
	fi
	case $base in
	pass-*)	check "$base: accepted" test $rc -eq 0 ;;
	fail-*)	check "$base: rejected" test $rc -ne 0 ;;
	esac
	is "$got" "$(cat "$base.ok")" "$base: output matches $base.ok"
done
# -f with a missing file is an error; no -f and no default file is not
out=$("$SV" -n -f /nonexistent/mvm.conf 2>&1)
check "missing -f file: rejected" test $? -ne 0
like "$out" "No such file" "missing -f file: says why"
