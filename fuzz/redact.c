/*
 * redact: the supervisor's redaction of a command's output
 * (libshared/redact.c), with the values, the output and its chunking
 * from the input.
 *
 * input: flags, then sections (fuzz_split)
 *	flags		(flags & 7) % 6 + 1 values follow
 *	value ...	one section each (an empty one is ignored)
 *	output		the stream
 *	chunks		each byte the size of the next chunk, 0 an empty
 *			one, the list over and over; none: one chunk
 *
 * Properties: the output and the count are the same fed whole, byte
 * by byte and in the input's chunks; the count is the number of places
 * where the stream holds a value.  Where the stream has no '[' (so
 * every '[' in the output begins a mark): no value is in the output,
 * the bytes between the marks are the stream without the bytes of any
 * occurrence of any value (not one of them survives), and there is one
 * mark for each run of such bytes.
 */
#include <string.h>

#include "fuzz.h"
#include "redact.h"

#define NVALS		6
#define MARK		REDACT_MARK
#define MARKLEN		(sizeof(MARK) - 1)

struct vals {
	int		 v_n;
	const uint8_t	*v_p[NVALS];
	size_t		 v_len[NVALS];
};

struct obuf {
	uint8_t		*o_b;
	size_t		 o_len;
	size_t		 o_cap;
};

static void	 ob_put(void *, const uint8_t *, size_t);
static uint64_t	 feed(const struct vals *, const uint8_t *, size_t,
		    const struct fuzz_sect *, struct obuf *);
static uint64_t	 cover(const struct vals *, const uint8_t *, size_t,
		    uint8_t *);
static int	 has_value(const struct vals *, const uint8_t *, size_t);
static void	 check_marks(const struct vals *, const uint8_t *, size_t,
		    const uint8_t *, const struct obuf *);

static void
ob_put(void *arg, const uint8_t *p, size_t len)
{
	struct obuf	*ob = arg;

	FUZZ_ASSERT(len > 0);
	if (len > ob->o_cap - ob->o_len) {
		ob->o_cap = (ob->o_len + len) * 2;
		if ((ob->o_b = realloc(ob->o_b, ob->o_cap)) == NULL)
			abort();
	}
	memcpy(ob->o_b + ob->o_len, p, len);
	ob->o_len += len;
}

/*
 * Feed s in the chunks of ch (NULL: one byte each).  A list that is
 * mostly zeros could feed empty chunks for ever: after 2 * n + 64 of
 * them the rest goes in one.
 */
static uint64_t
feed(const struct vals *vs, const uint8_t *s, size_t n,
    const struct fuzz_sect *ch, struct obuf *ob)
{
	struct redact	*rd;
	uint64_t	 hits = 0;
	size_t		 at = 0, i = 0, k, calls = 0;

	if ((rd = redact_new(vs->v_p, vs->v_len, vs->v_n)) == NULL)
		abort();
	while (at < n) {
		if (ch == NULL)
			k = 1;
		else if (ch->s_len == 0 || calls++ > 2 * n + 64)
			k = n - at;
		else
			k = ch->s_p[i++ % ch->s_len];
		if (k > n - at)
			k = n - at;
		hits += redact_feed(rd, s + at, k, ob_put, ob);
		at += k;
	}
	redact_end(rd, ob_put, ob);
	redact_free(rd);
	return (hits);
}

/* Mark in cov every byte of every occurrence; count the occurrences. */
static uint64_t
cover(const struct vals *vs, const uint8_t *s, size_t n, uint8_t *cov)
{
	uint64_t	 hits = 0;
	size_t		 i;
	int		 j, d;

	memset(cov, 0, n);
	for (i = 0; i < n; i++)
		for (j = 0; j < vs->v_n; j++) {
			if (vs->v_len[j] == 0 || vs->v_len[j] > n - i ||
			    memcmp(s + i, vs->v_p[j], vs->v_len[j]) != 0)
				continue;
			for (d = 0; d < j; d++)		/* granted twice */
				if (vs->v_len[d] == vs->v_len[j] &&
				    memcmp(vs->v_p[d], vs->v_p[j],
				    vs->v_len[j]) == 0)
					break;
			if (d == j)
				hits++;
			memset(cov + i, 1, vs->v_len[j]);
		}
	return (hits);
}

