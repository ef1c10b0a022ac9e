/*
 * RFC 6962 / RFC 9162 Merkle tree: published reference vectors, every
 * proof checked against a naive implementation of the RFC definitions,
 * tampered proofs, truncation, and the stored-subtree layout.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "merkle.h"
#include "tap.h"

#define H		MERKLE_HASH_LEN
#define SMALL_MAX	300	/* every size and index up to here */
#define FULL_MAX	130	/* every consistency pair up to here */
#define BIG_MAX		65537
#define SAMPLES		300

struct incl_vec {
	uint64_t	 iv_index;
	uint64_t	 iv_size;
	size_t		 iv_n;
	const char	*iv_proof[3];
};

struct cons_vec {
	uint64_t	 cv_m;
	uint64_t	 cv_n;
	size_t		 cv_len;
	const char	*cv_proof[3];
};

static void	 hx(const char *, uint8_t *, size_t);
static uint64_t	 rnd(void);
static uint64_t	 ref_split(uint64_t);
static void	 ref_mth(uint8_t (*)[H], uint64_t, uint8_t[H]);
static void	 ref_path(uint8_t (*)[H], uint64_t, uint64_t, uint8_t[][H],
		    size_t *);
static void	 ref_subproof(uint8_t (*)[H], uint64_t, uint64_t, int,
		    uint8_t[][H], size_t *);
static int	 vi(uint64_t, uint64_t, uint8_t[][H], size_t,
		    const uint8_t *);
static int	 incl_tamper(uint64_t, uint64_t, uint8_t[][H], size_t);
static int	 incl_check(uint64_t, uint64_t, int);
static int	 vc(uint64_t, uint64_t, const uint8_t *, const uint8_t *,
		    uint8_t[][H], size_t);
static int	 cons_tamper(uint64_t, uint64_t, uint8_t[][H], size_t);
static int	 cons_check(uint64_t, uint64_t, int);
static void	 test_hashing(void);
static void	 test_ct_tree(void);
static void	 test_ct_proofs(void);
static void	 test_ct_real_log(void);
static void	 test_edges(void);
static void	 test_roots(void);
static void	 test_inclusion(void);
static void	 test_consistency(void);
static void	 test_truncate(void);
static void	 test_layout(void);

/*
 * The Certificate Transparency reference tree: eight leaves and the root
 * of every prefix.  Identical in google/certificate-transparency
 * (cpp/merkletree/merkle_tree_test.cc, python/ct/crypto/merkle_test.py)
 * and transparency-dev/merkle (testonly/constants.go,
 * proof/verify_test.go).
 */
static const char *ct_leaves[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f"
};
static const char *ct_roots[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};
/*
 * Every complete subtree of the 8-leaf tree, by level
 * (transparency-dev/merkle testonly/constants.go NodeHashes(); most of
 * them also appear in the proofs below, from both sources).
 */
static const char *ct_nodes[4][8] = { {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	"0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
	"07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
	"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	"4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
	"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	"46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
}, {
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
}, {
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
}, {
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
} };

/*
 * Inclusion paths: kSHA256Paths in merkle_tree_test.cc and
 * inclusionProofs in verify_test.go (both number leaves from 1 there).
 */
static const struct incl_vec ct_incl[] = {
	{ 0, 1, 0, { NULL } },
	{ 0, 8, 3, {
	    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
	} },
	{ 5, 8, 3, {
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
	} },
	{ 2, 3, 1, {
	    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"
	} },
	{ 1, 5, 3, {
	    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
	} },
};

/*
 * Consistency proofs: kSHA256Proofs in merkle_tree_test.cc,
 * sha256_proofs in merkle_test.py, consistencyProofs in verify_test.go.
 * The last one (6 -> 7) is only in verify_test.go.
 */
static const struct cons_vec ct_cons[] = {
	{ 1, 1, 0, { NULL } },
	{ 1, 8, 3, {
	    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"
	} },
	{ 6, 8, 3, {
	    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
	} },
	{ 2, 5, 2, {
	    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"
	} },
	{ 6, 7, 3, {
	    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"
	} },
};

/*
 * A real CT log inclusion proof (leaf 848049 of 3630887), from
 * google/certificate-transparency python/ct/crypto/merkle_test.py.
 */
