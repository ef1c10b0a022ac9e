/*
 * auditverify: the offline verifier (see auditverify.h).
 *
 * The checkpoints file holds one JSON line {"note":"<signed note>"} per
 * checkpoint.  A line that does not parse is skipped and counted: auditd
 * may leave a torn line after a crash (and then starts a new line).
 * Checkpoint signatures are checked in parallel, a chunk of lines at a
 * time, because auditd writes one checkpoint per commit: on a quiet host
 * that is one per record.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "auditverify.h"
#include "crypto.h"
#include "record.h"
#include "sigmsg.h"

#define AV_DASH		"\xe2\x80\x94 "	/* a note signature line */
#define AV_DASH_LEN	(sizeof(AV_DASH) - 1)
#define AV_CHUNK	4096		/* checkpoint lines per batch */
#define AV_NOPOS	INT64_MAX

struct av_ckpt {
	size_t		 c_lineno;	/* 1-based, in the file */
	char		*c_note;
	size_t		 c_len;
	struct checkpoint c_ck;		/* as parsed, then as verified */
	int		 c_check;	/* worth checking at all */
	int		 c_sigok;
};

struct av_ctx {
	const struct audit_verify_opts	*o;
	struct audit_verify_result	*r;
	struct audit_scan		 as;
	const char			*tenant;	/* for origins */
	int64_t				 pos;		/* of the verdict */
	uint64_t			 tail_lines;	/* lines in the tail */
	int				 threads;
};

static void	 av_fail(struct av_ctx *, int, int64_t, int64_t,
		    const char *, ...) __attribute__((format(printf, 5, 6)));
static int	 av_sig_name(const char *, size_t, const uint8_t *, char *,
		    size_t);
static char	*av_note_of(const char *, size_t, size_t *);
static int	 av_keyname(struct av_ctx *, const uint8_t *, size_t);
static int	 av_scan(struct av_ctx *, const uint8_t *, size_t);
static void	 av_parallel(size_t, int, void (*)(void *, size_t), void *);
static void	 av_sig_one(void *, size_t);
static int	 av_ckpts(struct av_ctx *, const uint8_t *, size_t);
static int	 av_chunk(struct av_ctx *, struct av_ckpt *, size_t);
static void	 av_ckpt_check(struct av_ctx *, struct av_ckpt *);
static void	 av_cover(struct av_ctx *, const char *, uint64_t);
static void	 av_since(struct av_ctx *);
static void	 av_finish(struct av_ctx *);

/*
 * A failure at position pos (the seq it concerns).  It becomes the
 * verdict only if it comes before the current one: ties go to what was
 * found first (the records, then checkpoint lines in file order).
 */
static void
av_fail(struct av_ctx *cx, int class, int64_t pos, int64_t bad,
    const char *fmt, ...)
{
	va_list	 ap;

	if (pos >= cx->pos)
		return;
	cx->pos = pos;
	cx->r->avr_class = class;
	cx->r->avr_bad_seq = bad;
	va_start(ap, fmt);
	(void)vsnprintf(cx->r->avr_detail, sizeof(cx->r->avr_detail), fmt, ap);
	va_end(ap);
}

/* Does origin end in "/mvm-audit/<tenant>"? */
int
audit_origin_tenant(const char *origin, const char *tenant)
{
	char	 want[MVM_TENANT_MAX + 16];
	size_t	 ol = strlen(origin), wl;

	wl = (size_t)snprintf(want, sizeof(want), "/mvm-audit/%s", tenant);
	return (wl < sizeof(want) && ol > wl &&
	    strcmp(origin + ol - wl, want) == 0);
}

/*
 * The name on the first signature line of a note whose key id is
 * key_id(that name, pk), whether or not the signature verifies.
 */