static int
has_value(const struct vals *vs, const uint8_t *p, size_t len)
{
	int	 j;

	for (j = 0; j < vs->v_n; j++)
		if (vs->v_len[j] > 0 && memmem(p, len, vs->v_p[j],
		    vs->v_len[j]) != NULL)
			return (1);
	return (0);
}

/*
 * The output, cut at its marks: no value in a piece; the pieces are the
 * stream's uncovered bytes in order, and each covered run is one mark.
 */
static void
check_marks(const struct vals *vs, const uint8_t *s, size_t n,
    const uint8_t *cov, const struct obuf *ob)
{
	const uint8_t	*p = ob->o_b, *end, *q;
	size_t		 i = 0, runs = 0, marks = 0;

	end = p == NULL ? p : p + ob->o_len;	/* no output: no buffer */

	while (p < end) {
		if ((q = memchr(p, '[', end - p)) == NULL)
			q = end;
		FUZZ_ASSERT(!has_value(vs, p, q - p));
		for (; p < q; p++) {
			while (i < n && cov[i])
				i++;
			FUZZ_ASSERT(i < n && s[i++] == *p);
		}
		if (q < end) {
			FUZZ_ASSERT((size_t)(end - q) >= MARKLEN &&
			    memcmp(q, MARK, MARKLEN) == 0);
			marks++;
			p = q + MARKLEN;
		}
	}
	while (i < n && cov[i])
		i++;
	FUZZ_ASSERT(i == n);
	for (i = 0; i < n; i++)
		runs += cov[i] && (i == 0 || !cov[i - 1]);
	FUZZ_ASSERT(marks == runs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_sect	 sect[FUZZ_SECT_MAX], one = { NULL, 0 };
	struct vals		 vs;
	struct obuf		 whole = { NULL, 0, 0 }, bytes = { NULL, 0, 0 };
	struct obuf		 chunks = { NULL, 0, 0 };
	const uint8_t		*s;
	uint8_t			*cov;
	uint64_t		 hw, hb, hc;
	size_t			 n;
	int			 j;

	fuzz_init();		/* libsodium: sodium_malloc() */
	if (size < 1)
		return (0);
	vs.v_n = (data[0] & 7) % NVALS + 1;
	(void)fuzz_split(data + 1, size - 1, sect, vs.v_n + 2);
	for (j = 0; j < vs.v_n; j++) {
		vs.v_p[j] = sect[j].s_p;
		vs.v_len[j] = sect[j].s_len;
	}
	s = sect[vs.v_n].s_p;
	n = sect[vs.v_n].s_len;
	hw = feed(&vs, s, n, &one, &whole);
	hb = feed(&vs, s, n, NULL, &bytes);
	hc = feed(&vs, s, n, &sect[vs.v_n + 1], &chunks);
	FUZZ_ASSERT(hw == hb && hw == hc);
	FUZZ_ASSERT(bytes.o_len == whole.o_len && chunks.o_len == whole.o_len);
	FUZZ_ASSERT(whole.o_len == 0 ||
	    (memcmp(bytes.o_b, whole.o_b, whole.o_len) == 0 &&
	    memcmp(chunks.o_b, whole.o_b, whole.o_len) == 0));
	if ((cov = malloc(n > 0 ? n : 1)) == NULL)
		abort();
	hb = cover(&vs, s, n, cov);
	if (memchr(s, '[', n) == NULL)
		check_marks(&vs, s, n, cov, &whole);
	FUZZ_ASSERT(hb == hw);
	free(cov);
	free(whole.o_b);
	free(bytes.o_b);
	free(chunks.o_b);
	return (0);
}
