/*
 * RFC 6962 / RFC 9162 Merkle tree over SHA-256 (see merkle.h).
 *
 * mt_level[l][i] is MTH(D[i * 2^l : (i + 1) * 2^l]), the complete aligned
 * subtree of height l; level 0 holds the leaf hashes and level l always
 * has exactly mt_size >> l nodes.  Every range the RFC recursion asks
 * about is either one of those stored nodes or splits into a stored left
 * part and a ragged right part, so MTH of any prefix, and each proof, costs
 * O(log n) hash operations.
 *
 * Proof buffers passed to merkle_inclusion() and merkle_consistency()
 * must hold MERKLE_PROOF_MAX hashes; no proof for a tree of fewer than
 * 2^63 leaves is longer than 64.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "merkle.h"

static uint64_t	 split_point(uint64_t);
static int	 is_pow2(uint64_t);
static int	 level_reserve(struct merkle_tree *, int);
static void	 subtree_hash(const struct merkle_tree *, uint64_t, uint64_t,
		    uint8_t[MERKLE_HASH_LEN]);
static void	 path(const struct merkle_tree *, uint64_t, uint64_t,
		    uint64_t, uint8_t[][MERKLE_HASH_LEN], size_t *);
static void	 subproof(const struct merkle_tree *, uint64_t, uint64_t,
		    uint64_t, int, uint8_t[][MERKLE_HASH_LEN], size_t *);

void
merkle_leaf_hash(const void *data, size_t len, uint8_t out[MERKLE_HASH_LEN])
{
	crypto_hash_sha256_state st;
	const uint8_t		 pfx = 0x00;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &pfx, 1);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

/* out may be the same buffer as l or r */
void
merkle_node_hash(const uint8_t l[MERKLE_HASH_LEN],
    const uint8_t r[MERKLE_HASH_LEN], uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t	 buf[1 + 2 * MERKLE_HASH_LEN];

	buf[0] = 0x01;
	memcpy(buf + 1, l, MERKLE_HASH_LEN);
	memcpy(buf + 1 + MERKLE_HASH_LEN, r, MERKLE_HASH_LEN);
	crypto_hash_sha256(out, buf, sizeof(buf));
}

/* The largest power of two smaller than n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
	return ((uint64_t)1 << (63 - __builtin_clzll(n - 1)));
}

static int
is_pow2(uint64_t n)
{
	return (n != 0 && (n & (n - 1)) == 0);
}

void
merkle_init(struct merkle_tree *t)
{
	memset(t, 0, sizeof(*t));
}

void
merkle_free(struct merkle_tree *t)
{
	int	 l;

	for (l = 0; l < MERKLE_MAX_LEVELS; l++)
		free(t->mt_level[l]);
	merkle_init(t);
}

/* Room for one more node on level l; capacity doubles. */
static int
level_reserve(struct merkle_tree *t, int l)
{
	uint8_t		(*p)[MERKLE_HASH_LEN];
	uint64_t	 cap;

	if (t->mt_len[l] < t->mt_cap[l])
		return (0);
	cap = t->mt_cap[l] == 0 ? 16 : t->mt_cap[l] * 2;
	if (cap > SIZE_MAX / MERKLE_HASH_LEN) {
		errno = ENOMEM;
		return (-1);
	}
	if ((p = reallocarray(t->mt_level[l], cap, MERKLE_HASH_LEN)) == NULL)
		return (-1);
	t->mt_level[l] = p;
	t->mt_cap[l] = cap;
	return (0);
}

/*
 * Appending leaf number s (the tree grows to s + 1 leaves) completes one
 * subtree on each level 0 .. ctz(s + 1).  Room is reserved on all of them
 * first, so a failed append leaves the tree as it was.
 */
int
merkle_append(struct merkle_tree *t, const uint8_t leaf[MERKLE_HASH_LEN])
{
	uint64_t	 size, n;
	int		 l, top;

	if (t->mt_size >= INT64_MAX) {
		errno = EOVERFLOW;
		return (-1);
	}
	size = t->mt_size + 1;
	top = __builtin_ctzll(size);
	for (l = 0; l <= top; l++)
		if (level_reserve(t, l) == -1)
			return (-1);
	memcpy(t->mt_level[0][t->mt_len[0]++], leaf, MERKLE_HASH_LEN);
	for (l = 0; l < top; l++) {
		n = t->mt_len[l];
		merkle_node_hash(t->mt_level[l][n - 2], t->mt_level[l][n - 1],
		    t->mt_level[l + 1][t->mt_len[l + 1]++]);
	}
	t->mt_size = size;
	return (0);
}