static int
av_sig_name(const char *note, size_t len, const uint8_t *pk, char *name,
    size_t namelen)
{
	const char	*p, *end = note + len, *nl, *sp;
	uint8_t		 blob[128];
	uint32_t	 id;
	size_t		 n;

	if ((p = memmem(note, len, "\n\n", 2)) == NULL)
		return (-1);
	for (p += 2; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			break;
		if ((size_t)(nl - p) <= AV_DASH_LEN ||
		    memcmp(p, AV_DASH, AV_DASH_LEN) != 0)
			continue;
		p += AV_DASH_LEN;
		if ((sp = memchr(p, ' ', nl - p)) == NULL ||
		    (size_t)(sp - p) >= namelen)
			continue;
		memcpy(name, p, sp - p);
		name[sp - p] = '\0';
		if (!key_name_valid(name) || b64_decode(sp + 1, nl - sp - 1,
		    blob, sizeof(blob), &n) == -1 || n != 4 + MVM_SIG_LEN)
			continue;
		id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
		    (uint32_t)blob[2] << 8 | blob[3];
		if (id == key_id(name, pk))
			return (0);
	}
	return (-1);
}

/* The note of one checkpoints file line, or NULL if it does not parse. */
static char *
av_note_of(const char *line, size_t len, size_t *notelen)
{
	json_t	*o, *v;
	char	*note = NULL;

	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	v = json_object_get(o, "note");
	if (json_is_string(v)) {
		*notelen = json_string_length(v);
		if (memchr(json_string_value(v), '\0', *notelen) == NULL)
			note = strdup(json_string_value(v));
	}
	json_decref(o);
	return (note);
}

/*
 * The key name for the records' key id: given, or from the first
 * checkpoint signature line (or the since checkpoint) made by pk.
 */
static int
av_keyname(struct av_ctx *cx, const uint8_t *ck, size_t len)
{
	const struct audit_verify_opts	*o = cx->o;
	char				*name = cx->r->avr_keyname, *note;
	const char			*p, *end = (const char *)ck + len, *nl;
	size_t				 nlen, sz = sizeof(cx->r->avr_keyname);
	int				 found = 0;

	if (o->avo_keyname != NULL && o->avo_keyname[0] != '\0')
		return (strlcpy(name, o->avo_keyname, sz) >= sz ? -1 : 0);
	for (p = (const char *)ck; !found && p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		if ((note = av_note_of(p, nl - p, &nlen)) == NULL)
			continue;
		found = av_sig_name(note, nlen, o->avo_pk, name, sz) == 0;
		free(note);
	}
	if (!found && o->avo_since != NULL &&
	    key_name_valid(o->avo_since->ck_keyname) &&
	    key_id(o->avo_since->ck_keyname, o->avo_pk) ==
	    o->avo_since->ck_keyid) {
		(void)strlcpy(name, o->avo_since->ck_keyname, sz);
		found = 1;
	}
	return (found ? 0 : -1);
}

/* The records; a scan failure is the first verdict. */
static int
av_scan(struct av_ctx *cx, const uint8_t *log, size_t len)
{
	struct audit_scan	*as = &cx->as;
	struct audit_line	*l;
	struct record_fields	 rf;
	size_t			 i;

	memset(as, 0, sizeof(*as));
	as->as_tenant = cx->o->avo_tenant;
	as->as_pk = cx->o->avo_pk;
	as->as_kid = cx->r->avr_keyid;
	as->as_threads = cx->threads;
	if (audit_scan(log, len, as) == -1) {
		if (as->as_class == AV_OK)
			return (-1);
		av_fail(cx, as->as_class, as->as_bad_seq, as->as_bad_seq, "%s",
		    as->as_why);
	}
	/* lines are in file order; the tail is at the end */
	for (i = as->as_nlines; i > 0 && as->as_tail_len > 0 &&
	    as->as_lines[i - 1].al_off >= as->as_tail_off; i--)
		cx->tail_lines++;
	if (cx->o->avo_tenant != NULL)
		(void)strlcpy(cx->r->avr_tenant, cx->o->avo_tenant,
		    sizeof(cx->r->avr_tenant));
	else if (as->as_nrec > 0) {
		l = &as->as_lines[as->as_recidx[0]];
		if (record_check((const char *)log + l->al_off, l->al_len,
		    REC_WITH_SIG, &rf, NULL, 0) == 0)
			(void)strlcpy(cx->r->avr_tenant, rf.rf_tenant,
			    sizeof(cx->r->avr_tenant));
	}
	cx->tenant = cx->r->avr_tenant[0] != '\0' ? cx->r->avr_tenant : NULL;
	return (0);
}

