/*
 * mvm-auditgen: write a valid audit log and checkpoints file without
 * daemons, for tests and benchmarks.
 *
 * usage: mvm-auditgen KEYFILE LOG CKPTS N [--every K] [--tenant T]
 *	      [--origin O]
 *   KEYFILE	a PRIVATE+KEY line (mvm-keytool gen NAME)
 *   LOG CKPTS	written (truncated first)
 *   N		records, type test.event, labels and subjects varied
 *		like real ones, times 13 ms apart from a fixed start
 *   K		a checkpoint every K records (default 1000), and one
 *		at the end
 *   T		tenant (default "local"); O origin (default
 *		"mvm-auditgen/mvm-audit/T")
 *
 * Records are built the way mvm-auditd/journal.c builds them (jansson,
 * JSON_COMPACT | JSON_SORT_KEYS, record_check) and signed over the
 * domain-separated unsigned form.  prev chains each record to the line
 * before, signature included, so signing is sequential; everything else
 * (building, checking, hashing) runs on every CPU, a batch at a time.
 * The output depends only on the key and the arguments.
 */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "crypto.h"
#include "merkle.h"
#include "mvm.h"
#include "note.h"
#include "record.h"
#include "sigmsg.h"

#define BATCH		16384
#define START_TIME	1795305600	/* 2026-11-22T00:00:00Z */

struct rec {
	char		*r_tmpl;	/* unsigned form, prev all zeros */
	size_t		 r_tlen;
	size_t		 r_prev;	/* offset of the prev hex in it */
	size_t		 r_ins;		/* where ,"sig":"..." goes */
	char		*r_line;	/* signed, without newline */
	size_t		 r_len;
	uint8_t		 r_leaf[32];
	int		 r_bad;
};

struct gen {
	uint8_t		 sk[64];
	uint8_t		 pk[32];
	char		 keyname[MVM_KEYNAME_MAX];
	char		 kid[9];
	const char	*tenant;
	char		 origin[MVM_ORIGIN_MAX];
	uint64_t	 base;		/* seq of rec[0] in this batch */
	struct rec	*rec;
	size_t		 n;
	uint8_t		 last[32];	/* SHA-256 of the last line */
	struct merkle_tree tree;
	FILE		*log, *ck;
};

struct job {
	struct gen	*g;
	size_t		 from, to;
	int		 phase;
};

static void	 load_key(struct gen *, const char *);
static uint64_t	 mix(uint64_t);
static json_t	*labels_for(uint64_t);
static json_t	*subject_for(uint64_t);
static void	 time_for(uint64_t, char *, size_t);
static void	 tmpl_build(struct gen *, struct rec *, uint64_t);
static void	 line_check(struct rec *);
static void	*worker(void *);
static void	 parallel(struct gen *, int);
static void	 sign_all(struct gen *);
static void	 checkpoint(struct gen *);
static void	 batch_out(struct gen *, uint64_t);

static int	 ncpu = 1;

static void
load_key(struct gen *g, const char *path)
{
	FILE	*f;
	char	 buf[MVM_SKEY_MAX + 8];
	uint8_t	 seed[32];
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		err(1, "%s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (skey_parse(buf, n, g->keyname, sizeof(g->keyname), seed) == -1)
		errx(1, "%s: not a PRIVATE+KEY line", path);
	crypto_sign_seed_keypair(g->pk, g->sk, seed);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(buf, sizeof(buf));
	key_id_hex(key_id(g->keyname, g->pk), g->kid);
}

/* splitmix64: the varied parts depend only on the seq */
static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (x ^ (x >> 31));
}

static json_t *
labels_for(uint64_t seq)
{
	static const char *const outcome[] = { "ok", "ok", "ok", "error",
	    "denied", "timeout" };
	static const char *const policy[] = { "default", "strict",
	    "net-none", "gpu@v2" };
	uint64_t	 r = mix(seq);
	uint8_t		 h[32];
	char		 hex[65], img[80];
	json_t		*o;

	o = json_pack("{s:I, s:s, s:I}", "n", (json_int_t)seq,
	    "outcome", outcome[r % 6], "bytes", (json_int_t)(r >> 40));
	if (r & 0x100)
		json_object_set_new(o, "policy", json_string(policy[(r >> 9) %
		    4]));
	if (r & 0x800) {
		sha256(&r, sizeof(r), h);
		hex_encode(h, sizeof(h), hex);
		(void)snprintf(img, sizeof(img), "sha256:%s", hex);
		json_object_set_new(o, "image", json_string(img));
	}
	if (r & 0x1000)
		json_object_set_new(o, "exit", json_integer((r >> 13) % 4));
	return (o);
}

