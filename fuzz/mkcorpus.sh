#!/bin/bash
# Make the seed corpora, fuzz/corpus/<target>/seed-* and session-*, with
# our own tools: mvm-keytool, mvm-receiptgen and mvm-auditgen (the RFC
# 8032 test 1 key, so the receipt is the golden one of
# regress/unit/receipt.c), mvm-fuzzseed (fuzz/mkseed.c: real IPC
# messages, agent frames and agent sessions), regress/conf/cases, the
# manifest template of guest/mkimage.sh, the redaction cases of
# regress/unit/redact.c.  Other
# files in those directories (inputs the fuzzer found, kept as
# regression tests) are left alone.  The output depends only on the tools.
#
# usage: fuzz/mkcorpus.sh BUILD		(make fuzz-corpus)
set -eu

B=$1/regress
top=$(cd "$(dirname "$0")/.." && pwd)
C=$top/fuzz/corpus
RFC_SEED=9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60
T=$(mktemp -d /tmp/mvm-mkcorpus.XXXXXX)
trap 'rm -rf "$T"' EXIT

# a flags byte (decimal or 0x..), the section separator, a line
flag() { printf "\\$(printf '%03o' "$(($1))")"; }
sep() { printf '\0--\0'; }
line() { sed -n "$1p" "$2" | tr -d '\n'; }
unsigned() { sed 's/,"sig":"[^"]*"//'; }

for t in imsg agentproto vmmagent record note merkle receipt auditverify \
    codec conf share manifest redact
do
	mkdir -p "$C/$t"
	rm -f "$C/$t"/seed-* "$C/$t"/session-*
done

"$B/mvm-keytool" seed mvm-rfc8032 "$RFC_SEED" >"$T/key"
"$B/mvm-keytool" pub "$T/key" >"$T/pub"
"$B/mvm-keytool" pem "$(cat "$T/pub")" >"$T/pem"
mkdir "$T/r"
"$B/mvm-receiptgen" "$T/key" "$T/r" >/dev/null
"$B/mvm-auditgen" "$T/key" "$T/log" "$T/ck" 12 --every 4 >/dev/null
"$B/mvm-auditgen" "$T/key" "$T/log70" "$T/ck70" 70 --every 1 >/dev/null
"$B/mvm-fuzzseed" recovered "$T/rec"
"$B/mvm-fuzzseed" proof "$T/proof"
"$B/mvm-fuzzseed" imsg "$C/imsg"
"$B/mvm-fuzzseed" agentproto "$C/agentproto"
"$B/mvm-fuzzseed" vmmagent "$C/vmmagent"
"$B/mvm-fuzzseed" merkle "$C/merkle"
"$B/mvm-fuzzseed" share "$C/share"
R=$T/r
RL=$R/state/audit/local
CL=$R/cut/audit/local

# record: flags, then a line or a log (fuzz/record.c)
c=$C/record
{ flag 1; line 1 "$T/log"; } >"$c/seed-line-first"
{ flag 1; grep run.exited "$RL/log" | tr -d '\n'; } >"$c/seed-line-run-exited"
{ flag 0; line 2 "$T/log" | unsigned; } >"$c/seed-line-unsigned"
{ flag 1; line 3 "$T/rec"; } >"$c/seed-line-recovered"
{ flag 0x03; cat "$T/log"; } >"$c/seed-log"
{ flag 0x0f; cat "$T/log"; } >"$c/seed-log-fix"
{ flag 0x07; cat "$T/rec"; } >"$c/seed-log-recovered"
{ flag 0x03; cat "$T/log"; line 5 "$T/log" | head -c 200; } \
    >"$c/seed-log-torn"
{ flag 0x07; cat "$RL/log"; } >"$c/seed-log-receipt"
{ flag 0x03; cat "$CL/log"; } >"$c/seed-log-cut"

