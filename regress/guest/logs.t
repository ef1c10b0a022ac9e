# mvmctl logs and a guest that writes escape sequences on its console:
# to a terminal they show as \xNN and never reach it raw; with --raw, or
# to a pipe, the bytes are as the guest wrote them.  The terminal is a
# pty from script(1) (util-linux).
. "$MVM_TOP/regress/lib.sh"
need_root guest-logs
need_image guest-logs
if ! command -v script >/dev/null; then
	skip "guest-logs: no script(1) (util-linux)"
	exit 0
fi

sv_start logs || { nok "supervisor starts"; exit 1; }
CTL=$MVMCTL
# the console is root's in the guest
$CTL up g --profile dev --guest-root >/dev/null || nok "the guest starts"

# a title change, a bell, colours, a C1 CSI (U+009B) and a carriage
# return that would write over the line, between markers
$CTL exec g --guest-root -- sh -c 'printf "mark<\033]0;pwned\007\033[31mred\033[0m'\
'\302\233x\ry>\n" >/dev/console' </dev/null
for _ in $(seq 50); do
	$CTL logs g | grep -q -a "mark<" && break
	sleep 0.1
done
# the marked line of what CMD... printed, without carriage returns
# (the serial console ends its lines with one)
line() {
	"$@" | tr -d '\r' | grep -a "mark<"
}
RAW=$(printf 'mark<\033]0;pwned\007\033[31mred\033[0m\302\233xy>')

tty=$(line script -qec "$CTL logs g" /dev/null </dev/null)
is "$tty" 'mark<\x1b]0;pwned\x07\x1b[31mred\x1b[0m\xc2\x9bx\x0dy>' \
    "to a terminal: control characters and C1 show as \\xNN"
check "to a terminal: no escape character reaches it" \
    not grep -q -a $'\033' <<<"$tty"
is "$(line script -qec "$CTL logs --raw g" /dev/null </dev/null)" "$RAW" \
    "to a terminal with --raw: the bytes as they are"
is "$(line $CTL logs g)" "$RAW" "to a pipe: the bytes as they are"
$CTL logs --bogus g >/dev/null 2>&1
is $? 2 "an unknown option: usage (2)"

$CTL stop g >/dev/null
sv_stop
is "$SV_RC" 0 "the supervisor stops cleanly"
