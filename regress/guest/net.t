# Egress, the guest's side (mvm-agent.8, agentproto.h "Egress"): QEMU
# boots the default image, mvm-agentcli plays the host for flows
# (netpeer) and workloads use busybox nc and wget.  One boot; each
# mvm-agentcli run is a session of its own (grants are forgotten between
# them), so each sends its NET_GRANTS.
. "$MVM_TOP/regress/lib.sh"
. "$MVM_TOP/regress/guest/guest.sh"

guest_need_qemu
guest_need_image
D=$MVM_TMP/net
X=$D/x
guest_boot "$D"

# net STEP...: a session (workloads may make sockets: tier "network");
# then a pause, so the agent sees the client go before the next comes
net() {
	local rc
	"$AGENTCLI" -s network -t "${AGENT_TIMEOUT:-60}" -w 10 "$GUEST_SOCK" \
	    hello "$@"
	rc=$?
	sleep 0.3
	return $rc
}
# script SCRIPT: an EXEC payload running SCRIPT
script() { jq -cn --arg s "$1" '{argv: ["sh", "-c", $s]}'; }
# code ID: the error code of the answer to request ID in $out
code() { grep "^ERROR $1 " <<<"$out" | sed 's/^ERROR [0-9]* //' | jq -r .code; }

out=$(net)
if ! grep -q '"net"' <<<"$out"; then
	nok "HELLO caps has \"net\" (an image older than the agent? make image)"
	diag "agentcli: $out"
	exit 1
fi
ok "HELLO caps has \"net\""

# --- before grants: lo is down, nothing listens, no proxy variables
if ! out=$(net exec "$(script 'ip -o link; env; netstat -ltn |
    grep -c LISTEN')" "$X.pre"); then
	diag "agentcli: $out"
	sed 's/^/#   console: /' "$D/console" | tail -n 20
fi
is "$(awk -F': ' '/^[0-9]+: .*link\// { print $2 }' "$X.pre.out")" lo \
    "no grants: ip link lists only lo"
unlike "$(cat "$X.pre.out")" 'proxy=' "no grants: no proxy variables"
is "$(tail -n 1 "$X.pre.out")" 0 "no grants: nothing listens"

# --- grants, names, listeners, the proxy environment
G='{"grants":[{"host":"echo.test","port":7},{"host":"web.test","port":80},
{"host":"no.test","port":9},{"host":"10.9.8.7","port":5000},
{"host":"Echo.Test","port":7},{"host":"echo.test","port":8},
{"host":"flood.test","port":1},{"host":"fill.test","port":1}],
"proxy":3128}'
big=$D/big
head -c $((1024 * 1024)) /dev/urandom >"$big"
want=$(sha256sum <"$big" | cut -c1-64)
# the guest's printf makes the CRs and LFs
s_connect="printf 'CONNECT echo.test:7 HTTP/1.1\\r\\nHost: echo.test:7\\r\\n\\r\\n\
hello' | nc 127.0.0.1 3128"
s_absolute="printf 'GET http://echo.test:7/a/b?c=d HTTP/1.1\\r\\n\
Host: echo.test:7\\r\\nAccept: */*\\r\\n\\r\\nbody' | nc 127.0.0.1 3128"
t0=$EPOCHREALTIME
out=$(net netgrants "$G" netpeer echo netpeer web.test=http \
    netpeer no.test=refuse:not_granted netpeer flood.test=flood:16 \
    netpeer fill.test=fill \
    exec "$(script 'ip -o link; ip -o -4 addr; cat /etc/hosts; env | sort;
	netstat -ltn')" "$X.setup" \
    exec '{"argv":["env"],"env":{"http_proxy":"mine","HTTPS_PROXY":""}}' \
    "$X.envown" \
    put "$big" /tmp/big 644 \
    exec "$(script 'nc echo.test 7 </tmp/big | sha256sum')" "$X.big" \
    exec "$(script 'echo literal | nc 10.9.8.7 5000')" "$X.lit" \
    exec "$(script 'echo x | nc no.test 9; echo "rc=$?"')" "$X.refused" \
    exec "$(script "$s_connect")" "$X.connect" \
    exec "$(script "$s_absolute")" "$X.absolute" \
    exec '{"argv":["wget","-q","-O-","http://web.test/path?q"]}' "$X.wget" \
    start "$(script 'sleep 10 | nc flood.test 1 | sleep 10')" "$X.flood" \
    sleep 3000 ping '{"mark":"flood"}' signal "$X.flood" 9 wait "$X.flood" \
    exec "$(script 'nc fill.test 1 </dev/null | (sleep 4; wc -c)')" \
    "$X.fill" \
    send NET_DATA 2147483999 stray send NET_ACK 2147483999 '{"bytes":5}' \
    send NET_OPENED 2147483999 '{}' send NET_CLOSE 7 '{}' \
    ping '{"mark":"stray"}' sleep 500)
diag "one session of grants, 1 MiB echoed, proxy and flood: $(awk \
    -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f s", b - a }')"