# note: flags, then a note or a proof text (fuzz/note.c)
c=$C/note
{ flag 0; cat "$R/newer.note"; } >"$c/seed-note-newer"
{ flag 1; cat "$R/cut.note"; } >"$c/seed-note-cut-resign"
{ flag 0; jq -j .note <(head -1 "$T/ck"); } >"$c/seed-note-ckpt"
# a second signature line of another algorithm (a witness's): ignored
{ flag 0; cat "$R/newer.note"
    printf '\xe2\x80\x94 witness.example AAAAAAA=\n'; } >"$c/seed-note-witness"
{ flag 0; cat "$R/newer.proof"; } >"$c/seed-proof-consistency"
{ flag 1; cat "$R/cut.proof"; } >"$c/seed-proof-cut-resign"
{ flag 0; cat "$T/proof"; } >"$c/seed-proof-inclusion"

# receipt: flags, then envelope or statement, newer note, proof, log,
# checkpoints, stdout, stderr (fuzz/receipt.c)
c=$C/receipt
{ flag 0; cat "$top/regress/unit/receipt-golden.json"; } >"$c/seed-golden"
{ flag 0x04; cat "$R/receipt.json"; } >"$c/seed-golden-named"
for f in "$R"/forged-*.json; do
	n=${f##*/}
	{ flag 0x04; cat "$f"; } >"$c/seed-${n%.json}"
done
{ flag 0x01; cat "$R/statement.json"; } >"$c/seed-statement"
{ flag 0x03; cat "$R/statement.json"; } >"$c/seed-statement-resign"
{ flag 0x0c; cat "$R/receipt.json"; sep; cat "$R/newer.note"; } \
    >"$c/seed-newer"
{ flag 0x1c; cat "$R/receipt.json"; sep; cat "$R/newer.note"; sep
    cat "$R/newer.proof"; } >"$c/seed-newer-proof"
{ flag 0x14; cat "$R/receipt.json"; sep; sep; cat "$R/cut.proof"; } \
    >"$c/seed-cut-proof"
{ flag 0x2c; cat "$R/receipt.json"; sep; cat "$R/newer.note"; sep; sep
    cat "$RL/log"; sep; cat "$RL/checkpoints"; } >"$c/seed-newer-log"
{ flag 0x2c; cat "$R/receipt.json"; sep; cat "$R/cut.note"; sep; sep
    cat "$CL/log"; sep; cat "$CL/checkpoints"; } >"$c/seed-cut-log"
{ flag 0x2f; cat "$R/statement.json"; sep; cat "$R/newer.note"; sep; sep
    cat "$RL/log"; sep; cat "$RL/checkpoints"; } >"$c/seed-resign-log"
{ flag 0x44; cat "$R/receipt.json"; sep; sep; sep; sep; sep
    cat "$R/stdout"; sep; cat "$R/stderr"; } >"$c/seed-files"
{ flag 0x44; cat "$R/receipt.json"; sep; sep; sep; sep; sep
    cat "$R/stderr"; sep; cat "$R/stdout"; } >"$c/seed-files-swapped"

# auditverify: flags, then log, checkpoints, since note
# (fuzz/auditverify.c)
c=$C/auditverify
{ flag 0x07; cat "$T/log"; sep; cat "$T/ck"; } >"$c/seed-log"
{ flag 0x00; cat "$T/log"; sep; cat "$T/ck"; } >"$c/seed-structure"
{ flag 0x01; cat "$T/log"; sep; cat "$T/ck"; } >"$c/seed-keyname-found"
{ flag 0x0f; cat "$T/log"; sep; cat "$T/ck"; sep
    jq -j .note <(sed -n 2p "$T/ck"); } >"$c/seed-since"
{ flag 0x27; cat "$T/log"; sep; cat "$T/ck"; } >"$c/seed-resign"
{ flag 0x07; cat "$RL/log"; sep; cat "$RL/checkpoints"; } \
    >"$c/seed-receipt-log"
{ flag 0x0f; cat "$CL/log"; sep; cat "$CL/checkpoints"; sep
    cat "$R/newer.note"; } >"$c/seed-cut-since"
{ flag 0x07; cat "$T/rec"; sep; } >"$c/seed-recovered"
{ flag 0x07; cat "$T/log"; sep; cat "$T/ck"; printf '{"note":"mvm-au'; } \
    >"$c/seed-torn-ckpt"
{ flag 0x17; cat "$T/log70"; sep; cat "$T/ck70"; } >"$c/seed-threads"
# 1024 lines or more: the scan's worker threads (a torn tail of newlines)
{ flag 0x17; cat "$T/log"; head -c 1100 /dev/zero | tr '\0' '\n'; sep
    cat "$T/ck"; } >"$c/seed-threads-scan"

# codec: the whole input to every decoder (fuzz/codec.c)
c=$C/codec
cp "$T/pub" "$c/seed-vkey"
cp "$T/key" "$c/seed-skey"
cp "$T/pem" "$c/seed-pem"
cut -d+ -f3- "$T/pub" | tr -d '\n' | base64 -d | tail -c 32 >"$c/seed-raw-pk"
line 1 "$T/log" | sed 's/.*"sig":"\([^"]*\)".*/\1/' | tr -d '\n' \
    >"$c/seed-b64-sig"
printf 'QQ==' >"$c/seed-b64-1"
printf 'QUI=' >"$c/seed-b64-2"
line 2 "$T/log" | sed 's/.*"prev":"\([0-9a-f]*\)".*/\1/' | tr -d '\n' \
    >"$c/seed-hex-hash"
printf 'b7838ddc' >"$c/seed-hex-kid"
: >"$c/seed-empty"

# conf: the configuration test cases
for f in "$top"/regress/conf/cases/*.json; do
	n=${f##*/}
	cp "$f" "$C/conf/seed-${n%.json}"
