# Policy profiles, profile by feature: what each allows runs, what it
# denies is refused before any guest boots, with exit 120, the rule in
# the message and a policy.denied audit record naming profile and rule.
# mvm.conf can tighten a profile (and policy show says so).  The guest
# seccomp tier is the profile's, or a stricter one asked for, and the
# agent enforces it: a call outside the tier kills the command.
. "$MVM_TOP/regress/lib.sh"
need_root policy-profiles
need_image policy-profiles

sv_start pol || { nok "supervisor starts"; exit 1; }
ok "supervisor starts"
CTL=$MVMCTL
LOG=$SV_DIR/audit/local/log
cd "$MVM_TMP" || exit 1

# ---- policy ls / show: the built-in table
ls_json=$($CTL policy ls --json)
is "$(jq -r '[.[].name] | join(" ")' <<<"$ls_json")" \
    "restrictive standard dev permissive" "policy ls: the four profiles"
row() { jq -r ".[] | select(.name==\"$1\") | [.env, .secrets, .add_dir,
    .network, .seccomp, .cpus_max, .memory_max_mib, .timeout_max_s,
    .ack_needed, .guest_root] | map(tostring) | join(\" \")" <<<"$ls_json"; }
is "$(row restrictive)" "false false none false minimal 1 512 600 false false" \
    "restrictive: no env, no secrets, no shares, no network, minimal, 1 CPU, 512 MiB, 600 s, no root"
is "$(row standard)" "true true ro false standard 2 2048 3600 false false" \
    "standard: env, secrets, ro shares, no network, standard, 2 CPUs, 2 GiB, 1 h, no root"
is "$(row dev)" "true true rw true network 4 8192 null false true" \
    "dev: rw shares, network, network tier, 4 CPUs, 8 GiB, no ceiling, root"
is "$(row permissive)" "true true rw true unrestricted 16 16384 null true true" \
    "permissive: everything, and an acknowledgement"
is "$($CTL policy show dev --json | jq -c .)" \
    "$(jq -c '.[] | select(.name=="dev")' <<<"$ls_json")" \
    "policy show dev --json is its row"
like "$($CTL policy show restrictive)" "^seccomp: +minimal" \
    "policy show: one line per setting"
$CTL policy show nosuch >/dev/null 2>&1
is $? 2 "policy show of an unknown profile: exit 2"
like "$($CTL policy ls | head -1)" "^PROFILE +ENV +SECRET" "policy ls: a table"

# ---- denials: the matrix, each with its rule; no guest ever boots
denials=0
deny() {	# deny PROFILE RULE ARGS...: run ARGS under PROFILE, denied by RULE
	local prof=$1 rule=$2 out rc n0 n1
	shift 2
	n0=$(grep -c '"type":"policy.denied"' "$LOG")
	out=$($CTL run --profile "$prof" "$@" -- true 2>&1)
	rc=$?
	is "$rc" 120 "$prof, $*: denied (120)"
	like "$out" "profile $prof" "$prof, $*: the message names the profile"
	denials=$((denials + 1))
	for _ in $(seq 50); do
		n1=$(grep -c '"type":"policy.denied"' "$LOG")
		[ "$n1" -gt "$n0" ] && break
		sleep 0.1
	done
	check "$prof, $*: policy.denied with rule $rule" grep -q \
	    "\"labels\":{\"mode\":\"run\",\"profile\":\"$prof\",\"rule\":\"$rule\",\"uid\":0}.*\"type\":\"policy.denied\"" \
	    <(tail -n $((n1 - n0)) "$LOG")
}
deny restrictive env --env A=1
deny restrictive cpus --cpus 2
deny restrictive memory --memory 1024
deny restrictive timeout --timeout 601
deny restrictive seccomp --seccomp standard
deny restrictive network --allow example.com:443
deny standard cpus --cpus 3
deny standard memory --memory 4096
deny standard timeout --timeout 3601
deny standard seccomp --seccomp network
deny standard network --allow example.com:443
deny standard network --allow registries
deny dev cpus --cpus 5
deny dev memory --memory 9000
deny dev seccomp --seccomp unrestricted
deny permissive ack
deny restrictive guest-root --guest-root
deny standard guest-root --guest-root
# the JSON form says policy
j=$($CTL run --profile restrictive --env A=1 --json -- true 2>/dev/null)
is "$?" 120 "--json denial: exit 120"
is "$(jq -r '.error.type' <<<"$j")" policy "--json denial: error.type policy"
like "$(jq -r '.error.message' <<<"$j")" "no --env" "--json denial: the rule in words"
is "$(jq -r .run_id <<<"$j")" null "--json denial: no run id (nothing ran)"
denials=$((denials + 1))
$CTL up denied --profile restrictive --memory 1024 >/dev/null 2>&1
is $? 120 "up over the profile's memory: denied (120)"
denials=$((denials + 1))
is "$($CTL ls --json | jq length)" 0 "no guest exists after the denials"
is "$(grep -c '"type":"run.admitted"' "$LOG")" 0 "no run was admitted"
$CTL run --profile nosuch -- true 2>/dev/null
is $? 2 "an unknown profile: a usage error (2)"
is "$($CTL metrics --json | jq .policy_denials)" "$denials" \
    "metrics: $denials policy denials counted"