static json_t *
subject_for(uint64_t seq)
{
	uint64_t	 r = mix(seq ^ 0x5555);
	char		 run[32], guest[32], plan[32];
	json_t		*o;

	(void)snprintf(run, sizeof(run), "run-%08" PRIx64, seq / 4);
	(void)snprintf(guest, sizeof(guest), "g%02" PRIu64, r % 97);
	o = json_pack("{s:s, s:s}", "run", run, "guest", guest);
	if (r & 0x10) {
		(void)snprintf(plan, sizeof(plan), "plan-%" PRIu64,
		    (r >> 5) % 1000);
		json_object_set_new(o, "plan", json_string(plan));
	}
	return (o);
}

static void
time_for(uint64_t seq, char *buf, size_t len)
{
	uint64_t	 ms = seq * 13;
	time_t		 t = START_TIME + (time_t)(ms / 1000);
	struct tm	 tm;
	size_t		 n;

	gmtime_r(&t, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	(void)snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
}

/* The unsigned form with a zero prev, checked, and where to splice. */
static void
tmpl_build(struct gen *g, struct rec *r, uint64_t seq)
{
	static const char	 prevkey[] = ",\"prev\":\"";
	struct record_fields	 rf;
	char			 when[32], zeros[65], *p;
	json_t			*root;

	memset(zeros, '0', 64);
	zeros[64] = '\0';
	time_for(seq, when, sizeof(when));
	root = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:o, s:o}",
	    "kid", g->kid, "prev", zeros, "seq", (json_int_t)seq,
	    "tenant", g->tenant, "time", when, "type", "test.event",
	    "labels", labels_for(seq), "subject", subject_for(seq));
	if (root == NULL)
		errx(1, "json_pack");
	r->r_tmpl = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	if (r->r_tmpl == NULL)
		errx(1, "json_dumps");
	r->r_tlen = strlen(r->r_tmpl);
	if (record_check(r->r_tmpl, r->r_tlen, 0, &rf, NULL, 0) == -1 ||
	    (p = strstr(r->r_tmpl, prevkey)) == NULL) {
		r->r_bad = 1;
		return;
	}
	r->r_prev = p - r->r_tmpl + sizeof(prevkey) - 1;
	/* "<64 hex>","seq":<digits> then the sig goes in */
	r->r_ins = r->r_prev + 64 + strlen("\",\"seq\":");
	while (r->r_tmpl[r->r_ins] >= '0' && r->r_tmpl[r->r_ins] <= '9')
		r->r_ins++;
}

/* The signed line must pass record_check too; and its leaf hash. */
static void
line_check(struct rec *r)
{
	struct record_fields	 rf;

	if (record_check(r->r_line, r->r_len, REC_WITH_SIG, &rf, NULL,
	    0) == -1)
		r->r_bad = 1;
	merkle_leaf_hash(r->r_line, r->r_len, r->r_leaf);
}

static void *
worker(void *arg)
{
	struct job	*j = arg;
	size_t		 i;

	for (i = j->from; i < j->to; i++)
		if (j->phase == 0)
			tmpl_build(j->g, &j->g->rec[i], j->g->base + i);
		else
			line_check(&j->g->rec[i]);
	return (NULL);
}

static void
parallel(struct gen *g, int phase)
{
	struct job	 jobs[64];
	pthread_t	 tid[64];
	size_t		 per = (g->n + ncpu - 1) / ncpu;
	int		 i;

	for (i = 0; i < ncpu; i++) {
		jobs[i].g = g;
		jobs[i].phase = phase;
		jobs[i].from = (size_t)i * per < g->n ? (size_t)i * per : g->n;
		jobs[i].to = jobs[i].from + per < g->n ? jobs[i].from + per :
		    g->n;
		if (pthread_create(&tid[i], NULL, worker, &jobs[i]) != 0)
			err(1, "pthread_create");
	}
	for (i = 0; i < ncpu; i++)
		pthread_join(tid[i], NULL);
}

/* In order: prev, sign, splice the signature in. */
static void
sign_all(struct gen *g)
{
	struct sigmsg	 m;
	struct rec	*r;
	uint8_t		 sig[64];
	char		 prev[65], b64[MVM_B64_LEN(64)];
	size_t		 i, bl;

	for (i = 0; i < g->n; i++) {
		r = &g->rec[i];
		if (r->r_bad)
			errx(1, "record %" PRIu64 " fails record_check",
			    g->base + i);
		hex_encode(g->last, 32, prev);
		memcpy(r->r_tmpl + r->r_prev, prev, 64);
		if (sigmsg_audit(&m, (uint8_t *)r->r_tmpl, r->r_tlen) == -1)
			err(1, "sigmsg_audit");
		crypto_sign_detached(sig, NULL, m.sm_buf, m.sm_len, g->sk);
		sigmsg_free(&m);
		b64_encode(sig, sizeof(sig), b64, sizeof(b64));
		bl = strlen(b64);
		r->r_len = r->r_tlen + 9 + bl;
		if ((r->r_line = malloc(r->r_len + 1)) == NULL)
			err(1, NULL);
		(void)snprintf(r->r_line, r->r_len + 1, "%.*s,\"sig\":\"%s\"%s",
		    (int)r->r_ins, r->r_tmpl, b64, r->r_tmpl + r->r_ins);
		sha256(r->r_line, r->r_len, g->last);
		free(r->r_tmpl);
		r->r_tmpl = NULL;
	}
}

