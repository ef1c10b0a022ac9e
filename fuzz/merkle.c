/*
 * merkle: RFC 9162 proof verification (libshared/merkle.c) with sizes,
 * indexes and hashes from the input, and the tree code that makes the
 * proofs a verifier checks.
 *
 * input (short input reads as zeros):
 *	u16 k, u16 t, u16 k2	a tree of k leaves (<= 1024), cut back to
 *				t, grown to k2: its roots must be those of
 *				the reference tree (the same leaves, only
 *				appended)
 *	u64 size, u64 index, u64 m, u16 bit
 *				a real inclusion proof (index in size) and
 *				consistency proof (m to size) from the
 *				reference tree: they verify; with one bit
 *				flipped, one hash less or one more, they do
 *				not
 *	u64 index, u64 size, u64 m, u64 n, u8 np, 32-byte leaf and roots,
 *	hashes			raw: verification must return, and accept
 *				nothing it should not be able to (only
 *				checked for crashes and hangs)
 */
#include <string.h>

#include "fuzz.h"
#include "merkle.h"

#define REF_LEAVES	1024

struct rd {
	const uint8_t	*p;
	size_t		 n;
};

static struct merkle_tree	 ref;

static uint64_t	 get(struct rd *, size_t);
static void	 get_bytes(struct rd *, uint8_t *, size_t);
static void	 leaf_of(uint64_t, uint8_t[MERKLE_HASH_LEN]);
static void	 ref_init(void);
static void	 check_tree(struct rd *);
static void	 check_proofs(struct rd *);
static void	 check_raw(struct rd *);

static uint64_t
get(struct rd *r, size_t n)
{
	uint64_t	 v = 0;
	size_t		 i;

	for (i = 0; i < n; i++) {
		v = v << 8 | (r->n > 0 ? *r->p : 0);
		if (r->n > 0) {
			r->p++;
			r->n--;
		}
	}
	return (v);
}

static void
get_bytes(struct rd *r, uint8_t *out, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		out[i] = get(r, 1);
}

static void
leaf_of(uint64_t i, uint8_t out[MERKLE_HASH_LEN])
{
	merkle_leaf_hash(&i, sizeof(i), out);
}

static void
ref_init(void)
{
	uint8_t		 h[MERKLE_HASH_LEN];
	uint64_t	 i;

	if (ref.mt_size != 0)
		return;
	merkle_init(&ref);
	for (i = 0; i < REF_LEAVES; i++) {
		leaf_of(i, h);
		if (merkle_append(&ref, h) == -1)
			abort();
	}
}

/* append, truncate, append: the same roots as the reference */
static void
check_tree(struct rd *r)
{
	struct merkle_tree	 t;
	uint8_t			 h[MERKLE_HASH_LEN], a[MERKLE_HASH_LEN];
	uint64_t		 k, cut, k2, i, step;

	k = get(r, 2) % (REF_LEAVES + 1);
	cut = get(r, 2) % (k + 1);
	k2 = get(r, 2) % (REF_LEAVES + 1);
	merkle_init(&t);
	for (i = 0; i < k; i++) {
		FUZZ_ASSERT(merkle_leaf(&ref, i, h) == 0);
		FUZZ_ASSERT(merkle_append(&t, h) == 0);
	}
	FUZZ_ASSERT(merkle_truncate(&t, cut) == 0);
	FUZZ_ASSERT(merkle_truncate(&t, cut + 1) == -1);
	for (i = cut; i < k2; i++) {
		FUZZ_ASSERT(merkle_leaf(&ref, i, h) == 0);
		FUZZ_ASSERT(merkle_append(&t, h) == 0);
	}
	FUZZ_ASSERT(t.mt_size == (k2 > cut ? k2 : cut));
	step = t.mt_size / 16 + 1;
	/* about 20 sizes, the cut among them */
	for (i = 0; i <= t.mt_size; i += i < cut && i + step > cut ?
	    cut - i : step) {
		FUZZ_ASSERT(merkle_root(&t, i, h) == 0);
		FUZZ_ASSERT(merkle_root(&ref, i, a) == 0);
		FUZZ_ASSERT(memcmp(h, a, sizeof(h)) == 0);
		if (i < t.mt_size && i + step > t.mt_size)
			step = t.mt_size - i;
	}
	FUZZ_ASSERT(merkle_root(&t, t.mt_size + 1, h) == -1);
	merkle_free(&t);
}

