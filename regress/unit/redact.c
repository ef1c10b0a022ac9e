/*
 * Redaction (libshared/redact.c).
 *
 * Random cases: secret sets with shared prefixes, overlaps (a suffix of
 * one value is a prefix of another) and containment (one value inside
 * another), over an alphabet of two to four letters so that they also
 * meet by chance; output with values planted, also overlapping each
 * other, and prefixes of values as decoys, also at the very end.  Each
 * case is fed whole, one byte at a time and in random chunks (empty
 * ones among them), and checked for:
 *  - the same output and count for every chunking;
 *  - the output and count of a model that looks at the whole stream at
 *    once (mark each byte of each occurrence, then one mark per run);
 *  - no value anywhere in the output;
 *  - FRAG_MIN: no fragment of a planted value longer than FRAG_MIN
 *    bytes survives.  FRAG_MIN is 0: with filler that shares no byte
 *    with the values, not one byte of the values' alphabet may remain;
 *  - output without any value passes through byte for byte.
 * The seed is printed; REDACT_SEED=n repeats a run.
 *
 * Fixed cases: a DSN and its password, "abcdef" and "defghi" in
 * "abcdefghi", a value cut into two and three chunks at every place,
 * a value and a prefix of one at the very end, adjacent and
 * self-overlapping values, how much is held back, empty values.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "redact.h"
#include "tap.h"

#define FRAG_MIN	0	/* longest fragment of a value that survives */
#define NCASES		3000
#define NVALS		8	/* MVM_RUN_SECRETS_MAX */
#define VAL_MAX		48
#define STREAM_MAX	1024
#define SECRET_ABC	"ABCD"		/* values are made of these */
#define CLEAN_ABC	"xyz \n"	/* filler that shares nothing */
#define NOISY_ABC	"ABCDxy\n"	/* filler that meets the values */
#define MARK		REDACT_MARK
#define MARKLEN		(sizeof(MARK) - 1)

enum { CLEAN, NOISY, NONE, NMODES };
enum { WHOLE, BYTES, CHUNKS, RAGGED, NCHUNKINGS };

struct vals {
	int		 n;
	uint8_t		 v[NVALS][VAL_MAX];
	size_t		 len[NVALS];
	const uint8_t	*p[NVALS];
};

struct obuf {
	uint8_t		*b;
	size_t		 len;
	size_t		 cap;
};

struct result {
	struct obuf	 out;
	uint64_t	 hits;
};

static uint64_t	 rnd(void);
static size_t	 rn(size_t);
static void	 ob_put(void *, const uint8_t *, size_t);
static void	 ob_free(struct obuf *);
static int	 ob_eq(const struct obuf *, const void *, size_t);
static int	 vals_set(struct vals *, const char *const *, int);
static void	 run(const struct vals *, const uint8_t *, size_t, int,
		    struct result *);
static void	 run_cuts(const struct vals *, const uint8_t *, size_t,
		    const size_t *, int, struct result *);
static void	 model(const struct vals *, const uint8_t *, size_t,
		    struct obuf *, uint64_t *);
static void	 gen_vals(struct vals *);
static void	 gen_stream(const struct vals *, int, uint8_t *, size_t *);
static void	 defuse(const struct vals *, uint8_t *, size_t);
static int	 has_value(const struct vals *, const uint8_t *, size_t);
static size_t	 longest_run(const uint8_t *, size_t, const char *);
static void	 dump(const char *, const uint8_t *, size_t);
static void	 dump_case(int, const struct vals *, const uint8_t *, size_t,
		    const struct result *);
static void	 test_random(void);
static int	 fixed(const char *const *, int, const char *, const char *,
		    uint64_t);
static void	 test_fixed(void);
static void	 test_splits(void);
static void	 test_held(void);

static uint64_t	 rnd_state;

/* xorshift64*: the same cases for the same seed, on every host */
static uint64_t
rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return (rnd_state * 0x2545f4914f6cdd1dULL);
}

static size_t
rn(size_t n)
{
	return (n == 0 ? 0 : (size_t)(rnd() % n));
}

