/*
 * The offline audit verifier (libshared/auditverify.c over auditscan.c),
 * in process, on logs built here with fixed keys: every kind of
 * tampering man/mvm-audit.5 says is detected is detected, with the
 * right class and seq, and crash regions auditd describes verify.
 *
 *   - a byte flipped at every offset of the first 20 records and at
 *     2,000 random offsets of the rest: never ok, the class fits the
 *     field the byte is in, the seq is the record holding it;
 *   - records deleted, swapped, duplicated; the log cut at a record
 *     boundary (with and without --since);
 *   - records and checkpoints signed by another key or altered;
 *   - crash regions with their audit.recovered record, and every
 *     mismatch in it; torn tails.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "auditverify.h"
#include "crypto.h"
#include "merkle.h"
#include "note.h"
#include "record.h"
#include "sigmsg.h"
#include "tap.h"

#define NREC		220
#define EVERY		16
#define FIRST		20	/* records flipped at every offset */
#define NRANDOM		2000	/* random flips over the rest */
#define TENANT		"local"
#define ORIGIN		"unit.test/mvm-audit/local"
#define MAXCK		256
#define NTHREADS	2

struct key {
	char		 k_name[MVM_KEYNAME_MAX];
	uint8_t		 k_pk[32];
	uint8_t		 k_sk[64];
};

struct buf {
	char		*b_p;
	size_t		 b_len;
	size_t		 b_cap;
};

/* a log being built, and its checkpoint notes */
struct gen {
	const struct key *g_key;	/* signs records */
	const struct key *g_kidkey;	/* whose key id they carry */
	struct buf	 g_log;
	size_t		 g_off[2048];	/* start of each record line */
	char		*g_notes[MAXCK];
	size_t		 g_nnotes;
	struct merkle_tree g_tree;
	uint8_t		 g_last[32];
	uint64_t	 g_seq;
	uint64_t	 g_variant;	/* changes the labels */
	int64_t		 g_otherkey_at;	/* sign this seq with kB */
	int		 g_keep_kid;	/* ... but with kA's key id */
};

/* one flip of the matrix */
struct flip {
	size_t		 f_off;
	uint8_t		 f_mask;
	int		 f_rec;
	int		 f_field;
	int		 f_class;
	int64_t		 f_seq;
};

enum { F_OTHER, F_SIG, F_PREV, F_SEQ, F_KID, F_NEWLINE, F_MAX };

static const char *const field_name[F_MAX] = { "other", "sig", "prev",
    "seq", "kid", "newline" };

static struct key	 kA, kB;
static struct gen	 base;		/* NREC records, a note every EVERY */
static struct buf	 base_ck;
static uint64_t		 prng = 0x6d766d2d61756469ULL;

static void	 buf_add(struct buf *, const void *, size_t);
static void	 key_make(struct key *, const char *, uint8_t);
static uint64_t	 rnd(void);
static void	 gen_init(struct gen *);
static void	 gen_free(struct gen *);
static json_t	*rec_base(struct gen *, const char *);
static void	 rec_emit(struct gen *, json_t *);
static void	 gen_event(struct gen *);
static void	 gen_events(struct gen *, uint64_t, int);
static void	 gen_recovered(struct gen *, uint64_t, uint64_t,
		    const uint8_t *);
static void	 gen_raw(struct gen *, const char *, size_t);
static char	*note_make(const char *, uint64_t, const uint8_t *,
		    const struct key *);
static void	 gen_ckpt(struct gen *);
static void	 ck_file(struct buf *, char **, size_t);
static int	 verify(const struct buf *, const struct buf *,
		    const struct checkpoint *, const char *, int,
		    struct audit_verify_result *);
static int	 expect(const struct buf *, const struct buf *,
		    const struct checkpoint *, int, int64_t, const char *);
static void	 ck_of(const char *, struct checkpoint *);
static size_t	 line_end(const struct buf *, size_t);
static int	 field_of(const char *, size_t, size_t);
static int	 class_fits(int, int);
static void	*flip_worker(void *);
static void	 splice(struct buf *, const struct buf *, size_t, size_t,
		    const char *, size_t);
static int	 ck_swap(size_t, char *, int, int64_t, const char *);
static char	*note_edit(const char *, const char *, const char *);
static uint64_t	 crash_log(struct gen *, const char *, size_t, int64_t,
		    int64_t, int);
static void	 run_flips(struct flip *, size_t, const char *);
static void	 test_baseline(void);
static void	 test_threads(void);
static void	 test_flips(void);
static void	 test_reorder(void);
static void	 test_cut(void);
static void	 test_since(void);
static void	 test_otherkey(void);
static void	 test_ckpts(void);
static void	 test_order(void);
static void	 test_crash(void);
static void	 test_tail(void);

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	while (b->b_len + n + 1 > b->b_cap) {
		b->b_cap = b->b_cap == 0 ? 65536 : b->b_cap * 2;
		if ((b->b_p = realloc(b->b_p, b->b_cap)) == NULL)
			abort();
	}
	memcpy(b->b_p + b->b_len, p, n);
	b->b_len += n;
	b->b_p[b->b_len] = '\0';
}

static void
key_make(struct key *k, const char *name, uint8_t fill)
{
	uint8_t	 seed[32];

	memset(seed, fill, sizeof(seed));
	crypto_sign_seed_keypair(k->k_pk, k->k_sk, seed);
	(void)snprintf(k->k_name, sizeof(k->k_name), "%s", name);
}

/* xorshift64*: deterministic */
static uint64_t
rnd(void)
{
	prng ^= prng >> 12;
	prng ^= prng << 25;
	prng ^= prng >> 27;
	return (prng * 0x2545f4914f6cdd1dULL);
}