/* A good proof verifies; changed in any way, it does not. */
static void
check_proofs(struct rd *r)
{
	uint8_t		 pf[MERKLE_PROOF_MAX + 1][MERKLE_HASH_LEN];
	uint8_t		 leaf[MERKLE_HASH_LEN], root[MERKLE_HASH_LEN];
	uint8_t		 root_m[MERKLE_HASH_LEN];
	uint64_t	 size, index, m, bit;
	size_t		 np;

	size = 1 + get(r, 8) % REF_LEAVES;
	index = get(r, 8) % size;
	m = 1 + get(r, 8) % size;
	bit = get(r, 2);
	FUZZ_ASSERT(merkle_root(&ref, size, root) == 0);
	FUZZ_ASSERT(merkle_leaf(&ref, index, leaf) == 0);
	FUZZ_ASSERT(merkle_inclusion(&ref, index, size, pf, &np) == 0);
	FUZZ_ASSERT(np <= MERKLE_PROOF_MAX);
	FUZZ_ASSERT(merkle_verify_inclusion(leaf, index, size,
	    (const uint8_t (*)[MERKLE_HASH_LEN])pf, np, root) == 0);
	memset(pf[np], 0xa5, MERKLE_HASH_LEN);
	FUZZ_ASSERT(merkle_verify_inclusion(leaf, index, size,
	    (const uint8_t (*)[MERKLE_HASH_LEN])pf, np + 1, root) == -1);
	if (np > 0) {
		FUZZ_ASSERT(merkle_verify_inclusion(leaf, index, size,
		    (const uint8_t (*)[MERKLE_HASH_LEN])pf, np - 1,
		    root) == -1);
		bit %= np * MERKLE_HASH_LEN * 8;
		pf[bit / 256][bit / 8 % 32] ^= 1 << (bit % 8);
		FUZZ_ASSERT(merkle_verify_inclusion(leaf, index, size,
		    (const uint8_t (*)[MERKLE_HASH_LEN])pf, np, root) == -1);
	}

	FUZZ_ASSERT(merkle_root(&ref, m, root_m) == 0);
	FUZZ_ASSERT(merkle_consistency(&ref, m, size, pf, &np) == 0);
	FUZZ_ASSERT(merkle_consistency(&ref, 0, size, pf, &np) == -1);
	FUZZ_ASSERT(merkle_verify_consistency(m, size, root_m, root,
	    (const uint8_t (*)[MERKLE_HASH_LEN])pf, np) == 0);
	memset(pf[np], 0x5a, MERKLE_HASH_LEN);
	FUZZ_ASSERT(merkle_verify_consistency(m, size, root_m, root,
	    (const uint8_t (*)[MERKLE_HASH_LEN])pf, np + 1) == -1);
	if (np > 0) {
		FUZZ_ASSERT(merkle_verify_consistency(m, size, root_m, root,
		    (const uint8_t (*)[MERKLE_HASH_LEN])pf, np - 1) == -1);
		bit %= np * MERKLE_HASH_LEN * 8;
		pf[bit / 256][bit / 8 % 32] ^= 1 << (bit % 8);
		FUZZ_ASSERT(merkle_verify_consistency(m, size, root_m, root,
		    (const uint8_t (*)[MERKLE_HASH_LEN])pf, np) == -1);
	}
}

/* Anything at all: it must return. */
static void
check_raw(struct rd *r)
{
	uint8_t		 pf[MERKLE_PROOF_MAX + 2][MERKLE_HASH_LEN];
	uint8_t		 leaf[MERKLE_HASH_LEN], rm[MERKLE_HASH_LEN];
	uint8_t		 rn[MERKLE_HASH_LEN];
	uint64_t	 index, size, m, n;
	size_t		 np, i;

	index = get(r, 8);
	size = get(r, 8);
	m = get(r, 8);
	n = get(r, 8);
	np = get(r, 1) % (MERKLE_PROOF_MAX + 3);
	get_bytes(r, leaf, sizeof(leaf));
	get_bytes(r, rm, sizeof(rm));
	get_bytes(r, rn, sizeof(rn));
	for (i = 0; i < np; i++)
		get_bytes(r, pf[i], MERKLE_HASH_LEN);
	(void)merkle_verify_inclusion(leaf, index, size,
	    (const uint8_t (*)[MERKLE_HASH_LEN])pf, np, rn);
	(void)merkle_verify_consistency(m, n, rm, rn,
	    (const uint8_t (*)[MERKLE_HASH_LEN])pf, np);
	/* and against the reference tree's own sizes */
	if (size > 0 && size <= REF_LEAVES &&
	    merkle_root(&ref, size, rn) == 0)
		(void)merkle_verify_inclusion(leaf, index, size,
		    (const uint8_t (*)[MERKLE_HASH_LEN])pf, np, rn);
	FUZZ_ASSERT(merkle_inclusion(&ref, index, size, pf, &np) == 0 ||
	    index >= size || size > REF_LEAVES);
	FUZZ_ASSERT(merkle_consistency(&ref, m, n, pf, &np) == 0 ||
	    m == 0 || m > n || n > REF_LEAVES);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd	 r = { data, size };

	fuzz_init();
	ref_init();
	check_tree(&r);
	check_proofs(&r);
	check_raw(&r);
	return (0);
}