no_leftovers "after the denials"

# ---- what each profile allows, in a real guest each
r() {	# r NAME ARGS...: run with a receipt; prints stdout
	$CTL run --receipt "$MVM_TMP/$1.r" "${@:2}"
}
stmt() { jq -r .payload "$MVM_TMP/$1.r" | base64 -d; }
out=$(r restr --profile restrictive -- sh -c 'echo restricted')
is "$?:$out" "0:restricted" "restrictive: a plain command runs"
s=$(stmt restr)
is "$(jq -r '.predicate.invocation | [.profile, .seccomp, .cpus,
    .memory_mib, .timeout_s] | map(tostring) | join(" ")' <<<"$s")" \
    "restrictive minimal 1 256 600" \
    "restrictive: the receipt names profile and tier; its timeout ceiling applies"
out=$(r std --env GREETING=hi --cpus 2 -- sh -c 'echo $GREETING; nproc')
is "$?:$(tr '\n' ' ' <<<"$out")" "0:hi 2 " "standard (default): --env and 2 CPUs"
is "$(stmt std | jq -r '.predicate.invocation | [.profile, .seccomp,
    .timeout_s] | map(tostring) | join(" ")')" "standard standard 3600" \
    "standard: profile, tier and timeout ceiling in the receipt"
out=$(r dev --profile dev --seccomp minimal --allow example.com:443 -- echo dev)
is "$?:$out" "0:dev" "dev with a stricter tier asked for, and an egress grant"
is "$(stmt dev | jq -r '.predicate.invocation | [.profile, .seccomp,
    .timeout_s] | map(tostring) | join(" ")')" "dev minimal 0" \
    "dev: the stricter tier is what ran; no timeout ceiling"
out=$(r perm --profile permissive --ack-permissive --allow github -- \
    grep -c "^127\.100\.0\." /etc/hosts)
is "$?:$out" "0:4" "permissive with --ack-permissive, and a preset of grants (4 names)"
is "$(stmt perm | jq -r .predicate.invocation.seccomp)" unrestricted \
    "permissive: tier unrestricted"
check "run.admitted records profile and tier" grep -q \
    '"profile":"permissive","seccomp":"unrestricted".*"type":"run.admitted"' "$LOG"

# ---- the tier is enforced in the guest: a call outside it kills
$CTL run --seccomp minimal -- mkdir /tmp/x
is $? 159 "minimal: mkdir(2) is outside the tier: killed by SIGSYS (128+31)"
$CTL run --seccomp standard -- mkdir /tmp/x
is $? 0 "standard: the same mkdir succeeds"
$CTL run --seccomp essential -- mkdir /tmp/x
is $? 159 "essential: the same mkdir is killed"

# ---- a named guest keeps its profile; exec cannot loosen it
$CTL up g1 --profile restrictive >/dev/null; is $? 0 "up g1 --profile restrictive"
is "$($CTL ls --json | jq -r '.[] | select(.name=="g1") | "\(.profile) \(.seccomp)"')" \
    "restrictive minimal" "ls shows the guest's profile and tier"
is "$($CTL exec g1 -- echo ok </dev/null)" ok "exec in it runs"
$CTL exec g1 --env A=1 -- true </dev/null 2>/dev/null
is $? 120 "exec --env in a restrictive guest: denied"
$CTL exec g1 --seccomp standard -- true </dev/null 2>/dev/null
is $? 120 "exec --seccomp standard in a restrictive guest: denied"
check "exec denial audited with the guest" grep -q \
    '"labels":{"mode":"exec","profile":"restrictive","rule":"seccomp","uid":0},.*"subject":{"guest":"g1"}' "$LOG"
$CTL exec g1 -- mkdir /tmp/y </dev/null
is $? 159 "exec in a restrictive guest runs under minimal: mkdir killed"
$CTL stop g1 >/dev/null; $CTL rm g1 >/dev/null
sv_stop
is "$SV_RC" 0 "supervisor stops cleanly"
no_leftovers "after the profile runs"

# ---- mvm.conf tightens standard: no --env, 1 CPU
sv_start tight ', "profiles": { "standard": { "env": false, "cpus_max": 1 } }' ||
    { nok "supervisor with a tightened profile starts"; exit 1; }
is "$($MVMCTL policy show standard --json | jq -r '"\(.env) \(.cpus_max)"')" \
    "false 1" "policy show: the tightened profile as applied"
$MVMCTL run --env A=1 -- true 2>/dev/null
is $? 120 "tightened standard: --env denied"
$MVMCTL run --cpus 2 -- true 2>/dev/null
is $? 120 "tightened standard: --cpus 2 denied"
sv_stop
