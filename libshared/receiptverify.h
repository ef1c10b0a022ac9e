/*
 * receiptverify: the offline check of a run receipt (receipt.h,
 * man/mvm-receipt.5), for mvmctl receipt verify.  No daemon, no
 * network: the receipt, the host's public key and, optionally, the
 * run's output files, a newer checkpoint with a consistency proof, or
 * the tenant's audit log.
 *
 * The checks run in this order and the first failure is the verdict
 * (RV_* in receipt.h):
 *
 *   envelope	strict JSON, exactly payload, payloadType, signatures;
 *		payload canonical base64; at most RECEIPT_MAX bytes
 *   signature	one signature verifies over PAE(payloadType, payload)
 *   payloadtype	payloadType is MVM_DSSE_TYPE
 *   predicate	statement and predicate types, version, and every
 *		member the format requires, with its type
 *   subject	the --stdout / --stderr files against the subjects
 *   binding	audit.record: a signed run.exited record by the same
 *		key, for this run, with the same outcome and digests,
 *		and leaf_sha256 its leaf hash
 *   checkpoint	audit.checkpoint is signed by the key (and its name),
 *		for audit.origin, which is the tenant's
 *   inclusion	the proof puts the record at audit.index in that tree
 *   notinlog	(only with a newer checkpoint or a proof) the log at
 *		that newer checkpoint still holds the run
 *
 * The checkpoint is checked before its root is used for the inclusion
 * proof, so a receipt that fails both reports RV_CHECKPOINT.
 */
#ifndef MVM_RECEIPTVERIFY_H
#define MVM_RECEIPTVERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "mvm.h"
#include "receipt.h"

#define RECEIPT_RUNID_LEN	32	/* hex digits */

/* the tenant's audit log and checkpoints file, as bytes */
struct receipt_log {
	const uint8_t	*rl_log;
	size_t		 rl_loglen;
	const uint8_t	*rl_ckpts;
	size_t		 rl_ckptslen;
};

struct receipt_verify_opts {
	const uint8_t	*rvo_pk;		/* 32 bytes */
	const char	*rvo_keyname;		/* NULL or "": unknown */
	int		 rvo_stdout_fd;		/* -1: not checked */
	int		 rvo_stderr_fd;		/* -1: not checked */
	/* a newer checkpoint (one signed note), or NULL */
	const char	*rvo_newer;
	size_t		 rvo_newerlen;
	/* a consistency proof text, or NULL; alone, its note is the newer
	 * checkpoint */
	const char	*rvo_proof;
	size_t		 rvo_prooflen;
	/*
	 * With a newer checkpoint and no proof: the tenant's log.  get
	 * returns 0 and fills the log, or -1 if it cannot be read (then
	 * receipt_verify fails with -1); put releases it.
	 */
	int		(*rvo_log_get)(void *, const char *,
			    struct receipt_log *);
	void		(*rvo_log_put)(void *, struct receipt_log *);
	void		*rvo_log_arg;
	int		 rvo_threads;		/* for audit_verify */
};

struct receipt_verify_result {
	int		 rvr_class;		/* RV_* */
	char		 rvr_detail[256];
	/* what the receipt says, as far as it was read */
	char		 rvr_run_id[RECEIPT_RUNID_LEN + 1];
	int		 rvr_have_outcome;
	int		 rvr_have_code;
	int64_t		 rvr_code;
	int		 rvr_have_signal;
	int64_t		 rvr_signal;
	int		 rvr_timed_out;
	char		 rvr_keyname[MVM_KEYNAME_MAX];	/* "" unknown */
	char		 rvr_keyid[9];		/* "" unknown */
	char		 rvr_tenant[MVM_TENANT_MAX];
	int		 rvr_have_index;
	uint64_t	 rvr_index;		/* audit.index */
	int		 rvr_have_ckpt;
	uint64_t	 rvr_ckpt_size;		/* its checkpoint's size */
	int		 rvr_have_newer;
	uint64_t	 rvr_newer_size;	/* the newer checkpoint's */
};

/*
 * Returns 0 with the verdict in res (rvr_class), or -1 if no verdict
 * could be reached (out of memory, a read error on an output file, a
 * newer checkpoint with neither a proof nor a readable log):
 * rvr_detail says why.
 */
int	 receipt_verify(const uint8_t *, size_t,
	    const struct receipt_verify_opts *, struct receipt_verify_result *);
const char *receipt_class_name(int);
/*
 * The envelope for a statement and one signature over its PAE, as
 * compact JSON with sorted keys (no newline): a new string, or NULL.
 */
char	*receipt_envelope(const uint8_t *, size_t, const char *, uint32_t,
	    const uint8_t[MVM_SIG_LEN]);

#endif /* MVM_RECEIPTVERIFY_H */
