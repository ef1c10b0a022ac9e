# Egress: a guest has no network device; a connection leaves it only
# through a grant the host checks.  The test makes its own network: a
# namespace with a veth pair, an echo server and an HTTP server on the
# namespace's address.  The supervisor runs in a private mount namespace
# with its own /etc/hosts, so names resolve the way the test says.
. "$MVM_TOP/regress/lib.sh"
need_root net-egress
need_image net-egress
command -v ip >/dev/null || { skip "net-egress: no ip(8)"; exit 0; }

X=$(( $$ % 200 + 20 ))
NS=mvmeg$$
VH=mveh$$
VP=mvep$$
HA=10.251.$X.1
NA=10.251.$X.2
EP=7001		# echo
HP=8080		# http
cleanup_net() {
	ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del "$VH" 2>/dev/null
}
trap 'cleanup_net; lib_cleanup' EXIT
ip netns add "$NS" &&
ip link add "$VH" type veth peer name "$VP" &&
ip link set "$VP" netns "$NS" &&
ip addr add "$HA/24" dev "$VH" && ip link set "$VH" up &&
ip -n "$NS" addr add "$NA/24" dev "$VP" && ip -n "$NS" link set "$VP" up &&
ip -n "$NS" link set lo up
is $? 0 "a namespace with a veth pair ($HA <-> $NA)"
mkdir -p "$MVM_TMP/www"
echo "hello from the namespace" > "$MVM_TMP/www/index.html"
head -c 300000 /dev/urandom > "$MVM_TMP/www/big"
ip netns exec "$NS" busybox nc -ll -p $EP -e cat &
ip netns exec "$NS" busybox httpd -f -p "$NA:$HP" -h "$MVM_TMP/www" &
sleep 0.3
check "the echo server answers from the host" \
    test "$(echo ping | timeout 5 busybox nc $NA $EP)" = ping

# names for the supervisor's resolver
cat > "$MVM_TMP/hosts" <<HOSTS
127.0.0.1	localhost
$NA	egress.test other.test
169.254.169.254	metadata.test
127.0.0.5	loop.test
HOSTS
unshare -m --propagation private -- true 2>/dev/null ||
    { skip "net-egress: unshare -m"; exit 0; }
# a wrapper script is simpler than quoting through sv_start
cat > "$MVM_TMP/wrap" <<WRAP
#!/bin/sh
exec unshare -m --propagation private -- sh -c 'mount --bind $MVM_TMP/hosts /etc/hosts && exec "\$0" "\$@"' "\$@"
WRAP
chmod +x "$MVM_TMP/wrap"
SV_WRAP=$MVM_TMP/wrap sv_start egress || { nok "supervisor starts"; exit 1; }
ok "supervisor starts (its own /etc/hosts)"
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log
cd "$MVM_TMP" || exit 1