static const char *ct_log_path[22] = {
	"1a208aeebcd1b39fe2de247ee8db9454e1e93a312d206b87f6ca9cc6ec6f1ddd",
	"0a1b78b383f580856f433c01a5741e160d451c185910027f6cc9f828687a40c4",
	"3d1745789bc63f2da15850de1c12a5bf46ed81e1cc90f086148b1662e79aab3d",
	"9095b61e14d8990acf390905621e62b1714fb8e399fbb71de5510e0aef45affe",
	"0a332b91b8fab564e6afd1dd452449e04619b18accc0ff9aa8393cd4928451f2",
	"2336f0181d264aed6d8f3a6507ca14a8d3b3c3a23791ac263e845d208c1ee330",
	"b4ce56e300590500360c146c6452edbede25d4ed83919278749ee5dbe178e048",
	"933f6ddc848ea562e4f9c5cfb5f176941301dad0c6fdb9d1fbbe34fac1be6966",
	"b95a6222958a86f74c030be27c44f57dbe313e5e7c7f4ffb98bcbd3a03bb52f2",
	"daeeb3ce5923defd0faeb8e0c210b753b85b809445d7d3d3cd537a9aabaa9c45",
	"7fadd0a13e9138a2aa6c3fdec4e2275af233b94812784f66bcca9aa8e989f2bc",
	"1864e6ba3e32878610546539734fb5eeae2529991f130c575c73a7e25a2a7c56",
	"12842d1202b1dc6828a17ab253c02e7ce9409b5192430feba44189f39cc02d66",
	"29af64b16fa3053c13d02ac63aa75b23aa468506e44c3a2315edc85d2dc22b11",
	"b527b99934a0bd9edd154e449b0502e2c499bba783f3bc3dfe23364b6b532009",
	"4584db8ae8e351ace08e01f306378a92bfd43611714814f3d834a2842d69faa8",
	"86a9a41573b0d6e4292f01e93243d6cc65b30f06606fc6fa57390e7e90ed580f",
	"a88b98fbe84d4c6aae8db9d1605dfac059d9f03fe0fcb0d5dff1295dacba09e6",
	"06326dc617a6d1f7021dc536026dbfd5fffc6f7c5531d48ef6ccd1ed1569f2a1",
	"f41fe8fdc3a2e4e8345e30216e7ebecffee26ff266eeced208a6c2a3cf08f960",
	"40cf5bde8abb76983f3e98ba97aa36240402975674e120f234b3448911090f8d",
	"b3222dc8658538079883d980d7fdc2bef9285344ea34338968f736b04aeb387a",
};

static struct merkle_tree	 tree;		/* BIG_MAX + 1 leaves */
static uint8_t			(*leaves)[H];	/* synthetic leaf hashes */
static uint8_t			(*roots)[H];	/* roots[k]: size k */
static uint64_t			 rnd_state = 0x9e3779b97f4a7c15ULL;

static void
hx(const char *s, uint8_t *out, size_t len)
{
	if (hex_decode(s, out, len) == -1) {
		fprintf(stderr, "bad test vector %s\n", s);
		exit(2);
	}
}

/* xorshift64: the same samples every run */
static uint64_t
rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (rnd_state);
}

/* ---- naive RFC 9162 definitions over a flat array of leaf hashes ---- */

static uint64_t
ref_split(uint64_t n)
{
	uint64_t	 k = 1;

	while (k * 2 < n)
		k *= 2;
	return (k);
}

/* MTH(D[n]), 2.1.1 */
static void
ref_mth(uint8_t (*d)[H], uint64_t n, uint8_t out[H])
{
	uint8_t		 l[H], r[H];
	uint64_t	 k;

	if (n == 0) {
		sha256("", 0, out);
		return;
	}
	if (n == 1) {
		memcpy(out, d[0], H);
		return;
	}
	k = ref_split(n);
	ref_mth(d, k, l);
	ref_mth(d + k, n - k, r);
	merkle_node_hash(l, r, out);
}

/* PATH(m, D[n]), 2.1.3.1 */
static void
ref_path(uint8_t (*d)[H], uint64_t m, uint64_t n, uint8_t out[][H],
    size_t *np)
{
	uint64_t	 k;

	if (n <= 1)
		return;
	k = ref_split(n);
	if (m < k) {
		ref_path(d, m, k, out, np);
		ref_mth(d + k, n - k, out[(*np)++]);
	} else {
		ref_path(d + k, m - k, n - k, out, np);
		ref_mth(d, k, out[(*np)++]);
	}
}

/* SUBPROOF(m, D[n], b), 2.1.4.1 */
static void
ref_subproof(uint8_t (*d)[H], uint64_t m, uint64_t n, int b,
    uint8_t out[][H], size_t *np)
{
	uint64_t	 k;

	if (m == n) {
		if (!b)
			ref_mth(d, n, out[(*np)++]);
		return;
	}
	k = ref_split(n);
	if (m <= k) {
		ref_subproof(d, m, k, b, out, np);
		ref_mth(d + k, n - k, out[(*np)++]);
	} else {
		ref_subproof(d + k, m - k, n - k, 0, out, np);
		ref_mth(d, k, out[(*np)++]);
	}
}

/* ---- inclusion ---- */