static void
gen_init(struct gen *g)
{
	memset(g, 0, sizeof(*g));
	g->g_key = g->g_kidkey = &kA;
	g->g_otherkey_at = -1;
	merkle_init(&g->g_tree);
}

static void
gen_free(struct gen *g)
{
	size_t	 i;

	for (i = 0; i < g->g_nnotes; i++)
		free(g->g_notes[i]);
	free(g->g_log.b_p);
	merkle_free(&g->g_tree);
	memset(g, 0, sizeof(*g));
}

/* The members every record has, the way auditd's journal builds them. */
static json_t *
rec_base(struct gen *g, const char *type)
{
	const struct key	*kk = g->g_kidkey;
	char			 prev[65], kid[9], when[32];

	if ((int64_t)g->g_seq == g->g_otherkey_at && !g->g_keep_kid)
		kk = &kB;
	hex_encode(g->g_last, 32, prev);
	key_id_hex(key_id(kk->k_name, kk->k_pk), kid);
	(void)snprintf(when, sizeof(when), "2026-11-23T10:%02d:%02d.%03dZ",
	    (int)(g->g_seq / 60 % 60), (int)(g->g_seq % 60),
	    (int)(g->g_seq * 7 % 1000));
	return (json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "kid", kid,
	    "prev", prev, "seq", (json_int_t)g->g_seq, "tenant", TENANT,
	    "time", when, "type", type));
}

/* Check, sign over the domain-separated unsigned form, append. */
static void
rec_emit(struct gen *g, json_t *root)
{
	const struct key	*k = g->g_key;
	struct record_fields	 rf;
	struct sigmsg		 m;
	uint8_t			 sig[64], leaf[32];
	char			*text, b64[MVM_B64_LEN(64)];

	if ((int64_t)g->g_seq == g->g_otherkey_at)
		k = &kB;
	text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL || record_check(text, strlen(text), 0, &rf, NULL,
	    0) == -1 || sigmsg_audit(&m, (uint8_t *)text, strlen(text)) == -1)
		abort();
	crypto_sign_detached(sig, NULL, m.sm_buf, m.sm_len, k->k_sk);
	sigmsg_free(&m);
	free(text);
	b64_encode(sig, sizeof(sig), b64, sizeof(b64));
	json_object_set_new(root, "sig", json_string(b64));
	text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	if (text == NULL || record_check(text, strlen(text), REC_WITH_SIG,
	    &rf, NULL, 0) == -1)
		abort();
	if (g->g_seq < sizeof(g->g_off) / sizeof(g->g_off[0]))
		g->g_off[g->g_seq] = g->g_log.b_len;
	buf_add(&g->g_log, text, strlen(text));
	buf_add(&g->g_log, "\n", 1);
	merkle_leaf_hash(text, strlen(text), leaf);
	if (merkle_append(&g->g_tree, leaf) == -1)
		abort();
	sha256(text, strlen(text), g->g_last);
	g->g_seq++;
	free(text);
}

/* A test.event with labels and subject varied like real ones. */
static void
gen_event(struct gen *g)
{
	static const char *const outcome[] = { "ok", "error", "denied" };
	uint64_t	 s = g->g_seq, v = s * 2654435761u + g->g_variant;
	json_t		*root = rec_base(g, "test.event"), *labels, *subj;
	char		 run[32], img[80];

	(void)snprintf(run, sizeof(run), "run-%04" PRIu64, s / 3);
	subj = json_pack("{s:s, s:s}", "run", run, "guest",
	    (v & 1) ? "g-alpha" : "g-beta");
	labels = json_pack("{s:I, s:s}", "n", (json_int_t)s, "outcome",
	    outcome[v % 3]);
	if (v & 2)
		json_object_set_new(labels, "bytes", json_integer(v % 100000));
	if (v & 4) {
		(void)snprintf(img, sizeof(img), "sha256:%064" PRIx64, v);
		json_object_set_new(labels, "image", json_string(img));
	}
	json_object_set_new(root, "subject", subj);
	json_object_set_new(root, "labels", labels);
	rec_emit(g, root);
}

/* n events, a checkpoint after every `every' (0: none) */
static void
gen_events(struct gen *g, uint64_t n, int every)
{
	uint64_t	 i;

	for (i = 0; i < n; i++) {
		gen_event(g);
		if (every > 0 && g->g_seq % every == 0)
			gen_ckpt(g);
	}
}

/* auditd's record of a crash region */
static void
gen_recovered(struct gen *g, uint64_t off, uint64_t len,
    const uint8_t *hash)
{
	json_t	*root = rec_base(g, REC_TYPE_RECOVERED);
	char	 hex[65];

	hex_encode(hash, 32, hex);
	json_object_set_new(root, "labels", json_pack("{s:I, s:I, s:s, s:I}",
	    "offset", (json_int_t)off, "length", (json_int_t)len, "sha256",
	    hex, "records", (json_int_t)0));
	rec_emit(g, root);
}

static void
gen_raw(struct gen *g, const char *p, size_t n)
{
	buf_add(&g->g_log, p, n);
}

