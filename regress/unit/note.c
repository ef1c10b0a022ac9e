/*
 * C2SP signed notes carrying checkpoints, and the proof texts around
 * them: round trips, verification with one key among several, strict
 * parsing, the c2sp.org/tlog-checkpoint example.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "merkle.h"
#include "note.h"
#include "sigmsg.h"
#include "tap.h"

#define DASH		"\xe2\x80\x94 "
#define ORIGIN		"mvm.test/log"
#define BIG		8192
/* the example in c2sp.org/tlog-proof */
#define EXTRA		"extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFy" \
			    "Lmd6kYXJ3aW4tYXJ\n"

struct key {
	char		 k_name[MVM_KEYNAME_MAX];
	uint8_t		 k_pk[32];
	uint8_t		 k_sk[64];
};

static void	 key_make(struct key *, const char *, uint8_t);
static void	 ck_make(struct checkpoint *, const struct key *,
		    const char *, uint64_t, const uint8_t[32]);
static void	 sig_line(const struct key *, const char *, const char *,
		    char *, size_t);
static void	 body_of(const char *, uint64_t, const uint8_t[32], char *,
		    size_t);
static void	 signed_note(const char *, char *, size_t);
static int	 subst(const char *, const char *, const char *, char *,
		    size_t);
static int	 ck_eq(const struct checkpoint *, const struct checkpoint *);
static int	 np_ok(const char *);
static int	 nv_ok(const char *, const struct key *);
static int	 bad_subst(const char *, const char *);
static int	 proof_ok(const char *, size_t, const struct key *,
		    const uint8_t[32]);
static void	 proof_setup(int, uint64_t, uint64_t);
static void	 test_round_trip(void);
static void	 test_tamper(void);
static void	 test_multi(void);
static void	 test_strict(void);
static void	 test_strict_sig(void);
static void	 test_c2sp_example(void);
static void	 test_proofs(void);
static void	 test_proof_strict(void);

static struct key		 k1, k2;
static uint8_t			 root1[32];
static char			 good[NOTE_MAX];	/* by k1, size 42 */
static struct merkle_tree	 tree;			/* 10 leaves */
static struct proof		 prf, prb;		/* proof, read back */

static void
key_make(struct key *k, const char *name, uint8_t fill)
{
	uint8_t	 seed[32];

	memset(seed, fill, sizeof(seed));
	crypto_sign_seed_keypair(k->k_pk, k->k_sk, seed);
	snprintf(k->k_name, sizeof(k->k_name), "%s", name);
}

/* A checkpoint for origin/size/root signed by k the way the signer does. */
static void
ck_make(struct checkpoint *ck, const struct key *k, const char *origin,
    uint64_t size, const uint8_t root[32])
{
	struct sigmsg	 m;

	memset(ck, 0, sizeof(*ck));
	snprintf(ck->ck_origin, sizeof(ck->ck_origin), "%s", origin);
	ck->ck_size = size;
	memcpy(ck->ck_root, root, 32);
	snprintf(ck->ck_keyname, sizeof(ck->ck_keyname), "%s", k->k_name);
	ck->ck_keyid = key_id(k->k_name, k->k_pk);
	if (sigmsg_note(&m, origin, size, root) == -1)
		return;
	crypto_sign_detached(ck->ck_sig, NULL, m.sm_buf, m.sm_len, k->k_sk);
	sigmsg_free(&m);
}

/* "— <name> <base64(key_id(name, k) || sig(body))>\n" */
static void
sig_line(const struct key *k, const char *name, const char *body, char *out,
    size_t len)
{
	uint8_t	 blob[4 + 64];
	char	 b64[MVM_B64_LEN(sizeof(blob))];

	key_id_bytes(key_id(name, k->k_pk), blob);
	crypto_sign_detached(blob + 4, NULL, (const uint8_t *)body,
	    strlen(body), k->k_sk);
	b64_encode(blob, sizeof(blob), b64, sizeof(b64));
	snprintf(out, len, DASH "%s %s\n", name, b64);
}

static void
body_of(const char *origin, uint64_t size, const uint8_t root[32], char *out,
    size_t len)
{
	char	 b64[MVM_B64_LEN(32)];

	b64_encode(root, 32, b64, sizeof(b64));
	snprintf(out, len, "%s\n%" PRIu64 "\n%s\n", origin, size, b64);
}

/* body, blank line, k1's signature line */
static void
signed_note(const char *body, char *out, size_t len)
{
	char	 line[256];

	sig_line(&k1, k1.k_name, body, line, sizeof(line));
	snprintf(out, len, "%s\n%s", body, line);
}