/* verify synthetic leaf i at index i in the tree of size n */
static int
vi(uint64_t i, uint64_t n, uint8_t pr[][H], size_t np, const uint8_t *root)
{
	return (merkle_verify_inclusion(leaves[i], i, n, pr, np, root));
}

/*
 * Everything a verifier must refuse, given the good proof pr for leaf i
 * in the tree of size n.  Returns the number of refusals that did not
 * happen.  A proof for size n is checked against size n +- 1 with *that*
 * size's root: the size is bound only through the proof's shape, so the
 * same root with another size can legitimately pass (leaf 0 of 5 and of
 * 6 take the same path shape).  Sizes 2n and n/2 change the depth and
 * must fail even with the same root.
 */
static int
incl_tamper(uint64_t i, uint64_t n, uint8_t pr[][H], size_t np)
{
	uint8_t	 leaf[H], root[H], save[H];
	size_t	 j;
	int	 bad = 0;

#define MUSTFAIL(expr)	do { if ((expr) == 0) bad++; } while (0)
	memcpy(leaf, leaves[i], H);
	leaf[5] ^= 0x01;
	MUSTFAIL(merkle_verify_inclusion(leaf, i, n, pr, np, roots[n]));
	memcpy(root, roots[n], H);
	root[31] ^= 0x80;
	MUSTFAIL(merkle_verify_inclusion(leaves[i], i, n, pr, np, root));
	if (i > 0)
		MUSTFAIL(merkle_verify_inclusion(leaves[i], i - 1, n, pr, np,
		    roots[n]));
	MUSTFAIL(merkle_verify_inclusion(leaves[i], i + 1, n, pr, np,
	    roots[n]));
	MUSTFAIL(merkle_verify_inclusion(leaves[i], i ^ 2, n, pr, np,
	    roots[n]));
	MUSTFAIL(merkle_verify_inclusion(leaves[i], i, n + 1, pr, np,
	    roots[n + 1]));
	MUSTFAIL(merkle_verify_inclusion(leaves[i], i, n - 1, pr, np,
	    roots[n - 1]));
	MUSTFAIL(merkle_verify_inclusion(leaves[i], i, 2 * n, pr, np,
	    roots[n]));
	MUSTFAIL(merkle_verify_inclusion(leaves[i], i, n / 2, pr, np,
	    roots[n]));
	for (j = 0; j < np; j++) {
		pr[j][j % H] ^= 0x08;
		MUSTFAIL(vi(i, n, pr, np, roots[n]));
		pr[j][j % H] ^= 0x08;
	}
	if (np > 0) {
		MUSTFAIL(merkle_verify_inclusion(leaves[i], i, n, pr, np - 1,
		    roots[n]));
		MUSTFAIL(merkle_verify_inclusion(leaves[i], i, n, pr + 1,
		    np - 1, roots[n]));
	}
	memcpy(save, pr[np], H);
	memset(pr[np], 0, H);
	MUSTFAIL(merkle_verify_inclusion(leaves[i], i, n, pr, np + 1,
	    roots[n]));
	memcpy(pr[np], roots[n], H);
	MUSTFAIL(merkle_verify_inclusion(leaves[i], i, n, pr, np + 1,
	    roots[n]));
	memcpy(pr[np], save, H);
#undef MUSTFAIL
	return (bad);
}

/*
 * Leaf i in the tree of size n: the proof verifies, and (full) equals
 * the naive PATH and survives no tampering.  0 if all is well.
 */
static int
incl_check(uint64_t i, uint64_t n, int full)
{
	uint8_t	 pr[MERKLE_PROOF_MAX + 1][H], ref[MERKLE_PROOF_MAX][H];
	size_t	 np, nref = 0;

	if (merkle_inclusion(&tree, i, n, pr, &np) == -1) {
		printf("# inclusion(%" PRIu64 ", %" PRIu64 ") refused\n", i, n);
		return (1);
	}
	if (full && n <= FULL_MAX) {
		ref_path(leaves, i, n, ref, &nref);
		if (nref != np || memcmp(ref, pr, np * H) != 0) {
			printf("# inclusion(%" PRIu64 ", %" PRIu64 ") is not "
			    "PATH\n", i, n);
			return (1);
		}
	}
	if (vi(i, n, pr, np, roots[n]) != 0) {
		printf("# inclusion(%" PRIu64 ", %" PRIu64 ") does not "
		    "verify\n", i, n);
		return (1);
	}
	if (full && incl_tamper(i, n, pr, np) != 0) {
		printf("# inclusion(%" PRIu64 ", %" PRIu64 "): tampered proof "
		    "verifies\n", i, n);
		return (1);
	}
	return (0);
}

/* ---- consistency ---- */