/* A signed note; k NULL: signed by both kA and kB. */
static char *
note_make(const char *origin, uint64_t size, const uint8_t *root,
    const struct key *k)
{
	struct checkpoint	 ck;
	struct sigmsg		 m;
	char			 text[NOTE_MAX], *b;
	const struct key	*sk = k != NULL ? k : &kA;

	memset(&ck, 0, sizeof(ck));
	(void)snprintf(ck.ck_origin, sizeof(ck.ck_origin), "%s", origin);
	ck.ck_size = size;
	memcpy(ck.ck_root, root, 32);
	(void)snprintf(ck.ck_keyname, sizeof(ck.ck_keyname), "%s",
	    sk->k_name);
	ck.ck_keyid = key_id(sk->k_name, sk->k_pk);
	if (sigmsg_note(&m, origin, size, root) == -1)
		abort();
	crypto_sign_detached(ck.ck_sig, NULL, m.sm_buf, m.sm_len, sk->k_sk);
	if (note_format(&ck, text, sizeof(text)) == -1)
		abort();
	if (k == NULL) {		/* add kB's line: a cosignature */
		(void)snprintf(ck.ck_keyname, sizeof(ck.ck_keyname), "%s",
		    kB.k_name);
		ck.ck_keyid = key_id(kB.k_name, kB.k_pk);
		crypto_sign_detached(ck.ck_sig, NULL, m.sm_buf, m.sm_len,
		    kB.k_sk);
		if ((b = malloc(NOTE_MAX)) == NULL ||
		    note_format(&ck, b, NOTE_MAX) == -1)
			abort();
		(void)strlcat(text, strstr(b, "\n\n") + 2, sizeof(text));
		free(b);
	}
	sigmsg_free(&m);
	return (strdup(text));
}

static void
gen_ckpt(struct gen *g)
{
	uint8_t	 root[32];

	if (g->g_nnotes == MAXCK ||
	    merkle_root(&g->g_tree, g->g_tree.mt_size, root) == -1)
		abort();
	g->g_notes[g->g_nnotes++] = note_make(ORIGIN, g->g_tree.mt_size,
	    root, &kA);
}

/* The checkpoints file: {"note":...} lines, the way auditd writes it. */
static void
ck_file(struct buf *b, char **notes, size_t n)
{
	json_t	*o;
	char	*line;
	size_t	 i;

	memset(b, 0, sizeof(*b));
	buf_add(b, "", 0);
	for (i = 0; i < n; i++) {
		o = json_pack("{s:s}", "note", notes[i]);
		if ((line = json_dumps(o, JSON_COMPACT)) == NULL)
			abort();
		json_decref(o);
		buf_add(b, line, strlen(line));
		buf_add(b, "\n", 1);
		free(line);
	}
}

static int
verify(const struct buf *log, const struct buf *ck,
    const struct checkpoint *since, const char *keyname, int threads,
    struct audit_verify_result *r)
{
	struct audit_verify_opts	 o;

	memset(&o, 0, sizeof(o));
	o.avo_pk = kA.k_pk;
	o.avo_keyname = keyname;
	o.avo_tenant = TENANT;
	o.avo_since = since;
	o.avo_threads = threads;
	return (audit_verify((const uint8_t *)log->b_p, log->b_len,
	    (const uint8_t *)ck->b_p, ck->b_len, &o, r));
}

/* Verify and compare class and seq; say what came out if not. */
static int
expect(const struct buf *log, const struct buf *ck,
    const struct checkpoint *since, int class, int64_t seq, const char *what)
{
	struct audit_verify_result	 r;
	int				 ok;

	ok = verify(log, ck, since, kA.k_name, 1, &r) == 0 &&
	    r.avr_class == class && r.avr_bad_seq == seq;
	TAP_OK(ok, "%s: %s at seq %" PRId64, what, audit_class_name(class),
	    seq);
	if (!ok)
		printf("#   got %s at seq %" PRId64 ": %s\n",
		    audit_class_name(r.avr_class), r.avr_bad_seq, r.avr_detail);
	audit_verify_free(&r);
	return (ok);
}

/* A note as the auditor keeps it: parsed and verified. */
static void
ck_of(const char *note, struct checkpoint *ck)
{
	if (note_verify(note, strlen(note), kA.k_pk, ck, NULL) == -1 &&
	    note_parse(note, strlen(note), ck, NULL) == -1)
		abort();
}

/* offset of the newline ending the line that starts at off */
static size_t
line_end(const struct buf *b, size_t off)
{
	return ((const char *)memchr(b->b_p + off, '\n', b->b_len - off) -
	    b->b_p);
}

/* Which member's value holds byte o of the line [s, s + len]? */
static int
field_of(const char *s, size_t len, size_t o)
{
	static const struct {
		const char	*key;
		int		 field;
	} f[] = {
		{ "\"kid\":\"", F_KID }, { "\"prev\":\"", F_PREV },
		{ "\"seq\":", F_SEQ }, { "\"sig\":\"", F_SIG },
	};
	const char	*p;
	size_t		 i, from, to;

	if (o == len)
		return (F_NEWLINE);
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		p = strstr(s, f[i].key);
		from = p - s + strlen(f[i].key);
		for (to = from; to < len && s[to] != '"' && s[to] != ','; to++)
			;
		if (o >= from && o < to)
			return (f[i].field);
	}
	return (F_OTHER);
}

/* The classes a flip in each field may give (never ok). */
static int
class_fits(int field, int class)
{
	switch (field) {
	case F_SIG:
	case F_OTHER:
		return (class == AV_SIGNATURE || class == AV_MALFORMED);
	case F_PREV:
	case F_SEQ:
		return (class == AV_LINK || class == AV_MALFORMED);
	case F_KID:
		return (class == AV_UNKNOWNKEY || class == AV_MALFORMED);
	case F_NEWLINE:
		return (class == AV_MALFORMED);
	}
	return (0);
}

struct flip_job {
	struct flip	*fl;
	size_t		 from, to;
};

