/*
 * redact.c: cut secret values out of a stream of output.
 *
 * The supervisor passes everything a command writes through here before
 * it hashes, counts, sends or keeps a byte of it (mvm-supervisor/
 * exec.c); regress/unit/redact.c and fuzz/redact.c link the same code.
 *
 * What is guaranteed, however the stream is cut into chunks (one
 * chunk, single bytes, anything between) and wherever it ends:
 *  - Every occurrence of every value is found: occurrences that
 *    overlap (a suffix of one value is a prefix of another, or a value
 *    overlaps itself), that contain each other (a DSN and its password)
 *    or that are split across chunks.  Not the first match, not only
 *    the longest: all of them.
 *  - A byte that lies in any occurrence is cut; each maximal run of cut
 *    bytes becomes one REDACT_MARK.  Nothing of an occurrence survives,
 *    not one byte: the "shortest fragment that may survive" the tests
 *    state is 0.  The output is therefore the same for every chunking.
 *  - Bytes in no occurrence pass through unchanged and in order,
 *    among them a prefix of a value that the stream ends with.
 *  - The count is the number of occurrences: places (start and length)
 *    where the stream holds a value; values granted twice count once.
 *
 * How: an Aho-Corasick automaton over the values.  Its state after a
 * byte stands for the longest suffix of the stream that is a prefix of
 * some value, so no occurrence still to come can start before that
 * suffix: the bytes before it are final and go out at the end of the
 * chunk, only the suffix (at most the longest value) is held back.  An
 * occurrence is seen once, when its last byte comes in, together with
 * all others that end there.  Each byte costs amortized constant work
 * whatever the values are: a guest writing one byte at a time cannot
 * make the supervisor scan what it holds again for every chunk (a
 * search from each held position would cost up to the length of the
 * longest value, times the values, per byte).
 *
 * The automaton (the values, in effect) and the held bytes live in one
 * sodium_malloc() block, which sodium_free() wipes.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "redact.h"

/* a node of the trie of all values: one prefix of one or more values */
struct redact_node {
	uint32_t	 rn_child;	/* first child, 0: none */
	uint32_t	 rn_next;	/* next sibling, 0: none */
	uint32_t	 rn_fail;	/* longest proper suffix in the trie */
	uint32_t	 rn_depth;	/* length of the prefix */
	uint32_t	 rn_longest;	/* longest value ending here, 0: none */
	uint32_t	 rn_nmatch;	/* values ending here */
	uint8_t		 rn_byte;	/* last byte of the prefix */
};

/* a run of stream bytes covered by occurrences, [start, end) */
struct redact_run {
	uint64_t	 rr_start;
	uint64_t	 rr_end;
};

struct redact {
	struct redact_node	*rd_node;	/* [0] is the root */
	uint32_t		 rd_nnode;
	uint32_t		 rd_cur;	/* state after the last byte */
	size_t			 rd_max;	/* longest value, at least 1 */
	uint64_t		 rd_pos;	/* stream bytes fed */
	uint64_t		 rd_done;	/* bytes passed on or cut */
	int			 rd_inmark;	/* the output ends in a mark */
	/* bytes [rd_done, rd_cpos): ring of rd_max */
	uint8_t			*rd_hold;
	size_t			 rd_hhead;
	size_t			 rd_hlen;
	/* covered runs in [rd_done, rd_pos), disjoint, not adjacent */
	struct redact_run	*rd_run;
	size_t			 rd_rcap;	/* rd_max + 1 */
	size_t			 rd_rhead;
	size_t			 rd_rlen;
	/* the call in progress */
	const uint8_t		*rd_chunk;	/* from stream byte rd_cpos */
	uint64_t		 rd_cpos;
	void			(*rd_out)(void *, const uint8_t *, size_t);
	void			*rd_arg;
};

static struct redact	*redact_alloc(size_t, size_t);
static void		 redact_insert(struct redact *, const uint8_t *,
			    size_t);
static int		 redact_links(struct redact *);
static uint32_t		 redact_step(const struct redact *, uint32_t,
			    uint8_t);
static void		 redact_call(struct redact *, const uint8_t *,
			    void (*)(void *, const uint8_t *, size_t), void *);
static void		 redact_cover(struct redact *, uint64_t, uint64_t,
			    uint64_t);
static void		 redact_take(struct redact *, uint64_t, int);
static void		 redact_flush(struct redact *, uint64_t);
static void		 redact_keep(struct redact *);

#define REDACT_ALIGN(n)	(((n) + 15) & ~(size_t)15)

/*
 * One zeroed block for a trie of total + 1 nodes and the buffers of a
 * stream whose longest value is max.  sodium_malloc() puts the block
 * against the end of a page: a size that is a multiple of 16 keeps
 * everything in it aligned.
 */