struct av_job {
	void		(*fn)(void *, size_t);
	void		*arg;
	size_t		 from, to;
};

static void *
av_worker(void *arg)
{
	struct av_job	*j = arg;
	size_t		 i;

	for (i = j->from; i < j->to; i++)
		j->fn(j->arg, i);
	return (NULL);
}

/* fn(arg, i) for i in [0, n), on up to nt threads. */
static void
av_parallel(size_t n, int nt, void (*fn)(void *, size_t), void *arg)
{
	struct av_job	 jobs[64];
	pthread_t	 tid[64];
	int		 started[64];
	size_t		 per;
	int		 i;

	if (nt > 64)
		nt = 64;
	if (nt <= 1 || n < 64) {
		jobs[0] = (struct av_job){ fn, arg, 0, n };
		(void)av_worker(&jobs[0]);
		return;
	}
	per = (n + nt - 1) / nt;
	for (i = 0; i < nt; i++) {
		jobs[i].fn = fn;
		jobs[i].arg = arg;
		jobs[i].from = (size_t)i * per < n ? (size_t)i * per : n;
		jobs[i].to = jobs[i].from + per < n ? jobs[i].from + per : n;
		started[i] = pthread_create(&tid[i], NULL, av_worker,
		    &jobs[i]) == 0;
		if (!started[i])
			(void)av_worker(&jobs[i]);	/* no thread: here */
	}
	for (i = 0; i < nt; i++)
		if (started[i])
			pthread_join(tid[i], NULL);
}

struct av_sigjob {
	struct av_ckpt	*c;
	const uint8_t	*pk;
};

static void
av_sig_one(void *arg, size_t i)
{
	struct av_sigjob	*sj = arg;
	struct av_ckpt		*c = &sj->c[i];
	struct checkpoint	 ck;

	if (!c->c_check)
		return;
	if (sj->pk == NULL)
		c->c_sigok = 1;
	else if (note_verify(c->c_note, c->c_len, sj->pk, &ck, NULL) == 0) {
		c->c_sigok = 1;
		c->c_ck = ck;
	}
}

/* Every line of the checkpoints file, AV_CHUNK lines at a time. */
static int
av_ckpts(struct av_ctx *cx, const uint8_t *buf, size_t len)
{
	struct av_ckpt	*c;
	const char	*p = (const char *)buf, *end = p + len, *nl;
	size_t		 n = 0, lineno = 0, used;
	int		 rc = 0;

	if ((c = calloc(AV_CHUNK, sizeof(*c))) == NULL)
		return (-1);
	for (; rc == 0 && p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		lineno++;
		c[n].c_lineno = lineno;
		c[n].c_note = av_note_of(p, nl - p, &c[n].c_len);
		if (c[n].c_note == NULL || note_parse(c[n].c_note, c[n].c_len,
		    &c[n].c_ck, &used) == -1 || used != c[n].c_len) {
			free(c[n].c_note);
			cx->r->avr_ckpt_ignored++;
			continue;
		}
		if (++n == AV_CHUNK) {
			rc = av_chunk(cx, c, n);
			n = 0;
		}
	}
	if (rc == 0 && n > 0)
		rc = av_chunk(cx, c, n);
	free(c);
	return (rc);
}

/* Signatures in parallel, then the checks in file order. */
static int
av_chunk(struct av_ctx *cx, struct av_ckpt *c, size_t n)
{
	struct av_sigjob	 sj;
	size_t			 i;

	/* a checkpoint about records after the verdict cannot change it */
	for (i = 0; i < n; i++) {
		c[i].c_check = (int64_t)c[i].c_ck.ck_size - 1 < cx->pos;
		c[i].c_sigok = 0;
	}
	sj.c = c;
	sj.pk = cx->o->avo_pk;
	av_parallel(n, cx->threads, av_sig_one, &sj);
	for (i = 0; i < n; i++) {
		if (c[i].c_check && (int64_t)c[i].c_ck.ck_size - 1 < cx->pos)
			av_ckpt_check(cx, &c[i]);
		free(c[i].c_note);
		c[i].c_note = NULL;
	}
	return (0);
}

