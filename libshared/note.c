/*
 * C2SP signed notes carrying checkpoints, and the proof texts that wrap
 * them (see note.h).
 *
 * Reading is strict.  The body must be byte for byte what sigmsg_note()
 * builds from the values read back (so: no extension lines, no leading
 * zeros, a canonical base64 root), the blank line must follow it, and
 * every line that starts with the em dash must be a well-formed
 * signature line.  A signature line whose blob is not 4 + 64 bytes is
 * some other algorithm (a witness cosignature, say): c2sp.org/signed-note
 * says to ignore unknown signatures, so it is checked for form and
 * skipped.  A whole note, through its last signature line, must be
 * shorter than NOTE_MAX, so it always fits struct proof's pf_note.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "merkle.h"
#include "note.h"
#include "sigmsg.h"

#define NOTE_DASH		"\xe2\x80\x94 "	/* U+2014, space */
#define NOTE_DASH_LEN		(sizeof(NOTE_DASH) - 1)
#define NOTE_ED25519_LEN	(4 + MVM_SIG_LEN)	/* key id || sig */
#define PROOF_INCL_HDR		"c2sp.org/tlog-proof@v1"
#define PROOF_CONS_HDR		"mvm.audit/consistency-proof@v1"

static int	 line_get(const char **, const char *, const char **,
		    size_t *);
static int	 line_is(const char *, size_t, const char *);
static int	 dec_parse(const char *, size_t, uint64_t *);
static int	 kv_parse(const char *, size_t, const char *, uint64_t *);
static int	 b64_canon(const char *, size_t, uint8_t *, size_t, size_t *);
static int	 b64_valid(const char *, size_t);
static int	 body_parse(const char **, const char *, struct checkpoint *);
static int	 sig_parse(const char *, size_t, char *, uint8_t *, size_t *);
static int	 sig_take(const char *, size_t, const uint8_t *,
		    const char *, size_t, struct checkpoint *);
static int	 note_scan(const char *, size_t, const uint8_t *,
		    struct checkpoint *, size_t *);
static int	 proof_head(const char **, const char *, struct proof *);
static int	 put(char *, size_t, size_t *, const void *, size_t);

/*
 * The next line of [*pp, end), without its newline, in *lp and *np;
 * *pp moves past the newline.  -1 if there is no newline.
 */
static int
line_get(const char **pp, const char *end, const char **lp, size_t *np)
{
	const char	*nl;

	if ((nl = memchr(*pp, '\n', end - *pp)) == NULL)
		return (-1);
	*lp = *pp;
	*np = nl - *pp;
	*pp = nl + 1;
	return (0);
}

static int
line_is(const char *l, size_t n, const char *s)
{
	return (n == strlen(s) && memcmp(l, s, n) == 0);
}

/* ASCII decimal, no sign, no leading zeros (except "0"), <= 2^63 - 1. */
static int
dec_parse(const char *s, size_t n, uint64_t *vp)
{
	uint64_t	 v = 0;
	size_t		 i;

	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return (-1);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (s[i] - '0');	/* 19 digits fit in 64 bits */
	}
	if (v > INT64_MAX)
		return (-1);
	*vp = v;
	return (0);
}

/* "<key><decimal>", key including its trailing space */
static int
kv_parse(const char *l, size_t n, const char *key, uint64_t *vp)
{
	size_t	 klen = strlen(key);

	if (n < klen || memcmp(l, key, klen) != 0)
		return (-1);
	return (dec_parse(l + klen, n - klen, vp));
}

/*
 * b64_decode(), and the text must be exactly what encoding the result
 * gives: libsodium (1.0.18) reads the bytes 0xab and 0xaf as '+' and
 * '/', so a decoder check alone would let one note have many spellings.
 * max is at most NOTE_MAX.
 */
static int
b64_canon(const char *s, size_t n, uint8_t *out, size_t max, size_t *outlen)
{
	char	 back[MVM_B64_LEN(NOTE_MAX)];

	if (b64_decode(s, n, out, max, outlen) == -1 ||
	    MVM_B64_LEN(*outlen) != n + 1)
		return (-1);
	b64_encode(out, *outlen, back, sizeof(back));
	return (memcmp(back, s, n) == 0 ? 0 : -1);
}

