#!/bin/bash
# What an image build costs everyone else: mvmctl status answered by an
# idle supervisor, N times, against N times while it builds images with
# a layer of MIB MiB, one after the other (each removed again).  A status
# counts as "during a build" if a .name.build directory existed when it
# was asked; they are spaced 20 ms apart to fall in every phase of the
# builds (receiving the layer, copying, hashing, syncing).  Prints median
# and max of both and their ratios (during / idle), and the builds' times.
# MVM_BUILD picks the binaries, so the same script measures a tree
# before and after a change.
#
# usage: bench/image/build.sh [N] [MIB]   (default 50 and 200; make image
#	  first)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MVM_BUILD:-$top/build}
images=${MVM_IMAGES:-$top/build/images}
N=${1:-50}
MIB=${2:-200}
work=$(mktemp -d /tmp/mvm-bench-image.XXXXXX)
state=$work/state
imgs=$work/imgs
ctl="$build/mvmctl -S $state"
bp=
sv=
trap 'touch "$work/stop"; [ -z "$bp" ] || wait $bp;
    [ -z "$sv" ] || { kill -TERM $sv; wait $sv; }
    chattr -R -a "$work" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$imgs" "$work/tree"
cp -al "$images/default" "$imgs/default"
head -c $((MIB * 1024 * 1024)) /dev/urandom > "$work/tree/blob"
cat > "$work/mvm.conf" <<EOF2
{ "images_dir": "$imgs", "uid_base": 3800000, "uid_count": 64 }
EOF2
"$build/mvm-supervisor" -d -f "$work/mvm.conf" -S "$state" 2>"$work/log" &
sv=$!
for _ in $(seq 100); do $ctl status >/dev/null 2>&1 && break; sleep 0.1; done

ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'; }
status_ms() {
	local t0=$EPOCHREALTIME
	$ctl status >/dev/null
	ms "$t0" "$EPOCHREALTIME"
}
building() { compgen -G "$imgs/.*.build" >/dev/null; }

idle=()
for _ in $(seq "$N"); do
	idle+=("$(status_ms)")
	sleep 0.02
done

# builds one after the other until told to stop; each removed by hand
# (not image rm), so that a tree without it can be measured too
(
	i=0
	while [ ! -e "$work/stop" ]; do
		i=$((i + 1))
		t0=$EPOCHREALTIME
		$ctl image build "b$i" --from "$work/tree" >/dev/null
		ms "$t0" "$EPOCHREALTIME" >> "$work/builds"
		rm -rf "${imgs:?}/b$i"
	done
) &
bp=$!
during=()
while [ ${#during[@]} -lt "$N" ]; do
	if building; then
		during+=("$(status_ms)")
	fi
	sleep 0.02
done
touch "$work/stop"
wait "$bp"
bp=

stats() { printf '%s\n' "$@" | sort -n |
    awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)], a[NR] }'; }
read -r im ix <<<"$(stats "${idle[@]}")"
read -r dm dx <<<"$(stats "${during[@]}")"
read -r bm bx <<<"$(stats $(cat "$work/builds"))"
echo "binaries: $build"
echo "status, idle:               median $im ms, max $ix ms ($N)"
echo "status, during $MIB MiB builds: median $dm ms, max $dx ms ($N)"
awk -v a="$dm" -v b="$im" -v c="$dx" -v d="$ix" 'BEGIN {
    printf "ratio during/idle: median %.2f, max %.2f\n", a / b, c / d }'
echo "builds: $(wc -l < "$work/builds"), median $bm ms, max $bx ms"