/* Each worker flips its own copy of the log. */
static void *
flip_worker(void *arg)
{
	struct flip_job			*j = arg;
	struct audit_verify_result	 r;
	struct buf			 log;
	size_t				 i;

	memset(&log, 0, sizeof(log));
	buf_add(&log, base.g_log.b_p, base.g_log.b_len);
	for (i = j->from; i < j->to; i++) {
		log.b_p[j->fl[i].f_off] ^= j->fl[i].f_mask;
		if (verify(&log, &base_ck, NULL, kA.k_name, 1, &r) == -1)
			j->fl[i].f_class = -1;
		else {
			j->fl[i].f_class = r.avr_class;
			j->fl[i].f_seq = r.avr_bad_seq;
		}
		audit_verify_free(&r);
		log.b_p[j->fl[i].f_off] ^= j->fl[i].f_mask;
	}
	free(log.b_p);
	return (NULL);
}

/* Run the flips on NTHREADS threads, then report by field. */
static void
run_flips(struct flip *fl, size_t n, const char *what)
{
	struct flip_job	 jobs[NTHREADS];
	pthread_t	 tid[NTHREADS];
	size_t		 i, per = (n + NTHREADS - 1) / NTHREADS;
	size_t		 count[F_MAX], bad[F_MAX], cls[F_MAX][8], nok = 0;
	int		 f, c, shown = 0;

	for (i = 0; i < NTHREADS; i++) {
		jobs[i].fl = fl;
		jobs[i].from = i * per < n ? i * per : n;
		jobs[i].to = jobs[i].from + per < n ? jobs[i].from + per : n;
		if (pthread_create(&tid[i], NULL, flip_worker, &jobs[i]) != 0)
			abort();
	}
	for (i = 0; i < NTHREADS; i++)
		pthread_join(tid[i], NULL);
	memset(count, 0, sizeof(count));
	memset(bad, 0, sizeof(bad));
	memset(cls, 0, sizeof(cls));
	for (i = 0; i < n; i++) {
		f = fl[i].f_field;
		count[f]++;
		if (fl[i].f_class >= 0 && fl[i].f_class < 8)
			cls[f][fl[i].f_class]++;
		if (fl[i].f_class == AV_OK)
			nok++;
		if (class_fits(f, fl[i].f_class) &&
		    fl[i].f_seq == fl[i].f_rec)
			continue;
		bad[f]++;
		if (shown++ < 5)
			printf("# flip ^%02x at offset %zu (record %d, %s): "
			    "%s at seq %" PRId64 "\n", fl[i].f_mask,
			    fl[i].f_off, fl[i].f_rec, field_name[f],
			    fl[i].f_class < 0 ? "error" :
			    audit_class_name(fl[i].f_class), fl[i].f_seq);
	}
	TAP_OK(nok == 0, "%s: %zu flips, none verifies", what, n);
	for (f = 0; f < F_MAX; f++) {
		if (count[f] == 0)
			continue;
		TAP_OK(bad[f] == 0, "%s: %zu flips in %s: right class and "
		    "seq", what, count[f], field_name[f]);
		printf("#   classes:");
		for (c = 0; c < 8; c++)
			if (cls[f][c] > 0)
				printf(" %s %zu", audit_class_name(c),
				    cls[f][c]);
		printf("\n");
	}
}

static void
test_baseline(void)
{
	struct audit_verify_result	 r;
	struct buf			 empty;
	uint8_t				 root[32];

	TAP_OK(verify(&base.g_log, &base_ck, NULL, kA.k_name, 1, &r) == 0 &&
	    r.avr_class == AV_OK, "the log verifies: %s",
	    audit_class_name(r.avr_class));
	(void)merkle_root(&base.g_tree, NREC, root);
	TAP_OK(r.avr_records == NREC && r.avr_checkpoints == base.g_nnotes &&
	    r.avr_have_newest && r.avr_newest == NREC &&
	    r.avr_nrecovered == 0 && r.avr_tail_len == 0 &&
	    r.avr_ckpt_ignored == 0 && memcmp(r.avr_root, root, 32) == 0,
	    "%" PRIu64 " records, %" PRIu64 " checkpoints, newest %" PRIu64
	    ", the root", r.avr_records, r.avr_checkpoints, r.avr_newest);
	TAP_OK(strcmp(r.avr_newest_note, base.g_notes[base.g_nnotes - 1]) ==
	    0, "the newest checkpoint's note is kept");
	audit_verify_free(&r);

	TAP_OK(verify(&base.g_log, &base_ck, NULL, NULL, 1, &r) == 0 &&
	    r.avr_class == AV_OK && strcmp(r.avr_keyname, kA.k_name) == 0,
	    "a key without its name: the name comes from the checkpoints");
	audit_verify_free(&r);
	ck_file(&empty, NULL, 0);
	TAP_OK(verify(&base.g_log, &empty, NULL, NULL, 1, &r) == -1 &&
	    strstr(r.avr_detail, "name") != NULL,
	    "... and with no checkpoint it is an error: %s", r.avr_detail);
	audit_verify_free(&r);
	TAP_OK(verify(&base.g_log, &empty, NULL, kA.k_name, 1, &r) == 0 &&
	    r.avr_class == AV_OK && r.avr_checkpoints == 0 &&
	    !r.avr_have_newest, "no checkpoint at all: ok, and none newest");
	audit_verify_free(&r);
	free(empty.b_p);
}

