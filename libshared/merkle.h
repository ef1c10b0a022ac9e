/*
 * RFC 6962 / RFC 9162 Merkle tree over SHA-256:
 *   leaf hash  = SHA-256(0x00 || data)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256("")
 *   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of
 *                two smaller than n
 *
 * The tree keeps every level of complete, aligned subtrees (about 2n
 * hashes for n leaves), so roots and proofs for any prefix size cost
 * O(log n) hash operations.
 */
#ifndef MVM_MERKLE_H
#define MVM_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH_LEN		32
#define MERKLE_MAX_LEVELS	64
#define MERKLE_PROOF_MAX	128	/* hashes in any proof we make or read */

struct merkle_tree {
	uint8_t		(*mt_level[MERKLE_MAX_LEVELS])[MERKLE_HASH_LEN];
	uint64_t	 mt_len[MERKLE_MAX_LEVELS];	/* nodes per level */
	uint64_t	 mt_cap[MERKLE_MAX_LEVELS];
	uint64_t	 mt_size;			/* leaves */
};

void	 merkle_leaf_hash(const void *, size_t, uint8_t[MERKLE_HASH_LEN]);
void	 merkle_node_hash(const uint8_t[MERKLE_HASH_LEN],
	    const uint8_t[MERKLE_HASH_LEN], uint8_t[MERKLE_HASH_LEN]);

void	 merkle_init(struct merkle_tree *);
void	 merkle_free(struct merkle_tree *);
/* append a leaf hash (already merkle_leaf_hash'ed); -1 on ENOMEM */
int	 merkle_append(struct merkle_tree *, const uint8_t[MERKLE_HASH_LEN]);
/* drop leaves back to size (used when an uncommitted batch fails) */
int	 merkle_truncate(struct merkle_tree *, uint64_t);
/* leaf hash at index; -1 if out of range */
int	 merkle_leaf(const struct merkle_tree *, uint64_t,
	    uint8_t[MERKLE_HASH_LEN]);
/* root of the first size leaves (size <= mt_size); -1 if out of range */
int	 merkle_root(const struct merkle_tree *, uint64_t,
	    uint8_t[MERKLE_HASH_LEN]);
/*
 * Proofs: the output array must hold MERKLE_PROOF_MAX hashes (a proof
 * for a tree of 2^63 leaves has at most about 65).
 * RFC 9162 2.1.3 inclusion proof of leaf index in the tree of size
 */
int	 merkle_inclusion(const struct merkle_tree *, uint64_t, uint64_t,
	    uint8_t[][MERKLE_HASH_LEN], size_t *);
/* RFC 9162 2.1.4 consistency proof from size m to size n */
int	 merkle_consistency(const struct merkle_tree *, uint64_t, uint64_t,
	    uint8_t[][MERKLE_HASH_LEN], size_t *);
/* RFC 9162 2.1.3.2: 0 iff the proof shows leaf at index in root/size */
int	 merkle_verify_inclusion(const uint8_t[MERKLE_HASH_LEN], uint64_t,
	    uint64_t, const uint8_t[][MERKLE_HASH_LEN], size_t,
	    const uint8_t[MERKLE_HASH_LEN]);
/* RFC 9162 2.1.4.2: 0 iff the proof shows root_m/m is a prefix of
 * root_n/n */
int	 merkle_verify_consistency(uint64_t, uint64_t,
	    const uint8_t[MERKLE_HASH_LEN], const uint8_t[MERKLE_HASH_LEN],
	    const uint8_t[][MERKLE_HASH_LEN], size_t);

#endif /* MVM_MERKLE_H */