/* A signed note for the tree as it is, as one checkpoints file line. */
static void
checkpoint(struct gen *g)
{
	struct checkpoint	 ck;
	struct sigmsg		 m;
	char			 note[NOTE_MAX], *line;
	json_t			*o;

	memset(&ck, 0, sizeof(ck));
	(void)strlcpy(ck.ck_origin, g->origin, sizeof(ck.ck_origin));
	ck.ck_size = g->tree.mt_size;
	if (merkle_root(&g->tree, ck.ck_size, ck.ck_root) == -1 ||
	    sigmsg_note(&m, ck.ck_origin, ck.ck_size, ck.ck_root) == -1)
		errx(1, "checkpoint");
	crypto_sign_detached(ck.ck_sig, NULL, m.sm_buf, m.sm_len, g->sk);
	sigmsg_free(&m);
	(void)strlcpy(ck.ck_keyname, g->keyname, sizeof(ck.ck_keyname));
	ck.ck_keyid = key_id(g->keyname, g->pk);
	if (note_format(&ck, note, sizeof(note)) == -1)
		errx(1, "note_format");
	o = json_pack("{s:s}", "note", note);
	if ((line = json_dumps(o, JSON_COMPACT)) == NULL)
		errx(1, "json_dumps");
	json_decref(o);
	fprintf(g->ck, "%s\n", line);
	free(line);
}

/* Write the batch, grow the tree, checkpoint every K. */
static void
batch_out(struct gen *g, uint64_t every)
{
	struct rec	*r;
	size_t		 i;

	for (i = 0; i < g->n; i++) {
		r = &g->rec[i];
		if (r->r_bad)
			errx(1, "record %" PRIu64 " fails record_check",
			    g->base + i);
		if (fwrite(r->r_line, 1, r->r_len, g->log) != r->r_len ||
		    putc('\n', g->log) == EOF)
			err(1, "writing the log");
		if (merkle_append(&g->tree, r->r_leaf) == -1)
			err(1, "merkle_append");
		if (g->tree.mt_size % every == 0)
			checkpoint(g);
		free(r->r_line);
		r->r_line = NULL;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "every", required_argument, NULL, 'k' },
		{ "tenant", required_argument, NULL, 't' },
		{ "origin", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	struct gen	 g;
	const char	*origin = NULL;
	uint64_t	 total, every = 1000, done;
	long		 nc;
	int		 ch;

	memset(&g, 0, sizeof(g));
	g.tenant = MVM_TENANT_DEFAULT;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			if ((every = strtoull(optarg, NULL, 10)) == 0)
				errx(2, "--every must be > 0");
			break;
		case 't':
			g.tenant = optarg;
			break;
		case 'o':
			origin = optarg;
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 4)
		goto usage;
	if (mvm_crypto_init() == -1)
		errx(1, "sodium_init");
	if (!tenant_valid(g.tenant))
		errx(2, "%s: not a tenant name", g.tenant);
	if (origin == NULL)
		(void)snprintf(g.origin, sizeof(g.origin),
		    "mvm-auditgen/mvm-audit/%s", g.tenant);
	else if (strlcpy(g.origin, origin, sizeof(g.origin)) >=
	    sizeof(g.origin) || !origin_valid(g.origin))
		errx(2, "%s: not a valid origin", origin);
	total = strtoull(argv[3], NULL, 10);
	load_key(&g, argv[0]);
	if ((g.log = fopen(argv[1], "w")) == NULL)
		err(1, "%s", argv[1]);
	if ((g.ck = fopen(argv[2], "w")) == NULL)
		err(1, "%s", argv[2]);
	if ((nc = sysconf(_SC_NPROCESSORS_ONLN)) > 0)
		ncpu = nc > 64 ? 64 : (int)nc;
	if ((g.rec = calloc(BATCH, sizeof(*g.rec))) == NULL)
		err(1, NULL);
	merkle_init(&g.tree);
	for (done = 0; done < total; done += g.n) {
		g.base = done;
		g.n = total - done < BATCH ? total - done : BATCH;
		parallel(&g, 0);
		sign_all(&g);
		parallel(&g, 1);
		batch_out(&g, every);
	}
	if (g.tree.mt_size % every != 0 || total == 0)
		checkpoint(&g);
	if (fclose(g.log) == EOF || fclose(g.ck) == EOF)
		err(1, "closing the output");
	sodium_memzero(g.sk, sizeof(g.sk));
	merkle_free(&g.tree);
	free(g.rec);
	return (0);
usage:
	fprintf(stderr, "usage: mvm-auditgen KEYFILE LOG CKPTS N [--every K] "
	    "[--tenant T] [--origin O]\n");
	return (2);
}