/* Non-empty canonical base64 of any length, a quantum at a time. */
static int
b64_valid(const char *s, size_t n)
{
	uint8_t	 buf[3];
	size_t	 i, got;

	if (n == 0 || n % 4 != 0)
		return (0);
	for (i = 0; i < n; i += 4) {
		if (i + 4 < n && memchr(s + i, '=', 4) != NULL)
			return (0);
		if (b64_canon(s + i, 4, buf, sizeof(buf), &got) == -1)
			return (0);
	}
	return (1);
}

/* The three body lines; *pp ends up just past the root's newline. */
static int
body_parse(const char **pp, const char *end, struct checkpoint *ck)
{
	struct sigmsg	 m;
	const char	*start = *pp, *l;
	size_t		 n, rl;
	int		 same;

	if (line_get(pp, end, &l, &n) == -1 || n >= sizeof(ck->ck_origin))
		return (-1);
	memcpy(ck->ck_origin, l, n);
	ck->ck_origin[n] = '\0';
	if (strlen(ck->ck_origin) != n || !origin_valid(ck->ck_origin))
		return (-1);
	if (line_get(pp, end, &l, &n) == -1 ||
	    dec_parse(l, n, &ck->ck_size) == -1)
		return (-1);
	if (line_get(pp, end, &l, &n) == -1 ||
	    b64_canon(l, n, ck->ck_root, MERKLE_HASH_LEN, &rl) == -1 ||
	    rl != MERKLE_HASH_LEN)
		return (-1);
	/* what we read back must be exactly what the signer signs */
	if (sigmsg_note(&m, ck->ck_origin, ck->ck_size, ck->ck_root) == -1)
		return (-1);
	same = m.sm_len == (size_t)(*pp - start) &&
	    memcmp(m.sm_buf, start, m.sm_len) == 0;
	sigmsg_free(&m);
	return (same ? 0 : -1);
}

/*
 * "— <name> <base64>" (without the newline): name gets the key name,
 * blob (NOTE_MAX bytes) the decoded signature, at least 5 bytes.
 */
static int
sig_parse(const char *l, size_t n, char *name, uint8_t *blob, size_t *blen)
{
	const char	*sp;
	size_t		 nl;

	if (n > NOTE_MAX || n < NOTE_DASH_LEN ||
	    memcmp(l, NOTE_DASH, NOTE_DASH_LEN) != 0)
		return (-1);
	l += NOTE_DASH_LEN;
	n -= NOTE_DASH_LEN;
	if ((sp = memchr(l, ' ', n)) == NULL ||
	    (nl = sp - l) >= MVM_KEYNAME_MAX)
		return (-1);
	memcpy(name, l, nl);
	name[nl] = '\0';
	if (strlen(name) != nl || !key_name_valid(name))
		return (-1);
	if (b64_canon(sp + 1, n - nl - 1, blob, NOTE_MAX, blen) == -1 ||
	    *blen <= 4)
		return (-1);
	return (0);
}

/*
 * One signature line.  1 if it is an Ed25519 signature to use (any, or
 * with pk one by pk that verifies), 0 if it is to be ignored, -1 if it
 * is malformed or is by pk and fails.  The first one used fills ck.
 */
static int
sig_take(const char *l, size_t n, const uint8_t *pk, const char *body,
    size_t bodylen, struct checkpoint *ck)
{
	char		 name[MVM_KEYNAME_MAX];
	uint8_t		 blob[NOTE_MAX];
	size_t		 blen;
	uint32_t	 id;

	if (sig_parse(l, n, name, blob, &blen) == -1)
		return (-1);
	if (blen != NOTE_ED25519_LEN)
		return (0);
	id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
	    (uint32_t)blob[2] << 8 | blob[3];
	if (pk != NULL) {
		if (id != key_id(name, pk))
			return (0);
		if (crypto_sign_verify_detached(blob + 4,
		    (const uint8_t *)body, bodylen, pk) != 0)
			return (-1);
	}
	if (ck->ck_keyname[0] == '\0') {
		memcpy(ck->ck_keyname, name, strlen(name) + 1);
		ck->ck_keyid = id;
		memcpy(ck->ck_sig, blob + 4, MVM_SIG_LEN);
	}
	return (1);
}