/* out = s with the first `from' replaced by `to'; -1 if not found */
static int
subst(const char *s, const char *from, const char *to, char *out,
    size_t len)
{
	const char	*p;

	if ((p = strstr(s, from)) == NULL)
		return (-1);
	snprintf(out, len, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return (0);
}

static int
ck_eq(const struct checkpoint *a, const struct checkpoint *b)
{
	return (strcmp(a->ck_origin, b->ck_origin) == 0 &&
	    a->ck_size == b->ck_size &&
	    memcmp(a->ck_root, b->ck_root, sizeof(a->ck_root)) == 0 &&
	    strcmp(a->ck_keyname, b->ck_keyname) == 0 &&
	    a->ck_keyid == b->ck_keyid &&
	    memcmp(a->ck_sig, b->ck_sig, sizeof(a->ck_sig)) == 0);
}

static int
np_ok(const char *text)
{
	struct checkpoint	 ck;
	size_t			 used;

	return (note_parse(text, strlen(text), &ck, &used) == 0 &&
	    used == strlen(text));
}

static int
nv_ok(const char *text, const struct key *k)
{
	struct checkpoint	 ck;
	size_t			 used;

	return (note_verify(text, strlen(text), k->k_pk, &ck, &used) == 0);
}

/* the good note with one change must not parse */
static int
bad_subst(const char *from, const char *to)
{
	char	 t[BIG];

	if (subst(good, from, to, t, sizeof(t)) == -1) {
		printf("# test bug: \"%s\" not in the note\n", from);
		return (0);
	}
	return (!np_ok(t));
}

static void
test_round_trip(void)
{
	struct checkpoint	 ck, back;
	char			 want[BIG], body[256], line[256], t[16];
	size_t			 used;
	int			 i;

	ck_make(&ck, &k1, ORIGIN, 42, root1);
	TAP_OK(note_format(&ck, good, sizeof(good)) == 0, "note_format");
	body_of(ORIGIN, 42, root1, body, sizeof(body));
	sig_line(&k1, k1.k_name, body, line, sizeof(line));
	snprintf(want, sizeof(want), "%s\n%s", body, line);
	TAP_OK(strcmp(good, want) == 0, "note is body, blank line, "
	    "\"— name base64(id || sig)\"");
	memset(&back, 0xee, sizeof(back));
	TAP_OK(note_parse(good, strlen(good), &back, &used) == 0 &&
	    used == strlen(good) && ck_eq(&ck, &back),
	    "note_parse gives back every field");
	memset(&back, 0xee, sizeof(back));
	TAP_OK(note_verify(good, strlen(good), k1.k_pk, &back, &used) == 0 &&
	    used == strlen(good) && ck_eq(&ck, &back),
	    "note_verify with the signer's key");
	TAP_OK(note_verify(good, strlen(good), k2.k_pk, &back, &used) == -1,
	    "note_verify with another key fails");
	TAP_OK(note_parse(good, strlen(good), NULL, NULL) == 0 &&
	    note_verify(good, strlen(good), k1.k_pk, NULL, NULL) == 0,
	    "ck and used may be NULL");
	TAP_OK(note_format(&ck, t, sizeof(t)) == -1 &&
	    note_format(&ck, want, strlen(good)) == -1 &&
	    note_format(&ck, want, strlen(good) + 1) == 0,
	    "note_format: short buffer refused, exact fit taken");
	back = ck;
	snprintf(back.ck_origin, sizeof(back.ck_origin), "no-slash");
	TAP_OK(note_format(&back, want, sizeof(want)) == -1,
	    "note_format: invalid origin refused");
	back = ck;
	snprintf(back.ck_keyname, sizeof(back.ck_keyname), "a+b");
	TAP_OK(note_format(&back, want, sizeof(want)) == -1,
	    "note_format: invalid key name refused");
	back = ck;
	memset(back.ck_keyname, 'a', sizeof(back.ck_keyname));
	TAP_OK(note_format(&back, want, sizeof(want)) == -1,
	    "note_format: unterminated key name refused");
	back = ck;
	memset(back.ck_origin + 1, 'a', sizeof(back.ck_origin) - 1);
	TAP_OK(note_format(&back, want, sizeof(want)) == -1,
	    "note_format: unterminated origin refused");
	back = ck;
	back.ck_size = (uint64_t)INT64_MAX + 1;
	TAP_OK(note_format(&back, want, sizeof(want)) == -1,
	    "note_format: size > 2^63 - 1 refused");
	for (i = 0; i < 2; i++) {
		ck_make(&ck, &k1, ORIGIN, i == 0 ? 0 : INT64_MAX, root1);
		TAP_OK(note_format(&ck, want, sizeof(want)) == 0 &&
		    nv_ok(want, &k1) && note_parse(want, strlen(want), &back,
		    NULL) == 0 && ck_eq(&ck, &back),
		    "size %" PRIu64 " round trip", ck.ck_size);
	}
}

static void
test_tamper(void)
{
	struct checkpoint	 ck;
	uint8_t			 other[32];
	char			 b64a[MVM_B64_LEN(32)];
	char			 b64b[MVM_B64_LEN(32)];
	char			 t[BIG];
	size_t			 i, len = strlen(good);
	int			 bit, ok = 1;

	subst(good, "\n42\n", "\n43\n", t, sizeof(t));
	TAP_OK(np_ok(t) && !nv_ok(t, &k1), "changed size: parses, fails "
	    "verify");
	sha256("other", 5, other);
	b64_encode(root1, 32, b64a, sizeof(b64a));
	b64_encode(other, 32, b64b, sizeof(b64b));
	subst(good, b64a, b64b, t, sizeof(t));
	TAP_OK(np_ok(t) && !nv_ok(t, &k1), "changed root: parses, fails "
	    "verify");
	subst(good, ORIGIN "\n", "mvm.test/lag\n", t, sizeof(t));
	TAP_OK(np_ok(t) && !nv_ok(t, &k1), "changed origin: parses, fails "
	    "verify");
	ck_make(&ck, &k1, ORIGIN, 42, root1);
	ck.ck_sig[17] ^= 0x04;
	note_format(&ck, t, sizeof(t));
	TAP_OK(np_ok(t) && !nv_ok(t, &k1), "changed signature: parses, fails "
	    "verify");
	subst(good, DASH ORIGIN " ", DASH "mvm.test/lag ", t, sizeof(t));
	TAP_OK(np_ok(t) && !nv_ok(t, &k1), "changed key name (id left): "
	    "parses, no line is ours");
	ck_make(&ck, &k1, ORIGIN, 42, root1);
	ck.ck_keyid ^= 1;
	note_format(&ck, t, sizeof(t));
	TAP_OK(np_ok(t) && !nv_ok(t, &k1), "changed key id: parses, no line "
	    "is ours");
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(t, good, len + 1);
			t[i] ^= 1 << bit;
			if (note_verify(t, len, k1.k_pk, NULL, NULL) == 0)
				ok = 0;
		}
	TAP_OK(ok, "every one-bit change of the note fails note_verify");
	ok = 1;
	for (i = 0; i < len; i++)
		if (note_parse(good, i, NULL, NULL) == 0)
			ok = 0;
	TAP_OK(ok, "every proper prefix of the note fails note_parse");
}