static struct redact *
redact_alloc(size_t total, size_t max)
{
	struct redact	*rd;
	size_t		 o_run, o_node, o_hold, size;

	o_run = REDACT_ALIGN(sizeof(*rd));
	o_node = o_run + REDACT_ALIGN((max + 1) * sizeof(struct redact_run));
	o_hold = o_node + REDACT_ALIGN((total + 1) *
	    sizeof(struct redact_node));
	size = o_hold + REDACT_ALIGN(max);
	if ((rd = sodium_malloc(size)) == NULL)
		return (NULL);
	memset(rd, 0, size);
	rd->rd_run = (struct redact_run *)((uint8_t *)rd + o_run);
	rd->rd_node = (struct redact_node *)((uint8_t *)rd + o_node);
	rd->rd_hold = (uint8_t *)rd + o_hold;
	rd->rd_max = max;
	rd->rd_rcap = max + 1;
	rd->rd_nnode = 1;		/* the root, the empty prefix */
	return (rd);
}

/*
 * The values are vals[i], lens[i] bytes each; empty ones are ignored
 * (they would be everywhere and cover nothing).  The caller keeps its
 * copies: the automaton holds what it needs.
 */
struct redact *
redact_new(const uint8_t *const *vals, const size_t *lens, int n)
{
	struct redact	*rd;
	size_t		 total = 0, max = 1;
	int		 i;

	for (i = 0; i < n; i++) {
		if (lens[i] > REDACT_VALUES_MAX - total) {
			errno = EINVAL;
			return (NULL);
		}
		total += lens[i];
		if (lens[i] > max)
			max = lens[i];
	}
	if ((rd = redact_alloc(total, max)) == NULL)
		return (NULL);
	for (i = 0; i < n; i++)
		redact_insert(rd, vals[i], lens[i]);
	if (redact_links(rd) == -1) {
		sodium_free(rd);
		errno = ENOMEM;
		return (NULL);
	}
	return (rd);
}

/* Add the prefixes of one value to the trie; mark where it ends. */
static void
redact_insert(struct redact *rd, const uint8_t *v, size_t len)
{
	struct redact_node	*nd;
	uint32_t		 s = 0, t;
	size_t			 i;

	for (i = 0; i < len; i++) {
		for (t = rd->rd_node[s].rn_child; t != 0;
		    t = rd->rd_node[t].rn_next)
			if (rd->rd_node[t].rn_byte == v[i])
				break;
		if (t == 0) {
			t = rd->rd_nnode++;
			nd = &rd->rd_node[t];
			nd->rn_byte = v[i];
			nd->rn_depth = i + 1;
			nd->rn_next = rd->rd_node[s].rn_child;
			rd->rd_node[s].rn_child = t;
		}
		s = t;
	}
	if (len > 0) {			/* the same value twice: one */
		rd->rd_node[s].rn_longest = len;
		rd->rd_node[s].rn_nmatch = 1;
	}
}

/*
 * Failure links, breadth first so that a node's suffixes are done
 * before it.  A node then also stands for every value that ends in it
 * through its suffixes: how many (each is an occurrence), and the
 * longest (it covers the others).
 */
static int
redact_links(struct redact *rd)
{
	struct redact_node	*nd, *f;
	uint32_t		*q, head = 0, tail = 1, u, v, uf;

	if ((q = calloc(rd->rd_nnode, sizeof(*q))) == NULL)
		return (-1);
	q[0] = 0;
	while (head < tail) {
		u = q[head++];
		for (v = rd->rd_node[u].rn_child; v != 0;
		    v = rd->rd_node[v].rn_next) {
			nd = &rd->rd_node[v];
			uf = rd->rd_node[u].rn_fail;
			nd->rn_fail = u == 0 ? 0 :
			    redact_step(rd, uf, nd->rn_byte);
			f = &rd->rd_node[nd->rn_fail];
			if (nd->rn_longest == 0)
				nd->rn_longest = f->rn_longest;
			nd->rn_nmatch += f->rn_nmatch;
			q[tail++] = v;
		}
	}
	free(q);
	return (0);
}

/* The state after byte c in state s. */
static uint32_t
redact_step(const struct redact *rd, uint32_t s, uint8_t c)
{
	uint32_t	 t;

	for (;;) {
		for (t = rd->rd_node[s].rn_child; t != 0;
		    t = rd->rd_node[t].rn_next)
			if (rd->rd_node[t].rn_byte == c)
				return (t);
		if (s == 0)
			return (0);
		s = rd->rd_node[s].rn_fail;
	}
}

/* What the helpers of one redact_feed() or redact_end() work with. */
static void
redact_call(struct redact *rd, const uint8_t *chunk,
    void (*out)(void *, const uint8_t *, size_t), void *arg)
{
	rd->rd_out = out;
	rd->rd_arg = arg;
	rd->rd_chunk = chunk;
	rd->rd_cpos = rd->rd_pos;
}

/*
 * Feed len bytes of the stream.  What is final goes to out; a mark for
 * each covered run.  Returns the occurrences that ended in these bytes.
 */
