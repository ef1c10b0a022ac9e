#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"

/* DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410) */
static const uint8_t spki_ed25519[12] = {
	0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
};

int
mvm_crypto_init(void)
{
	return (sodium_init() < 0 ? -1 : 0);
}

void
sha256(const void *p, size_t len, uint8_t out[MVM_SHA256_LEN])
{
	crypto_hash_sha256(out, p, len);
}

/* out must hold 2 * len + 1 bytes; lower case */
void
hex_encode(const uint8_t *p, size_t len, char *out)
{
	sodium_bin2hex(out, 2 * len + 1, p, len);
}

int
is_hex(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return (0);
	return (s[len] == '\0');
}

/* Exactly 2 * len lower-case hex digits. */
int
hex_decode(const char *s, uint8_t *out, size_t len)
{
	size_t	 n;

	if (strlen(s) != 2 * len || !is_hex(s, 2 * len))
		return (-1);
	if (sodium_hex2bin(out, len, s, 2 * len, NULL, &n, NULL) != 0 ||
	    n != len)
		return (-1);
	return (0);
}

/* Standard padded base64; out must hold MVM_B64_LEN(len). */
void
b64_encode(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	sodium_bin2base64(out, outlen, p, len,
	    sodium_base64_VARIANT_ORIGINAL);
}

/*
 * Strict: standard alphabet, padding required, nothing else, and only
 * the one canonical spelling (libsodium alone accepts some other bytes
 * for '+' and '/' and non-zero trailing bits), checked by re-encoding.
 */
