/*
 * auditscan: read an audit log (one record per line, man/mvm-audit.5)
 * and check its structure: every line a canonical record, seq counting
 * up from 0, each prev the SHA-256 of the line before, one tenant.  It
 * rebuilds the Merkle tree over the records and finds crash regions:
 *
 *   recovered   bytes that are not records, followed by the
 *               audit.recovered record auditd wrote to describe them
 *               (its labels give their offset, length and SHA-256);
 *   torn tail   such bytes at the end of the log with no record after
 *               them: a crash auditd has not recovered yet.
 *
 * Invalid bytes followed by records that do not describe them are
 * tampering (AV_MALFORMED).  Used by auditd at start (structure only)
 * and by mvmctl audit verify (with signatures, on several threads).
 *
 * With as_threads > 1 (and enough lines) that many threads parse the
 * lines and check their signatures, a chunk at a time in order, while
 * the walk follows them.  Otherwise the work is done lazily as the walk
 * reaches each line.  Either way a scan that fails at record k has done
 * about k lines' work, not all of it; lines it never reached may keep
 * al_done == 0.
 */
#ifndef MVM_AUDITSCAN_H
#define MVM_AUDITSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "merkle.h"
#include "mvm.h"

/* failure classes, in the order mvmctl audit verify reports them */
#define AV_OK		0
#define AV_MALFORMED	1
#define AV_LINK		2
#define AV_SIGNATURE	3
#define AV_ROOT		4
#define AV_TRUNCATED	5
#define AV_NOTEXT	6	/* not an extension of a given checkpoint */
#define AV_UNKNOWNKEY	7

struct audit_line {
	uint64_t	 al_off;	/* offset of the line in the log */
	uint32_t	 al_len;	/* without the newline */
	uint8_t		 al_nl;		/* ends with a newline */
	uint8_t		 al_valid;	/* a canonical record */
	uint8_t		 al_sig;	/* 1 signature checked and good */
	uint8_t		 al_recovered;	/* type audit.recovered */
	uint8_t		 al_done;	/* work done on this line: */
#define AL_PARSED	0x1		/* hashes and record_check */
#define AL_SIGNED	0x2		/* signature (if a key was given) */
	int64_t		 al_seq;
	uint32_t	 al_kid;
	uint8_t		 al_prev[32];
	uint8_t		 al_hash[32];	/* SHA-256 of the line */
	uint8_t		 al_leaf[32];	/* its Merkle leaf hash */
	uint8_t		 al_tenant[8];	/* start of SHA-256(tenant) */
	uint64_t	 al_rec_off;	/* audit.recovered labels */
	uint64_t	 al_rec_len;
	uint8_t		 al_rec_hash[32];
};

struct audit_region {
	uint64_t	 ar_off;
	uint64_t	 ar_len;
	int64_t		 ar_seq;	/* seq of the audit.recovered record */
};

struct scan_pool;

struct audit_scan {
	/* input */
	const char	*as_tenant;	/* expected tenant, or NULL */
	const uint8_t	*as_pk;		/* check signatures with this key */
	uint32_t	 as_kid;	/* and expect this key id */
	int		 as_threads;	/* 0 or 1: none */
	/* output */
	struct audit_line *as_lines;
	size_t		 as_nlines;
	uint64_t	 as_nrec;	/* records accepted */
	uint64_t	*as_recidx;	/* record seq -> line index */
	struct merkle_tree as_tree;
	uint8_t		 as_last[32];	/* hash of the last record's line */
	uint64_t	 as_end;	/* offset after the last record */
	uint64_t	 as_tail_off;	/* torn tail, if as_tail_len > 0 */
	uint64_t	 as_tail_len;
	struct audit_region *as_regions;
	size_t		 as_nregions;
	int		 as_class;	/* AV_* of the first failure */
	int64_t		 as_bad_seq;
	char		 as_why[160];
	struct scan_pool *as_pool;	/* internal: the threaded scan */
};

int	 audit_scan(const uint8_t *, size_t, struct audit_scan *);
void	 audit_scan_free(struct audit_scan *);
const char *audit_class_name(int);

#endif /* MVM_AUDITSCAN_H */