static void
ob_put(void *arg, const uint8_t *p, size_t len)
{
	struct obuf	*ob = arg;

	if (len == 0) {
		printf("# out() called with nothing\n");
		abort();
	}
	if (ob->len + len > ob->cap) {
		ob->cap = (ob->len + len) * 2;
		if ((ob->b = realloc(ob->b, ob->cap)) == NULL)
			abort();
	}
	memcpy(ob->b + ob->len, p, len);
	ob->len += len;
}

static void
ob_free(struct obuf *ob)
{
	free(ob->b);
	memset(ob, 0, sizeof(*ob));
}

static int
ob_eq(const struct obuf *ob, const void *p, size_t len)
{
	return (ob->len == len && (len == 0 || memcmp(ob->b, p, len) == 0));
}

static int
vals_set(struct vals *vs, const char *const *s, int n)
{
	int	 i;

	memset(vs, 0, sizeof(*vs));
	for (i = 0; i < n; i++) {
		vs->len[i] = strlen(s[i]);
		if (vs->len[i] > VAL_MAX)
			abort();
		memcpy(vs->v[i], s[i], vs->len[i]);
		vs->p[i] = vs->v[i];
	}
	vs->n = n;
	return (n);
}

/* Feed the stream cut after each of cuts[0..ncut), which ascend. */
static void
run_cuts(const struct vals *vs, const uint8_t *s, size_t n,
    const size_t *cuts, int ncut, struct result *r)
{
	struct redact	*rd;
	size_t		 at = 0;
	int		 i;

	memset(r, 0, sizeof(*r));
	if ((rd = redact_new(vs->p, vs->len, vs->n)) == NULL)
		abort();
	for (i = 0; i <= ncut; i++) {
		r->hits += redact_feed(rd, s + at, (i < ncut ? cuts[i] : n) -
		    at, ob_put, &r->out);
		at = i < ncut ? cuts[i] : n;
	}
	redact_end(rd, ob_put, &r->out);
	redact_free(rd);
}

/* Feed the stream in one of the chunkings. */
static void
run(const struct vals *vs, const uint8_t *s, size_t n, int how,
    struct result *r)
{
	size_t	 cuts[STREAM_MAX * 2], at = 0, step;
	int	 nc = 0;

	while (how != WHOLE && at < n && nc < STREAM_MAX * 2) {
		if (how == BYTES)
			step = 1;
		else if (how == CHUNKS)
			step = 1 + rn(2 * VAL_MAX);
		else		/* RAGGED: empty chunks, tiny and big ones */
			step = rn(4) == 0 ? 0 : rn(3) == 0 ? 1 + rn(3) :
			    rn(n);
		at = at + step < n ? at + step : n;
		cuts[nc++] = at;
	}
	run_cuts(vs, s, n, cuts, nc, r);
}

/*
 * The model: every byte of every occurrence of every value is covered
 * (values given twice count once), each maximal run of covered bytes
 * is one mark.  It sees the whole stream at once.
 */
static void
model(const struct vals *vs, const uint8_t *s, size_t n, struct obuf *out,
    uint64_t *hits)
{
	uint8_t		 cov[STREAM_MAX];
	size_t		 i, k;
	int		 j, d;

	memset(cov, 0, sizeof(cov));
	*hits = 0;
	for (i = 0; i < n; i++)
		for (j = 0; j < vs->n; j++) {
			if (vs->len[j] == 0 || vs->len[j] > n - i ||
			    memcmp(s + i, vs->v[j], vs->len[j]) != 0)
				continue;
			for (d = 0; d < j; d++)
				if (vs->len[d] == vs->len[j] && memcmp(vs->v[d],
				    vs->v[j], vs->len[j]) == 0)
					break;
			if (d == j)
				(*hits)++;
			for (k = 0; k < vs->len[j]; k++)
				cov[i + k] = 1;
		}
	for (i = 0; i < n; i++)
		if (!cov[i])
			ob_put(out, s + i, 1);
		else if (i == 0 || !cov[i - 1])
			ob_put(out, (const uint8_t *)MARK, MARKLEN);
}

/*
 * Two to eight values over two to four letters: fresh ones, and ones
 * that share a prefix with, overlap, contain, lie inside or repeat an
 * earlier one.
 */
