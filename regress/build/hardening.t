# Build contract: every program is a PIE with full RELRO, stack
# protector and fortified calls; make install lays out the files it
# promises.
. "$MVM_TOP/regress/lib.sh"

for p in mvm-supervisor mvm-signer mvm-auditd mvmctl; do
	f=$MVM_BUILD/$p
	check "$p: ELF type DYN (PIE)" \
	    grep -q 'Type:.*DYN' <<<"$(readelf -h "$f")"
	check "$p: GNU_RELRO segment" \
	    grep -q GNU_RELRO <<<"$(readelf -lW "$f")"
	check "$p: BIND_NOW (full RELRO)" \
	    grep -qE 'BIND_NOW|FLAGS_1.*NOW' <<<"$(readelf -dW "$f")"
	check "$p: non-executable stack" \
	    not grep -qE 'GNU_STACK.*RWE' <<<"$(readelf -lW "$f")"
	syms=$(readelf -sW --dyn-syms "$f")
	check "$p: stack protector (__stack_chk_fail)" \
	    grep -q __stack_chk_fail <<<"$syms"
	check "$p: fortified libc calls (__*_chk)" \
	    grep -qE '__[a-z]+_chk' <<<"$syms"
done

d=$MVM_TMP/dest
out=$(make -C "$MVM_TOP" -s install DESTDIR="$d" PREFIX=/usr/local 2>&1)
check "make install DESTDIR succeeds" test $? -eq 0
for f in bin/mvmctl libexec/mvm/mvm-supervisor libexec/mvm/mvm-signer \
    libexec/mvm/mvm-auditd share/man/man8/mvmctl.8 \
    share/man/man8/mvm-supervisor.8 share/man/man5/mvm.conf.5 \
    lib/systemd/system/mvm.service; do
	check "installed $f" test -f "$d/usr/local/$f"
done
like "$(cat "$d/usr/local/lib/systemd/system/mvm.service")" \
    "ExecStart=/usr/local/libexec/mvm/mvm-supervisor -d" \
    "systemd unit starts the installed supervisor"