/* Nodes above the new size are simply forgotten; memory is kept. */
int
merkle_truncate(struct merkle_tree *t, uint64_t size)
{
	int	 l;

	if (size > t->mt_size) {
		errno = EINVAL;
		return (-1);
	}
	for (l = 0; l < MERKLE_MAX_LEVELS; l++)
		t->mt_len[l] = size >> l;
	t->mt_size = size;
	return (0);
}

int
merkle_leaf(const struct merkle_tree *t, uint64_t index,
    uint8_t out[MERKLE_HASH_LEN])
{
	if (index >= t->mt_size) {
		errno = EINVAL;
		return (-1);
	}
	memcpy(out, t->mt_level[0][index], MERKLE_HASH_LEN);
	return (0);
}

/*
 * MTH(D[lo:hi]), hi > lo.  An aligned power-of-two range is a stored
 * node; anything else splits as the RFC says.  The ranges that the root
 * and proof recursions ask for always start on a multiple of a power of
 * two at least as large as their length, so the left half is stored and
 * only the right edge recurses: O(log n) hashes.
 */
static void
/* NOLINTNEXTLINE(misc-no-recursion): depth O(log size), size < 2^64 */
subtree_hash(const struct merkle_tree *t, uint64_t lo, uint64_t hi,
    uint8_t out[MERKLE_HASH_LEN])
{
	uint8_t		 left[MERKLE_HASH_LEN], right[MERKLE_HASH_LEN];
	uint64_t	 n = hi - lo, k;
	int		 l;

	if (is_pow2(n) && lo % n == 0) {
		l = __builtin_ctzll(n);
		memcpy(out, t->mt_level[l][lo >> l], MERKLE_HASH_LEN);
		return;
	}
	k = split_point(n);
	subtree_hash(t, lo, lo + k, left);
	subtree_hash(t, lo + k, hi, right);
	merkle_node_hash(left, right, out);
}

int
merkle_root(const struct merkle_tree *t, uint64_t size,
    uint8_t out[MERKLE_HASH_LEN])
{
	if (size > t->mt_size) {
		errno = EINVAL;
		return (-1);
	}
	if (size == 0)
		crypto_hash_sha256(out, (const uint8_t *)"", 0);
	else
		subtree_hash(t, 0, size, out);
	return (0);
}

/*
 * RFC 9162 2.1.3.1: PATH(m, D[lo:hi]) with m an absolute leaf index,
 * appended to proof at *np (deepest sibling first).
 */
static void
/* NOLINTNEXTLINE(misc-no-recursion): depth O(log size), size < 2^64 */
path(const struct merkle_tree *t, uint64_t m, uint64_t lo, uint64_t hi,
    uint8_t proof[][MERKLE_HASH_LEN], size_t *np)
{
	uint64_t	 k;

	if (hi - lo <= 1)
		return;
	k = split_point(hi - lo);
	if (m < lo + k) {
		path(t, m, lo, lo + k, proof, np);
		subtree_hash(t, lo + k, hi, proof[(*np)++]);
	} else {
		path(t, m, lo + k, hi, proof, np);
		subtree_hash(t, lo, lo + k, proof[(*np)++]);
	}
}

int
merkle_inclusion(const struct merkle_tree *t, uint64_t index, uint64_t size,
    uint8_t proof[][MERKLE_HASH_LEN], size_t *np)
{
	if (size > t->mt_size || index >= size) {
		errno = EINVAL;
		return (-1);
	}
	*np = 0;
	path(t, index, 0, size, proof, np);
	return (0);
}

/*
 * RFC 9162 2.1.4.1: SUBPROOF(m, D[lo:hi], b) with m the absolute old
 * size, lo < m <= hi.
 */
