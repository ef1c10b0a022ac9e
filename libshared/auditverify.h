/*
 * auditverify: the offline check of a tenant's audit log and its
 * checkpoints file (man/mvm-audit.5), for mvmctl audit verify and prove.
 *
 * audit_scan() checks the records (syntax, seq, prev, tenant, key id,
 * signatures) and rebuilds the Merkle tree; then every checkpoint line
 * is checked against that tree: its signature, its origin, its size
 * (not more records than the log holds) and its root.  A checkpoint the
 * auditor kept from earlier (since) is checked the same way: that is
 * what catches a log cut back together with its checkpoints file.
 *
 * The verdict is the first failure in log order: each failure has a
 * position, the seq of the record it concerns (for a checkpoint, the
 * last record it covers), and the smallest wins; on a tie a record
 * failure wins over a checkpoint's.
 */
#ifndef MVM_AUDITVERIFY_H
#define MVM_AUDITVERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "auditscan.h"
#include "merkle.h"
#include "mvm.h"
#include "note.h"

struct audit_verify_opts {
	const uint8_t	*avo_pk;	/* 32 bytes; NULL: structure only */
	const char	*avo_keyname;	/* NULL or "": from the checkpoints */
	const char	*avo_tenant;	/* expected tenant, or NULL */
	const struct checkpoint *avo_since;	/* an auditor's, or NULL */
	int		 avo_threads;	/* 0: the number of online CPUs */
};

struct audit_verify_result {
	int		 avr_class;	/* AV_* */
	int64_t		 avr_bad_seq;	/* -1: not about one record */
	char		 avr_detail[256];
	uint64_t	 avr_records;	/* accepted (before a failure) */
	uint64_t	 avr_checkpoints;	/* lines that check out */
	uint64_t	 avr_ckpt_ignored;	/* lines that do not parse */
	uint64_t	 avr_newest;	/* largest checkpoint size */
	int		 avr_have_newest;
	char		 avr_newest_note[NOTE_MAX];	/* its note text */
	struct audit_region *avr_recovered;	/* crash regions */
	size_t		 avr_nrecovered;
	uint64_t	 avr_tail_off;	/* torn tail, if avr_tail_len > 0 */
	uint64_t	 avr_tail_len;
	uint8_t		 avr_root[MERKLE_HASH_LEN];	/* of all records */
	char		 avr_tenant[MVM_TENANT_MAX];	/* "" if unknown */
	char		 avr_keyname[MVM_KEYNAME_MAX];	/* "" without a key */
	uint32_t	 avr_keyid;
	struct merkle_tree avr_tree;	/* over the accepted records */
};

/*
 * Returns 0 with the verdict in res (avr_class), or -1 if no verdict
 * could be reached (out of memory, no key name): avr_detail says why.
 * Either way res must be released with audit_verify_free().
 */
int	 audit_verify(const uint8_t *, size_t, const uint8_t *, size_t,
	    const struct audit_verify_opts *, struct audit_verify_result *);
void	 audit_verify_free(struct audit_verify_result *);
int	 audit_origin_tenant(const char *, const char *);

#endif /* MVM_AUDITVERIFY_H */