/* Several signature lines: unknown keys are ignored, ours must verify. */
static void
test_multi(void)
{
	struct checkpoint	 ck;
	char			 body[256], l1[256], l2[256], bad[256];
	char			 t[BIG], other[256];
	uint8_t			 blob[76];
	char			 b64[MVM_B64_LEN(76)];

	body_of(ORIGIN, 42, root1, body, sizeof(body));
	sig_line(&k1, k1.k_name, body, l1, sizeof(l1));
	sig_line(&k2, k2.k_name, body, l2, sizeof(l2));
	snprintf(t, sizeof(t), "%s\n%s%s", body, l1, l2);
	TAP_OK(note_verify(t, strlen(t), k1.k_pk, &ck, NULL) == 0 &&
	    strcmp(ck.ck_keyname, k1.k_name) == 0 &&
	    ck.ck_keyid == key_id(k1.k_name, k1.k_pk),
	    "two keys: k1 picks its own line");
	TAP_OK(note_verify(t, strlen(t), k2.k_pk, &ck, NULL) == 0 &&
	    strcmp(ck.ck_keyname, k2.k_name) == 0 &&
	    ck.ck_keyid == key_id(k2.k_name, k2.k_pk),
	    "two keys: k2 picks the second line");
	TAP_OK(note_parse(t, strlen(t), &ck, NULL) == 0 &&
	    strcmp(ck.ck_keyname, k1.k_name) == 0, "note_parse reports the "
	    "first line");
	snprintf(t, sizeof(t), "%s\n%s%s", body, l2, l1);
	TAP_OK(note_verify(t, strlen(t), k1.k_pk, &ck, NULL) == 0 &&
	    strcmp(ck.ck_keyname, k1.k_name) == 0 &&
	    note_parse(t, strlen(t), &ck, NULL) == 0 &&
	    strcmp(ck.ck_keyname, k2.k_name) == 0,
	    "order swapped: k1 still found, parse reports k2");

	/* k2's line signs something else */
	sig_line(&k2, k2.k_name, "something else\n", bad, sizeof(bad));
	snprintf(t, sizeof(t), "%s\n%s%s", body, l1, bad);
	TAP_OK(nv_ok(t, &k1) && !nv_ok(t, &k2), "a bad line by another key "
	    "is ignored; that key fails");
	/* a second line by k1 that does not verify sinks the note */
	sig_line(&k1, k1.k_name, "something else\n", bad, sizeof(bad));
	snprintf(t, sizeof(t), "%s\n%s%s", body, l1, bad);
	TAP_OK(np_ok(t) && !nv_ok(t, &k1), "a failing line by our key "
	    "rejects the note even after a good one");

	/* a non-Ed25519 line (a witness cosignature, say) is skipped */
	memset(blob, 0x5a, sizeof(blob));
	b64_encode(blob, sizeof(blob), b64, sizeof(b64));
	snprintf(other, sizeof(other), DASH "witness.example/w1 %s\n", b64);
	snprintf(t, sizeof(t), "%s\n%s%s", body, other, l1);
	TAP_OK(note_parse(t, strlen(t), &ck, NULL) == 0 &&
	    strcmp(ck.ck_keyname, k1.k_name) == 0 && nv_ok(t, &k1),
	    "a 76-byte signature line is well-formed and ignored");
	snprintf(t, sizeof(t), "%s\n%s", body, other);
	TAP_OK(!np_ok(t), "a note with no Ed25519 line is refused");

	/*
	 * The signature covers the body, not the key name: a line renamed
	 * with the matching id for the new name still verifies under pk.
	 * The caller must compare ck_keyname with the name it trusts.
	 */
	sig_line(&k1, "mvm.test/renamed", body, l2, sizeof(l2));
	snprintf(t, sizeof(t), "%s\n%s", body, l2);
	TAP_OK(note_verify(t, strlen(t), k1.k_pk, &ck, NULL) == 0 &&
	    strcmp(ck.ck_keyname, "mvm.test/renamed") == 0,
	    "renamed line with its id verifies and reports the new name");
}