static void
/* NOLINTNEXTLINE(misc-no-recursion): depth O(log size), size < 2^64 */
subproof(const struct merkle_tree *t, uint64_t m, uint64_t lo, uint64_t hi,
    int b, uint8_t proof[][MERKLE_HASH_LEN], size_t *np)
{
	uint64_t	 k;

	if (m == hi) {
		if (!b)
			subtree_hash(t, lo, hi, proof[(*np)++]);
		return;
	}
	k = split_point(hi - lo);
	if (m <= lo + k) {
		subproof(t, m, lo, lo + k, b, proof, np);
		subtree_hash(t, lo + k, hi, proof[(*np)++]);
	} else {
		subproof(t, m, lo + k, hi, 0, proof, np);
		subtree_hash(t, lo, lo + k, proof[(*np)++]);
	}
}

/*
 * PROOF(m, D[n]) = SUBPROOF(m, D[n], true); empty for m == n.  RFC 9162
 * defines no proof for m == 0 (every tree extends the empty one, and
 * there is nothing to show), so m == 0 is refused like m > n.
 */
int
merkle_consistency(const struct merkle_tree *t, uint64_t m, uint64_t n,
    uint8_t proof[][MERKLE_HASH_LEN], size_t *np)
{
	if (n > t->mt_size || m == 0 || m > n) {
		errno = EINVAL;
		return (-1);
	}
	*np = 0;
	subproof(t, m, 0, n, 1, proof, np);
	return (0);
}

/* RFC 9162 2.1.3.2, step by step. */
int
merkle_verify_inclusion(const uint8_t leaf[MERKLE_HASH_LEN], uint64_t index,
    uint64_t size, const uint8_t proof[][MERKLE_HASH_LEN], size_t np,
    const uint8_t root[MERKLE_HASH_LEN])
{
	uint8_t		 r[MERKLE_HASH_LEN];
	uint64_t	 fn, sn;
	size_t		 i;

	if (index >= size || np > MERKLE_PROOF_MAX)		/* 1 */
		return (-1);
	fn = index;						/* 2 */
	sn = size - 1;
	memcpy(r, leaf, MERKLE_HASH_LEN);			/* 3 */
	for (i = 0; i < np; i++) {				/* 4 */
		if (sn == 0)					/* 4a */
			return (-1);
		if ((fn & 1) || fn == sn) {			/* 4b */
			merkle_node_hash(proof[i], r, r);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else
			merkle_node_hash(r, proof[i], r);
		fn >>= 1;					/* 4c */
		sn >>= 1;
	}
	if (sn != 0 || memcmp(r, root, MERKLE_HASH_LEN) != 0)	/* 5 */
		return (-1);
	return (0);
}

/*
 * RFC 9162 2.1.4.2, step by step.  Before it: m == n holds iff the
 * proof is empty and the roots are equal; m == 0 (no proof is defined)
 * and m > n fail.
 */
int
merkle_verify_consistency(uint64_t m, uint64_t n,
    const uint8_t root_m[MERKLE_HASH_LEN],
    const uint8_t root_n[MERKLE_HASH_LEN],
    const uint8_t proof[][MERKLE_HASH_LEN], size_t np)
{
	uint8_t		 fr[MERKLE_HASH_LEN], sr[MERKLE_HASH_LEN];
	const uint8_t	*first;
	uint64_t	 fn, sn;
	size_t		 i = 0;

	if (m == 0 || m > n || np > MERKLE_PROOF_MAX)
		return (-1);
	if (m == n)
		return (np == 0 &&
		    memcmp(root_m, root_n, MERKLE_HASH_LEN) == 0 ? 0 : -1);
	if (np == 0)						/* 1 */
		return (-1);
	first = is_pow2(m) ? root_m : proof[i++];		/* 2 */
	fn = m - 1;						/* 3 */
	sn = n - 1;
	while (fn & 1) {					/* 4 */
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, first, MERKLE_HASH_LEN);			/* 5 */
	memcpy(sr, first, MERKLE_HASH_LEN);
	for (; i < np; i++) {					/* 6 */
		if (sn == 0)					/* 6a */
			return (-1);
		if ((fn & 1) || fn == sn) {			/* 6b */
			merkle_node_hash(proof[i], fr, fr);
			merkle_node_hash(proof[i], sr, sr);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else
			merkle_node_hash(sr, proof[i], sr);
		fn >>= 1;					/* 6c */
		sn >>= 1;
	}
	if (sn != 0 || memcmp(fr, root_m, MERKLE_HASH_LEN) != 0 ||	/* 7 */
	    memcmp(sr, root_n, MERKLE_HASH_LEN) != 0)
		return (-1);
	return (0);
}
