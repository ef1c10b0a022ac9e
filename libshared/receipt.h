/*
 * Run receipts (man/mvm-receipt.5): a DSSE v1 envelope around an in-toto
 * Statement v1 whose predicate (RECEIPT_PREDICATE) describes one run
 * and binds it to the audit log.
 *
 * Envelope (JSON object, exactly these members):
 *   {"payload":"<base64 statement>",
 *    "payloadType":"application/vnd.in-toto+json",
 *    "signatures":[{"keyid":"<8 hex: C2SP key id>","sig":"<base64>"}]}
 * The signature is Ed25519 over PAE(payloadType, statement bytes)
 * (sigmsg_pae), made by the host key.
 *
 * Statement (compact JSON, keys sorted, as jansson prints it):
 *   _type		"https://in-toto.io/Statement/v1"
 *   subject		[{"name":"stdout","digest":{"sha256":hex},
 *			  "annotations":{"bytes":N}}, same for "stderr"]
 *			digests of the streams as they reached the host
 *			(all of them, also when --json keeps only a part)
 *   predicateType	RECEIPT_PREDICATE
 *   predicate:
 *     version		1
 *     run_id		the run id (32 hex)
 *     guest		the guest's name
 *     invocation	{"argv_sha256":hex, "argc":N, "env_keys":[sorted],
 *			 "image":{"name","kernel_sha256","initramfs_sha256"},
 *			 "profile":"standard", (policy profile)
 *			 "seccomp":"standard", (the guest seccomp tier)
 *			 "secrets":N, (secrets granted, by count)
 *			 "uid":N, (the guest user it ran as, AP_UID_*;
 *			    not in receipts from before users, and then
 *			    not in the record either)
 *			 "add_dirs":[{"guest_path","mode":"ro"|"rw",
 *			    "host_path_tag","files":N,"bytes":N}],
 *			    (host shares, only if there were any)
 *			 "cpus":N, "memory_mib":N,
 *			 "timeout_s":N, "mode":"run"|"exec"}
 *     outcome		{"exit_code":N|null, "signal":N|null,
 *			 "timed_out":bool, "stdout_truncated":bool,
 *			 "stderr_truncated":bool,
 *			 "redactions":N,	(secret values cut from output)
 *			 "add_dirs":[{"guest_path","files":N,"bytes":N,
 *			    "skipped":N,"stream_sha256":hex}]}
 *			    (rw shares that came back, if there were shares)
 *     timing		{"started":RFC3339 ms, "ended":RFC3339 ms,
 *			 "boot_ms":N, "run_ms":N}
 *     backend		{"name":"qemu-microvm", "accel":"kvm"|"tcg",
 *			 "qemu":"7.2.22", "agent":"mvm-agent 0.1.0",
 *			 "guest_kernel":"6.1.0-..."}
 *     signer		{"key_id":"8 hex", "key_name":"..."}
 *     audit		{"tenant":..., "origin":..., "index":N,
 *			 "record":"<the run.exited line, as in the log>",
 *			 "leaf_sha256":hex (RFC 6962 leaf hash of record),
 *			 "checkpoint":"<signed note whose tree holds index>",
 *			 "inclusion":[base64 hashes]}
 *
 * The run.exited record (record.h) carries the run id and the outcome
 * and digests too, so a receipt whose statement says something its own
 * record does not is refused (binding), even if validly signed.
 */
#ifndef MVM_RECEIPT_H
#define MVM_RECEIPT_H

#define RECEIPT_PREDICATE	"urn:mvm:predicate:run-receipt:v1"
#define RECEIPT_VERSION		1
#define RECEIPT_MAX		(256 * 1024)	/* an envelope, as bytes */

/* mvmctl receipt verify: one exit status per failure class */
#define RV_OK		0
#define RV_ENVELOPE	20	/* not a DSSE envelope of the right shape */
#define RV_SIGNATURE	21	/* no signature verifies with the key */
#define RV_PAYLOADTYPE	22	/* payloadType is not in-toto */
#define RV_PREDICATE	23	/* statement type, predicate type/version */
#define RV_SUBJECT	24	/* a subject digest differs from a file */
#define RV_BINDING	25	/* statement and its audit record disagree */
#define RV_INCLUSION	26	/* the record is not in the checkpoint */
#define RV_CHECKPOINT	27	/* checkpoint signature, origin, key */
#define RV_NOTINLOG	28	/* a newer checkpoint does not extend it */

#endif /* MVM_RECEIPT_H */