# ---- one guest, granted the echo port by name and HTTP by name
out=$($CTL run --profile dev --allow egress.test:$EP \
    --allow egress.test:$HP -- sh -c '
	echo "links: $(ip -o link | cut -d: -f2 | tr -d " " | tr "\n" " ")"
	echo "hosts: $(grep -c "egress.test" /etc/hosts)"
	echo "echo: $(printf hello | nc egress.test '$EP')"
	head -c 1048576 /dev/urandom > /tmp/x
	a=$(sha256sum < /tmp/x); b=$(nc egress.test '$EP' < /tmp/x | sha256sum)
	[ "$a" = "$b" ] && echo "big: same" || echo "big: differs"
	echo "http: $(wget -q -O - http://egress.test:'$HP'/index.html)"
	echo "bighttp: $(wget -q -O - http://egress.test:'$HP'/big | sha256sum | cut -c1-16)"
	echo "proxy: $http_proxy"
	printf "CONNECT egress.test:'$EP' HTTP/1.1\r\nHost: x\r\n\r\nviaconnect" |
	    nc 127.0.0.1 3128 | tr -d "\r" | sed -n "1p;\$p" | tr "\n" " "; echo
	cx() { printf "CONNECT $1 HTTP/1.1\r\n\r\n" | nc 127.0.0.1 3128 |
	    head -1 | tr -d "\r"; }
	echo "port: $(cx egress.test:7999)"
	echo "other: $(cx other.test:'$EP')"
	echo "direct: $(printf x | nc egress.test 7999 2>&1 >/dev/null; echo rc=$?)" | tr "\n" " "; echo
	' 2>err)
rc=$?
is $rc 0 "run --allow: exit 0"
[ $rc = 0 ] || { diag "$out"; sed 's/^/#   /' err; }
is "$(grep '^links:' <<<"$out")" "links: lo " \
    "ip link in the guest: only lo, no network device"
is "$(grep '^hosts:' <<<"$out")" "hosts: 1" "/etc/hosts names the grant"
is "$(grep '^echo:' <<<"$out")" "echo: hello" \
    "TCP through the tunnel to the namespace's echo server"
is "$(grep '^big:' <<<"$out")" "big: same" \
    "1 MiB both ways, byte for byte (window and acks)"
is "$(grep '^http:' <<<"$out")" "http: hello from the namespace" \
    "HTTP through the proxy (absolute-form request rewritten)"
is "$(grep '^bighttp:' <<<"$out")" \
    "bighttp: $(sha256sum < www/big | cut -c1-16)" "300 kB over HTTP, intact"
is "$(grep '^proxy:' <<<"$out")" "proxy: http://127.0.0.1:3128" \
    "http_proxy points at the agent's proxy"
like "$(grep -a 'viaconnect\|HTTP/1' <<<"$out")" \
    '^HTTP/1.1 200 .*viaconnect' "CONNECT through the proxy: 200, then bytes"
is "$(grep '^port:' <<<"$out")" "port: HTTP/1.1 403 Forbidden" \
    "another port of a granted name, through the proxy: 403 from the host"
is "$(grep '^other:' <<<"$out")" "other: HTTP/1.1 403 Forbidden" \
    "a name without a grant (same address): 403"
like "$(grep '^direct:' <<<"$out")" 'rc=1' \
    "another port directly: nothing listens for it in the guest"

# ---- the audit log: opened and closed flows, the denials
jq -c 'select(.type|startswith("net."))' "$LOG" > flows
check "net.flow_opened names the grant and the resolved address" \
    jq -e --arg a "$NA" -s \
    'map(select(.type=="net.flow_opened" and .labels.host=="egress.test" and .labels.address==$a and .labels.port=='$EP')) | length >= 3' flows
check "net.flow_closed carries the byte counts of the 1 MiB flow" \
    jq -e -s 'map(select(.type=="net.flow_closed" and .labels.bytes_out>=1048576 and .labels.bytes_in>=1048576)) | length == 1' flows
check "net.flow_denied for the other port: reason not_granted, name of a grant kept" \
    jq -e -s 'map(select(.type=="net.flow_denied" and .labels.reason=="not_granted" and .labels.port==7999 and .labels.host=="egress.test")) | length == 1' flows
check "net.flow_denied for a name no grant has: only its keyed tag" \
    jq -e -s 'map(select(.type=="net.flow_denied" and .labels.reason=="not_granted" and (.labels.host_tag|length)==16 and .labels.host==null)) | length == 1' flows
check "no record names other.test in clear" not grep -q other.test "$LOG"
n_open=$(jq -s 'map(select(.type=="net.flow_opened"))|length' flows)
n_closed=$(jq -s 'map(select(.type=="net.flow_closed"))|length' flows)
is "$n_closed" "$n_open" "every opened flow was closed ($n_open)"

# ---- names that resolve into denied ranges, literals, profiles
out=$($CTL run --profile dev --allow localhost:$EP --allow metadata.test:80 \
    --allow loop.test:$EP -- sh -c '
	for h in localhost:'$EP' metadata.test:80 loop.test:'$EP'; do
		printf "CONNECT $h HTTP/1.1\r\n\r\n" | nc 127.0.0.1 3128 |
		    head -1 | tr -d "\r"
	done
	echo "direct: $(printf x | nc metadata.test 80 | wc -c)"' 2>err)
is "$out" "HTTP/1.1 403 Forbidden
HTTP/1.1 403 Forbidden
HTTP/1.1 403 Forbidden
direct: 0" "granted names that resolve to loopback or metadata: refused (403; directly, no byte)"
check "denied_address for localhost (loopback)" \
    jq -e -s 'map(select(.type=="net.flow_denied" and .labels.reason=="denied_address" and .labels.host=="localhost" and .labels.range=="loopback")) | length == 1' "$LOG"
check "denied_address for metadata.test (169.254.169.254), by proxy and directly" \
    jq -e -s 'map(select(.type=="net.flow_denied" and .labels.reason=="denied_address" and .labels.host=="metadata.test" and .labels.range=="metadata" and .labels.address=="169.254.169.254")) | length == 2' "$LOG"
check "denied_address for loop.test (127.0.0.5)" \
    jq -e -s 'map(select(.type=="net.flow_denied" and .labels.reason=="denied_address" and .labels.host=="loop.test" and .labels.address=="127.0.0.5")) | length == 1' "$LOG"

out=$($CTL run --profile dev --allow $NA:$EP --allow egress.test:$HP \
    --receipt RL -- sh -c 'printf literal | nc '$NA' '$EP 2>err)
is "$out" "literal" "an IPv4 literal grant: the guest connects to that address"
is "$(jq -r .payload RL | base64 -d | jq -c .predicate.invocation.egress)" \
    "[{\"host\":\"$NA\",\"port\":$EP},{\"host\":\"egress.test\",\"port\":$HP}]" \
    "the receipt lists the grants"
$CTL receipt verify RL >/dev/null
is $? 0 "... and verifies"

$CTL run --profile dev --allow 169.254.169.254:80 -- true 2>err
is $? 120 "a literal in a denied range: refused before boot (policy)"
like "$(cat err)" 'always denied' "... saying why"
$CTL run --allow egress.test:$EP -- true 2>err
is $? 120 "profile standard allows no egress (policy)"
like "$(cat err)" 'allows no --allow' "... naming the rule"
check "policy.denied rule network audited" \
    jq -e -s 'map(select(.type=="policy.denied" and .labels.rule=="network")) | length == 2' "$LOG"
$CTL run --profile dev --allow 'bad host:1' -- true 2>err
is $? 2 "a malformed grant: usage error"
$CTL run --profile dev --allow nosuchpreset -- true 2>err
is $? 2 "an unknown preset: usage error"

# ---- no grant: no proxy, no listener, no names
out=$($CTL run --profile dev -- sh -c \
    'echo "proxy=${http_proxy:-none}"; printf x | nc 127.0.0.1 3128; echo rc=$?' 2>&1)
like "$out" 'proxy=none' "without grants: no proxy variables"
like "$out" 'rc=1' "without grants: nothing listens"

# ---- up: grants live with the guest; exec cannot add any
$CTL up eg1 --profile dev --allow egress.test:$EP >/dev/null
is $? 0 "up with a grant"
is "$($CTL exec eg1 -- sh -c 'printf again | nc egress.test '$EP)" "again" \
    "exec in it uses the grant"
$CTL exec eg1 --allow other.test:$EP -- true 2>err
is $? 2 "exec --allow: refused (grants are fixed at up)"
$CTL stop eg1 >/dev/null; $CTL rm eg1 >/dev/null

# ---- evidence stays whole
$CTL audit verify >/dev/null
is $? 0 "the audit log verifies"
sv_stop
is "$SV_RC" 0 "supervisor stops cleanly"
no_leftovers "$SV_DIR"

# ---- limits: one flow at a time, 1 MiB in all
SV_WRAP=$MVM_TMP/wrap sv_start egress2 ', "net_flows_max": 1, "net_mib": 1' ||
    { nok "supervisor with limits starts"; exit 1; }
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log
out=$($CTL run --profile dev --allow egress.test:$EP -- sh -c '
	cx() { printf "CONNECT $1 HTTP/1.1\r\n\r\n" | nc 127.0.0.1 3128 |
	    head -1 | tr -d "\r"; }
	(sleep 3 | nc egress.test '$EP' >/dev/null) &
	sleep 1
	echo "second: $(cx egress.test:'$EP')"
	wait
	head -c 2097152 /dev/zero | nc egress.test '$EP' | wc -c > /tmp/n
	echo "bytes: $(cat /tmp/n)"
	echo "after: $(cx egress.test:'$EP')"' 2>err)
is "$(grep '^second:' <<<"$out")" "second: HTTP/1.1 503 Service Unavailable" \
    "net_flows_max 1: a second flow at once is refused (503)"
b=$(grep '^bytes:' <<<"$out" | cut -d' ' -f2)
check "net_mib 1: a 2 MiB flow is cut short (got ${b:-?} bytes back)" \
    test "${b:-0}" -lt 2097152
is "$(grep '^after:' <<<"$out")" "after: HTTP/1.1 503 Service Unavailable" \
    "past net_mib, new flows are refused"
check "net.flow_denied reason limit audited" \
    jq -e -s 'map(select(.type=="net.flow_denied" and .labels.reason=="limit")) | length == 2' "$LOG"
check "net.flow_closed reason limit audited" \
    jq -e -s 'map(select(.type=="net.flow_closed" and .labels.reason=="limit")) | length == 1' "$LOG"
sv_stop
is "$SV_RC" 0 "supervisor stops cleanly"
no_leftovers "$SV_DIR"