like "$out" '^OK \{\}$' "NET_GRANTS: OK"

S=$X.setup.out
is "$(awk -F': ' '/^[0-9]+: .*link\// { print $2 }' "$S")" lo \
    "ip link lists only lo (no network device)"
like "$(grep '^1: lo:' "$S")" '<LOOPBACK,UP,LOWER_UP>' "lo is up"
like "$(cat "$S")" 'inet 127\.0\.0\.1/8 .* lo' "lo has 127.0.0.1/8"
like "$(cat "$S")" 'inet 10\.9\.8\.7/32 .* lo:1' \
    "the IPv4 literal is a /32 alias of lo"
is "$(grep '^127\.' "$S")" \
"127.0.0.1	localhost mvm
127.100.0.1 echo.test
127.100.0.2 web.test
127.100.0.3 no.test
127.100.0.4 flood.test
127.100.0.5 fill.test" \
    "/etc/hosts: localhost kept, names in order, each once (any case)"
is "$(awk '/LISTEN/ { print $4 }' "$S" | sort | paste -sd' ')" \
    "10.9.8.7:5000 127.0.0.1:3128 127.100.0.1:7 127.100.0.1:8 \
127.100.0.2:80 127.100.0.3:9 127.100.0.4:1 127.100.0.5:1" \
    "a listener per grant (repeats once) and the proxy"
is "$(grep -i '_proxy=' "$S" | paste -sd' ')" \
    "HTTPS_PROXY=http://127.0.0.1:3128 HTTP_PROXY=http://127.0.0.1:3128 \
http_proxy=http://127.0.0.1:3128 https_proxy=http://127.0.0.1:3128" \
    "EXECs get the proxy variables"
is "$(grep -i '_proxy=' "$X.envown.out" | LC_ALL=C sort | paste -sd' ')" \
    "HTTPS_PROXY= HTTP_PROXY=http://127.0.0.1:3128 http_proxy=mine \
https_proxy=http://127.0.0.1:3128" \
    "  ... unless the EXEC's env names them"

# flow ids count from AP_ID_GUEST + 1 in the order of the connections
opens=$(grep '^NET_OPEN ' <<<"$out")
is "$(cut -d' ' -f2- <<<"$opens" | head -n 7)" \
'2147483649 {"host":"echo.test","port":7}
2147483650 {"host":"10.9.8.7","port":5000}
2147483651 {"host":"no.test","port":9}
2147483652 {"host":"echo.test","port":7}
2147483653 {"host":"echo.test","port":7}
2147483654 {"host":"web.test","port":80}
2147483655 {"host":"flood.test","port":1}' \
    "NET_OPEN: the grant's host and port, the proxy's request's"
is "$(cut -c1-64 "$X.big.out")" "$want" \
    "nc to a name: 1 MiB (4 windows) through the echo peer, sha256 matches"
is "$(cat "$X.lit.out")" literal "nc to the IPv4 literal: echoed"
is "$(cat "$X.refused.out")" rc=0 \
    "NET_REFUSED: the connection is closed, nothing arrives"
for id in 2147483649 2147483650 2147483652 2147483653 2147483654; do
	check "flow $id ended with the guest's NET_CLOSE" \
	    grep -qx "NET_CLOSE $id" <<<"$out"