static void
gen_vals(struct vals *vs)
{
	const uint8_t	*o;
	size_t		 abc, ol, a, k, i;
	uint8_t		*v;
	int		 j, e;

	memset(vs, 0, sizeof(*vs));
	vs->n = 1 + rn(NVALS);
	abc = 2 + rn(3);
	for (j = 0; j < vs->n; j++) {
		v = vs->v[j];
		e = rn(j);
		o = vs->v[e];
		ol = vs->len[e];
		k = 0;
		switch (j == 0 ? 0 : rn(6)) {
		case 1:		/* a prefix of another, then its own */
			k = 1 + rn(ol);
			memcpy(v, o, k);
			break;
		case 2:		/* begins with a suffix of another */
			a = 1 + rn(ol);
			memcpy(v, o + ol - a, a);
			k = a;
			break;
		case 3:		/* contains another */
			k = rn(4);
			if (k > VAL_MAX - ol)
				k = VAL_MAX - ol;
			for (i = 0; i < k; i++)
				v[i] = SECRET_ABC[rn(abc)];
			memcpy(v + k, o, ol);
			k += ol;
			break;
		case 4:		/* lies inside another */
			a = rn(ol);
			k = 1 + rn(ol - a);
			memcpy(v, o + a, k);
			vs->len[j] = k;
			continue;
		case 5:		/* the same value again */
			memcpy(v, o, ol);
			vs->len[j] = ol;
			continue;
		}
		/* its own bytes: mostly short, some long */
		a = k + (rn(4) == 0 ? 1 + rn(VAL_MAX) : 1 + rn(10));
		if (a > VAL_MAX)
			a = VAL_MAX;
		for (i = k; i < a; i++)
			v[i] = SECRET_ABC[rn(abc)];
		vs->len[j] = a > k ? a : k;
	}
	for (j = 0; j < vs->n; j++)
		vs->p[j] = vs->v[j];
}

/*
 * Filler, planted values (CLEAN, NOISY), some overlapping the one
 * before, and decoy prefixes of values (NOISY, NONE).  The stream may
 * end in a value or in a prefix of one.
 */
static void
gen_stream(const struct vals *vs, int mode, uint8_t *s, size_t *np)
{
	const char	*fill = mode == NOISY ? NOISY_ABC : CLEAN_ABC;
	size_t		 n = 0, want = rn(STREAM_MAX - VAL_MAX * 2), k, m;
	int		 j;

	while (n < want) {
		j = rn(vs->n);
		switch (rn(4)) {
		case 0:		/* filler */
			for (k = rn(12); k > 0; k--)
				s[n++] = fill[rn(strlen(fill))];
			break;
		case 1:		/* a value, over the end of what is there */
			if (mode == NONE)
				break;
			for (m = vs->len[j] - 1; m > 0; m--)
				if (m <= n && memcmp(s + n - m, vs->v[j],
				    m) == 0 && rn(2) == 0)
					break;
			memcpy(s + n - m, vs->v[j], vs->len[j]);
			n += vs->len[j] - m;
			break;
		case 2:		/* a value */
			if (mode == NONE)
				break;
			memcpy(s + n, vs->v[j], vs->len[j]);
			n += vs->len[j];
			break;
		case 3:		/* a decoy: a proper prefix */
			if (mode == CLEAN || vs->len[j] < 2)
				break;
			k = 1 + rn(vs->len[j] - 1);
			memcpy(s + n, vs->v[j], k);
			n += k;
			break;
		}
	}
	*np = n;
}

/*
 * Break every occurrence in its last byte ('x' is in no value, so this
 * makes none): what is left of it is a prefix, a near miss.
 */
static void
defuse(const struct vals *vs, uint8_t *s, size_t n)
{
	size_t	 i;
	int	 j;

	for (i = 0; i < n; i++)
		for (j = 0; j < vs->n; j++)
			if (vs->len[j] <= n - i &&
			    memcmp(s + i, vs->v[j], vs->len[j]) == 0)
				s[i + vs->len[j] - 1] = 'x';
}

/* Does any value occur in p?  (Marks hold no byte of SECRET_ABC.) */
static int
has_value(const struct vals *vs, const uint8_t *p, size_t len)
{
	int	 j;

	if (len == 0)
		return (0);	/* p may be NULL: no output */
	for (j = 0; j < vs->n; j++)
		if (vs->len[j] > 0 && memmem(p, len, vs->v[j],
		    vs->len[j]) != NULL)
			return (1);
	return (0);
}

