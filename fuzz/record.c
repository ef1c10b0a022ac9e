/*
 * record: audit record lines (libshared/record.c) and whole logs
 * (libshared/auditscan.c), as mvmctl audit verify and auditd at start
 * read them from disk.
 *
 * input: flags, then the bytes
 *	flags & 0x01	record_check with REC_WITH_SIG
 *	flags & 0x02	audit_scan checks signatures (the test key)
 *	flags & 0x04	audit_scan expects tenant "local"
 *	flags & 0x08	before the scan, relink and sign again every line
 *			that is a record (fuzz_fix_log), so that mutated
 *			records get past prev and signature checks
 *
 * Properties: a record accepted with its signature, with the signature
 * cut out (record_unsigned), is accepted unsigned, and record_insert_sig
 * puts it back byte for byte; one accepted unsigned is refused signed; a
 * scan's counts, offsets and tree agree with each other.
 */
#include <string.h>

#include "auditscan.h"
#include "fuzz.h"
#include "record.h"

static void	 check_line(const uint8_t *, size_t, int);
static void	 check_log(const uint8_t *, size_t, int);

static void
check_line(const uint8_t *data, size_t size, int flags)
{
	struct record_fields	 rf, rf2;
	char			 err[128], *line, *u, *sig, *back;
	size_t			 a, b;

	line = fuzz_str(data, size);
	(void)record_token_ok(line);
	(void)record_key_ok(line);
	(void)record_type_ok(line);
	(void)record_time_ok(line);
	if (record_unsigned(line, size, &a, &b) == 0)
		FUZZ_ASSERT(a < b && b <= size);
	if (record_check(line, size, flags & 1 ? REC_WITH_SIG : 0, &rf, err,
	    sizeof(err)) == -1) {
		FUZZ_ASSERT(err[0] != '\0');
		free(line);
		return;
	}
	FUZZ_ASSERT(rf.rf_seq >= 0 && record_type_ok(rf.rf_type) &&
	    record_time_ok(rf.rf_time));
	if (!(flags & 1)) {
		FUZZ_ASSERT(record_check(line, size, REC_WITH_SIG, &rf2, NULL,
		    0) == -1);
		free(line);
		return;
	}
	/* signed: the unsigned form, and back */
	FUZZ_ASSERT(record_unsigned(line, size, &a, &b) == 0);
	u = fuzz_str((const uint8_t *)line, a);
	u = realloc(u, size - (b - a) + 1);
	FUZZ_ASSERT(u != NULL);
	memcpy(u + a, line + b, size - b);
	u[size - (b - a)] = '\0';
	FUZZ_ASSERT(record_check(u, strlen(u), 0, &rf2, NULL, 0) == 0);
	FUZZ_ASSERT(rf2.rf_seq == rf.rf_seq && rf2.rf_kid == rf.rf_kid);
	sig = fuzz_str((const uint8_t *)line + a + 8, b - a - 9);
	back = record_insert_sig(u, sig);
	FUZZ_ASSERT(back != NULL && strcmp(back, line) == 0);
	free(back);
	free(sig);
	free(u);
	free(line);
}

static void
check_log(const uint8_t *data, size_t size, int flags)
{
	struct audit_scan	 as;
	uint8_t			*log;
	size_t			 i;
	int			 rc;

	if ((log = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	memcpy(log, data, size);
	if (flags & 8)
		fuzz_fix_log((char *)log, size);
	memset(&as, 0, sizeof(as));
	as.as_tenant = (flags & 4) ? "local" : NULL;
	as.as_pk = (flags & 2) ? fuzz_rfc.k_pk : NULL;
	as.as_kid = fuzz_rfc.k_id;
	as.as_threads = 1;
	rc = audit_scan(log, size, &as);
	FUZZ_ASSERT(rc == 0 ? as.as_class == 0 : as.as_class != 0);
	(void)audit_class_name(as.as_class);
	FUZZ_ASSERT(as.as_nrec <= as.as_nlines);
	FUZZ_ASSERT(as.as_tree.mt_size == as.as_nrec);
	FUZZ_ASSERT(as.as_end <= size);
	if (rc == 0 && as.as_tail_len > 0)
		FUZZ_ASSERT(as.as_tail_off + as.as_tail_len == size &&
		    as.as_tail_off >= as.as_end);
	for (i = 0; i < as.as_nrec; i++)
		FUZZ_ASSERT(as.as_lines[as.as_recidx[i]].al_valid &&
		    as.as_lines[as.as_recidx[i]].al_seq == (int64_t)i);
	for (i = 0; i < as.as_nregions; i++)
		FUZZ_ASSERT(as.as_regions[i].ar_off + as.as_regions[i].ar_len
		    <= size);
	audit_scan_free(&as);
	free(log);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int	 flags;

	fuzz_init();
	if (size < 1)
		return (0);
	flags = data[0];
	check_line(data + 1, size - 1, flags);
	check_log(data + 1, size - 1, flags);
	return (0);
}