/* body lines */
static void
test_strict(void)
{
	char	 t[BIG], o[256];
	uint8_t	 ff[32], r31[31], r33[33];
	char	 b64[64], body[256], line[256], root[MVM_B64_LEN(32)];
	size_t	 used;

	TAP_OK(bad_subst("\n42\n", "\n042\n"), "size with a leading zero");
	TAP_OK(bad_subst("\n42\n", "\n+42\n") && bad_subst("\n42\n", "\n-1\n")
	    && bad_subst("\n42\n", "\n 42\n") && bad_subst("\n42\n", "\n42 \n")
	    && bad_subst("\n42\n", "\n\n") && bad_subst("\n42\n", "\n4a\n") &&
	    bad_subst("\n42\n", "\n0x2a\n"), "size: sign, spaces, empty, "
	    "non-digits");
	TAP_OK(bad_subst("\n42\n", "\n9223372036854775808\n") &&
	    bad_subst("\n42\n", "\n18446744073709551615\n") &&
	    bad_subst("\n42\n", "\n18446744073709551616\n") &&
	    bad_subst("\n42\n", "\n100000000000000000000\n"),
	    "size > 2^63 - 1 refused");
	body_of(ORIGIN, INT64_MAX, root1, body, sizeof(body));
	signed_note(body, t, sizeof(t));
	TAP_OK(np_ok(t) && nv_ok(t, &k1), "size 2^63 - 1 parses");

	b64_encode(root1, 32, root, sizeof(root));
	memset(r31, 1, sizeof(r31));
	b64_encode(r31, sizeof(r31), b64, sizeof(b64));
	TAP_OK(bad_subst(root, b64), "root of 31 bytes");
	memset(r33, 1, sizeof(r33));
	b64_encode(r33, sizeof(r33), b64, sizeof(b64));
	TAP_OK(bad_subst(root, b64), "root of 33 bytes");
	snprintf(b64, sizeof(b64), "%.43s", root);
	TAP_OK(bad_subst(root, b64), "root without its padding");
	snprintf(b64, sizeof(b64), "%.42s%c=", root, root[42] + 1);
	TAP_OK(bad_subst(root, b64), "root with non-zero padding bits "
	    "(%s)", b64);
	snprintf(b64, sizeof(b64), "%s ", root);
	TAP_OK(bad_subst(root, b64), "root with a trailing space");
	memset(ff, 0xff, sizeof(ff));
	body_of(ORIGIN, 42, ff, body, sizeof(body));
	signed_note(body, t, sizeof(t));
	TAP_OK(nv_ok(t, &k1), "root of 0xff bytes (\"//...8=\") verifies");
	subst(t, "//", "__", o, sizeof(o));
	TAP_OK(!np_ok(o), "root in the URL-safe alphabet refused");

	TAP_OK(bad_subst("=\n\n" DASH, "=\n" DASH), "missing blank line");
	TAP_OK(bad_subst("=\n\n" DASH, "=\n\n\n" DASH), "two blank lines");
	TAP_OK(bad_subst("=\n\n" DASH, "=\next\n\n" DASH),
	    "extension line after the root refused");
	body_of(ORIGIN, 42, root1, body, sizeof(body));
	snprintf(t, sizeof(t), "%s\n", body);
	TAP_OK(!np_ok(t), "no signature line");
	snprintf(t, sizeof(t), "%s\nhello\n", body);
	TAP_OK(!np_ok(t), "something else where the signature goes");
	sig_line(&k1, k1.k_name, "", line, sizeof(line));
	snprintf(t, sizeof(t), "\n%s", line);
	TAP_OK(!np_ok(body) && !np_ok("") && !np_ok("\n") && !np_ok(t),
	    "body only, empty, blank, empty body");

	TAP_OK(bad_subst("\n", "\r\n"), "CR after the origin");
	TAP_OK(bad_subst("\n42\n", "\n42\r\n"), "CR after the size");
	TAP_OK(bad_subst("=\n\n", "=\r\n\n"), "CR after the root");
	TAP_OK(bad_subst("=\n\n" DASH, "=\n\r\n" DASH), "CR as the blank line");
	snprintf(o, sizeof(o), "%.*s\r\n", (int)strlen(good) - 1, good);
	TAP_OK(!np_ok(o), "CR after the signature");

	TAP_OK(bad_subst(ORIGIN "\n", "mvmtestlog\n"), "origin without '/'");
	TAP_OK(bad_subst(ORIGIN "\n", "mvm test/log\n"), "origin with a space");
	TAP_OK(bad_subst(ORIGIN "\n", "\n"), "empty origin");
	TAP_OK(bad_subst(ORIGIN "\n", "mvm.t\xc3\xa9st/log\n"),
	    "non-ASCII origin");
	TAP_OK(bad_subst(ORIGIN "\n", "mvm.test/\tlog\n"), "origin with a tab");
	memset(o, 'a', 127);
	o[3] = '/';
	o[127] = '\0';
	body_of(o, 42, root1, body, sizeof(body));
	signed_note(body, t, sizeof(t));
	TAP_OK(np_ok(t) && nv_ok(t, &k1), "127-byte origin parses");
	o[127] = 'a';
	o[128] = '\0';
	body_of(o, 42, root1, body, sizeof(body));
	signed_note(body, t, sizeof(t));
	TAP_OK(!np_ok(t), "128-byte origin refused");
	memcpy(t, good, strlen(good) + 1);
	t[3] = '\0';
	TAP_OK(note_parse(t, strlen(good), NULL, &used) == -1,
	    "NUL inside the origin refused");
}