uint64_t
redact_feed(struct redact *rd, const uint8_t *p, size_t len,
    void (*out)(void *, const uint8_t *, size_t), void *arg)
{
	const struct redact_node	*nd;
	uint64_t			 hits = 0, end;
	size_t				 i;

	redact_call(rd, p, out, arg);
	for (i = 0; i < len; i++) {
		rd->rd_cur = redact_step(rd, rd->rd_cur, p[i]);
		nd = &rd->rd_node[rd->rd_cur];
		if (nd->rn_nmatch == 0)
			continue;
		hits += nd->rn_nmatch;
		end = rd->rd_cpos + i + 1;
		redact_cover(rd, end - nd->rn_longest, end,
		    end - nd->rn_depth);
	}
	rd->rd_pos += len;
	redact_flush(rd, rd->rd_pos - rd->rd_node[rd->rd_cur].rn_depth);
	redact_keep(rd);
	return (hits);
}

/* The stream ended: pass on everything held; ready for a new stream. */
void
redact_end(struct redact *rd, void (*out)(void *, const uint8_t *, size_t),
    void *arg)
{
	redact_call(rd, NULL, out, arg);
	redact_flush(rd, rd->rd_pos);
	rd->rd_cur = 0;
	rd->rd_inmark = 0;
}

void
redact_free(struct redact *rd)
{
	if (rd != NULL)
		sodium_free(rd);	/* wipes */
}

/*
 * Stream bytes [start, end) are covered.  Runs end in increasing order,
 * so the new one absorbs those at the back that it reaches or touches.
 * The ring of runs is full only when a chunk holds many of them: then
 * what is final (before bound) goes out first, which empties it but
 * for the runs in the held suffix, at most rd_max / 2 + 1.
 */
static void
redact_cover(struct redact *rd, uint64_t start, uint64_t end, uint64_t bound)
{
	struct redact_run	*r;

	while (rd->rd_rlen > 0) {
		r = &rd->rd_run[(rd->rd_rhead + rd->rd_rlen - 1) % rd->rd_rcap];
		if (r->rr_end < start)
			break;
		if (r->rr_start < start)
			start = r->rr_start;
		rd->rd_rlen--;
	}
	if (rd->rd_rlen == rd->rd_rcap)
		redact_flush(rd, bound);
	r = &rd->rd_run[(rd->rd_rhead + rd->rd_rlen++) % rd->rd_rcap];
	r->rr_start = start;
	r->rr_end = end;
}

/*
 * Move rd_done up to stream byte to: the bytes are passed on (emit) or
 * dropped (they are under a mark).  They come from the ring first, then
 * from the chunk being fed.
 */
static void
redact_take(struct redact *rd, uint64_t to, int emit)
{
	size_t	 k;

	if (emit && to > rd->rd_done)
		rd->rd_inmark = 0;
	while (rd->rd_done < to && rd->rd_hlen > 0) {
		k = rd->rd_max - rd->rd_hhead;
		if (k > rd->rd_hlen)
			k = rd->rd_hlen;
		if (k > to - rd->rd_done)
			k = to - rd->rd_done;
		if (emit)
			rd->rd_out(rd->rd_arg, rd->rd_hold + rd->rd_hhead, k);
		rd->rd_hhead = (rd->rd_hhead + k) % rd->rd_max;
		rd->rd_hlen -= k;
		rd->rd_done += k;
	}
	if (rd->rd_done < to) {
		if (emit)
			rd->rd_out(rd->rd_arg, rd->rd_chunk +
			    (rd->rd_done - rd->rd_cpos), to - rd->rd_done);
		rd->rd_done = to;
	}
}

/*
 * Everything before stream byte to is final: pass it on, with one mark
 * for each covered run, but none for a run that goes on from the mark
 * the output already ends with.  A covered byte is cut whatever comes
 * after it, so a run goes whole, also past to, and so does one that
 * starts right where the output stands: a value the command prints
 * last is not held back.  An occurrence found later can reach back
 * into such a run, never further (it would cover bytes before to):
 * then it goes on from the mark.
 */
static void
redact_flush(struct redact *rd, uint64_t to)
{
	struct redact_run	*r;

	while (rd->rd_rlen > 0) {
		r = &rd->rd_run[rd->rd_rhead];
		if (r->rr_start >= to && r->rr_start > rd->rd_done)
			break;
		redact_take(rd, r->rr_start, 1);
		if (!rd->rd_inmark)
			rd->rd_out(rd->rd_arg, (const uint8_t *)REDACT_MARK,
			    sizeof(REDACT_MARK) - 1);
		rd->rd_inmark = 1;
		redact_take(rd, r->rr_end, 0);
		rd->rd_rhead = (rd->rd_rhead + 1) % rd->rd_rcap;
		rd->rd_rlen--;
	}
	redact_take(rd, to, 1);
}

/* What is not final of the chunk just fed goes into the ring. */
static void
redact_keep(struct redact *rd)
{
	uint64_t	 from;
	size_t		 at, k;

	from = rd->rd_done > rd->rd_cpos ? rd->rd_done : rd->rd_cpos;
	while (from < rd->rd_pos) {
		at = (rd->rd_hhead + rd->rd_hlen) % rd->rd_max;
		k = rd->rd_max - at;
		if (k > rd->rd_pos - from)
			k = rd->rd_pos - from;
		memcpy(rd->rd_hold + at, rd->rd_chunk + (from - rd->rd_cpos),
		    k);
		rd->rd_hlen += k;
		from += k;
	}
}
