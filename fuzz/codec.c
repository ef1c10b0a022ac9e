/*
 * codec: the decoders in libshared/crypto.c: base64 and hex (every
 * signature, hash and key in a record, note, receipt or key file goes
 * through them) and the key formats built on them (verifier keys,
 * secret keys, PEM), as mvmctl and the signer read them from files.
 *
 * The whole input is given to each decoder, and encoded by each
 * encoder.  Properties: decode(encode(x)) == x; what b64_decode and
 * hex_decode accept is the one canonical spelling (encoding it again
 * gives the input back: both promise that); a decoder never writes
 * past the room it was given; a verifier or secret key that parses
 * formats back to the same text.
 */
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "fuzz.h"

static void	 check_b64(const uint8_t *, size_t);
static void	 check_hex(const uint8_t *, size_t);
static void	 check_keys(const uint8_t *, size_t);

static void
check_b64(const uint8_t *data, size_t size)
{
	uint8_t		*out;
	char		*enc, *s;
	size_t		 n, max = size / 4 * 3 + 3, elen = MVM_B64_LEN(size);

	s = fuzz_str(data, size);
	if ((out = malloc(max)) == NULL || (enc = malloc(elen)) == NULL)
		abort();
	if (b64_decode(s, size, out, max, &n) == 0) {
		FUZZ_ASSERT(n <= max && MVM_B64_LEN(n) == size + 1);
		b64_encode(out, n, enc, MVM_B64_LEN(n));
		FUZZ_ASSERT(memcmp(enc, s, size) == 0 && enc[size] == '\0');
		/* exactly the room it needs, then one byte less */
		free(out);
		if ((out = malloc(n > 0 ? n : 1)) == NULL)
			abort();
		FUZZ_ASSERT(b64_decode(s, size, out, n, &n) == 0);
		if (n > 0)
			FUZZ_ASSERT(b64_decode(s, size, out, n - 1, &n) == -1);
	}
	free(out);
	free(s);
	/* encode the input; it decodes back */
	b64_encode(data, size, enc, elen);
	FUZZ_ASSERT(strlen(enc) == elen - 1);
	if ((out = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	FUZZ_ASSERT(b64_decode(enc, elen - 1, out, size, &n) == 0);
	FUZZ_ASSERT(n == size && memcmp(out, data, size) == 0);
	free(out);
	free(enc);
}

static void
check_hex(const uint8_t *data, size_t size)
{
	uint8_t	*out;
	char	*s, *enc;
	size_t	 slen;

	s = fuzz_str(data, size);
	if ((out = malloc(size / 2 + 1)) == NULL ||
	    (enc = malloc(2 * size + 1)) == NULL)
		abort();
	/* as a C string: it ends at the first NUL */
	slen = strlen(s);
	(void)is_hex(s, slen);
	if (hex_decode(s, out, slen / 2) == 0) {
		FUZZ_ASSERT(slen % 2 == 0 && is_hex(s, slen));
		hex_encode(out, slen / 2, enc);
		FUZZ_ASSERT(strcmp(enc, s) == 0);
	}
	hex_encode(data, size, enc);
	FUZZ_ASSERT(strlen(enc) == 2 * size && is_hex(enc, 2 * size));
	free(out);
	if ((out = malloc(size > 0 ? size : 1)) == NULL)
		abort();
	FUZZ_ASSERT(hex_decode(enc, out, size) == 0 &&
	    memcmp(out, data, size) == 0);
	free(out);
	free(enc);
	free(s);
}

static void
check_keys(const uint8_t *data, size_t size)
{
	char		 name[MVM_KEYNAME_MAX], text[MVM_SKEY_MAX + 8], *s;
	uint8_t		 pk[MVM_PK_LEN], seed[MVM_SEED_LEN], sk[MVM_SK_LEN];
	uint32_t	 id;
	size_t		 n;

	s = fuzz_str(data, size);
	(void)key_name_valid(s);
	if (vkey_parse(s, name, sizeof(name), pk, &id) == 0) {
		FUZZ_ASSERT(key_name_valid(name) && id == key_id(name, pk));
		FUZZ_ASSERT(vkey_format(name, pk, text, sizeof(text)) == 0);
		n = strcspn(s, "\r\n");
		FUZZ_ASSERT(strlen(text) == n && memcmp(text, s, n) == 0);
	}
	if (skey_parse(s, size, name, sizeof(name), seed) == 0) {
		FUZZ_ASSERT(key_name_valid(name));
		crypto_sign_seed_keypair(pk, sk, seed);
		FUZZ_ASSERT(skey_format(name, seed, pk, text,
		    sizeof(text)) == 0);
		for (n = size; n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r');
		    n--)
			;
		FUZZ_ASSERT(strlen(text) == n + 1 &&
		    memcmp(text, s, n) == 0);
	}
	(void)pubkey_parse(data, size, pk, name, sizeof(name));
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();
	check_b64(data, size);
	check_hex(data, size);
	check_keys(data, size);
	return (0);
}