/* signature lines */
static void
test_strict_sig(void)
{
	const char	*sp, *sl;
	char		 t[BIG], name[80], *p;
	size_t		 n;
	int		 i;

	TAP_OK(bad_subst(DASH ORIGIN " ", DASH "mvm+test/log "),
	    "key name with '+'");
	TAP_OK(bad_subst(DASH ORIGIN " ", DASH " "), "empty key name");
	TAP_OK(bad_subst(DASH ORIGIN " ", DASH "mvm.test/\tlog "),
	    "key name with a tab");
	memset(name, 'n', 64);
	name[64] = ' ';
	name[65] = '\0';
	TAP_OK(bad_subst(ORIGIN " ", name), "64-byte key name");
	name[63] = ' ';
	name[64] = '\0';
	subst(good, ORIGIN " ", name, t, sizeof(t));
	TAP_OK(np_ok(t), "63-byte key name parses");
	TAP_OK(bad_subst(DASH ORIGIN " ", DASH ORIGIN "  "),
	    "two spaces after the name");
	TAP_OK(bad_subst(DASH, "-- ") && bad_subst(DASH, "\xe2\x80\x93 ") &&
	    bad_subst(DASH, "\xe2\x80\x94") && bad_subst(DASH, " " DASH),
	    "hyphens, en dash, no space, leading space");

	sp = strrchr(good, ' ');
	n = strlen(sp);			/* " <92 base64>\n" */
	TAP_OK(n == 94, "Ed25519 signature is 92 base64 characters");
	snprintf(t, sizeof(t), "%.*s*%s", (int)(sp + 10 - good), good,
	    sp + 11);
	TAP_OK(!np_ok(t), "signature with a bad base64 character");
	snprintf(t, sizeof(t), "%.*s\n", (int)strlen(good) - 2, good);
	TAP_OK(!np_ok(t), "signature without its padding");
	snprintf(t, sizeof(t), "%.*sAAAA\n", (int)strlen(good) - 1, good);
	TAP_OK(!np_ok(t), "signature with trailing data");
	snprintf(t, sizeof(t), "%.*s", (int)strlen(good) - 1, good);
	TAP_OK(!np_ok(t), "no newline after the signature");
	snprintf(t, sizeof(t), "%.*s AAAAAA==\n", (int)(sp - good), good);
	TAP_OK(!np_ok(t), "signature of only a key id");

	/* libsodium reads 0xab and 0xaf as '+' and '/' */
	memcpy(t, good, strlen(good) + 1);
	p = strpbrk(strrchr(t, ' '), "+/");
	*p |= 0x80;
	TAP_OK(!np_ok(t), "signature with '%c' | 0x80 refused", *p & 0x7f);
	memcpy(t, good, strlen(good) + 1);
	p = strpbrk(strstr(t, "\n42\n") + 4, "+/");
	*p |= 0x80;
	TAP_OK(p < strstr(t, DASH) && !np_ok(t), "root with '%c' | 0x80 "
	    "refused", *p & 0x7f);

	/* trailing data, and the NOTE_MAX limit */
	snprintf(t, sizeof(t), "%smore text\n", good);
	TAP_OK(note_parse(t, strlen(t), NULL, &n) == 0 && n == strlen(good),
	    "data after the note is left alone");
	snprintf(t, sizeof(t), "%s" DASH "broken\n", good);
	TAP_OK(!np_ok(t), "a malformed signature line after a good one");
	sl = strstr(good, DASH);
	memcpy(t, good, strlen(good) + 1);
	for (i = 1; strlen(t) + strlen(sl) < NOTE_MAX; i++)
		(void)strlcat(t, sl, sizeof(t));
	TAP_OK(np_ok(t) && nv_ok(t, &k1), "%d signature lines, %zu bytes: "
	    "parses", i, strlen(t));
	(void)strlcat(t, sl, sizeof(t));
	TAP_OK(!np_ok(t), "%d signature lines, %zu bytes: over NOTE_MAX, "
	    "refused", i + 1, strlen(t));
}

