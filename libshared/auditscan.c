#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auditscan.h"
#include "crypto.h"
#include "record.h"
#include "sigmsg.h"

#define SCAN_CHUNK		256	/* lines per unit of threaded work */
#define SCAN_THREADS_MAX	64

/* in canonical form the type of a recovery record can only read so */
static const char	 recovered[] = "\"type\":\"" REC_TYPE_RECOVERED "\"";

static int	 scan_fail(struct audit_scan *, int, int64_t, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static void	*pool_worker(void *);
static void	 pool_wait(struct scan_pool *, size_t);
static int	 pool_start(const uint8_t *, struct audit_scan *);
static void	 pool_end(struct audit_scan *);
static int	 scan_recovers(const uint8_t *, struct audit_scan *, size_t);

const char *
audit_class_name(int c)
{
	switch (c) {
	case AV_OK:		return ("ok");
	case AV_MALFORMED:	return ("malformed");
	case AV_LINK:		return ("link");
	case AV_SIGNATURE:	return ("signature");
	case AV_ROOT:		return ("root");
	case AV_TRUNCATED:	return ("truncated");
	case AV_NOTEXT:		return ("not-an-extension");
	case AV_UNKNOWNKEY:	return ("unknown-key");
	}
	return ("unknown");
}

static int
scan_fail(struct audit_scan *as, int class, int64_t seq, const char *fmt, ...)
{
	va_list	 ap;

	as->as_class = class;
	as->as_bad_seq = seq;
	va_start(ap, fmt);
	(void)vsnprintf(as->as_why, sizeof(as->as_why), fmt, ap);
	va_end(ap);
	return (-1);
}

/*
 * Split into lines; the last one may lack its newline.  The lines are
 * counted first so the array is allocated once (a log can have
 * millions).
 */
static int
scan_split(const uint8_t *buf, size_t len, struct audit_scan *as)
{
	const uint8_t	*p, *nl;
	size_t		 n = 0, off;
	struct audit_line *l;

	for (p = buf; (nl = memchr(p, '\n', buf + len - p)) != NULL;
	    p = nl + 1)
		n++;
	if (p < buf + len)
		n++;				/* no newline at the end */
	if (n == 0)
		return (0);
	if ((as->as_lines = calloc(n, sizeof(*l))) == NULL)
		return (-1);
	for (off = 0; off < len; ) {
		l = &as->as_lines[as->as_nlines++];
		p = buf + off;
		nl = memchr(p, '\n', len - off);
		l->al_off = off;
		l->al_len = nl != NULL ? (size_t)(nl - p) : len - off;
		l->al_nl = nl != NULL;
		off += l->al_len + l->al_nl;
	}
	return (0);
}

/* 8 bytes of SHA-256 of a tenant name, to compare lines cheaply */
static void
tenant_hash(const char *t, uint8_t out[8])
{
	uint8_t	 h[32];

	sha256(t, strlen(t), h);
	memcpy(out, h, 8);
}

/* The part of the work that needs no neighbour: hash and parse. */
static void
scan_parse(const uint8_t *buf, struct audit_line *l)
{
	struct record_fields	 rf;
	const char		*s = (const char *)buf + l->al_off;

	l->al_done |= AL_PARSED;
	sha256(s, l->al_len, l->al_hash);
	merkle_leaf_hash(s, l->al_len, l->al_leaf);
	if (!l->al_nl || record_check(s, l->al_len, REC_WITH_SIG, &rf, NULL,
	    0) == -1)
		return;
	l->al_valid = 1;
	l->al_seq = rf.rf_seq;
	l->al_kid = rf.rf_kid;
	memcpy(l->al_prev, rf.rf_prev, 32);
	tenant_hash(rf.rf_tenant, l->al_tenant);
	if (rf.rf_recovered) {
		l->al_recovered = 1;
		l->al_rec_off = rf.rf_rec_off;
		l->al_rec_len = rf.rf_rec_len;
		memcpy(l->al_rec_hash, rf.rf_rec_hash, 32);
	}
}

/* The signature of a parsed, valid line, over its unsigned form. */
static void
scan_sig(const uint8_t *buf, struct audit_line *l, const uint8_t *pk)
{
	struct sigmsg	 m;
	const char	*s = (const char *)buf + l->al_off;
	size_t		 a, b, ul, n;
	uint8_t		 u[REC_LINE_MAX], sig[64];

	l->al_done |= AL_SIGNED;
	if (pk == NULL || !l->al_valid ||
	    record_unsigned(s, l->al_len, &a, &b) == -1 ||
	    b64_decode(s + a + 8, b - a - 9, sig, sizeof(sig), &n) == -1 ||
	    n != sizeof(sig))
		return;
	ul = l->al_len - (b - a);		/* al_len <= REC_LINE_MAX */
	memcpy(u, s, a);
	memcpy(u + a, s + b, l->al_len - b);
	if (sigmsg_audit(&m, u, ul) == 0) {
		l->al_sig = crypto_sign_verify_detached(sig, m.sm_buf,
		    m.sm_len, pk) == 0;
		sigmsg_free(&m);
	}
}

/*
 * Line i, with at least the work asked for done: by the workers (then
 * wait for them), or here, lazily.
 */
static struct audit_line *
scan_get(const uint8_t *buf, struct audit_scan *as, size_t i, int what)
{
	struct audit_line	*l = &as->as_lines[i];

	if (as->as_pool != NULL)
		pool_wait(as->as_pool, i);
	if ((what & AL_PARSED) && !(l->al_done & AL_PARSED))
		scan_parse(buf, l);
	if ((what & AL_SIGNED) && !(l->al_done & AL_SIGNED))
		scan_sig(buf, l, as->as_pk);
	return (l);
}

/*
 * The threaded scan: workers take chunks of SCAN_CHUNK lines in order
 * and do all the per-line work; the walk waits for the chunk it needs,
 * so it runs alongside them, and when it stops (at the first failure)
 * the workers stop too.
 */
struct scan_pool {
	pthread_mutex_t		 sp_mtx;
	pthread_cond_t		 sp_cv;
	const uint8_t		*sp_buf;
	struct audit_scan	*sp_as;
	size_t			 sp_next;	/* next chunk to hand out */
	size_t			 sp_nchunks;
	uint8_t			*sp_done;	/* per chunk */
	int			 sp_stop;
	int			 sp_nt;
	pthread_t		 sp_tid[SCAN_THREADS_MAX];
};

static void *
pool_worker(void *arg)
{
	struct scan_pool	*p = arg;
	struct audit_scan	*as = p->sp_as;
	size_t			 c, i, end;

	for (;;) {
		pthread_mutex_lock(&p->sp_mtx);
		if (p->sp_stop || p->sp_next == p->sp_nchunks) {
			pthread_mutex_unlock(&p->sp_mtx);
			return (NULL);
		}
		c = p->sp_next++;
		pthread_mutex_unlock(&p->sp_mtx);
		end = (c + 1) * SCAN_CHUNK;
		if (end > as->as_nlines)
			end = as->as_nlines;
		for (i = c * SCAN_CHUNK; i < end; i++) {
			scan_parse(p->sp_buf, &as->as_lines[i]);
			scan_sig(p->sp_buf, &as->as_lines[i], as->as_pk);
		}
		pthread_mutex_lock(&p->sp_mtx);
		__atomic_store_n(&p->sp_done[c], 1, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&p->sp_cv);
		pthread_mutex_unlock(&p->sp_mtx);
	}
}

/* Until the chunk holding line i is done. */
static void
pool_wait(struct scan_pool *p, size_t i)
{
	size_t	 c = i / SCAN_CHUNK;

	if (__atomic_load_n(&p->sp_done[c], __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&p->sp_mtx);
	while (!p->sp_done[c])
		pthread_cond_wait(&p->sp_cv, &p->sp_mtx);
	pthread_mutex_unlock(&p->sp_mtx);
}

/*
 * Start as_threads workers when there are enough lines; otherwise (or
 * if no thread starts) the work is left to scan_get(), lazily.
 */
static int
pool_start(const uint8_t *buf, struct audit_scan *as)
{
	struct scan_pool	*p;
	int			 i, nt;

	if (as->as_threads <= 1 || as->as_nlines < 1024)
		return (0);
	nt = as->as_threads > SCAN_THREADS_MAX ? SCAN_THREADS_MAX :
	    as->as_threads;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (-1);
	p->sp_buf = buf;
	p->sp_as = as;
	p->sp_nchunks = (as->as_nlines + SCAN_CHUNK - 1) / SCAN_CHUNK;
	if ((p->sp_done = calloc(p->sp_nchunks, 1)) == NULL) {
		free(p);
		return (-1);
	}
	pthread_mutex_init(&p->sp_mtx, NULL);
	pthread_cond_init(&p->sp_cv, NULL);
	for (i = 0; i < nt; i++)
		if (pthread_create(&p->sp_tid[p->sp_nt], NULL, pool_worker,
		    p) == 0)
			p->sp_nt++;
	as->as_pool = p;
	if (p->sp_nt == 0)
		pool_end(as);
	return (0);
}

/* Stop the workers (after their current chunk) and free the pool. */
static void
pool_end(struct audit_scan *as)
{
	struct scan_pool	*p = as->as_pool;
	int			 i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->sp_mtx);
	p->sp_stop = 1;
	pthread_mutex_unlock(&p->sp_mtx);
	for (i = 0; i < p->sp_nt; i++)
		pthread_join(p->sp_tid[i], NULL);
	pthread_cond_destroy(&p->sp_cv);
	pthread_mutex_destroy(&p->sp_mtx);
	free(p->sp_done);
	free(p);
	as->as_pool = NULL;
}

/*
 * Bytes from line i on are not records.  Find the audit.recovered record
 * that names this offset; check it describes exactly these bytes.
 * Returns the index of that record, or -1 (no such record).  *bad is
 * set when a record names the region but does not match it.
 */
static ssize_t
scan_region(const uint8_t *buf, struct audit_scan *as, size_t i, int *bad)
{
	struct audit_line	*r;
	uint64_t		 off = as->as_lines[i].al_off, end;
	uint8_t			 h[32];
	size_t			 j;

	*bad = 0;
	for (j = i + 1; j < as->as_nlines; j++) {
		r = &as->as_lines[j];
		if (memmem(buf + r->al_off, r->al_len, recovered,
		    sizeof(recovered) - 1) == NULL)
			continue;
		r = scan_get(buf, as, j, AL_PARSED);
		if (!r->al_valid || !r->al_recovered || r->al_rec_off != off)
			continue;
		end = off + r->al_rec_len;
		/* auditd adds a newline if the region lacked one */
		if (!(r->al_off == end || (r->al_off == end + 1 &&
		    buf[end] == '\n' && buf[end - 1] != '\n'))) {
			*bad = 1;
			return (-1);
		}
		sha256(buf + off, r->al_rec_len, h);
		if (sodium_memcmp(h, r->al_rec_hash, 32) != 0) {
			*bad = 1;
			return (-1);
		}
		return ((ssize_t)j);
	}
	return (-1);
}

/*
 * Does the next line recover line i?  A crash can cut the log right
 * before a record's newline; auditd then adds the newline and an
 * audit.recovered record naming those bytes, which now read as a valid
 * record.  The signed recovery record says they are debris.
 */
static int
scan_recovers(const uint8_t *buf, struct audit_scan *as, size_t i)
{
	struct audit_line	*r;

	if (i + 1 >= as->as_nlines)
		return (0);
	/* the walk parses that line next anyway */
	r = scan_get(buf, as, i + 1, AL_PARSED);
	return (r->al_valid && r->al_recovered &&
	    r->al_rec_off == as->as_lines[i].al_off);
}

/* Is any line from i on a complete record? */
static int
scan_any_valid(const uint8_t *buf, struct audit_scan *as, size_t i)
{
	for (; i < as->as_nlines; i++)
		if (scan_get(buf, as, i, AL_PARSED)->al_valid)
			return (1);
	return (0);
}

/* There are at most as many records as lines: one allocation. */
static int
scan_accept(struct audit_scan *as, size_t i)
{
	if (as->as_recidx == NULL &&
	    (as->as_recidx = calloc(as->as_nlines, sizeof(uint64_t))) == NULL)
		return (-1);
	as->as_recidx[as->as_nrec++] = i;
	return (0);
}

/*
 * The sequential pass: links, seq, tenant, regions, key, signatures.
 * Stops at the first failure.
 */
static int
scan_walk(const uint8_t *buf, size_t len, struct audit_scan *as)
{
	struct audit_line	*l;
	uint8_t			 tenant[8];
	ssize_t			 j;
	size_t			 i = 0;
	int			 bad, have_tenant = 0;

	if (as->as_tenant != NULL) {
		tenant_hash(as->as_tenant, tenant);
		have_tenant = 1;
	}
	while (i < as->as_nlines) {
		l = scan_get(buf, as, i, AL_PARSED);
		if (!l->al_valid || scan_recovers(buf, as, i)) {
			j = scan_region(buf, as, i, &bad);
			if (j > 0) {
				struct audit_region *r;

				r = reallocarray(as->as_regions,
				    as->as_nregions + 1, sizeof(*r));
				if (r == NULL)
					return (-1);
				as->as_regions = r;
				r += as->as_nregions++;
				r->ar_off = l->al_off;
				r->ar_len = as->as_lines[j].al_rec_len;
				r->ar_seq = as->as_lines[j].al_seq;
				i = j;
				continue;
			}
			if (bad || scan_any_valid(buf, as, i + 1))
				return (scan_fail(as, AV_MALFORMED,
				    (int64_t)as->as_nrec, "line at offset %llu "
				    "is not a record%s",
				    (unsigned long long)l->al_off, bad ?
				    " and its recovery record does not match" :
				    ""));
			as->as_tail_off = l->al_off;
			as->as_tail_len = len - l->al_off;
			return (0);
		}
		if (l->al_seq != (int64_t)as->as_nrec)
			return (scan_fail(as, AV_LINK, (int64_t)as->as_nrec,
			    "seq %lld where %llu was due", (long long)l->al_seq,
			    (unsigned long long)as->as_nrec));
		if (sodium_memcmp(l->al_prev, as->as_last, 32) != 0)
			return (scan_fail(as, AV_LINK, l->al_seq,
			    "prev is not the hash of the line before"));
		/* one tenant: the expected one, or the first record's */
		if (!have_tenant) {
			memcpy(tenant, l->al_tenant, sizeof(tenant));
			have_tenant = 1;
		}
		if (memcmp(tenant, l->al_tenant, sizeof(tenant)) != 0)
			return (scan_fail(as, AV_MALFORMED, l->al_seq,
			    "record of another tenant"));
		if (as->as_pk != NULL && l->al_kid != as->as_kid)
			return (scan_fail(as, AV_UNKNOWNKEY, l->al_seq,
			    "key id %08x is not the verifying key's %08x",
			    l->al_kid, as->as_kid));
		if (as->as_pk != NULL &&
		    !scan_get(buf, as, i, AL_SIGNED)->al_sig)
			return (scan_fail(as, AV_SIGNATURE, l->al_seq,
			    "signature does not verify"));
		if (merkle_append(&as->as_tree, l->al_leaf) == -1 ||
		    scan_accept(as, i) == -1)
			return (-1);
		memcpy(as->as_last, l->al_hash, 32);
		as->as_end = l->al_off + l->al_len + 1;
		i++;
	}
	return (0);
}

/*
 * Scan a whole log held in memory.  Returns 0 with as_class AV_OK (a
 * torn tail is not a failure: as_tail_len says), or -1 with as_class,
 * as_bad_seq and as_why set; -1 with AV_OK means out of memory.
 */
int
audit_scan(const uint8_t *buf, size_t len, struct audit_scan *as)
{
	int	 rc;

	as->as_lines = NULL;
	as->as_nlines = 0;
	as->as_nrec = 0;
	as->as_recidx = NULL;
	as->as_regions = NULL;
	as->as_nregions = 0;
	as->as_pool = NULL;
	as->as_end = 0;
	as->as_tail_off = as->as_tail_len = 0;
	as->as_class = AV_OK;
	as->as_bad_seq = -1;
	as->as_why[0] = '\0';
	memset(as->as_last, 0, sizeof(as->as_last));
	merkle_init(&as->as_tree);
	if (scan_split(buf, len, as) == -1 || pool_start(buf, as) == -1)
		return (-1);
	rc = scan_walk(buf, len, as);
	pool_end(as);
	return (rc);
}

void
audit_scan_free(struct audit_scan *as)
{
	free(as->as_lines);
	free(as->as_recidx);
	free(as->as_regions);
	merkle_free(&as->as_tree);
	as->as_lines = NULL;
	as->as_recidx = NULL;
	as->as_regions = NULL;
}