/*
 * Parse a note and, given pk, verify it: every line whose key id is
 * key_id(its name, pk) must verify (a failed signature by a known key
 * sinks the whole note, as c2sp.org/signed-note recommends), and there
 * must be at least one.  ck and *used are set only on success.
 */
static int
note_scan(const char *text, size_t len, const uint8_t *pk,
    struct checkpoint *out, size_t *used)
{
	struct checkpoint	 ck;
	const char		*p = text, *end = text + len, *l;
	size_t			 n, bodylen;
	int			 r, found = 0;

	memset(&ck, 0, sizeof(ck));
	if (body_parse(&p, end, &ck) == -1)
		return (-1);
	bodylen = p - text;
	if (line_get(&p, end, &l, &n) == -1 || n != 0)
		return (-1);
	do {
		if (line_get(&p, end, &l, &n) == -1 || p - text >= NOTE_MAX ||
		    (r = sig_take(l, n, pk, text, bodylen, &ck)) == -1)
			return (-1);
		found |= r;
	} while ((size_t)(end - p) >= NOTE_DASH_LEN &&
	    memcmp(p, NOTE_DASH, NOTE_DASH_LEN) == 0);
	if (!found)
		return (-1);
	if (out != NULL)
		*out = ck;
	if (used != NULL)
		*used = p - text;
	return (0);
}

int
note_parse(const char *text, size_t len, struct checkpoint *ck, size_t *used)
{
	return (note_scan(text, len, NULL, ck, used));
}

int
note_verify(const char *text, size_t len, const uint8_t pk[32],
    struct checkpoint *ck, size_t *used)
{
	return (note_scan(text, len, pk, ck, used));
}