/* One parsed checkpoint line against the log. */
static void
av_ckpt_check(struct av_ctx *cx, struct av_ckpt *c)
{
	struct audit_verify_result	*r = cx->r;
	const struct checkpoint		*ck = &c->c_ck;
	int64_t				 pos = (int64_t)ck->ck_size - 1;
	uint8_t				 root[MERKLE_HASH_LEN];
	char				 what[64], name[MVM_KEYNAME_MAX];

	(void)snprintf(what, sizeof(what), "checkpoint line %zu (size %llu)",
	    c->c_lineno, (unsigned long long)ck->ck_size);
	if (!c->c_sigok) {
		if (av_sig_name(c->c_note, c->c_len, cx->o->avo_pk, name,
		    sizeof(name)) == -1)
			av_fail(cx, AV_SIGNATURE, pos, -1, "%s: no signature "
			    "by key %08x", what, r->avr_keyid);
		else
			av_fail(cx, AV_SIGNATURE, pos, -1, "%s: the signature "
			    "by key %s does not verify", what, name);
		return;
	}
	if (cx->tenant != NULL &&
	    !audit_origin_tenant(ck->ck_origin, cx->tenant)) {
		av_fail(cx, AV_MALFORMED, pos, -1, "%s: origin %s is not "
		    "tenant %s's", what, ck->ck_origin, cx->tenant);
		return;
	}
	if (ck->ck_size > cx->as.as_nrec) {
		av_cover(cx, what, ck->ck_size);
		return;
	}
	if (merkle_root(&cx->as.as_tree, ck->ck_size, root) == -1 ||
	    sodium_memcmp(root, ck->ck_root, sizeof(root)) != 0) {
		av_fail(cx, AV_ROOT, pos, -1, "%s: its root is not the root "
		    "of the log's first %llu records", what,
		    (unsigned long long)ck->ck_size);
		return;
	}
	r->avr_checkpoints++;
	if (!r->avr_have_newest || ck->ck_size >= r->avr_newest) {
		r->avr_have_newest = 1;
		r->avr_newest = ck->ck_size;
		(void)strlcpy(r->avr_newest_note, c->c_note,
		    sizeof(r->avr_newest_note));
	}
}

/*
 * A signed checkpoint covers more records than the log holds.  If the
 * log ends in bytes that are not records and there are enough of them
 * (one line per record) to be the missing records, they were damaged:
 * malformed.  Otherwise records are gone: the log was cut.
 */
static void
av_cover(struct av_ctx *cx, const char *what, uint64_t size)
{
	struct audit_scan	*as = &cx->as;
	uint64_t		 nrec = as->as_nrec;

	if (as->as_tail_len > 0 && nrec + cx->tail_lines >= size)
		av_fail(cx, AV_MALFORMED, (int64_t)nrec, (int64_t)nrec,
		    "%s covers record %llu, but the bytes at offset %llu "
		    "are not a record", what, (unsigned long long)nrec,
		    (unsigned long long)as->as_tail_off);
	else
		av_fail(cx, AV_TRUNCATED, (int64_t)nrec, (int64_t)nrec,
		    "%s covers %llu records, the log holds %llu: it was cut",
		    what, (unsigned long long)size, (unsigned long long)nrec);
}

