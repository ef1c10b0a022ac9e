# The sanitizer pass is real: under MVM_SANITIZE (make check's "san/"
# pass, make sanitize) every daemon, mvmctl, unit binary and test tool
# that the tests run is built with ASan and UBSan, so a memory error or
# undefined behaviour there ends the test with a report.
. "$MVM_TOP/regress/lib.sh"

if [ -z "${MVM_SANITIZE:-}" ]; then
	skip "sanitizer build: only in the sanitizer pass (MVM_SANITIZE)"
	exit 0
fi
for f in "$MVM_BUILD"/mvm-supervisor "$MVM_BUILD"/mvm-vmm \
    "$MVM_BUILD"/mvm-signer "$MVM_BUILD"/mvm-auditd "$MVM_BUILD"/mvmctl \
    "$MVM_BUILD"/regress/unit-* "$MVM_BUILD"/regress/mvm-audit-harness \
    "$MVM_TEST_BUILD"/mvm-supervisor; do
	syms=$(nm "$f" 2>/dev/null; nm -D "$f" 2>/dev/null)
	n=${f#"$MVM_TOP"/}
	check "$n: ASan (__asan_report_*)" grep -q __asan_report_ <<<"$syms"
	check "$n: UBSan (__ubsan_handle_*)" grep -q __ubsan_handle_ <<<"$syms"
done