/* The example in c2sp.org/tlog-checkpoint. */
static void
test_c2sp_example(void)
{
	static const char body[] = "example.com/behind-the-sofa\n20852163\n"
	    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	static const char sig[] = DASH "example.com/behind-the-sofa "
	    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1"
	    "gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
	struct checkpoint	 ck;
	struct sigmsg		 m;
	struct key		 k;
	uint8_t			 want[32];
	char			 t[BIG], line[256];

	hex_decode("0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f"
	    "68f1ab62", want, 32);
	snprintf(t, sizeof(t), "%s\n%s", body, sig);
	TAP_OK(note_parse(t, strlen(t), &ck, NULL) == 0 &&
	    strcmp(ck.ck_origin, "example.com/behind-the-sofa") == 0 &&
	    ck.ck_size == 20852163 && memcmp(ck.ck_root, want, 32) == 0 &&
	    strcmp(ck.ck_keyname, "example.com/behind-the-sofa") == 0 &&
	    ck.ck_keyid == 0x033de0ae, "c2sp.org/tlog-checkpoint example "
	    "parses");
	key_make(&k, "example.com/behind-the-sofa", 7);
	TAP_OK(!nv_ok(t, &k), "its signature is not by our key");
	TAP_OK(sigmsg_note(&m, "example.com/behind-the-sofa", 20852163,
	    want) == 0 && m.sm_len == strlen(body) &&
	    memcmp(m.sm_buf, body, m.sm_len) == 0,
	    "sigmsg_note builds exactly the example's body");
	sigmsg_free(&m);
	sig_line(&k, k.k_name, body, line, sizeof(line));
	snprintf(t, sizeof(t), "%s\n%s%s", body, sig, line);
	TAP_OK(note_verify(t, strlen(t), k.k_pk, &ck, NULL) == 0 &&
	    ck.ck_size == 20852163 && ck.ck_keyid == key_id(k.k_name,
	    k.k_pk), "the example body cosigned by our key verifies");
}

/* 0 iff text parses, its note verifies under k and the proof holds */
static int
proof_ok(const char *text, size_t len, const struct key *k,
    const uint8_t leaf_or_old[32])
{
	struct proof		*pf;
	struct checkpoint	 ck;
	int			 r = -1;

	if ((pf = malloc(sizeof(*pf))) == NULL)
		return (-1);
	if (proof_parse(text, len, pf) == -1 ||
	    note_verify(pf->pf_note, pf->pf_notelen, k->k_pk, &ck,
	    NULL) == -1)
		goto done;
	if (pf->pf_kind == PROOF_INCLUSION)
		r = merkle_verify_inclusion(leaf_or_old, pf->pf_index,
		    ck.ck_size, pf->pf_hash, pf->pf_nhash, ck.ck_root);
	else
		r = merkle_verify_consistency(pf->pf_old_size, ck.ck_size,
		    leaf_or_old, ck.ck_root, pf->pf_hash, pf->pf_nhash);
done:
	free(pf);
	return (r);
}

/* pf: a proof in a tree of 10 leaves with a note by k1 */
static void
proof_setup(int kind, uint64_t arg, uint64_t size)
{
	struct checkpoint	 ck;
	uint8_t			 r[32];

	memset(&prf, 0, sizeof(prf));
	prf.pf_kind = kind;
	merkle_root(&tree, size, r);
	ck_make(&ck, &k1, ORIGIN, size, r);
	note_format(&ck, prf.pf_note, sizeof(prf.pf_note));
	prf.pf_notelen = strlen(prf.pf_note);
	if (kind == PROOF_INCLUSION) {
		prf.pf_index = arg;
		merkle_inclusion(&tree, arg, size, prf.pf_hash, &prf.pf_nhash);
	} else {
		prf.pf_old_size = arg;
		merkle_consistency(&tree, arg, size, prf.pf_hash,
		    &prf.pf_nhash);
	}
}