/* The longest run of bytes from set: a fragment of the values. */
static size_t
longest_run(const uint8_t *p, size_t len, const char *set)
{
	size_t	 i, cur = 0, max = 0;

	for (i = 0; i < len; i++) {
		if (p[i] != '\0' && strchr(set, p[i]) != NULL)
			cur++;
		else
			cur = 0;
		if (cur > max)
			max = cur;
	}
	return (max);
}

static void
dump(const char *what, const uint8_t *p, size_t len)
{
	size_t	 i;

	printf("#   %s (%zu): \"", what, len);
	for (i = 0; i < len; i++)
		if (p[i] == '\n')
			printf("\\n");
		else
			putchar(p[i]);
	printf("\"\n");
}

static void
dump_case(int c, const struct vals *vs, const uint8_t *s, size_t n,
    const struct result *r)
{
	int	 j;

	printf("# case %d\n", c);
	for (j = 0; j < vs->n; j++)
		dump("value", vs->v[j], vs->len[j]);
	dump("stream", s, n);
	for (j = 0; j < NCHUNKINGS; j++) {
		printf("#   chunking %d: %" PRIu64 " hits\n", j, r[j].hits);
		dump("output", r[j].out.b, r[j].out.len);
	}
}

static void
test_random(void)
{
	struct vals	 vs;
	struct result	 r[NCHUNKINGS];
	struct obuf	 want;
	uint64_t	 wanthits;
	uint8_t		 s[STREAM_MAX];
	size_t		 n;
	int		 c, h, mode, b[6], bad[6], nmode[NMODES], shown = 0;

	memset(bad, 0, sizeof(bad));
	memset(nmode, 0, sizeof(nmode));
	for (c = 0; c < NCASES; c++) {
		mode = c % NMODES;
		gen_vals(&vs);
		gen_stream(&vs, mode, s, &n);
		if (mode == NONE)
			defuse(&vs, s, n);
		memset(&want, 0, sizeof(want));
		model(&vs, s, n, &want, &wanthits);
		nmode[mode]++;
		for (h = 0; h < NCHUNKINGS; h++)
			run(&vs, s, n, h, &r[h]);
		memset(b, 0, sizeof(b));
		for (h = 1; h < NCHUNKINGS; h++)
			if (!ob_eq(&r[h].out, r[0].out.b, r[0].out.len) ||
			    r[h].hits != r[0].hits)
				b[0] = 1;
		b[1] = !ob_eq(&r[0].out, want.b, want.len);
		b[2] = r[0].hits != wanthits;
		b[3] = has_value(&vs, r[0].out.b, r[0].out.len);
		b[4] = mode == CLEAN && longest_run(r[0].out.b, r[0].out.len,
		    SECRET_ABC) > FRAG_MIN;
		if (mode == NONE)
			b[5] = wanthits != 0 || !ob_eq(&r[0].out, s, n) ||
			    r[0].hits != 0;
		for (h = 0; h < 6; h++) {
			bad[h] += b[h];
			if (b[h] && shown++ < 3) {
				printf("# property %d failed:\n", h);
				dump_case(c, &vs, s, n, r);
			}
		}
		for (h = 0; h < NCHUNKINGS; h++)
			ob_free(&r[h].out);
		ob_free(&want);
	}
	TAP_OK(bad[0] == 0, "%d random cases: the same output and count for "
	    "every chunking (whole, bytes, chunks, ragged) (%d differ)",
	    NCASES, bad[0]);
	TAP_OK(bad[1] == 0, "... the output of the whole-stream model "
	    "(%d differ)", bad[1]);
	TAP_OK(bad[2] == 0, "... its count of occurrences (%d differ)",
	    bad[2]);
	TAP_OK(bad[3] == 0, "... no value in the output (%d have one)",
	    bad[3]);
	TAP_OK(bad[4] == 0, "... %d with planted values in clean filler: no "
	    "fragment longer than %d bytes survives (%d do)", nmode[CLEAN],
	    FRAG_MIN, bad[4]);
	TAP_OK(bad[5] == 0, "... %d without any "
	    "value: passed through byte for byte (%d not)", nmode[NONE],
	    bad[5]);
}