/* The threaded scan (>= 1024 lines) agrees with the lazy one. */
static void
test_threads(void)
{
	static const int		 at[] = { 0, 255, 256, 600, 1099 };
	struct audit_verify_result	 r1, r2;
	struct gen			 g;
	struct buf			 ck, cut;
	size_t				 off, i;
	int				 ok;

	gen_init(&g);
	gen_events(&g, 1100, 100);
	gen_ckpt(&g);
	ck_file(&ck, g.g_notes, g.g_nnotes);
	TAP_OK(verify(&g.g_log, &ck, NULL, kA.k_name, 1, &r1) == 0 &&
	    verify(&g.g_log, &ck, NULL, kA.k_name, 4, &r2) == 0 &&
	    r1.avr_class == AV_OK && r2.avr_class == AV_OK &&
	    r2.avr_records == 1100 && memcmp(r1.avr_root, r2.avr_root,
	    32) == 0, "1100 records: one thread and four agree");
	audit_verify_free(&r1);
	audit_verify_free(&r2);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		off = g.g_off[at[i]] + 30;
		g.g_log.b_p[off] ^= 0x01;
		ok = verify(&g.g_log, &ck, NULL, kA.k_name, 2, &r2) == 0 &&
		    r2.avr_bad_seq == at[i] && r2.avr_class != AV_OK;
		g.g_log.b_p[off] ^= 0x01;
		TAP_OK(ok, "two threads: a flip in record %d is found there "
		    "(%s)", at[i], audit_class_name(r2.avr_class));
		audit_verify_free(&r2);
	}
	memset(&cut, 0, sizeof(cut));
	buf_add(&cut, g.g_log.b_p, g.g_off[1050]);
	TAP_OK(verify(&cut, &ck, NULL, kA.k_name, 2, &r2) == 0 &&
	    r2.avr_class == AV_TRUNCATED && r2.avr_bad_seq == 1050,
	    "two threads: cut to 1050 records under a checkpoint of 1100");
	audit_verify_free(&r2);
	free(cut.b_p);
	free(ck.b_p);
	gen_free(&g);
}

static void
test_flips(void)
{
	struct flip	*fl;
	size_t		 n = 0, o, end, cap;
	int		 k;

	end = base.g_off[FIRST];
	cap = end + NRANDOM;
	if ((fl = calloc(cap, sizeof(*fl))) == NULL)
		abort();
	for (k = 0; k < FIRST; k++)
		for (o = base.g_off[k]; o <= line_end(&base.g_log,
		    base.g_off[k]); o++) {
			fl[n].f_off = o;
			fl[n].f_mask = 1 << (o % 8);
			fl[n].f_rec = k;
			n++;
		}
	for (; n < cap; n++) {
		o = base.g_off[FIRST] + rnd() % (base.g_log.b_len -
		    base.g_off[FIRST]);
		for (k = NREC - 1; base.g_off[k] > o; k--)
			;
		fl[n].f_off = o;
		fl[n].f_mask = 1 + rnd() % 255;
		fl[n].f_rec = k;
	}
	for (o = 0; o < n; o++) {
		k = fl[o].f_rec;
		fl[o].f_field = field_of(base.g_log.b_p + base.g_off[k],
		    line_end(&base.g_log, base.g_off[k]) - base.g_off[k],
		    fl[o].f_off - base.g_off[k]);
	}
	run_flips(fl, end, "every byte of records 0-19");
	run_flips(fl + end, NRANDOM, "random bytes of records 20-219");
	free(fl);
}

/* Splice: the log with line a's bytes replaced by [p, p + n). */
static void
splice(struct buf *out, const struct buf *in, size_t from, size_t to,
    const char *p, size_t n)
{
	memset(out, 0, sizeof(*out));
	buf_add(out, in->b_p, from);
	buf_add(out, p, n);
	buf_add(out, in->b_p + to, in->b_len - to);
}

/* Line k of the base log, with its newline. */
#define LINE(k)	(base.g_log.b_p + base.g_off[k])
#define LLEN(k)	((k) + 1 < NREC ? base.g_off[(k) + 1] - base.g_off[k] : \
		    base.g_log.b_len - base.g_off[k])

static void
test_reorder(void)
{
	static const int	 ks[] = { 0, 1, 100, 218 };
	struct buf		 b;
	char			 what[64], two[4096];
	size_t			 i;
	int			 k;

	for (i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		k = ks[i];
		splice(&b, &base.g_log, base.g_off[k], base.g_off[k + 1], "",
		    0);
		(void)snprintf(what, sizeof(what), "record %d deleted", k);
		expect(&b, &base_ck, NULL, AV_LINK, k, what);
		free(b.b_p);
		(void)snprintf(two, sizeof(two), "%.*s%.*s", (int)LLEN(k + 1),
		    LINE(k + 1), (int)LLEN(k), LINE(k));
		splice(&b, &base.g_log, base.g_off[k], base.g_off[k] +
		    LLEN(k) + LLEN(k + 1), two, strlen(two));
		(void)snprintf(what, sizeof(what), "records %d and %d swapped",
		    k, k + 1);
		expect(&b, &base_ck, NULL, AV_LINK, k, what);
		free(b.b_p);
		splice(&b, &base.g_log, base.g_off[k + 1], base.g_off[k + 1],
		    LINE(k), LLEN(k));
		(void)snprintf(what, sizeof(what), "record %d duplicated", k);
		expect(&b, &base_ck, NULL, AV_LINK, k + 1, what);
		free(b.b_p);
	}
	splice(&b, &base.g_log, base.g_off[NREC - 1], base.g_log.b_len, "", 0);
	expect(&b, &base_ck, NULL, AV_TRUNCATED, NREC - 1,
	    "last record deleted (a checkpoint covers it)");
	free(b.b_p);
	splice(&b, &base.g_log, base.g_log.b_len, base.g_log.b_len,
	    LINE(NREC - 1), LLEN(NREC - 1));
	expect(&b, &base_ck, NULL, AV_LINK, NREC, "last record duplicated");
	free(b.b_p);
}