static void
test_proofs(void)
{
	char			 t[NOTE_PROOF_MAX], u[NOTE_PROOF_MAX];
	uint8_t			 leaf[32], r6[32];
	size_t			 i, len;
	int			 bit, ok;

	proof_setup(PROOF_INCLUSION, 3, 10);
	TAP_OK(proof_format(&prf, t, sizeof(t)) == 0 && strncmp(t,
	    "c2sp.org/tlog-proof@v1\nindex 3\n", 31) == 0,
	    "inclusion proof_format: %zu hashes, %zu bytes", prf.pf_nhash,
	    strlen(t));
	TAP_OK(proof_parse(t, strlen(t), &prb) == 0 &&
	    memcmp(&prf, &prb, sizeof(prf)) == 0, "inclusion round trip");
	merkle_leaf(&tree, 3, leaf);
	TAP_OK(proof_ok(t, strlen(t), &k1, leaf) == 0,
	    "inclusion: note verifies, leaf 3 is in its tree");
	TAP_OK(proof_ok(t, strlen(t), &k2, leaf) == -1,
	    "inclusion: another key fails");
	subst(t, "@v1\n", "@v1\n" "extra YWdlLXYx\n", u, sizeof(u));
	TAP_OK(proof_parse(u, strlen(u), &prb) == 0 &&
	    memcmp(&prf, &prb, sizeof(prf)) == 0, "an \"extra\" line is read "
	    "and dropped");
	subst(t, "@v1\n", "@v1\n" "extra YWdl!x\n", u, sizeof(u));
	TAP_OK(proof_parse(u, strlen(u), &prb) == -1,
	    "an \"extra\" line with bad base64 is refused");
	subst(t, "@v1\n", "@v1\n" "extra \n", u, sizeof(u));
	TAP_OK(proof_parse(u, strlen(u), &prb) == -1,
	    "an empty \"extra\" line is refused");
	subst(t, "@v1\n", "@v1\n" "extra YQ==\nextra YQ==\n", u, sizeof(u));
	TAP_OK(proof_parse(u, strlen(u), &prb) == -1,
	    "two \"extra\" lines are refused");
	subst(t, "index 3\n", "index 3\nextra YQ==\n", u, sizeof(u));
	TAP_OK(proof_parse(u, strlen(u), &prb) == -1,
	    "\"extra\" after the index is refused");
	subst(t, "@v1\n", "@v1\n" EXTRA, u, sizeof(u));
	TAP_OK(proof_ok(u, strlen(u), &k1, leaf) == 0,
	    "the \"extra\" line from c2sp.org/tlog-proof is taken");

	len = strlen(t);
	ok = 1;
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(u, t, len + 1);
			u[i] ^= 1 << bit;
			if (proof_ok(u, len, &k1, leaf) == 0)
				ok = 0;
		}
	TAP_OK(ok, "every one-bit change of an inclusion proof fails");
	ok = 1;
	for (i = 0; i < len; i++)
		if (proof_parse(t, i, &prb) == 0)
			ok = 0;
	TAP_OK(ok, "every proper prefix of a proof is refused");

	proof_setup(PROOF_CONSISTENCY, 6, 10);
	TAP_OK(proof_format(&prf, t, sizeof(t)) == 0 && strncmp(t,
	    "mvm.audit/consistency-proof@v1\nold-size 6\n", 42) == 0,
	    "consistency proof_format: %zu hashes", prf.pf_nhash);
	TAP_OK(proof_parse(t, strlen(t), &prb) == 0 &&
	    memcmp(&prf, &prb, sizeof(prf)) == 0, "consistency round trip");
	merkle_root(&tree, 6, r6);
	TAP_OK(proof_ok(t, strlen(t), &k1, r6) == 0,
	    "consistency: note verifies, size 6 is a prefix");
	TAP_OK(proof_ok(t, strlen(t), &k1, leaf) == -1,
	    "consistency: a wrong old root fails");
	subst(t, "@v1\n", "@v1\n" "extra YQ==\n", u, sizeof(u));
	TAP_OK(proof_parse(u, strlen(u), &prb) == -1,
	    "\"extra\" is not part of the consistency form");
	len = strlen(t);
	ok = 1;
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(u, t, len + 1);
			u[i] ^= 1 << bit;
			if (proof_ok(u, len, &k1, r6) == 0)
				ok = 0;
		}
	TAP_OK(ok, "every one-bit change of a consistency proof fails");

	proof_setup(PROOF_INCLUSION, 0, 1);
	merkle_leaf(&tree, 0, leaf);
	TAP_OK(prf.pf_nhash == 0 && proof_format(&prf, t, sizeof(t)) == 0 &&
	    strncmp(t, "c2sp.org/tlog-proof@v1\nindex 0\n\n", 32) == 0 &&
	    proof_parse(t, strlen(t), &prb) == 0 &&
	    memcmp(&prf, &prb, sizeof(prf)) == 0 &&
	    proof_ok(t, strlen(t), &k1, leaf) == 0,
	    "inclusion in a tree of one: no hashes");
	proof_setup(PROOF_CONSISTENCY, 10, 10);
	merkle_root(&tree, 10, r6);
	TAP_OK(prf.pf_nhash == 0 && proof_format(&prf, t, sizeof(t)) == 0 &&
	    proof_parse(t, strlen(t), &prb) == 0 &&
	    memcmp(&prf, &prb, sizeof(prf)) == 0 &&
	    proof_ok(t, strlen(t), &k1, r6) == 0,
	    "consistency from a size to itself: no hashes");
}

