/*
 * auditverify: a tenant's audit log and checkpoints file through
 * audit_verify() (libshared/auditverify.c over auditscan.c), as mvmctl
 * audit verify reads them, optionally with an auditor's checkpoint.
 *
 * input: flags, then sections cut at FUZZ_SEP: the log, the checkpoints
 * file ({"note":...} lines), a "since" note
 *	flags & 0x01	check signatures with the test key (else
 *			structure only)
 *	flags & 0x02	and name it (else the name is found in the
 *			checkpoints)
 *	flags & 0x04	expect tenant "local"
 *	flags & 0x08	the since note, if it parses
 *	flags & 0x10	two threads (the scan's and the checkpoints')
 *	flags & 0x20	make mutated input get past the signatures:
 *			relink and sign every record again
 *			(fuzz_fix_log), and sign every checkpoint and the
 *			since note again, with the root of the log's first
 *			records where there are that many
 *
 * Properties: the verdict and counts agree with each other; the tree
 * handed back holds the records accepted.
 */
#include <string.h>

#include "auditverify.h"
#include "fuzz.h"
#include "note.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_sect		 s[3];
	struct audit_verify_opts	 o;
	struct audit_verify_result	 r;
	struct checkpoint		 since;
	uint8_t				*log, *ck;
	char				*note;
	size_t				 ns, cklen, n, used;
	int				 flags, rc;

	fuzz_init();
	if (size < 1)
		return (0);
	flags = data[0];
	memset(s, 0, sizeof(s));
	ns = fuzz_split(data + 1, size - 1, s, 3);
	if ((log = malloc(s[0].s_len + 1)) == NULL)
		abort();
	memcpy(log, s[0].s_p, s[0].s_len);
	if (flags & 0x20) {
		fuzz_fix_log((char *)log, s[0].s_len);
		ck = fuzz_fix_ckpts(s[1].s_p, s[1].s_len, log, s[0].s_len,
		    &cklen);
	} else {
		if ((ck = malloc(s[1].s_len + 1)) == NULL)
			abort();
		memcpy(ck, s[1].s_p, s[1].s_len);
		cklen = s[1].s_len;
	}
	memset(&o, 0, sizeof(o));
	o.avo_pk = (flags & 0x01) ? fuzz_rfc.k_pk : NULL;
	o.avo_keyname = (flags & 0x02) ? FUZZ_KEYNAME : NULL;
	o.avo_tenant = (flags & 0x04) ? "local" : NULL;
	o.avo_threads = (flags & 0x10) ? 2 : 1;
	if ((flags & 0x08) && ns > 2) {
		note = (flags & 0x20) ? fuzz_resign_note((const char *)
		    s[2].s_p, s[2].s_len, &n) : NULL;
		if (note_parse(note != NULL ? note : (const char *)s[2].s_p,
		    note != NULL ? n : s[2].s_len, &since, &used) == 0)
			o.avo_since = &since;
		free(note);
	}
	rc = audit_verify(log, s[0].s_len, ck, cklen, &o, &r);
	FUZZ_ASSERT(rc == 0 || r.avr_detail[0] != '\0');
	(void)audit_class_name(r.avr_class);
	FUZZ_ASSERT(r.avr_tree.mt_size == r.avr_records);
	if (rc == 0 && r.avr_class == AV_OK) {
		FUZZ_ASSERT(r.avr_bad_seq == -1);
		if (r.avr_have_newest)
			FUZZ_ASSERT(r.avr_newest <= r.avr_records &&
			    r.avr_checkpoints > 0);
	}
	audit_verify_free(&r);
	free(ck);
	free(log);
	return (0);
}