done

# manifest: flags, then manifest.json (fuzz/manifest.c).  The one
# guest/mkimage.sh writes: its own template, run with the files of
# fuzz/manifest.c's image directories; the one image_build_end() writes
# (jansson, sorted keys, indent 2: as jq -S); and broken ones.
c=$C/manifest
mkdir "$T/img"
"$B/mvm-fuzzseed" imagefiles "$T/img"
mkimage_manifest() {
	local out=$T/img kver=6.1.0-28-amd64 created=2026-01-01T00:00:00Z
	local AGENT_VERSION="mvm-agent 0.1.0"
	sha() { sha256sum <"$1" | cut -c1-64; }
	eval "$(sed -n '/^cat >"$work\/manifest.json" <<EOF$/,/^EOF$/p' \
	    "$top/guest/mkimage.sh" | sed '1s/.*/cat <<EOF/')"
}
hash() { sha256sum <"$T/img/$1" | cut -c1-64; }
mkimage_manifest >"$T/m.json"
grep -q "\"sha256\":\"$(hash vmlinux)\"" "$T/m.json" ||
    { echo "mkcorpus: no manifest template in guest/mkimage.sh" >&2; exit 1; }
set_file() {	# KEY FILE [SHA]: one file of the manifest, another way
	jq -c --arg k "$1" --arg f "$2" --arg h "${3:-$(hash "$2")}" \
	    '.[$k] = {file: $f, sha256: $h}' "$T/m.json"
}
{ flag 0; cat "$T/m.json"; } >"$c/seed-mkimage"
{ flag 1; cat "$T/m.json"; } >"$c/seed-mkimage-longdir"
{ flag 2; cat "$T/m.json"; } >"$c/seed-mkimage-longname"
{ flag 3; cat "$T/m.json"; } >"$c/seed-mkimage-toolong"
{ flag 4; cat "$T/m.json"; } >"$c/seed-mkimage-missing"
{ flag 8; cat "$T/m.json"; } >"$c/seed-mkimage-badname"
{ flag 0; jq -S --indent 2 -n --arg k "$(hash vmlinux)" \
    --arg i "$(hash initramfs.cpio)" '{name: "build1", base: "default",
    kernel: {file: "vmlinux", sha256: $k},
    initramfs: {file: "initramfs.cpio", sha256: $i},
    kernel_version: "6.1.0-28-amd64", layer_bytes: 512}'; } \
    >"$c/seed-built"
{ flag 0; set_file kernel bzImage; } >"$c/seed-bzimage"
{ flag 0; set_file initramfs vmlinux; } >"$c/seed-same-file"
{ flag 0; set_file initramfs empty; } >"$c/seed-empty-file"
{ flag 0; set_file initramfs initramfs.cpio "$(hash vmlinux)"; } \
    >"$c/seed-wrong-hash"
{ flag 0; set_file kernel link "$(hash vmlinux)"; } >"$c/seed-symlink"
{ flag 0; set_file kernel dir "$(hash empty)"; } >"$c/seed-dir"
{ flag 0; set_file kernel ../default/vmlinux "$(hash vmlinux)"; } \
    >"$c/seed-slash"
{ flag 0; set_file kernel manifest.json "$(hash empty)"; } \
    >"$c/seed-manifest-itself"
{ flag 1; set_file kernel "$(printf 'v%.0s' {1..120})" \
    "$(hash vmlinux)"; } >"$c/seed-long-file"
{ flag 0; sed 's/"name":"default",/"name":"default","name":"x",/' \
    "$T/m.json"; } >"$c/seed-duplicate"
{ flag 0; head -c 100 "$T/m.json"; } >"$c/seed-torn"