/* The log cut at a record boundary; the checkpoints file too, or not. */
static void
test_cut(void)
{
	struct checkpoint	 since;
	struct buf		 log, ck;
	size_t			 n;

	memset(&log, 0, sizeof(log));
	buf_add(&log, base.g_log.b_p, base.g_off[150]);
	expect(&log, &base_ck, NULL, AV_TRUNCATED, 150,
	    "log cut to 150 records, checkpoints left alone");
	for (n = 0; n < base.g_nnotes && (n + 1) * EVERY <= 150; n++)
		;
	ck_file(&ck, base.g_notes, n);
	expect(&log, &ck, NULL, AV_OK, -1, "cut to 150 with the checkpoints "
	    "cut back to match: it verifies (this is why --since exists)");
	ck_of(base.g_notes[9], &since);		/* size 160 */
	expect(&log, &ck, &since, AV_TRUNCATED, 150, "... but not against "
	    "the size-160 checkpoint an auditor kept");
	ck_of(base.g_notes[8], &since);		/* size 144 */
	expect(&log, &ck, &since, AV_OK, -1, "... and against one of size "
	    "144 it does");
	free(ck.b_p);
	free(log.b_p);
}

/* A rewritten history, a forged or foreign since. */
static void
test_since(void)
{
	struct checkpoint	 since;
	struct gen		 g;
	struct buf		 ck;
	uint8_t			 root[32];
	char			*note;

	gen_init(&g);
	gen_events(&g, 100, EVERY);
	g.g_variant = 1;			/* other labels from 100 on */
	gen_events(&g, NREC - 100, EVERY);
	gen_ckpt(&g);
	ck_file(&ck, g.g_notes, g.g_nnotes);
	expect(&g.g_log, &ck, NULL, AV_OK, -1,
	    "history rewritten from record 100, re-checkpointed: verifies");
	ck_of(base.g_notes[9], &since);
	expect(&g.g_log, &ck, &since, AV_NOTEXT, -1,
	    "... not an extension of the kept size-160 checkpoint");
	ck_of(base.g_notes[5], &since);		/* size 96 */
	expect(&g.g_log, &ck, &since, AV_OK, -1,
	    "... but it is of the size-96 one");
	free(ck.b_p);
	gen_free(&g);

	ck_of(base.g_notes[9], &since);
	since.ck_root[0] ^= 1;
	expect(&base.g_log, &base_ck, &since, AV_SIGNATURE, -1,
	    "a since checkpoint with an altered root: bad signature");
	(void)merkle_root(&base.g_tree, 160, root);
	note = note_make("unit.test/mvm-audit/other", 160, root, &kA);
	ck_of(note, &since);
	expect(&base.g_log, &base_ck, &since, AV_NOTEXT, -1,
	    "a since checkpoint of another tenant");
	free(note);
	note = note_make(ORIGIN, 160, root, &kB);
	ck_of(note, &since);
	expect(&base.g_log, &base_ck, &since, AV_SIGNATURE, -1,
	    "a since checkpoint by another key");
	free(note);
}

/* Records signed by kB: one replaced, or the chain re-made from k. */
static void
test_otherkey(void)
{
	struct gen	 g;
	struct buf	 b;
	int		 keep, k = 77;

	for (keep = 0; keep <= 1; keep++) {
		gen_init(&g);
		g.g_otherkey_at = k;
		g.g_keep_kid = keep;
		gen_events(&g, NREC, 0);
		splice(&b, &base.g_log, base.g_off[k], base.g_off[k + 1],
		    g.g_log.b_p + g.g_off[k], g.g_off[k + 1] - g.g_off[k]);
		expect(&b, &base_ck, NULL, keep ? AV_SIGNATURE :
		    AV_UNKNOWNKEY, k, keep ? "record 77 re-signed by another "
		    "key, key id kept" : "record 77 re-signed by another key");
		free(b.b_p);
		gen_free(&g);
	}
	gen_init(&g);
	gen_events(&g, k, 0);
	g.g_key = g.g_kidkey = &kB;
	gen_events(&g, NREC - k, 0);
	expect(&g.g_log, &base_ck, NULL, AV_UNKNOWNKEY, k,
	    "the chain re-made by another key from record 77");
	gen_free(&g);
}

/* Replace checkpoint line i with note and verify. */
static int
ck_swap(size_t i, char *note, int class, int64_t seq, const char *what)
{
	struct buf	 ck;
	char		*keep = base.g_notes[i];
	int		 ok;

	base.g_notes[i] = note;
	ck_file(&ck, base.g_notes, base.g_nnotes);
	base.g_notes[i] = keep;
	ok = expect(&base.g_log, &ck, NULL, class, seq, what);
	free(ck.b_p);
	free(note);
	return (ok);
}

/* note with its first occurrence of from replaced by to */
static char *
note_edit(const char *note, const char *from, const char *to)
{
	const char	*p = strstr(note, from);
	char		*out;

	if (p == NULL || asprintf(&out, "%.*s%s%s", (int)(p - note), note,
	    to, p + strlen(from)) == -1)
		abort();
	return (out);
}