/*
 * A fixed case, fed whole, byte by byte, and cut into two and into
 * three chunks at every place: each gives want and whits.
 */
static int
fixed(const char *const *v, int nv, const char *stream, const char *want,
    uint64_t whits)
{
	struct vals	 vs;
	struct result	 r;
	const uint8_t	*s = (const uint8_t *)stream;
	size_t		 n = strlen(stream), cuts[2], i, k;
	int		 bad = 0;

	vals_set(&vs, v, nv);
	for (i = 0; i <= n; i++)
		for (k = i; k <= n; k++) {
			cuts[0] = i;
			cuts[1] = k;
			run_cuts(&vs, s, n, cuts, 2, &r);
			if ((!ob_eq(&r.out, want, strlen(want)) ||
			    r.hits != whits) && bad++ == 0) {
				printf("# cut at %zu, %zu:\n", i, k);
				dump("output", r.out.b, r.out.len);
				printf("#   %" PRIu64 " hits\n", r.hits);
			}
			ob_free(&r.out);
		}
	run(&vs, s, n, BYTES, &r);
	bad += !ob_eq(&r.out, want, strlen(want)) || r.hits != whits;
	ob_free(&r.out);
	return (bad == 0);
}

#define DSN	"postgres://app:Hunter2-pw@db.internal:5432/prod"
#define PW	"Hunter2-pw"
#define TOK	"s3cr3t-T0ken"

static void
test_fixed(void)
{
	const char	*dsn[] = { DSN, PW }, *pwdsn[] = { PW, DSN };
	const char	*ov[] = { "abcdef", "defghi" };
	const char	*adj[] = { "abc", "def" }, *aa[] = { "aa" };
	const char	*pre[] = { "abc", "abcdef" };
	const char	*tok[] = { TOK };
	const char	*empty[] = { "", "tok" };

	TAP_OK(fixed(dsn, 2, "url=" DSN "\npw=" PW "\n",
	    "url=" MARK "\npw=" MARK "\n", 3),
	    "a DSN and its password: the whole DSN is cut, 3 occurrences");
	TAP_OK(fixed(pwdsn, 2, "url=" DSN "\npw=" PW "\n",
	    "url=" MARK "\npw=" MARK "\n", 3),
	    "... the same with the password granted first");
	TAP_OK(fixed(dsn, 2, "url=postgres://app:" PW "@db",
	    "url=postgres://app:" MARK "@db", 1),
	    "... the stream ends in a prefix of the DSN that holds the "
	    "password: the password is cut");
	TAP_OK(fixed(ov, 2, "abcdefghi", MARK, 2),
	    "\"abcdef\" and \"defghi\" in \"abcdefghi\": one mark, 2 "
	    "occurrences");
	TAP_OK(fixed(ov, 2, "x abcdefghi y", "x " MARK " y", 2),
	    "... between other output");
	TAP_OK(fixed(ov, 2, "abcdefgh", MARK "gh", 1),
	    "... \"abcdefgh\": the first cut, the rest a prefix, kept");
	TAP_OK(fixed(adj, 2, "-abcdef-", "-" MARK "-", 2),
	    "adjacent values: one run, one mark");
	TAP_OK(fixed(pre, 2, "xabcdefy", "x" MARK "y", 2),
	    "a value that is a prefix of another: the longer is cut");
	TAP_OK(fixed(pre, 2, "xabcdey", "x" MARK "dey", 1),
	    "... the shorter, where the longer does not follow");
	TAP_OK(fixed(aa, 1, "baaaaab", "b" MARK "b", 4),
	    "a value that overlaps itself: one mark, 4 occurrences");
	TAP_OK(fixed(tok, 1, "out: s3cr3t-T0ken", "out: " MARK, 1),
	    "a value at the very end of the stream");
	TAP_OK(fixed(tok, 1, "out: s3cr3t-T0k", "out: s3cr3t-T0k", 0),
	    "a prefix of a value at the end: passed on as it is");
	TAP_OK(fixed(tok, 1, "s3cr3t-T0s3cr3t-T0ken!", "s3cr3t-T0" MARK "!",
	    1), "a prefix, then the value");
	TAP_OK(fixed(empty, 2, "a tok b", "a " MARK " b", 1),
	    "an empty value is ignored");
	TAP_OK(fixed(empty, 0, "a tok b", "a tok b", 0),
	    "no values: everything passes");
	TAP_OK(fixed(tok, 1, "", "", 0), "an empty stream: nothing");
}