# redact: flags (values - 1), the values, the output, chunk sizes
# (fuzz/redact.c); the cases of regress/unit/redact.c and some that
# mix many overlapping values
c=$C/redact
red() {		# NAME CHUNKS OUTPUT VALUE...
	local name=$1 chunks=$2 out=$3 v
	shift 3
	{ flag $(($# - 1)); for v; do printf '%s' "$v"; sep; done
	    printf '%s' "$out"; sep; printf '%b' "$chunks"; } >"$c/seed-$name"
}
dsn='postgres://app:Hunter2-pw@db.internal:5432/prod'
pw=Hunter2-pw
red dsn '\x05\x01\x0b' "url=$dsn
pw=$pw
" "$dsn" "$pw"
red dsn-end '\x07' "url=postgres://app:$pw@db" "$dsn" "$pw"
red overlap '\x01' 'x abcdefghi y' abcdef defghi
red prefix '\x02\x00\x03' 'xabcdefy xabcdey' abc abcdef
red adjacent '' '-abcdef-' abc def
red self '\x01\x02' 'baaaaab' aa
red end '\x04' 'out: s3cr3t-T0ken' s3cr3t-T0ken
red prefix-end '\x04' 'out: s3cr3t-T0k' s3cr3t-T0ken
red none '' 'nothing to see here
' s3cr3t-T0ken
red mark '\x03' '[mvm:redacted] redacted' redacted
red many '\x01\x02\x03\x05\x08\x0d' \
    'ABABCABCBACABxABAB CABABC BAC ABCABBA xCABAxBABCx ABABABA' \
    AB BA ABA CAB BABC C
red long '\xff\x01\x40' "$(printf 'line %s\n' {1..40})$(printf 'k%.0s' \
    {1..300})$(printf 'line %s\n' {41..80})" "$(printf 'k%.0s' {1..300})"
: >"$c/seed-empty"

for t in imsg agentproto vmmagent record note merkle receipt auditverify \
    codec conf share manifest redact
do
	printf '%-12s %3d files %7d bytes\n' "$t" \
	    "$(find "$C/$t" -type f | wc -l)" \
	    "$(cat "$C/$t"/* | wc -c)"
done