done
unlike "$out" '^NET_CLOSE 2147483651$' "  ... but not the refused one"
is "$(cat "$X.connect.out")" \
    "$(printf 'HTTP/1.1 200 Connection established\r\n\r\nhello')" \
    "proxy CONNECT: 200, then the bytes sent with the head are relayed"
is "$(cat "$X.absolute.out")" \
    "$(printf 'GET /a/b?c=d HTTP/1.1\r\nHost: echo.test:7\r\n%s' \
    'Accept: */*'; printf '\r\n\r\nbody')" \
    "proxy absolute form: the peer gets origin form, the head, the body"
is "$(head -n 1 "$X.wget.out" | tr -d '\r')" "GET /path?q HTTP/1.1" \
    "wget through the proxy variables: port 80, origin form"
like "$(sed -n '/NET_OPEN 2147483655 /,/PONG {"mark":"flood"}/p' <<<"$out")" \
    '^NET_CLOSE 2147483655$' \
    "a host sending past the window: the flow is closed (NET_CLOSE)"
fill=$(sed -n 's/^NET_FILL 2147483656 //p' <<<"$out")
is "$(tr -d ' ' <"$X.fill.out")" "${fill:-none}" \
    "a host closing right after its end, the workload not reading: \
all ${fill:-?} bytes arrive"
like "$out" '^PONG \{"mark":"stray"\}$' \
    "frames of unknown flows are ignored, the agent answers"
is "$(grep -c '^ERROR' <<<"$out")" 0 "  ... and no errors in the session"

# --- the proxy's refusals
s=''
for r in 'GET https://echo.test/ HTTP/1.1' 'GET / HTTP/1.1' \
    'CONNECT echo.test HTTP/1.1' 'CONNECT echo.test:0 HTTP/1.1' \
    'CONNECT echo.test:65536 HTTP/1.1' 'CONNECT a_b.test:1 HTTP/1.1' \
    'GET http://user@echo.test/ HTTP/1.1' 'GET http://echo.test:/ HTTP/1.1' \
    'GET http://echo.test/ HTTP/2.0' 'GET  http://echo.test/ HTTP/1.1' \
    'CONNECT no.test:9 HTTP/1.1' 'CONNECT deny.test:1 HTTP/1.1' \
    'CONNECT r502.test:1 HTTP/1.1' 'CONNECT r502b.test:1 HTTP/1.1' \
    'CONNECT r503.test:1 HTTP/1.1'; do
	s="$s printf '$r\\r\\n\\r\\n' | nc 127.0.0.1 3128 | head -n 1;"
done
s="$s yes | head -c 9000 | nc 127.0.0.1 3128 | head -n 1"
out=$(net netgrants '{"grants":[{"host":"echo.test","port":7}],"proxy":3128}' \
    netpeer echo netpeer no.test=refuse:not_granted \
    netpeer deny.test=refuse:denied_address netpeer r502.test=refuse:resolve \
    netpeer r502b.test=refuse:connect netpeer r503.test=refuse:limit \
    start "$(script 'sleep 12 | nc 127.0.0.1 3128')" "$X.slow" \
    exec "$(script "$s")" "$X.bad" wait "$X.slow")
is "$(tr -d '\r' <"$X.bad.out" | awk '{ print $2 }' | paste -sd' ')" \
    "400 400 400 400 400 400 400 400 400 400 403 403 502 502 503 400" \
    "proxy: bad requests 400; refused 403, 403, 502, 502, 503; 8 KiB head 400"
is "$(grep -c '^NET_OPEN' <<<"$out")" 5 "  ... only the good ones asked the host"
is "$(head -n 1 "$X.slow.out" | tr -d '\r')" "HTTP/1.1 408 Request Timeout" \
    "proxy: a client silent for 10 s gets 408"