static void
test_ckpts(void)
{
	struct buf	 ck;
	uint8_t		 root[32], other[32];
	char		*n, *e, *p;

	(void)merkle_root(&base.g_tree, 48, root);
	memset(other, 0x5a, sizeof(other));
	ck_swap(2, note_make(ORIGIN, 48, root, &kB), AV_SIGNATURE, -1,
	    "checkpoint re-signed by another key");
	ck_swap(2, note_make(ORIGIN, 48, root, NULL), AV_OK, -1,
	    "checkpoint cosigned by another key too: ok");
	n = note_make(ORIGIN, 48, other, &kA);
	ck_swap(2, n, AV_ROOT, -1, "checkpoint with another root, signed "
	    "by the key");
	ck_swap(2, note_make(ORIGIN, 230, other, &kA), AV_TRUNCATED, NREC,
	    "checkpoint claiming 230 records, signed by the key");
	(void)merkle_root(&base.g_tree, 47, other);
	ck_swap(2, note_make(ORIGIN, 48, other, &kA), AV_ROOT, -1,
	    "checkpoint with the root of 47 records as 48, signed");
	n = note_make(ORIGIN, 48, root, &kA);
	ck_swap(2, note_edit(n, "\n48\n", "\n47\n"), AV_SIGNATURE, -1,
	    "checkpoint size edited, signature kept");
	e = strdup(n);
	p = strstr(e, "\n48\n") + 4;		/* the root's first character */
	*p = *p == 'A' ? 'B' : 'A';
	ck_swap(2, e, AV_SIGNATURE, -1, "checkpoint root edited, signature "
	    "kept");
	free(n);
	ck_swap(2, note_make("unit.test/mvm-audit/other", 48, root, &kA),
	    AV_MALFORMED, -1, "checkpoint of another tenant's log");

	/* torn lines: in the middle (auditd starts a new line) and last */
	ck_file(&ck, base.g_notes, 3);
	buf_add(&ck, "{\"note\":\"unit.test/mvm-a\n", 25);
	{
		struct buf	 rest;

		ck_file(&rest, base.g_notes + 3, base.g_nnotes - 3);
		buf_add(&ck, rest.b_p, rest.b_len);
		free(rest.b_p);
	}
	buf_add(&ck, "{\"note\":\"unit.te", 16);
	{
		struct audit_verify_result	 r;

		TAP_OK(verify(&base.g_log, &ck, NULL, kA.k_name, 1, &r) == 0 &&
		    r.avr_class == AV_OK && r.avr_ckpt_ignored == 2 &&
		    r.avr_checkpoints == base.g_nnotes,
		    "torn checkpoint lines (middle, end) are skipped, "
		    "counted: %" PRIu64, r.avr_ckpt_ignored);
		audit_verify_free(&r);
	}
	free(ck.b_p);
}

/* The first failure in log order wins. */
static void
test_order(void)
{
	struct buf	 log, ck;
	uint8_t		 other[32];
	char		*keep;

	memset(other, 0x5a, sizeof(other));
	memset(&log, 0, sizeof(log));
	buf_add(&log, base.g_log.b_p, base.g_log.b_len);
	log.b_p[base.g_off[100] + 20] ^= 0x01;
	keep = base.g_notes[2];
	base.g_notes[2] = note_make(ORIGIN, 48, other, &kA);
	ck_file(&ck, base.g_notes, base.g_nnotes);
	free(base.g_notes[2]);
	expect(&log, &ck, NULL, AV_ROOT, -1, "a bad checkpoint of size 48 "
	    "comes before a bad record 100");
	free(ck.b_p);
	base.g_notes[2] = keep;
	keep = base.g_notes[12];
	base.g_notes[12] = note_make(ORIGIN, 208, other, &kA);
	ck_file(&ck, base.g_notes, base.g_nnotes);
	free(base.g_notes[12]);
	base.g_notes[12] = keep;
	{
		struct audit_verify_result	 r;
		int				 ok;

		ok = verify(&log, &ck, NULL, kA.k_name, 1, &r) == 0 &&
		    r.avr_bad_seq == 100 && r.avr_class != AV_ROOT &&
		    r.avr_class != AV_OK;
		TAP_OK(ok, "a bad record 100 comes before a bad checkpoint "
		    "of size 208 (%s at %" PRId64 ")",
		    audit_class_name(r.avr_class), r.avr_bad_seq);
		audit_verify_free(&r);
	}
	free(ck.b_p);
	free(log.b_p);
}

/* The crash log: 100 records, debris, its record, 30 more. */
static uint64_t
crash_log(struct gen *g, const char *debris, size_t dlen, int64_t doff,
    int64_t dlen_delta, int hash_bad)
{
	uint8_t		 h[32];
	uint64_t	 off;

	gen_init(g);
	gen_events(g, 100, EVERY);
	off = g->g_log.b_len;
	gen_raw(g, debris, dlen);
	if (debris[dlen - 1] != '\n')
		gen_raw(g, "\n", 1);		/* what auditd adds */
	sha256(debris, dlen, h);
	h[0] ^= hash_bad;
	gen_recovered(g, off + doff, dlen + dlen_delta, h);
	gen_events(g, 30, EVERY);
	gen_ckpt(g);
	return (off);
}

