# host_accel: kvm or tcg, what mvm-supervisor picks with accel auto
# (mvm.conf(5)): kvm where /dev/kvm is read-write for everyone, or for
# its group (not root's), so that a jailed uid can open it.  Sourced by
# regress/lib.sh and the benchmarks.
host_accel() {
	local m g
	m=$(stat -c %a /dev/kvm 2>/dev/null) || { echo tcg; return; }
	g=$(stat -c %g /dev/kvm)
	if [ $((0$m & 06)) -eq 6 ] || { [ $((0$m & 060)) -eq 48 ] &&
	    [ "$g" -ne 0 ]; }; then
		echo kvm
	else
		echo tcg
	fi
}