int
b64_decode(const char *s, size_t slen, uint8_t *out, size_t outmax,
    size_t *outlen)
{
	const char	*end;
	char		*again;
	size_t		 i, elen;
	int		 rc = -1;

	for (i = 0; i < slen; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' &&
		    s[i] != '/' && s[i] != '=')
			return (-1);
	if (sodium_base642bin(out, outmax, s, slen, NULL, outlen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + slen)
		return (-1);
	elen = sodium_base64_ENCODED_LEN(*outlen,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((again = malloc(elen)) == NULL)
		return (-1);
	sodium_bin2base64(again, elen, out, *outlen,
	    sodium_base64_VARIANT_ORIGINAL);
	if (strlen(again) == slen && memcmp(again, s, slen) == 0)
		rc = 0;
	free(again);
	return (rc);
}

/* C2SP: non-empty, no Unicode spaces (we allow printable ASCII), no '+'. */
int
key_name_valid(const char *name)
{
	size_t	 i, len = strlen(name);

	if (len == 0 || len >= 64)
		return (0);
	for (i = 0; i < len; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == '+')
			return (0);
	return (1);
}

uint32_t
key_id(const char *name, const uint8_t pk[MVM_PK_LEN])
{
	crypto_hash_sha256_state st;
	uint8_t			 h[MVM_SHA256_LEN];
	const uint8_t		 sep[2] = { '\n', 0x01 };

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
	crypto_hash_sha256_update(&st, sep, sizeof(sep));
	crypto_hash_sha256_update(&st, pk, MVM_PK_LEN);
	crypto_hash_sha256_final(&st, h);
	return ((uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	    (uint32_t)h[2] << 8 | h[3]);
}

void
key_id_hex(uint32_t id, char out[9])
{
	(void)snprintf(out, 9, "%08x", id);
}

void
key_id_bytes(uint32_t id, uint8_t out[4])
{
	out[0] = id >> 24;
	out[1] = id >> 16;
	out[2] = id >> 8;
	out[3] = id;
}

static int
key_blob(const uint8_t k[32], char *out, size_t outlen)
{
	uint8_t	 blob[33];

	if (outlen < MVM_B64_LEN(sizeof(blob)))
		return (-1);
	blob[0] = 0x01;			/* Ed25519 */
	memcpy(blob + 1, k, 32);
	b64_encode(blob, sizeof(blob), out, outlen);
	sodium_memzero(blob, sizeof(blob));
	return (0);
}

int
vkey_format(const char *name, const uint8_t pk[MVM_PK_LEN], char *out,
    size_t len)
{
	char	 b64[MVM_B64_LEN(33)], id[9];
	int	 n;

	if (!key_name_valid(name) || key_blob(pk, b64, sizeof(b64)) == -1)
		return (-1);
	key_id_hex(key_id(name, pk), id);
	n = snprintf(out, len, "%s+%s+%s", name, id, b64);
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

/*
 * Split "<name>+<hex8>+<base64>" (the tail of both formats) and check
 * the id against the key.  *k gets the 32 key bytes.
 */
static int
key_split(const char *s, size_t slen, char *name, size_t namelen,
    uint8_t k[32], const char **idp)
{
	const char	*p1, *p2, *end = s + slen;
	uint8_t		 blob[40];
	size_t		 n;

	if ((p1 = memchr(s, '+', slen)) == NULL ||
	    (p2 = memchr(p1 + 1, '+', end - p1 - 1)) == NULL)
		return (-1);
	if ((size_t)(p1 - s) >= namelen || p2 - p1 - 1 != 8)
		return (-1);
	memcpy(name, s, p1 - s);
	name[p1 - s] = '\0';
	/* a NUL inside would cut the name short (skey_parse takes a length) */
	if (strlen(name) != (size_t)(p1 - s) || !key_name_valid(name))
		return (-1);
	if (b64_decode(p2 + 1, end - p2 - 1, blob, sizeof(blob), &n) == -1 ||
	    n != 33 || blob[0] != 0x01)
		return (-1);
	memcpy(k, blob + 1, 32);
	sodium_memzero(blob, sizeof(blob));
	*idp = p1 + 1;
	return (0);
}

static int
id_matches(const char *idtext, uint32_t id)
{
	char	 want[9];

	key_id_hex(id, want);
	return (memcmp(idtext, want, 8) == 0);
}

int
vkey_parse(const char *s, char *name, size_t namelen,
    uint8_t pk[MVM_PK_LEN], uint32_t *idp)
{
	const char	*idtext;
	size_t		 len = strcspn(s, "\r\n");

	if (key_split(s, len, name, namelen, pk, &idtext) == -1)
		return (-1);
	if (!id_matches(idtext, key_id(name, pk)))
		return (-1);
	if (idp != NULL)
		*idp = key_id(name, pk);
	return (0);
}

int
skey_format(const char *name, const uint8_t seed[MVM_SEED_LEN],
    const uint8_t pk[MVM_PK_LEN], char *out, size_t len)
{
	char	 b64[MVM_B64_LEN(33)], id[9];
	int	 n;

	if (!key_name_valid(name) || key_blob(seed, b64, sizeof(b64)) == -1)
		return (-1);
	key_id_hex(key_id(name, pk), id);
	n = snprintf(out, len, "PRIVATE+KEY+%s+%s+%s\n", name, id, b64);
	sodium_memzero(b64, sizeof(b64));
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

/* Parse a secret key; the id is checked against the derived public key. */
int
skey_parse(const char *s, size_t slen, char *name, size_t namelen,
    uint8_t seed[MVM_SEED_LEN])
{
	static const char	 pfx[] = "PRIVATE+KEY+";
	const char		*idtext;
	uint8_t			 pk[MVM_PK_LEN], sk[MVM_SK_LEN];

	while (slen > 0 && (s[slen - 1] == '\n' || s[slen - 1] == '\r'))
		slen--;
	if (slen < sizeof(pfx) || memcmp(s, pfx, sizeof(pfx) - 1) != 0)
		return (-1);
	s += sizeof(pfx) - 1;
	slen -= sizeof(pfx) - 1;
	if (key_split(s, slen, name, namelen, seed, &idtext) == -1)
		return (-1);
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(sk, sizeof(sk));
	if (!id_matches(idtext, key_id(name, pk))) {
		sodium_memzero(seed, MVM_SEED_LEN);
		return (-1);
	}
	return (0);
}

int
pem_format(const uint8_t pk[MVM_PK_LEN], char *out, size_t len)
{
	uint8_t	 der[sizeof(spki_ed25519) + MVM_PK_LEN];
	char	 b64[MVM_B64_LEN(sizeof(der))];
	int	 n;

	memcpy(der, spki_ed25519, sizeof(spki_ed25519));
	memcpy(der + sizeof(spki_ed25519), pk, MVM_PK_LEN);
	b64_encode(der, sizeof(der), b64, sizeof(b64));
	n = snprintf(out, len, "-----BEGIN PUBLIC KEY-----\n%s\n"
	    "-----END PUBLIC KEY-----\n", b64);
	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

/*
 * Read a public key in any format we write: a C2SP verifier key (name
 * returned), a PEM SubjectPublicKeyInfo, or 32 raw bytes (name "").
 */
int
pubkey_parse(const uint8_t *buf, size_t len, uint8_t pk[MVM_PK_LEN],
    char *name, size_t namelen)
{
	static const char	 begin[] = "-----BEGIN PUBLIC KEY-----";
	static const char	 end[] = "-----END PUBLIC KEY-----";
	char			 text[512], *b, *e, *p, *q;
	uint8_t			 der[64];
	size_t			 n;

	if (namelen > 0)
		name[0] = '\0';
	if (len == MVM_PK_LEN) {
		memcpy(pk, buf, MVM_PK_LEN);
		return (0);
	}
	if (len == 0 || len >= sizeof(text) || memchr(buf, '\0', len) != NULL)
		return (-1);
	memcpy(text, buf, len);
	text[len] = '\0';
	if ((b = strstr(text, begin)) != NULL) {
		if ((e = strstr(b, end)) == NULL)
			return (-1);
		b += sizeof(begin) - 1;
		/* squeeze out the line breaks */
		for (p = q = b; p < e; p++)
			if (*p != '\n' && *p != '\r')
				*q++ = *p;
		if (b64_decode(b, q - b, der, sizeof(der), &n) == -1 ||
		    n != sizeof(spki_ed25519) + MVM_PK_LEN ||
		    memcmp(der, spki_ed25519, sizeof(spki_ed25519)) != 0)
			return (-1);
		memcpy(pk, der + sizeof(spki_ed25519), MVM_PK_LEN);
		return (0);
	}
	return (vkey_parse(text, name, namelen, pk, NULL));
}