static void
test_crash(void)
{
	static const char	 torn[] = "{\"kid\":\"0badc0de\",\"labels\":"
				    "{\"n\":100},\"prev\":\"9f3a";
	static const char	 junk[] = "half a record\n\x01\x02 and more\n";
	static const struct {
		int64_t		 doff, dlen;
		int		 hash;
		const char	*what;
	} bad[] = {
		{ 1, 0, 0, "offset one too far" },
		{ -1, 0, 0, "offset one too early" },
		{ 0, 1, 0, "length one too long" },
		{ 0, -1, 0, "length one too short" },
		{ 0, 0, 1, "sha256 off by one bit" },
	};
	struct audit_verify_result	 r;
	struct gen			 g;
	struct buf			 ck;
	size_t				 i, off;

	off = crash_log(&g, torn, sizeof(torn) - 1, 0, 0, 0);
	ck_file(&ck, g.g_notes, g.g_nnotes);
	TAP_OK(verify(&g.g_log, &ck, NULL, kA.k_name, 1, &r) == 0 &&
	    r.avr_class == AV_OK && r.avr_records == 131 &&
	    r.avr_nrecovered == 1 && r.avr_recovered[0].ar_off == off &&
	    r.avr_recovered[0].ar_len == sizeof(torn) - 1 &&
	    r.avr_recovered[0].ar_seq == 100 && r.avr_newest == 131,
	    "a torn record, then auditd's audit.recovered: ok, one crash "
	    "(offset %zu, %zu bytes, seq 100)", off, sizeof(torn) - 1);
	audit_verify_free(&r);
	free(ck.b_p);
	gen_free(&g);

	crash_log(&g, junk, sizeof(junk) - 1, 0, 0, 0);
	ck_file(&ck, g.g_notes, g.g_nnotes);
	TAP_OK(verify(&g.g_log, &ck, NULL, kA.k_name, 1, &r) == 0 &&
	    r.avr_class == AV_OK && r.avr_nrecovered == 1 &&
	    r.avr_recovered[0].ar_len == sizeof(junk) - 1,
	    "debris of several lines ending in a newline: ok, one crash");
	audit_verify_free(&r);
	free(ck.b_p);
	gen_free(&g);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		crash_log(&g, torn, sizeof(torn) - 1, bad[i].doff,
		    bad[i].dlen, bad[i].hash);
		ck_file(&ck, g.g_notes, g.g_nnotes);
		expect(&g.g_log, &ck, NULL, AV_MALFORMED, 100, bad[i].what);
		free(ck.b_p);
		gen_free(&g);
	}

	/* a crash right before a record's newline: auditd adds it */
	gen_init(&g);
	gen_events(&g, 100, EVERY);
	gen_event(&g);
	off = g.g_off[100];
	i = g.g_log.b_len - 1 - off;		/* the line, no newline */
	{
		uint8_t	 h[32];

		sha256(g.g_log.b_p + off, i, h);
		g.g_seq = 100;			/* the record is debris */
		merkle_truncate(&g.g_tree, 100);
		sha256(g.g_log.b_p + g.g_off[99], off - g.g_off[99] - 1,
		    g.g_last);
		gen_recovered(&g, off, i, h);
	}
	gen_events(&g, 10, EVERY);
	gen_ckpt(&g);
	ck_file(&ck, g.g_notes, g.g_nnotes);
	TAP_OK(verify(&g.g_log, &ck, NULL, kA.k_name, 1, &r) == 0 &&
	    r.avr_class == AV_OK && r.avr_records == 111 &&
	    r.avr_nrecovered == 1 && r.avr_recovered[0].ar_off == off &&
	    r.avr_recovered[0].ar_len == i && r.avr_recovered[0].ar_seq == 100,
	    "a whole record torn just before its newline, recovered: ok, one "
	    "crash (%s)", r.avr_detail);
	audit_verify_free(&r);
	free(ck.b_p);
	gen_free(&g);

	/* debris with no record about it, in the middle */
	gen_init(&g);
	gen_events(&g, 100, EVERY);
	gen_raw(&g, junk, sizeof(junk) - 1);
	gen_events(&g, 30, EVERY);
	ck_file(&ck, g.g_notes, g.g_nnotes);
	expect(&g.g_log, &ck, NULL, AV_MALFORMED, 100,
	    "debris that no audit.recovered names");
	free(ck.b_p);
	gen_free(&g);
}

/* Torn tails: fine until a checkpoint covers them. */
static void
test_tail(void)
{
	struct audit_verify_result	 r;
	struct gen			 g;
	struct buf			 ck, log;
	size_t				 cut;

	gen_init(&g);
	gen_events(&g, 100, EVERY);
	gen_ckpt(&g);
	cut = g.g_log.b_len;
	gen_events(&g, 20, 0);
	ck_file(&ck, g.g_notes, g.g_nnotes);
	memset(&log, 0, sizeof(log));
	buf_add(&log, g.g_log.b_p, cut + 57);
	TAP_OK(verify(&log, &ck, NULL, kA.k_name, 1, &r) == 0 &&
	    r.avr_class == AV_OK && r.avr_records == 100 &&
	    r.avr_tail_off == cut && r.avr_tail_len == 57,
	    "a torn tail no checkpoint covers: ok, reported (offset %"
	    PRIu64 ", %" PRIu64 " bytes)", r.avr_tail_off, r.avr_tail_len);
	audit_verify_free(&r);
	free(ck.b_p);

	gen_ckpt(&g);			/* size 120 */
	ck_file(&ck, g.g_notes, g.g_nnotes);
	expect(&log, &ck, NULL, AV_TRUNCATED, 100,
	    "cut inside record 100 under a checkpoint of 120");
	free(ck.b_p);
	free(log.b_p);
	gen_free(&g);

	gen_init(&g);
	gen_events(&g, 101, 0);
	gen_ckpt(&g);
	ck_file(&ck, g.g_notes, g.g_nnotes);
	memset(&log, 0, sizeof(log));
	buf_add(&log, g.g_log.b_p, g.g_log.b_len - 1);
	expect(&log, &ck, NULL, AV_MALFORMED, 100,
	    "the last record's newline gone, a checkpoint covers it");
	free(ck.b_p);
	free(log.b_p);
	gen_free(&g);
}

int
main(void)
{
	if (mvm_crypto_init() == -1)
		return (1);
	key_make(&kA, "unit-a", 0x42);
	key_make(&kB, "unit-b", 0x43);
	gen_init(&base);
	gen_events(&base, NREC, EVERY);
	gen_ckpt(&base);
	ck_file(&base_ck, base.g_notes, base.g_nnotes);

	test_baseline();
	test_threads();
	test_flips();
	test_reorder();
	test_cut();
	test_since();
	test_otherkey();
	test_ckpts();
	test_order();
	test_crash();
	test_tail();

	free(base_ck.b_p);
	gen_free(&base);
	TAP_DONE();
}