int
note_format(const struct checkpoint *ck, char *out, size_t len)
{
	struct sigmsg	 m;
	uint8_t		 blob[NOTE_ED25519_LEN];
	char		 b64[MVM_B64_LEN(NOTE_ED25519_LEN)];
	int		 n;

	if (memchr(ck->ck_origin, '\0', sizeof(ck->ck_origin)) == NULL ||
	    memchr(ck->ck_keyname, '\0', sizeof(ck->ck_keyname)) == NULL ||
	    !key_name_valid(ck->ck_keyname) || ck->ck_size > INT64_MAX)
		return (-1);
	if (sigmsg_note(&m, ck->ck_origin, ck->ck_size, ck->ck_root) == -1)
		return (-1);
	key_id_bytes(ck->ck_keyid, blob);
	memcpy(blob + 4, ck->ck_sig, MVM_SIG_LEN);
	b64_encode(blob, sizeof(blob), b64, sizeof(b64));
	n = snprintf(out, len, "%.*s\n" NOTE_DASH "%s %s\n", (int)m.sm_len,
	    (const char *)m.sm_buf, ck->ck_keyname, b64);
	sigmsg_free(&m);
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

/* Append n bytes at *off, keeping room for a NUL. */
static int
put(char *out, size_t len, size_t *off, const void *p, size_t n)
{
	if (*off >= len || n >= len - *off)
		return (-1);
	memcpy(out + *off, p, n);
	*off += n;
	return (0);
}

/*
 * Written only if proof_parse() would take it back: a complete note,
 * index < size, 0 < old-size <= size.
 */
int
proof_format(const struct proof *pf, char *out, size_t len)
{
	struct checkpoint	 ck;
	char			 head[80], b64[MVM_B64_LEN(MERKLE_HASH_LEN)];
	size_t			 off = 0, used, i;
	int			 n;

	if (pf->pf_nhash > MERKLE_PROOF_MAX || pf->pf_notelen >= NOTE_MAX ||
	    note_parse(pf->pf_note, pf->pf_notelen, &ck, &used) == -1 ||
	    used != pf->pf_notelen)
		return (-1);
	if (pf->pf_kind == PROOF_INCLUSION && pf->pf_index < ck.ck_size)
		n = snprintf(head, sizeof(head), "%s\nindex %" PRIu64 "\n",
		    PROOF_INCL_HDR, pf->pf_index);
	else if (pf->pf_kind == PROOF_CONSISTENCY && pf->pf_old_size > 0 &&
	    pf->pf_old_size <= ck.ck_size)
		n = snprintf(head, sizeof(head), "%s\nold-size %" PRIu64 "\n",
		    PROOF_CONS_HDR, pf->pf_old_size);
	else
		return (-1);
	if (n < 0 || (size_t)n >= sizeof(head) ||
	    put(out, len, &off, head, n) == -1)
		return (-1);
	for (i = 0; i < pf->pf_nhash; i++) {
		b64_encode(pf->pf_hash[i], MERKLE_HASH_LEN, b64, sizeof(b64));
		if (put(out, len, &off, b64, strlen(b64)) == -1 ||
		    put(out, len, &off, "\n", 1) == -1)
			return (-1);
	}
	if (put(out, len, &off, "\n", 1) == -1 ||
	    put(out, len, &off, pf->pf_note, pf->pf_notelen) == -1)
		return (-1);
	out[off] = '\0';
	return (0);
}

/*
 * The header line, the optional "extra <base64>" line of tlog-proof
 * (not authenticated: its form is checked and it is dropped), and the
 * index or old-size line.
 */
static int
proof_head(const char **pp, const char *end, struct proof *pf)
{
	const char	*l;
	size_t		 n;

	if (line_get(pp, end, &l, &n) == -1)
		return (-1);
	if (line_is(l, n, PROOF_CONS_HDR)) {
		pf->pf_kind = PROOF_CONSISTENCY;
		if (line_get(pp, end, &l, &n) == -1)
			return (-1);
		return (kv_parse(l, n, "old-size ", &pf->pf_old_size));
	}
	if (!line_is(l, n, PROOF_INCL_HDR))
		return (-1);
	pf->pf_kind = PROOF_INCLUSION;
	if (line_get(pp, end, &l, &n) == -1)
		return (-1);
	if (n >= 6 && memcmp(l, "extra ", 6) == 0 &&
	    (!b64_valid(l + 6, n - 6) || line_get(pp, end, &l, &n) == -1))
		return (-1);
	return (kv_parse(l, n, "index ", &pf->pf_index));
}

/*
 * Strict like note_parse(); the note must run to the end of the text.
 * The note's signature is not checked here (note_verify() on pf_note
 * does that), but an index or old size the note's tree cannot have is
 * refused, as is old-size 0 (RFC 9162 defines no such proof).
 */
int
proof_parse(const char *text, size_t len, struct proof *pf)
{
	struct checkpoint	 ck;
	const char		*p = text, *end = text + len, *l;
	size_t			 n, rl, used;

	memset(pf, 0, sizeof(*pf));
	if (proof_head(&p, end, pf) == -1)
		return (-1);
	for (;;) {
		if (line_get(&p, end, &l, &n) == -1)
			return (-1);
		if (n == 0)
			break;
		if (pf->pf_nhash == MERKLE_PROOF_MAX ||
		    b64_canon(l, n, pf->pf_hash[pf->pf_nhash],
		    MERKLE_HASH_LEN, &rl) == -1 || rl != MERKLE_HASH_LEN)
			return (-1);
		pf->pf_nhash++;
	}
	n = end - p;
	if (note_parse(p, n, &ck, &used) == -1 || used != n)
		return (-1);
	if (pf->pf_kind == PROOF_INCLUSION ? pf->pf_index >= ck.ck_size :
	    pf->pf_old_size == 0 || pf->pf_old_size > ck.ck_size)
		return (-1);
	memcpy(pf->pf_note, p, n);
	pf->pf_note[n] = '\0';
	pf->pf_notelen = n;
	return (0);
}