static void
test_proof_strict(void)
{
	char		 t[NOTE_PROOF_MAX + 4096];
	char		 u[sizeof(t) + NOTE_MAX + 128];
	char		 b64[MVM_B64_LEN(32)], *p;
	uint8_t		 h[32], junk[512], seed[randombytes_SEEDBYTES];
	size_t		 i, n;
	int		 ok;

	proof_setup(PROOF_INCLUSION, 3, 10);
	proof_format(&prf, t, sizeof(t));
#define BAD(from, to, what) do {					\
	TAP_OK(subst(t, from, to, u, sizeof(u)) == 0 &&			\
	    proof_parse(u, strlen(u), &prb) == -1, "proof: %s", what);	\
} while (0)
	BAD("@v1\n", "@v2\n", "unknown header");
	BAD("c2sp", "C2sp", "header case");
	BAD("index 3\n", "index 03\n", "index with a leading zero");
	BAD("index 3\n", "index -3\n", "negative index");
	BAD("index 3\n", "index  3\n", "two spaces");
	BAD("index 3\n", "index 3 \n", "trailing space");
	BAD("index 3\n", "Index 3\n", "\"Index\"");
	BAD("index 3\n", "index\n", "no index");
	BAD("index 3\n", "", "index line missing");
	BAD("index 3\n", "index 10\n", "index = the note's size");
	BAD("index 3\n", "index 9223372036854775808\n", "index > 2^63 - 1");
	BAD("index 3\n", "index 3\r\n", "CR");
	BAD("\n\n", "\n", "no blank line before the note");
	BAD("\n\n", "\n\n\n", "two blank lines before the note");
	BAD("=\n", "= \n", "hash line with a trailing space");
	BAD("=\n", "=\nAAAA\n", "a 3-byte hash");
	BAD("index 3\n", "index 3\n"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", "a 31-byte hash");
	BAD("index 3\n", "index 3\n"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "a 33-byte hash");
	BAD(DASH, "-- ", "the note's signature line broken");
	snprintf(u, sizeof(u), "%strailing\n", t);
	TAP_OK(proof_parse(u, strlen(u), &prb) == -1,
	    "proof: data after the note");
	p = strstr(t, "\n\n") + 2;
	n = p - t;
	TAP_OK(proof_parse(t, n, &prb) == -1, "proof: no note");
	TAP_OK(proof_parse("", 0, &prb) == -1 &&
	    proof_parse("\n", 1, &prb) == -1 &&
	    proof_parse("c2sp.org/tlog-proof@v1\n", 23, &prb) == -1 &&
	    proof_parse(p, strlen(p), &prb) == -1,
	    "proof: empty, blank, header only, a bare note");

	proof_setup(PROOF_CONSISTENCY, 6, 10);
	proof_format(&prf, t, sizeof(t));
	BAD("old-size 6\n", "old-size 0\n", "old-size 0");
	BAD("old-size 6\n", "old-size 11\n", "old-size > the note's size");
	BAD("old-size 6\n", "old-size 06\n", "old-size with a leading zero");
	BAD("old-size 6\n", "index 6\n", "index in a consistency proof");
	BAD("mvm.audit/consistency-proof@v1\n", "c2sp.org/tlog-proof@v1\n",
	    "inclusion header over old-size");
#undef BAD

	/* MERKLE_PROOF_MAX hashes, and one more */
	proof_setup(PROOF_INCLUSION, 3, 10);
	memset(h, 0, sizeof(h));
	n = snprintf(t, sizeof(t), "c2sp.org/tlog-proof@v1\nindex 3\n");
	b64_encode(h, 32, b64, sizeof(b64));
	for (i = 0; i < MERKLE_PROOF_MAX; i++)
		n += snprintf(t + n, sizeof(t) - n, "%s\n", b64);
	snprintf(u, sizeof(u), "%s\n%s", t, prf.pf_note);
	TAP_OK(proof_parse(u, strlen(u), &prb) == 0 &&
	    prb.pf_nhash == MERKLE_PROOF_MAX && strlen(u) < NOTE_PROOF_MAX,
	    "%d hashes parse (%zu bytes)", MERKLE_PROOF_MAX, strlen(u));
	snprintf(u, sizeof(u), "%s%s\n\n%s", t, b64, prf.pf_note);
	TAP_OK(proof_parse(u, strlen(u), &prb) == -1, "%d hashes refused",
	    MERKLE_PROOF_MAX + 1);
	prb.pf_nhash = MERKLE_PROOF_MAX + 1;
	TAP_OK(proof_format(&prb, u, sizeof(u)) == -1,
	    "proof_format refuses too many hashes");
	prb = prf;
	prb.pf_index = 10;
	TAP_OK(proof_format(&prb, u, sizeof(u)) == -1,
	    "proof_format refuses index >= size");
	prb = prf;
	prb.pf_kind = 3;
	TAP_OK(proof_format(&prb, u, sizeof(u)) == -1,
	    "proof_format refuses an unknown kind");
	prb = prf;
	prb.pf_note[5] = '\n';
	TAP_OK(proof_format(&prb, u, sizeof(u)) == -1,
	    "proof_format refuses a broken note");
	TAP_OK(proof_format(&prf, u, 40) == -1, "proof_format: short buffer");

	/* garbage */
	memset(seed, 0x42, sizeof(seed));
	ok = 1;
	for (i = 0; i < 2000; i++) {
		seed[0] = i;
		seed[1] = i >> 8;
		randombytes_buf_deterministic(junk, sizeof(junk), seed);
		n = junk[0] + 1;
		if (i % 2)
			memcpy(junk, "c2sp.org/tlog-proof@v1\nindex 0\n", 31);
		if (proof_parse((char *)junk, n, &prb) == 0 ||
		    note_parse((char *)junk, n, NULL, NULL) == 0)
			ok = 0;
	}
	TAP_OK(ok, "2000 random texts are refused");
}

int
main(void)
{
	uint8_t	 leaf[32];
	int	 i;

	if (mvm_crypto_init() == -1)
		return (2);
	key_make(&k1, ORIGIN, 1);
	key_make(&k2, "witness.example/w2", 2);
	sha256("root", 4, root1);
	merkle_init(&tree);
	for (i = 0; i < 10; i++) {
		merkle_leaf_hash(&i, sizeof(i), leaf);
		merkle_append(&tree, leaf);
	}

	test_round_trip();
	test_tamper();
	test_multi();
	test_strict();
	test_strict_sig();
	test_c2sp_example();
	test_proofs();
	test_proof_strict();

	merkle_free(&tree);
	TAP_DONE();
}