static int
vc(uint64_t m, uint64_t n, const uint8_t *rm, const uint8_t *rn,
    uint8_t pr[][H], size_t np)
{
	return (merkle_verify_consistency(m, n, rm, rn, pr, np));
}

/* Like incl_tamper, for the good proof pr from m to n. */
static int
cons_tamper(uint64_t m, uint64_t n, uint8_t pr[][H], size_t np)
{
	uint8_t	 r[H], save[H], pre[MERKLE_PROOF_MAX + 1][H];
	size_t	 j;
	int	 bad = 0;

#define MUSTFAIL(expr)	do { if ((expr) == 0) bad++; } while (0)
	memcpy(r, roots[m], H);
	r[0] ^= 0x01;
	MUSTFAIL(vc(m, n, r, roots[n], pr, np));
	memcpy(r, roots[n], H);
	r[31] ^= 0x01;
	MUSTFAIL(vc(m, n, roots[m], r, pr, np));
	if (m == n) {
		memset(pr[0], 0, H);
		MUSTFAIL(vc(m, n, roots[m], roots[n], pr, 1));
		memcpy(pr[0], roots[m], H);
		MUSTFAIL(vc(m, n, roots[m], roots[n], pr, 1));
		return (bad);
	}
	MUSTFAIL(vc(m, n, roots[n], roots[m], pr, np));
	MUSTFAIL(vc(m, n, roots[m], roots[n], pr, 0));
	MUSTFAIL(vc(m - 1, n, roots[m], roots[n], pr, np));
	MUSTFAIL(vc(m - 1, n, roots[m - 1], roots[n], pr, np));
	MUSTFAIL(vc(m + 1, n, roots[m], roots[n], pr, np));
	MUSTFAIL(vc(m + 1, n, roots[m + 1], roots[n], pr, np));
	MUSTFAIL(vc(m ^ 2, n, roots[m], roots[n], pr, np));
	MUSTFAIL(vc(m, n + 1, roots[m], roots[n + 1], pr, np));
	MUSTFAIL(vc(m, n - 1, roots[m], roots[n - 1], pr, np));
	MUSTFAIL(vc(m, 2 * n, roots[m], roots[n], pr, np));
	MUSTFAIL(vc(m, n / 2, roots[m], roots[n], pr, np));
	for (j = 0; j < np; j++) {
		pr[j][(j * 7) % H] ^= 0x10;
		MUSTFAIL(vc(m, n, roots[m], roots[n], pr, np));
		pr[j][(j * 7) % H] ^= 0x10;
	}
	MUSTFAIL(vc(m, n, roots[m], roots[n], pr, np - 1));
	MUSTFAIL(vc(m, n, roots[m], roots[n], pr + 1, np - 1));
	memcpy(save, pr[np], H);
	memset(pr[np], 0, H);
	MUSTFAIL(vc(m, n, roots[m], roots[n], pr, np + 1));
	memcpy(pr[np], roots[n], H);
	MUSTFAIL(vc(m, n, roots[m], roots[n], pr, np + 1));
	memcpy(pr[np], save, H);
	memcpy(pre[0], roots[m], H);
	memcpy(pre + 1, pr, np * H);
	MUSTFAIL(vc(m, n, roots[m], roots[n], pre, np + 1));
	memcpy(pre[0], pr[0], H);
	MUSTFAIL(vc(m, n, roots[m], roots[n], pre, np + 1));
#undef MUSTFAIL
	return (bad);
}

static int
cons_check(uint64_t m, uint64_t n, int full)
{
	uint8_t	 pr[MERKLE_PROOF_MAX + 1][H], ref[MERKLE_PROOF_MAX][H];
	size_t	 np, nref = 0;

	if (merkle_consistency(&tree, m, n, pr, &np) == -1) {
		printf("# consistency(%" PRIu64 ", %" PRIu64 ") refused\n",
		    m, n);
		return (1);
	}
	if (full && n <= FULL_MAX) {
		ref_subproof(leaves, m, n, 1, ref, &nref);
		if (nref != np || memcmp(ref, pr, np * H) != 0) {
			printf("# consistency(%" PRIu64 ", %" PRIu64 ") is "
			    "not PROOF\n", m, n);
			return (1);
		}
	}
	if (vc(m, n, roots[m], roots[n], pr, np) != 0) {
		printf("# consistency(%" PRIu64 ", %" PRIu64 ") does not "
		    "verify\n", m, n);
		return (1);
	}
	if (full && cons_tamper(m, n, pr, np) != 0) {
		printf("# consistency(%" PRIu64 ", %" PRIu64 "): tampered "
		    "proof verifies\n", m, n);
		return (1);
	}
	return (0);
}

/* ---- tests ---- */