/* The checkpoint an auditor kept: the log must extend it. */
static void
av_since(struct av_ctx *cx)
{
	const struct checkpoint	*ck = cx->o->avo_since;
	const uint8_t		*pk = cx->o->avo_pk;
	struct sigmsg		 m;
	uint8_t			 root[MERKLE_HASH_LEN];
	int64_t			 pos = (int64_t)ck->ck_size - 1;
	int			 ok = 0;

	if (pk != NULL && key_name_valid(ck->ck_keyname) &&
	    key_id(ck->ck_keyname, pk) == ck->ck_keyid &&
	    sigmsg_note(&m, ck->ck_origin, ck->ck_size, ck->ck_root) == 0) {
		ok = crypto_sign_verify_detached(ck->ck_sig, m.sm_buf,
		    m.sm_len, pk) == 0;
		sigmsg_free(&m);
	}
	if (pk != NULL && !ok)
		av_fail(cx, AV_SIGNATURE, pos, -1, "the since checkpoint "
		    "(size %llu) is not signed by this key",
		    (unsigned long long)ck->ck_size);
	else if (cx->tenant != NULL &&
	    !audit_origin_tenant(ck->ck_origin, cx->tenant))
		av_fail(cx, AV_NOTEXT, pos, -1, "the since checkpoint is for "
		    "%s, not tenant %s", ck->ck_origin, cx->tenant);
	else if (ck->ck_size > cx->as.as_nrec)
		av_fail(cx, AV_TRUNCATED, (int64_t)cx->as.as_nrec,
		    (int64_t)cx->as.as_nrec, "the since checkpoint covers "
		    "%llu records, the log holds %llu: it was cut",
		    (unsigned long long)ck->ck_size,
		    (unsigned long long)cx->as.as_nrec);
	else if (merkle_root(&cx->as.as_tree, ck->ck_size, root) == -1 ||
	    sodium_memcmp(root, ck->ck_root, sizeof(root)) != 0)
		av_fail(cx, AV_NOTEXT, pos, -1, "the log's first %llu records "
		    "are not those the since checkpoint signed: it was "
		    "rewritten", (unsigned long long)ck->ck_size);
}

/* What the caller keeps: counts, crash regions, tail, tree, root. */
static void
av_finish(struct av_ctx *cx)
{
	struct audit_verify_result	*r = cx->r;
	struct audit_scan		*as = &cx->as;

	r->avr_records = as->as_nrec;
	r->avr_recovered = as->as_regions;
	r->avr_nrecovered = as->as_nregions;
	as->as_regions = NULL;
	as->as_nregions = 0;
	r->avr_tail_off = as->as_tail_off;
	r->avr_tail_len = as->as_tail_len;
	(void)merkle_root(&as->as_tree, as->as_nrec, r->avr_root);
	r->avr_tree = as->as_tree;
	merkle_init(&as->as_tree);
}

int
audit_verify(const uint8_t *log, size_t loglen, const uint8_t *ckpts,
    size_t ckptlen, const struct audit_verify_opts *o,
    struct audit_verify_result *r)
{
	struct av_ctx	 cx;
	long		 ncpu;
	int		 rc = -1;

	memset(r, 0, sizeof(*r));
	merkle_init(&r->avr_tree);
	r->avr_bad_seq = -1;
	memset(&cx, 0, sizeof(cx));
	cx.o = o;
	cx.r = r;
	cx.pos = AV_NOPOS;
	if ((cx.threads = o->avo_threads) <= 0)
		cx.threads = (ncpu = sysconf(_SC_NPROCESSORS_ONLN)) > 0 ?
		    (int)ncpu : 1;
	if (o->avo_pk != NULL) {
		if (av_keyname(&cx, ckpts, ckptlen) == -1) {
			(void)snprintf(r->avr_detail, sizeof(r->avr_detail),
			    "cannot tell the key's name: no checkpoint is "
			    "signed by it; give the key as a verifier key "
			    "(name+id+base64)");
			return (-1);
		}
		r->avr_keyid = key_id(r->avr_keyname, o->avo_pk);
	}
	if (av_scan(&cx, log, loglen) == -1 ||
	    av_ckpts(&cx, ckpts, ckptlen) == -1) {
		(void)snprintf(r->avr_detail, sizeof(r->avr_detail),
		    "out of memory");
		goto done;
	}
	if (o->avo_since != NULL)
		av_since(&cx);
	av_finish(&cx);
	rc = 0;
done:
	audit_scan_free(&cx.as);
	return (rc);
}

void
audit_verify_free(struct audit_verify_result *r)
{
	free(r->avr_recovered);
	r->avr_recovered = NULL;
	r->avr_nrecovered = 0;
	merkle_free(&r->avr_tree);
}
