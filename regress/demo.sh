#!/bin/sh
# make demo: a private supervisor in a scratch state dir, what it says
# about itself, and a clean stop.  Usage: regress/demo.sh BUILD_DIR
set -eu
build=${1:?usage: demo.sh BUILD_DIR}
state=${MVM_DEMO_DIR:-/tmp/mvm-demo}/state
mkdir -p "${state%/state}"
log=${state%/state}/supervisor.log
ctl="$build/mvmctl -S $state"

say() { printf '\n== %s\n' "$*"; }

say "starting a private mvm-supervisor (state dir $state)"
"$build/mvm-supervisor" -d -S "$state" 2>"$log" &
sv=$!
trap 'kill -TERM $sv 2>/dev/null; wait $sv 2>/dev/null' EXIT
i=0
until $ctl status >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $sv 2>/dev/null; then
		cat "$log" >&2
		echo "demo: the supervisor did not come up" >&2
		exit 1
	fi
	sleep 0.1
done

say "mvmctl status: every daemon jailed (seccomp 2, no_new_privs, no caps)"
$ctl status

say "mvmctl key show: the host signing key"
$ctl key show

say "mvmctl key export --format pem (for openssl pkeyutl -verify)"
$ctl key export --format pem

say "stopping the supervisor"
kill -TERM $sv
wait $sv
trap - EXIT
echo "demo: ok (supervisor log: $log)"