static void
test_hashing(void)
{
	uint8_t	 a[H], b[H], out[H], want[H], data[16];

	/* python/ct/crypto/merkle_test.py sha256_leaves and sha256_nodes */
	hx("101112131415161718191a1b1c1d1e1f", data, 16);
	merkle_leaf_hash(data, 16, out);
	hx("3bfb960453ebaebf33727da7a1f4db38acc051d381b6da20d6d4e88f0eabfd7a",
	    want, H);
	TAP_OK(memcmp(out, want, H) == 0, "leaf hash = SHA-256(0x00 || d)");
	hx("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	    a, H);
	hx("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
	    b, H);
	merkle_node_hash(a, b, out);
	hx("1a378704c17da31e2d05b6d121c2bb2c7d76f6ee6fa8f983e596c2d034963c57",
	    want, H);
	TAP_OK(memcmp(out, want, H) == 0,
	    "node hash = SHA-256(0x01 || l || r)");
	merkle_node_hash(a, b, a);
	TAP_OK(memcmp(a, want, H) == 0, "node hash may overwrite its input");
}

/* The reference tree, built leaf by leaf; every prefix root each time. */
static void
test_ct_tree(void)
{
	struct merkle_tree	 t;
	uint8_t			 d[16], lh[H], r[H], want[H];
	uint64_t		 i, j;
	int			 ok = 1, l;

	merkle_init(&t);
	hx(ct_roots[0], want, H);
	TAP_OK(merkle_root(&t, 0, r) == 0 && memcmp(r, want, H) == 0,
	    "empty tree root is SHA-256(\"\")");
	for (i = 0; i < 8; i++) {
		hx(ct_leaves[i], d, strlen(ct_leaves[i]) / 2);
		merkle_leaf_hash(d, strlen(ct_leaves[i]) / 2, lh);
		if (merkle_append(&t, lh) == -1)
			ok = 0;
		for (j = 0; j <= i + 1; j++) {
			hx(ct_roots[j], want, H);
			if (merkle_root(&t, j, r) == -1 ||
			    memcmp(r, want, H) != 0)
				ok = 0;
		}
		if (merkle_root(&t, i + 2, r) != -1)
			ok = 0;
	}
	TAP_OK(ok, "CT reference roots for sizes 0..8, at every step");
	ok = 1;
	for (l = 0; l < 4; l++) {
		if (t.mt_len[l] != 8U >> l)
			ok = 0;
		for (i = 0; i < t.mt_len[l]; i++) {
			hx(ct_nodes[l][i], want, H);
			if (memcmp(t.mt_level[l][i], want, H) != 0)
				ok = 0;
		}
	}
	TAP_OK(ok && t.mt_len[4] == 0, "stored levels are the CT node hashes");
	merkle_free(&t);
	TAP_OK(t.mt_size == 0 && t.mt_level[0] == NULL, "merkle_free resets");
}

static void
test_ct_proofs(void)
{
	struct merkle_tree	 t;
	uint8_t			 d[16], lh[8][H], want[3][H], rm[H], rn[H];
	uint8_t			 pr[MERKLE_PROOF_MAX][H];
	size_t			 i, j, np;
	int			 same, ver;

	merkle_init(&t);
	for (i = 0; i < 8; i++) {
		hx(ct_leaves[i], d, strlen(ct_leaves[i]) / 2);
		merkle_leaf_hash(d, strlen(ct_leaves[i]) / 2, lh[i]);
		merkle_append(&t, lh[i]);
	}
	for (i = 0; i < sizeof(ct_incl) / sizeof(ct_incl[0]); i++) {
		const struct incl_vec	*v = &ct_incl[i];

		for (j = 0; j < v->iv_n; j++)
			hx(v->iv_proof[j], want[j], H);
		hx(ct_roots[v->iv_size], rn, H);
		same = merkle_inclusion(&t, v->iv_index, v->iv_size, pr,
		    &np) == 0 && np == v->iv_n &&
		    memcmp(pr, want, np * H) == 0;
		ver = merkle_verify_inclusion(lh[v->iv_index], v->iv_index,
		    v->iv_size, want, v->iv_n, rn) == 0;
		TAP_OK(same && ver, "CT inclusion vector: leaf %" PRIu64
		    " of %" PRIu64 " (%zu hashes)", v->iv_index, v->iv_size,
		    v->iv_n);
	}
	for (i = 0; i < sizeof(ct_cons) / sizeof(ct_cons[0]); i++) {
		const struct cons_vec	*v = &ct_cons[i];

		for (j = 0; j < v->cv_len; j++)
			hx(v->cv_proof[j], want[j], H);
		hx(ct_roots[v->cv_m], rm, H);
		hx(ct_roots[v->cv_n], rn, H);
		same = merkle_consistency(&t, v->cv_m, v->cv_n, pr,
		    &np) == 0 && np == v->cv_len &&
		    memcmp(pr, want, np * H) == 0;
		ver = merkle_verify_consistency(v->cv_m, v->cv_n, rm, rn,
		    want, v->cv_len) == 0;
		TAP_OK(same && ver, "CT consistency vector: %" PRIu64
		    " -> %" PRIu64 " (%zu hashes)", v->cv_m, v->cv_n,
		    v->cv_len);
	}
	merkle_free(&t);
}

static void
test_ct_real_log(void)
{
	uint8_t	 pr[22][H], leaf[H], root[H];
	size_t	 i;

	for (i = 0; i < 22; i++)
		hx(ct_log_path[i], pr[i], H);
	hx("7a395c866d5ecdb0cccb623e011dbc392cd348d1d1d72776174e127a24b09c78",
	    leaf, H);
	hx("78316a05c9bcf14a3a4548f5b854a9adfcd46a4c034401b3ce7eb7ac2f1d0ecb",
	    root, H);
	TAP_OK(merkle_verify_inclusion(leaf, 848049, 3630887, pr, 22,
	    root) == 0, "CT log proof: leaf 848049 of 3630887 verifies");
	TAP_OK(merkle_verify_inclusion(leaf, 848049 ^ 16, 3630887, pr, 22,
	    root) == -1 && merkle_verify_inclusion(leaf, 848049, 3630887,
	    pr, 21, root) == -1, "CT log proof: wrong index, short proof fail");
}

static void
test_edges(void)
{
	uint8_t	 pr[MERKLE_PROOF_MAX + 1][H], r[H], e[H];
	size_t	 np = 99;

	TAP_OK(merkle_root(&tree, BIG_MAX + 2, r) == -1 &&
	    merkle_leaf(&tree, BIG_MAX + 1, r) == -1 &&
	    merkle_leaf(&tree, BIG_MAX, r) == 0 &&
	    memcmp(r, leaves[BIG_MAX], H) == 0,
	    "root and leaf out of range refused");
	TAP_OK(merkle_inclusion(&tree, 5, 5, pr, &np) == -1 &&
	    merkle_inclusion(&tree, 0, 0, pr, &np) == -1 &&
	    merkle_inclusion(&tree, 0, BIG_MAX + 2, pr, &np) == -1 &&
	    np == 99, "inclusion: index >= size, size > tree refused");
	TAP_OK(merkle_consistency(&tree, 0, 5, pr, &np) == -1 &&
	    merkle_consistency(&tree, 0, 0, pr, &np) == -1 &&
	    merkle_consistency(&tree, 6, 5, pr, &np) == -1 &&
	    merkle_consistency(&tree, 1, BIG_MAX + 2, pr, &np) == -1,
	    "consistency: m == 0, m > n, n > tree refused");
	TAP_OK(merkle_consistency(&tree, 77, 77, pr, &np) == 0 && np == 0,
	    "consistency m == n is the empty proof");

	sha256("", 0, e);
	TAP_OK(vi(0, 0, pr, 0, leaves[0]) == -1 &&
	    merkle_verify_inclusion(e, 0, 0, pr, 0, e) == -1 &&
	    merkle_verify_inclusion(leaves[3], 3, 3, pr, 0, leaves[3]) == -1,
	    "verify inclusion: index >= size fails (size 0 too)");
	TAP_OK(merkle_verify_inclusion(leaves[0], 0, 1, pr, 0, leaves[0]) == 0,
	    "verify inclusion: size 1, empty proof, root = leaf");
	TAP_OK(merkle_verify_inclusion(leaves[0], 0, 1, pr, 0, leaves[1]) == -1,
	    "verify inclusion: size 1, other root fails");
	TAP_OK(merkle_verify_inclusion(leaves[0], 0, 2, pr,
	    MERKLE_PROOF_MAX + 1, roots[2]) == -1,
	    "verify inclusion: overlong proof refused");

	memset(pr[0], 0, H);
	TAP_OK(vc(0, 0, e, e, pr, 0) == -1 && vc(0, 5, e, roots[5], pr, 0) ==
	    -1 && vc(0, 5, roots[0], roots[5], pr, 0) == -1,
	    "verify consistency: m == 0 fails (RFC 9162 defines no proof)");
	TAP_OK(vc(5, 4, roots[5], roots[4], pr, 0) == -1 &&
	    vc(2, 1, roots[2], roots[1], pr, 1) == -1,
	    "verify consistency: m > n fails");
	TAP_OK(vc(5, 5, roots[5], roots[5], pr, 0) == 0,
	    "verify consistency: m == n, equal roots, empty proof");
	TAP_OK(vc(5, 5, roots[5], roots[6], pr, 0) == -1 &&
	    vc(5, 5, roots[5], roots[5], pr, 1) == -1,
	    "verify consistency: m == n with other roots or a proof fails");
	TAP_OK(vc(1, 2, roots[1], roots[2], pr, 0) == -1,
	    "verify consistency: m < n with an empty proof fails");
	TAP_OK(vc(1, 2, roots[1], roots[2], pr, MERKLE_PROOF_MAX + 1) == -1,
	    "verify consistency: overlong proof refused");
}

static void
test_roots(void)
{
	uint8_t		 want[H];
	uint64_t	 m, k;
	int		 ok = 1;

	for (m = 0; m <= SMALL_MAX; m++) {
		ref_mth(leaves, m, want);
		if (memcmp(roots[m], want, H) != 0)
			ok = 0;
	}
	TAP_OK(ok, "merkle_root(m) = naive MTH for every m <= %d", SMALL_MAX);
	ok = 1;
	for (k = 0; k < 12; k++) {
		m = k < 4 ? BIG_MAX - k : rnd() % (BIG_MAX + 1);
		ref_mth(leaves, m, want);
		if (memcmp(roots[m], want, H) != 0)
			ok = 0;
	}
	TAP_OK(ok, "merkle_root(m) = naive MTH for sampled m <= %d", BIG_MAX);
}

static void
test_inclusion(void)
{
	static const uint64_t	 big[] = { 1000, 4097, BIG_MAX };
	uint64_t		 n, i, k, cnt = 0;
	int			 bad = 0;
	size_t			 b;

	/* all tampering up to FULL_MAX; beyond, every 8th and the ends */
	for (n = 1; n <= SMALL_MAX; n++)
		for (i = 0; i < n; i++, cnt++)
			bad += incl_check(i, n, n <= FULL_MAX || i % 8 == 0 ||
			    i < 2 || i + 2 >= n);
	TAP_OK(bad == 0, "inclusion, every leaf of sizes 1..%d (%" PRIu64
	    " proofs) verifies; = PATH and tampering fails up to %d, "
	    "sampled beyond", SMALL_MAX, cnt, FULL_MAX);
	for (b = 0; b < sizeof(big) / sizeof(big[0]); b++) {
		n = big[b];
		bad = 0;
		for (k = 0; k < SAMPLES; k++) {
			i = k < 4 ? (k < 2 ? k : n - 4 + k) : rnd() % n;
			bad += incl_check(i, n, 1);
		}
		TAP_OK(bad == 0, "inclusion, %d sampled leaves of size %"
		    PRIu64 ": verify, tampering fails", SAMPLES, n);
	}
}

static void
test_consistency(void)
{
	static const uint64_t	 big[] = { 1000, 4097, BIG_MAX };
	uint64_t		 n, m, k, cnt = 0;
	int			 bad = 0;
	size_t			 b;

	for (n = 1; n <= FULL_MAX; n++)
		for (m = 1; m <= n; m++, cnt++)
			bad += cons_check(m, n, 1);
	TAP_OK(bad == 0, "consistency, every 1 <= m <= n <= %d (%" PRIu64
	    " proofs): = PROOF, verify, tampering fails", FULL_MAX, cnt);
	for (b = 0; b < sizeof(big) / sizeof(big[0]); b++) {
		n = big[b];
		bad = 0;
		for (k = 0; k < SAMPLES; k++) {
			if (k < 20)
				m = k < 3 ? k + 1 : k < 6 ? n - k + 3 :
				    (uint64_t)1 << (k - 6);
			else
				m = 1 + rnd() % n;
			if (m > n)
				m = n;
			bad += cons_check(m, n, 1);
		}
		TAP_OK(bad == 0, "consistency, %d sampled m into size %"
		    PRIu64 ": verify, tampering fails", SAMPLES, n);
	}
	bad = 0;
	for (k = 0; k < SAMPLES; k++) {
		n = 1 + rnd() % BIG_MAX;
		m = 1 + rnd() % n;
		bad += cons_check(m, n, 1);
	}
	TAP_OK(bad == 0, "consistency, %d random pairs m <= n <= %d",
	    SAMPLES, BIG_MAX);
}

/* Truncate, re-append the same or other leaves, roots as before. */
static void
test_truncate(void)
{
	struct merkle_tree	 t;
	uint8_t			 r[H];
	uint64_t		 i, k;
	int			 ok = 1, l;

	merkle_init(&t);
	for (i = 0; i < SMALL_MAX; i++)
		merkle_append(&t, leaves[i]);
	TAP_OK(merkle_truncate(&t, SMALL_MAX + 1) == -1 &&
	    t.mt_size == SMALL_MAX, "truncate beyond the size refused");
	TAP_OK(merkle_truncate(&t, 257) == 0 && t.mt_size == 257 &&
	    merkle_root(&t, 258, r) == -1 && merkle_leaf(&t, 257, r) == -1,
	    "truncate to 257");
	for (l = 0; l < MERKLE_MAX_LEVELS; l++)
		if (t.mt_len[l] != (uint64_t)257 >> l)
			ok = 0;
	for (k = 0; k <= 257; k++)
		if (merkle_root(&t, k, r) == -1 || memcmp(r, roots[k], H) != 0)
			ok = 0;
	TAP_OK(ok, "after truncate: level counts and roots of 0..257 hold");
	for (i = 0; i < 43; i++)
		merkle_append(&t, leaves[1000 + i]);
	TAP_OK(merkle_root(&t, SMALL_MAX, r) == 0 &&
	    memcmp(r, roots[SMALL_MAX], H) != 0, "other leaves, other root");
	ok = merkle_truncate(&t, 100) == 0;
	for (i = 100; i < SMALL_MAX; i++)
		merkle_append(&t, leaves[i]);
	for (k = 0; k <= SMALL_MAX; k++)
		if (merkle_root(&t, k, r) == -1 || memcmp(r, roots[k], H) != 0)
			ok = 0;
	TAP_OK(ok, "truncate to 100, re-append: every root as before");
	ok = merkle_truncate(&t, 0) == 0 && merkle_root(&t, 0, r) == 0 &&
	    memcmp(r, roots[0], H) == 0;
	for (i = 0; i < SMALL_MAX; i++)
		merkle_append(&t, leaves[i]);
	for (k = 0; k <= SMALL_MAX; k++)
		if (merkle_root(&t, k, r) == -1 || memcmp(r, roots[k], H) != 0)
			ok = 0;
	TAP_OK(ok, "truncate to 0, re-append: every root as before");
	merkle_free(&t);
}

/*
 * Roots and proofs must come from the stored complete subtrees, not the
 * leaves: spoil every stored node inside the first 256 leaves except
 * the level-8 node over all of them, and nothing that covers more than
 * 256 leaves may change.
 */
static void
test_layout(void)
{
	struct merkle_tree	 t;
	uint8_t			 r[H], pr[MERKLE_PROOF_MAX][H];
	uint8_t			 pw[MERKLE_PROOF_MAX][H];
	uint64_t		 i, k;
	size_t			 np, nw;
	int			 ok = 1, l;

	merkle_init(&t);
	for (i = 0; i < SMALL_MAX; i++)
		merkle_append(&t, leaves[i]);
	for (l = 0; l < 8; l++)
		for (i = 0; i < (256U >> l); i++)
			memset(t.mt_level[l][i], 0xa5, H);
	for (k = 256; k <= SMALL_MAX; k++)
		if (merkle_root(&t, k, r) == -1 || memcmp(r, roots[k], H) != 0)
			ok = 0;
	for (i = 256; i < SMALL_MAX; i++) {
		merkle_inclusion(&t, i, SMALL_MAX, pr, &np);
		merkle_inclusion(&tree, i, SMALL_MAX, pw, &nw);
		if (np != nw || memcmp(pr, pw, np * H) != 0)
			ok = 0;
	}
	TAP_OK(ok, "roots and proofs use stored subtrees, not leaves");
	TAP_OK(merkle_root(&t, 255, r) == 0 && memcmp(r, roots[255], H) != 0,
	    "(and the spoiled nodes are really used below 256)");
	merkle_free(&t);
}

int
main(void)
{
	uint64_t	 i, le;
	int		 ok = 1;

	if (mvm_crypto_init() == -1)
		return (2);
	leaves = calloc(BIG_MAX + 1 + 64, H);
	roots = calloc(BIG_MAX + 2, H);
	if (leaves == NULL || roots == NULL)
		return (2);

	test_hashing();
	test_ct_tree();
	test_ct_proofs();
	test_ct_real_log();

	/* synthetic leaves: the leaf hash of "mvm" || 8-byte LE index */
	merkle_init(&tree);
	for (i = 0; i < BIG_MAX + 1 + 64; i++) {
		uint8_t	 d[11] = { 'm', 'v', 'm' };

		le = i;
		memcpy(d + 3, &le, sizeof(le));
		merkle_leaf_hash(d, sizeof(d), leaves[i]);
		if (i <= BIG_MAX && merkle_append(&tree, leaves[i]) == -1)
			ok = 0;
	}
	for (i = 0; i <= BIG_MAX + 1; i++)
		if (merkle_root(&tree, i, roots[i]) == -1)
			ok = 0;
	TAP_OK(ok && tree.mt_size == BIG_MAX + 1, "%d leaves appended",
	    BIG_MAX + 1);

	test_edges();
	test_roots();
	test_inclusion();
	test_consistency();
	test_truncate();
	test_layout();

	merkle_free(&tree);
	free(leaves);
	free(roots);
	TAP_DONE();
}