# --- many connections: at most AP_NET_FLOWS_MAX (64) at once
s='for i in $(seq 70); do (nc hold.test 2 </dev/null; echo x >>/tmp/gone) &
done; sleep 5; wc -l </tmp/gone; rm /tmp/gone'
out=$(net netgrants '{"grants":[{"host":"hold.test","port":2}],"proxy":3128}' \
    netpeer hold exec "$(script "$s")" "$X.many" \
    exec "$(script "printf 'CONNECT a.test:1 HTTP/1.1\r\n\r\n' | \
	nc 127.0.0.1 3128")" "$X.503" \
    ping '{}')
is "$(grep -c '^NET_OPEN' <<<"$out")" 64 \
    "70 connections while the host holds them: 64 NET_OPENs"
is "$(grep '^NET_OPEN' <<<"$out" | cut -d' ' -f2 | sort -n | sed -n '1p;$p' |
    paste -sd' ')" "2147483662 2147483725" \
    "  ... flow ids go on from the earlier sessions'"
is "$(tr -d ' ' <"$X.many.out")" 6 "  ... the other 6 were closed at once"
like "$(head -n 1 "$X.503.out")" '^HTTP/1.1 503 ' \
    "  ... a proxy client beyond them hears 503"
like "$out" '^PONG \{\}$' "  ... and the agent answers"

# --- NET_GRANTS refused: strict members, hosts, ports, once a session
out=$(net \
    netgrants '{"grants":[{"host":"a.test","port":1}],"proxy":0,"x":1}' \
    netgrants '{"grants":[{"host":"a.test","port":1,"x":1}]}' \
    netgrants '{"grants":[{"host":"a_b.test","port":1}]}' \
    netgrants '{"grants":[{"host":"-a.test","port":1}]}' \
    netgrants '{"grants":[{"host":"1.2.3.256","port":1}]}' \
    netgrants '{"grants":[{"host":"0.1.2.3","port":1}]}' \
    netgrants '{"grants":[{"host":"a.test","port":0}]}' \
    netgrants '{"grants":[{"host":"a.test","port":65536}]}' \
    netgrants '{"grants":[{"host":"a.test","port":1}],"proxy":65536}' \
    netgrants '{"grants":[]}' \
    netgrants '{"grants":[{"host":"a.test"}]}' \
    netgrants '{"proxy":3128}' \
    send NET_GRANTS 5 '{"grants":[{"host":"a.test","port":1}]}' recv 5 \
    netgrants '{"grants":[{"host":"a.test","port":1},
	{"host":"127.0.0.1","port":3128}],"proxy":3128}' \
    exec "$(script 'grep -c 127.100 /etc/hosts; netstat -ltn | grep -c LISTEN;
	env | grep -ci proxy')" "$X.none" \
    netgrants '{"grants":[{"host":"a.test","port":1}],"proxy":0}' \
    netgrants '{"grants":[{"host":"b.test","port":1}],"proxy":0}' \
    exec '{"argv":["sh","-c","env | grep -ci proxy"]}' "$X.noproxy")
errs=$(grep '^ERROR {' <<<"$out" | sed 's/^ERROR //' | jq -r .code |
    paste -sd' ')
is "$errs" "$(printf 'bad_request %.0s' $(seq 12))io bad_request" \
    "refused: unknown members, bad hosts, ports 0 and 65536, no grants, \
a failed listen, a second NET_GRANTS"
is "$(code 5)" bad_request "NET_GRANTS with another id: bad_request"
like "$out" '"message":"listen 127\.0\.0\.1:3128 \(proxy\): Address' \
    "  ... the failed listen names what failed"
is "$(paste -sd' ' "$X.none.out")" "0 0 0" \
    "after a refusal: no names, nothing listens, no proxy variables"
is "$(grep -c '^OK {}$' <<<"$out")" 1 "then grants are accepted once"
is "$(cat "$X.noproxy.out")" 0 "proxy 0: no proxy variables"

# --- a new session starts without grants
net exec "$(script 'grep -c 127.100 /etc/hosts; ip -o -4 addr | grep -c lo:;
    netstat -ltn | grep -c LISTEN')" "$X.after" >/dev/null
is "$(paste -sd' ' "$X.after.out")" "0 0 0" \
    "the next session: names, aliases and listeners are gone"
is "$(grep -c . "$D/console")" 0 "the console stayed quiet"