/* A value cut at every place, in streams of every shape around it. */
static void
test_splits(void)
{
	const char	*tok[] = { TOK };
	const char	*shapes[][2] = {
		{ TOK, MARK },
		{ "a" TOK, "a" MARK },
		{ TOK "b", MARK "b" },
		{ "s3cr3t-" TOK "-T0ken", "s3cr3t-" MARK "-T0ken" },
		{ "a" TOK "b" TOK, "a" MARK "b" MARK },
	};
	size_t		 i, n = sizeof(shapes) / sizeof(shapes[0]);
	int		 ok = 1;

	for (i = 0; i < n; i++)
		if (!fixed(tok, 1, shapes[i][0], shapes[i][1],
		    i == n - 1 ? 2 : 1)) {
			printf("# shape %zu fails\n", i);
			ok = 0;
		}
	TAP_OK(ok, "a value split into two and three chunks at every "
	    "place, in %zu surroundings", n);
}

/* Only what may still become a value is held back, and only as long. */
static void
test_held(void)
{
	const char	*tok[] = { "secret" };
	const uint8_t	*none[2] = { NULL, NULL };
	size_t		 lens[2];
	struct vals	 vs;
	struct redact	*rd;
	struct obuf	 ob = { NULL, 0, 0 };
	int		 ok;

	vals_set(&vs, tok, 1);
	if ((rd = redact_new(vs.p, vs.len, vs.n)) == NULL)
		abort();
	(void)redact_feed(rd, (const uint8_t *)"hello ", 6, ob_put, &ob);
	ok = ob_eq(&ob, "hello ", 6);
	(void)redact_feed(rd, (const uint8_t *)"sec", 3, ob_put, &ob);
	ok = ok && ob_eq(&ob, "hello ", 6);
	(void)redact_feed(rd, (const uint8_t *)"x", 1, ob_put, &ob);
	ok = ok && ob_eq(&ob, "hello secx", 10);
	(void)redact_feed(rd, (const uint8_t *)"secret", 6, ob_put, &ob);
	ok = ok && ob_eq(&ob, "hello secx" MARK, 10 + MARKLEN);
	(void)redact_feed(rd, (const uint8_t *)"\n", 1, ob_put, &ob);
	ok = ok && ob_eq(&ob, "hello secx" MARK "\n", 11 + MARKLEN);
	redact_end(rd, ob_put, &ob);
	ok = ok && ob_eq(&ob, "hello secx" MARK "\n", 11 + MARKLEN);
	TAP_OK(ok, "held back: only a possible start of a value, until "
	    "it is decided; a whole value goes out at once");
	ob_free(&ob);
	/* after the end, a new stream: nothing of the old one goes on */
	(void)redact_feed(rd, (const uint8_t *)"sec", 3, ob_put, &ob);
	redact_end(rd, ob_put, &ob);
	(void)redact_feed(rd, (const uint8_t *)"ret", 3, ob_put, &ob);
	redact_end(rd, ob_put, &ob);
	TAP_OK(ob_eq(&ob, "secret", 6), "redact_end: the next bytes are a "
	    "new stream");
	ob_free(&ob);
	redact_free(rd);
	redact_free(NULL);
	/* the lengths are checked before a value is read */
	lens[0] = REDACT_VALUES_MAX;
	lens[1] = 1;
	errno = 0;
	TAP_OK(redact_new(none, lens, 2) == NULL && errno == EINVAL,
	    "values of more than REDACT_VALUES_MAX bytes: EINVAL");
}

int
main(void)
{
	const char	*e;

	if (sodium_init() == -1)
		return (1);
	if ((e = getenv("REDACT_SEED")) != NULL)
		rnd_state = strtoull(e, NULL, 0);
	else
		randombytes_buf(&rnd_state, sizeof(rnd_state));
	if (rnd_state == 0)
		rnd_state = 1;
	printf("# seed %" PRIu64 " (REDACT_SEED=%" PRIu64 " repeats it)\n",
	    rnd_state, rnd_state);
	test_fixed();
	test_splits();
	test_held();
	test_random();
	TAP_DONE();
}
